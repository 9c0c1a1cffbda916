// Kubernetes JSON to the domain's ObjectMeta, once, at the adapter boundary.

import type {ObjectMeta, OwnerReference, PodRecord} from '../core/types.js'
import {interner} from '../core/interner.js'
import {ApiError} from '../errors.js'

/** The metadata of an object as the API serialises it (empty maps and lists are omitted). */
export interface RawObjectMeta {
  name?: string
  namespace?: string
  uid?: string
  resourceVersion?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  creationTimestamp?: string
  deletionTimestamp?: string
  deletionGracePeriodSeconds?: number
  finalizers?: string[]
  ownerReferences?: {apiVersion?: string; kind?: string; name?: string; uid?: string; controller?: boolean}[]
}

/** Any object as the API returns it: full, or PartialObjectMetadata. */
export interface KubeObject {
  apiVersion?: string
  kind?: string
  metadata: RawObjectMeta
  spec?: Record<string, unknown>
  status?: Record<string, unknown>
  [field: string]: unknown
}

function required(kind: string, metadata: RawObjectMeta, field: 'name' | 'uid' | 'creationTimestamp'): string {
  const value = metadata[field]
  if (!value) throw new ApiError(`malformed ${kind} in an API answer: no metadata.${field}`, 200)
  return value
}

function ownerReference(raw: NonNullable<RawObjectMeta['ownerReferences']>[number]): OwnerReference {
  const reference: OwnerReference = {apiVersion: raw.apiVersion ?? '', kind: raw.kind ?? '', name: raw.name ?? '', uid: raw.uid ?? ''}
  if (raw.controller !== undefined) reference.controller = raw.controller
  return reference
}

/** `kind` comes from the resource type asked for: PartialObjectMetadata items do not carry it. */
export function toObjectMeta(kind: string, metadata: RawObjectMeta | undefined): ObjectMeta {
  const raw = metadata ?? {}
  const meta: ObjectMeta = {
    kind,
    namespace: raw.namespace ?? '',
    name: required(kind, raw, 'name'),
    uid: required(kind, raw, 'uid'),
    resourceVersion: raw.resourceVersion ?? '',
    labels: {...raw.labels},
    annotations: {...raw.annotations},
    creationTimestamp: new Date(required(kind, raw, 'creationTimestamp')),
    finalizers: [...(raw.finalizers ?? [])],
    ownerReferences: (raw.ownerReferences ?? []).map(ownerReference),
  }
  if (raw.deletionTimestamp) meta.deletionTimestamp = new Date(raw.deletionTimestamp)
  return meta
}

/** Turns one listed object's metadata into what the caller keeps; it copies, and never holds on to `metadata`. */
export type MetadataReducer<T> = (kind: string, metadata: RawObjectMeta | undefined) => T

const NONE: Readonly<Record<string, string>> = Object.freeze({})
const NO_OWNERS: readonly OwnerReference[] = Object.freeze([])

/**
 * The compact record of each listed pod (core/types PodRecord): only these labels and annotations,
 * and strings that repeat across pods (namespace, dag_id, run_id, task_id, try_number...) stored once
 * per list. Maps and lists a pod does not have are one shared frozen empty value.
 */
export function podRecordReducer(keep: {labels: readonly string[]; annotations: readonly string[]}): MetadataReducer<PodRecord> {
  const once = interner()
  return (kind, metadata) => {
    const raw = metadata ?? {}
    const record: PodRecord = {
      kind,
      namespace: once(raw.namespace ?? ''),
      name: required(kind, raw, 'name'),
      uid: required(kind, raw, 'uid'),
      creationTimestamp: new Date(required(kind, raw, 'creationTimestamp')),
      labels: picked(raw.labels, keep.labels, once),
      annotations: picked(raw.annotations, keep.annotations, once),
      ownerReferences: raw.ownerReferences?.length ? raw.ownerReferences.map(ownerReference) : NO_OWNERS,
    }
    if (raw.deletionTimestamp) record.deletionTimestamp = new Date(raw.deletionTimestamp)
    return record
  }
}

function picked(from: Record<string, string> | undefined, keys: readonly string[], once: (value: string) => string): Readonly<Record<string, string>> {
  if (!from) return NONE
  let kept: Record<string, string> | undefined
  for (const key of keys) {
    const value = from[key]
    if (value === undefined) continue
    kept ??= {}
    kept[key] = once(value)
  }
  return kept ?? NONE
}
