// Server-side apply (PATCH application/apply-patch+yaml) of whole objects, reporting what changed the
// way kubectl apply words it: created, configured or unchanged.
import {ReapError} from '../errors.js'
import type {KubeClient} from './client.js'

export type ApplyOutcome = 'created' | 'configured' | 'unchanged'

export interface ApplyOptions {
  fieldManager: string
  /** Take over fields another manager owns instead of failing with 409 Conflict. */
  force: boolean
  /**
   * An object that already exists is applied to only when it carries these labels: ours from an
   * earlier apply. Anything else of the same name (someone's Role, a Helm-managed account) is left as
   * it is and the apply fails saying so, since `force` would otherwise take it over.
   */
  ownedBy?: Record<string, string>
  signal?: AbortSignal
}

export interface AppliedObject {
  apiVersion: string
  kind: string
  metadata: {name: string; namespace?: string}
}

interface ExistingObject {
  metadata?: {resourceVersion?: string; labels?: Record<string, string>}
}

interface Route {
  plural: string
  namespaced: boolean
}

/** The kinds `cronjob --apply` writes. */
const ROUTES: Record<string, Route> = {
  ServiceAccount: {plural: 'serviceaccounts', namespaced: true},
  Role: {plural: 'roles', namespaced: true},
  RoleBinding: {plural: 'rolebindings', namespaced: true},
  ClusterRole: {plural: 'clusterroles', namespaced: false},
  ClusterRoleBinding: {plural: 'clusterrolebindings', namespaced: false},
  CronJob: {plural: 'cronjobs', namespaced: true},
}

function routeOf(object: AppliedObject): Route {
  const route = ROUTES[object.kind]
  if (!route) throw new Error(`server-side apply of ${object.kind} is not supported`)
  return route
}

export function objectUrlPath(object: AppliedObject): string {
  const {plural, namespaced} = routeOf(object)
  const base = object.apiVersion.includes('/') ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion}`
  const namespace = namespaced ? `/namespaces/${encodeURIComponent(object.metadata.namespace ?? '')}` : ''
  return `${base}${namespace}/${plural}/${encodeURIComponent(object.metadata.name)}`
}

/** `cronjob.batch/NAME`, `serviceaccount/NAME`: the object as kubectl apply names it. */
export function kubectlName(object: AppliedObject): string {
  const group = object.apiVersion.includes('/') ? object.apiVersion.split('/')[0] : ''
  return `${object.kind.toLowerCase()}${group ? `.${group}` : ''}/${object.metadata.name}`
}

/**
 * Applies the object. The resourceVersion read before tells an apply that changed nothing (the API
 * server does not write a no-op apply, so the version stays) from one that changed something.
 */
export async function serverSideApply(client: KubeClient, object: AppliedObject, options: ApplyOptions): Promise<ApplyOutcome> {
  const path = objectUrlPath(object)
  const before = await client.request<ExistingObject>({method: 'GET', path, signal: options.signal, allowStatus: [404]})
  if (before.status !== 404 && options.ownedBy) refuseForeign(object, before.body, options.ownedBy)
  const response = await client.request<{metadata?: {resourceVersion?: string}}>({
    method: 'PATCH',
    path,
    contentType: 'application/apply-patch+yaml',
    body: object,
    query: {fieldManager: options.fieldManager, force: options.force ? 'true' : undefined},
    signal: options.signal,
  })
  if (response.status === 201 || before.status === 404) return 'created'
  return response.body.metadata?.resourceVersion === before.body.metadata?.resourceVersion ? 'unchanged' : 'configured'
}

function refuseForeign(object: AppliedObject, existing: ExistingObject, ownedBy: Record<string, string>): void {
  const labels = existing.metadata?.labels ?? {}
  const missing = Object.entries(ownedBy).filter(([key, value]) => labels[key] !== value)
  if (missing.length === 0) return
  const wanted = missing.map(([key, value]) => `${key}=${value}`).join(', ')
  throw new ReapError(
    `${kubectlName(object)} already exists and is not airflow-reap's (no label ${wanted}): nothing applied from it on; choose another --name-prefix, or remove it`,
  )
}
