// Server-side apply (PATCH application/apply-patch+yaml), as kube-apiserver does it for the cases a
// client meets (k8s.io/apiserver endpoints/handlers/patch.go, structured-merge-diff):
// - the body is YAML (JSON is YAML) holding apiVersion, kind and the URL's name; fieldManager is
//   required; `force` is only for apply patches;
// - an object that does not exist is created (201); otherwise the fields the manager applied before
//   and no longer applies are removed, the applied ones set (maps merged, lists and scalars atomic),
//   and a field another manager applied with another value is a 409 conflict unless force=true;
// - an apply that changes nothing is not written (the resourceVersion stays);
// - metadata.managedFields records each manager's fields (FieldsV1: `f:` keys, `{}` leaves).
// Simplified on purpose: lists are atomic (no merge keys), and only Apply managers own fields (the
// fake's other writes do not track ownership).
import yaml from 'js-yaml'
import {type Json, clone, deepEqual, isObject} from './patch.js'
import type {FakeResource} from './resources.js'
import {badRequest, failure, invalid} from './status.js'
import type {FakeObject} from './store.js'
import {timestamp} from './store.js'

export const APPLY_PATCH = 'application/apply-patch+yaml'

export interface ApplyOptions {
  fieldManager?: string
  force?: string
}

type Fields = {[key: string]: Fields}

interface ManagedFieldsEntry {
  manager: string
  operation: 'Apply' | 'Update'
  apiVersion: string
  time: string
  fieldsType: 'FieldsV1'
  fieldsV1: Fields
}

/** Server-owned metadata: never part of what a manager applies. */
const SERVER_METADATA = ['name', 'namespace', 'uid', 'resourceVersion', 'creationTimestamp', 'generation', 'managedFields', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink']

/** The patch options of an apply, checked as PatchOptions validation does. */
export function checkApplyOptions(mediaType: string, options: ApplyOptions): {manager: string; force: boolean} | undefined {
  const force = options.force === 'true'
  if (mediaType !== APPLY_PATCH) {
    if (options.force !== undefined) throw invalid({kind: 'PatchOptions', group: 'meta.k8s.io', plural: 'patchoptions', version: 'v1', defaultDeletePolicy: 'Background'}, '', 'force: Forbidden: may not be specified for non-apply patch')
    return undefined
  }
  if (!options.fieldManager) {
    throw invalid({kind: 'PatchOptions', group: 'meta.k8s.io', plural: 'patchoptions', version: 'v1', defaultDeletePolicy: 'Background'}, '', 'fieldManager: Required value: is required for apply patch')
  }
  return {manager: options.fieldManager, force}
}

/** The applied configuration: parsed, and checked against the resource and the URL. */
export function parseApplyBody(body: unknown, resource: FakeResource, name: string): FakeObject {
  let config: unknown = body
  if (typeof body === 'string') {
    try {
      config = yaml.load(body)
    } catch {
      throw badRequest('error decoding YAML: the body of the request is not valid YAML')
    }
  }
  if (!isObject(config)) throw badRequest('the body of the request was in an unknown format')
  const group = resource.group ? `${resource.group}/` : ''
  if (config.apiVersion !== `${group}${resource.version}` || config.kind !== resource.kind) {
    throw badRequest(`the apiVersion and kind of the body (${String(config.apiVersion)}, ${String(config.kind)}) do not match the resource (${group}${resource.version}, ${resource.kind})`)
  }
  const metadata = isObject(config.metadata) ? config.metadata : {}
  if (metadata.name !== name) throw badRequest(`the name of the object (${String(metadata.name)}) does not match the name on the URL (${name})`)
  return config as unknown as FakeObject
}

/** The field set of an applied configuration: every map key down to the leaves (lists are leaves). */
export function fieldSet(config: Record<string, unknown>, top = true): Fields {
  const fields: Fields = {}
  for (const [key, value] of Object.entries(config)) {
    if (top && (key === 'apiVersion' || key === 'kind')) continue
    if (top && key === 'status') continue
    if (key === 'metadata' && top && isObject(value)) {
      const kept = Object.fromEntries(Object.entries(value).filter(([k]) => !SERVER_METADATA.includes(k)))
      if (Object.keys(kept).length > 0) fields['f:metadata'] = fieldSet(kept, false)
      continue
    }
    fields[`f:${key}`] = isObject(value) && Object.keys(value).length > 0 ? fieldSet(value, false) : {}
  }
  return fields
}

function leaves(fields: Fields, prefix: string[] = []): string[][] {
  const out: string[][] = []
  for (const [key, child] of Object.entries(fields)) {
    const path = [...prefix, key.slice(2)]
    if (Object.keys(child).length === 0) out.push(path)
    else out.push(...leaves(child, path))
  }
  return out
}

function valueAt(object: unknown, path: string[]): unknown {
  let current = object
  for (const key of path) {
    if (!isObject(current)) return undefined
    current = current[key]
  }
  return current
}

function removeAt(object: Record<string, unknown>, path: string[]): void {
  const parents: Record<string, unknown>[] = [object]
  for (const key of path.slice(0, -1)) {
    const next = parents[parents.length - 1][key]
    if (!isObject(next)) return
    parents.push(next)
  }
  delete parents[parents.length - 1][path[path.length - 1]]
  // Maps left empty by the removal go too.
  for (let i = parents.length - 1; i > 0; i--) {
    if (Object.keys(parents[i]).length === 0) delete parents[i - 1][path[i - 1]]
  }
}

function mergeInto(target: Record<string, unknown>, config: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(config)) {
    if (isObject(value) && isObject(target[key])) mergeInto(target[key] as Record<string, unknown>, value)
    else target[key] = clone(value)
  }
}

function pathText(path: string[]): string {
  return path.map((p) => `.${p}`).join('')
}

/**
 * The object after the manager's apply, and whether anything but managedFields changed.
 * `stored` undefined: the object is new.
 */
export function applyConfig(
  resource: FakeResource,
  stored: FakeObject | undefined,
  config: FakeObject,
  manager: string,
  force: boolean,
): {object: FakeObject; changed: boolean} {
  const apiVersion = config.apiVersion
  const applied = fieldSet(config as unknown as Record<string, unknown>)
  const managed = ((stored?.metadata.managedFields ?? []) as ManagedFieldsEntry[]).map((e) => clone(e))
  const mine = managed.find((e) => e.manager === manager && e.operation === 'Apply')
  const fresh = {apiVersion, kind: resource.kind, metadata: {name: config.metadata.name, ...(config.metadata.namespace ? {namespace: config.metadata.namespace} : {})}}
  const next = clone(stored ?? (fresh as unknown as FakeObject)) as unknown as Record<string, unknown>

  // Conflicts: a field another Apply manager owns, to be set to another value.
  const conflicts: string[] = []
  for (const entry of managed.filter((e) => e !== mine && e.operation === 'Apply')) {
    for (const path of leaves(entry.fieldsV1)) {
      const wanted = valueAt(config, path)
      if (wanted !== undefined && !deepEqual(wanted, valueAt(stored, path))) conflicts.push(`conflict with "${entry.manager}": ${pathText(path)}`)
    }
  }
  if (conflicts.length > 0 && !force) {
    throw failure(409, 'Conflict', `Apply failed with ${conflicts.length} conflict${conflicts.length > 1 ? 's' : ''}: ${conflicts.join('\n')}`, {
      name: config.metadata.name,
      ...(resource.group ? {group: resource.group} : {}),
      kind: resource.plural,
    })
  }

  // Fields this manager applied before and no longer applies are removed (unless another manager owns them).
  const appliedLeaves = new Set(leaves(applied).map(pathText))
  const others = new Set(managed.filter((e) => e !== mine).flatMap((e) => leaves(e.fieldsV1).map(pathText)))
  for (const path of mine ? leaves(mine.fieldsV1) : []) {
    if (!appliedLeaves.has(pathText(path)) && !others.has(pathText(path))) removeAt(next, path)
  }
  const {metadata: configMetadata, ...configRest} = config as unknown as Record<string, unknown>
  const {apiVersion: _a, kind: _k, status: _s, ...configBody} = configRest
  mergeInto(next, configBody as Record<string, unknown>)
  const metadata = next.metadata as Record<string, unknown>
  const userMetadata = Object.fromEntries(Object.entries(configMetadata as Record<string, unknown>).filter(([k]) => !SERVER_METADATA.includes(k)))
  mergeInto(metadata, userMetadata)

  // With force, the fields taken over leave their former owners.
  const now = timestamp()
  const kept = managed
    .filter((e) => e !== mine)
    .map((e) => ({...e, fieldsV1: withoutLeaves(e.fieldsV1, appliedLeaves)}))
    .filter((e) => Object.keys(e.fieldsV1).length > 0)
  const entry: ManagedFieldsEntry = {manager, operation: 'Apply', apiVersion, time: now, fieldsType: 'FieldsV1', fieldsV1: applied}
  const withoutManaged = (o: unknown) => {
    const copy = clone(o) as Record<string, unknown>
    delete (copy.metadata as Record<string, unknown>).managedFields
    return copy
  }
  const changed = !stored || !deepEqual(withoutManaged(next), withoutManaged(stored)) || !deepEqual(mine?.fieldsV1, applied)
  metadata.managedFields = changed ? [...kept, entry] : managed
  if (stored && changed && !deepEqual((next as Record<string, Json>).spec, (stored as Record<string, unknown>).spec)) {
    metadata.generation = Number(stored.metadata.generation ?? 1) + 1
  }
  return {object: next as unknown as FakeObject, changed}
}

function withoutLeaves(fields: Fields, remove: Set<string>, prefix: string[] = []): Fields {
  const out: Fields = {}
  for (const [key, child] of Object.entries(fields)) {
    const path = [...prefix, key.slice(2)]
    if (Object.keys(child).length === 0) {
      if (!remove.has(pathText(path))) out[key] = {}
      continue
    }
    const rest = withoutLeaves(child, remove, path)
    if (Object.keys(rest).length > 0) out[key] = rest
  }
  return out
}
