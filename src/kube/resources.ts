// The resource types airflow-reap works with, the names kubectl accepts for them, and their API paths.

import {UsageError} from '../errors.js'

export interface ResourceType {
  kind: string
  group: string // '' for the core group
  version: string
  plural: string
  singular: string
  namespaced: boolean
  /** Short names, singular and plural, each also with `.group` (as `kubectl get jobs.batch`). */
  aliases: readonly string[]
}

function resourceType(kind: string, group: string, plural: string, shortNames: string[]): ResourceType {
  const singular = kind.toLowerCase()
  const names = [...shortNames, singular, plural]
  const qualified = group ? names.flatMap((n) => [`${n}.${group}`, `${n}.v1.${group}`]) : []
  return {kind, group, version: 'v1', plural, singular, namespaced: true, aliases: [...names, ...qualified]}
}

export const RESOURCE_TYPES: readonly ResourceType[] = [
  resourceType('Pod', '', 'pods', ['po']),
  resourceType('Job', 'batch', 'jobs', []),
  resourceType('CronJob', 'batch', 'cronjobs', ['cj']),
  resourceType('Deployment', 'apps', 'deployments', ['deploy']),
  resourceType('ReplicaSet', 'apps', 'replicasets', ['rs']),
  resourceType('StatefulSet', 'apps', 'statefulsets', ['sts']),
]

/** Resolves what a user typed (`po`, `jobs.batch`, `Deployment`) to a resource type; UsageError if unknown. */
export function resolveResource(name: string): ResourceType {
  const wanted = name.trim().toLowerCase()
  const found = RESOURCE_TYPES.find((r) => r.aliases.includes(wanted))
  if (found) return found
  const known = RESOURCE_TYPES.map((r) => r.plural).join(', ')
  throw new UsageError(`unknown resource type "${name}" (known: ${known})`)
}

/** `v1`, `batch/v1`: the apiVersion of the resource's objects. */
export function apiVersionOf(resource: ResourceType): string {
  return resource.group ? `${resource.group}/${resource.version}` : resource.version
}

/** `pods`, `jobs.batch`: the resource as kubectl and the API server name it in messages. */
export function qualifiedName(resource: ResourceType): string {
  return resource.group ? `${resource.plural}.${resource.group}` : resource.plural
}

function groupVersionPath(resource: ResourceType): string {
  return resource.group ? `/apis/${resource.group}/${resource.version}` : `/api/${resource.version}`
}

/** The collection: one namespace's, or every namespace's when `namespace` is undefined. */
export function collectionPath(resource: ResourceType, namespace?: string): string {
  const base = groupVersionPath(resource)
  if (namespace === undefined || !resource.namespaced) return `${base}/${resource.plural}`
  return `${base}/namespaces/${encodeURIComponent(namespace)}/${resource.plural}`
}

export function objectPath(resource: ResourceType, namespace: string, name: string): string {
  return `${collectionPath(resource, namespace)}/${encodeURIComponent(name)}`
}

/** `pod`, `job.batch`: a kind the way `kubectl get -o name` prefixes its objects' names. */
export function kubectlTypeOfKind(kind: string): string {
  const found = RESOURCE_TYPES.find((r) => r.kind === kind)
  if (!found) return kind.toLowerCase()
  return found.group ? `${found.singular}.${found.group}` : found.singular
}
