// Kubernetes JSON to the domain's ObjectMeta, once, at the adapter boundary.

import type {ObjectMeta, OwnerReference} from '../core/types.js'
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
