// The verbs of the fake API server (list, get, create, update, patch, delete, deletecollection) with
// kube-apiserver's semantics: preconditions, garbage-collector finalizers, graceful pod deletion,
// removal of a terminating object once its last finalizer is gone. Errors are thrown as
// ApiStatusError and turned into Status bodies by the HTTP layer.

import {randomBytes, randomUUID} from 'node:crypto'
import {
  type Json,
  MalformedPatch,
  PatchNotApplicable,
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  clone,
  deepEqual,
  isObject,
} from './patch.js'
import {BUILT_IN_NAMESPACES, FAKE_RESOURCES, type FakeResource, NAMESPACES, apiVersionOf} from './resources.js'
import {matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector} from './selectors.js'
import {
  type StatusBody,
  alreadyExists,
  badRequest,
  conflict,
  preconditionConflict,
  expired,
  failure,
  invalid,
  notFound,
  success,
} from './status.js'
import {type FakeMetadata, type FakeObject, type ObjectStore, timestamp} from './store.js'
import {APPLY_PATCH, type ApplyOptions, applyConfig, checkApplyOptions, parseApplyBody} from './apply.js'
import {decodeError, validateCreate} from './validation.js'

export interface ListQuery {
  namespace?: string
  labelSelector?: string
  fieldSelector?: string
  limit?: number
  continueToken?: string
}

export interface ListResult {
  items: FakeObject[]
  resourceVersion: string
  continue?: string
  remainingItemCount?: number
}

export interface DeleteOptions {
  gracePeriodSeconds?: number
  propagationPolicy?: string
  orphanDependents?: boolean
  preconditions?: {uid?: string; resourceVersion?: string}
}

export interface DeleteResult {
  body: FakeObject | StatusBody
  /** The grace period the deletion used (a pod's own when the request gave none). */
  gracePeriodSeconds?: number
}

interface ContinueToken {
  v: string
  rv: number
  snapshot: string
  offset: number
}

const PROPAGATION_POLICIES = ['Orphan', 'Background', 'Foreground']
const GC_FINALIZERS = ['orphan', 'foregroundDeletion']

function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url')
}

function decodeContinue(text: string): ContinueToken {
  try {
    const token = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as ContinueToken
    if (typeof token.snapshot === 'string' && Number.isInteger(token.offset)) return token
  } catch {
    // reported below
  }
  throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)')
}

function sameMembers(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x))
}

/** JSON of the real API omits empty metadata maps and lists. */
function dropEmptyMetadata(metadata: FakeMetadata): void {
  for (const field of ['labels', 'annotations', 'finalizers', 'ownerReferences'] as const) {
    const value = metadata[field]
    if (value !== undefined && (Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0)) {
      delete metadata[field]
    }
  }
}

/**
 * kube-apiserver's ShouldDeleteDuringUpdate (registry/generic/registry/store.go): an update that leaves
 * no finalizer deletes the object only if a deletion was requested and no grace period is running
 * (none, or 0). A pod deleted gracefully stays Terminating, for its kubelet to finish.
 */
export function shouldDeleteDuringUpdate(next: FakeMetadata, old: FakeMetadata): boolean {
  if ((next.finalizers ?? []).length > 0 || old.deletionTimestamp === undefined) return false
  return old.deletionGracePeriodSeconds === undefined || old.deletionGracePeriodSeconds === 0
}

/** kube-apiserver's deletionFinalizersForGarbageCollection: which GC finalizers a DELETE leaves. */
function garbageCollectorFinalizers(resource: FakeResource, current: string[], options: DeleteOptions): string[] {
  const policy = options.propagationPolicy
  const explicitOrphan = options.orphanDependents
  let orphan: boolean
  if (explicitOrphan !== undefined) orphan = explicitOrphan
  else if (policy) orphan = policy === 'Orphan'
  else if (current.includes('orphan')) orphan = true
  else if (current.includes('foregroundDeletion')) orphan = false
  else orphan = resource.defaultDeletePolicy === 'Orphan'
  const foreground = explicitOrphan !== undefined ? false : policy ? policy === 'Foreground' : current.includes('foregroundDeletion')
  const kept = current.filter((f) => !GC_FINALIZERS.includes(f))
  return [...kept, ...(orphan ? ['orphan'] : []), ...(foreground ? ['foregroundDeletion'] : [])]
}

/** The pod strategy's CheckGracefulDelete: never-scheduled and finished pods go at once. */
function podGracePeriod(pod: FakeObject, requested: number | undefined): number {
  const spec = (pod.spec ?? {}) as {nodeName?: string; terminationGracePeriodSeconds?: number}
  const phase = (pod.status as {phase?: string} | undefined)?.phase
  if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0
  if (requested !== undefined) return requested < 0 ? 1 : requested
  return spec.terminationGracePeriodSeconds ?? 30
}

function validateDeleteOptions(options: DeleteOptions): void {
  const policy = options.propagationPolicy
  if (policy !== undefined && !PROPAGATION_POLICIES.includes(policy)) {
    const why = `propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`
    throw failure(422, 'Invalid', `DeleteOptions.meta.k8s.io "" is invalid: ${why}`, {kind: 'DeleteOptions', group: 'meta.k8s.io'})
  }
  if (policy !== undefined && options.orphanDependents !== undefined) {
    const why = 'propagationPolicy: Invalid value: "' + policy + '": orphanDependents and deletionPropagation cannot be both set'
    throw failure(422, 'Invalid', `DeleteOptions.meta.k8s.io "" is invalid: ${why}`, {kind: 'DeleteOptions', group: 'meta.k8s.io'})
  }
}

function checkPreconditions(resource: FakeResource, stored: FakeObject, preconditions: DeleteOptions['preconditions']): void {
  const {uid, resourceVersion} = preconditions ?? {}
  const {name} = stored.metadata
  if (uid && uid !== stored.metadata.uid) {
    const why = `the UID in the precondition (${uid}) does not match the UID in record (${stored.metadata.uid}). The object might have been deleted and then recreated`
    throw preconditionConflict(resource, name, why)
  }
  if (resourceVersion && resourceVersion !== stored.metadata.resourceVersion) {
    const why = `the ResourceVersion in the precondition (${resourceVersion}) does not match the ResourceVersion in record (${stored.metadata.resourceVersion}). The object might have been modified`
    throw preconditionConflict(resource, name, why)
  }
}

export class FakeApi {
  constructor(private readonly store: ObjectStore) {}

  list(resource: FakeResource, query: ListQuery): ListResult {
    const labels = parseLabelSelector(query.labelSelector)
    const fields = parseFieldSelector(query.fieldSelector, resource.plural)
    const token = query.continueToken ? decodeContinue(query.continueToken) : undefined
    const snapshot = token ? this.store.readSnapshot(token.snapshot) : undefined
    if (token && !snapshot) throw expired()
    const matching =
      snapshot?.items ??
      this.store.list(resource, query.namespace).filter((o) => matchesFields(o, fields) && matchesLabels(o.metadata.labels, labels))
    const offset = token?.offset ?? 0
    const end = query.limit ? Math.min(offset + query.limit, matching.length) : matching.length
    // No copy: stored objects are never changed in place, and the page is only serialised.
    const result: ListResult = {items: matching.slice(offset, end), resourceVersion: snapshot?.resourceVersion ?? this.store.resourceVersion}
    if (end < matching.length) {
      const id = token?.snapshot ?? this.store.snapshot(matching)
      result.continue = encodeContinue({v: 'meta.k8s.io/v1', rv: Number(result.resourceVersion), snapshot: id, offset: end})
      // The real server can count what is left only when no selector filters it.
      if (labels.length === 0 && fields.length === 0) result.remainingItemCount = matching.length - end
    }
    return result
  }

  get(resource: FakeResource, namespace: string, name: string): FakeObject {
    return clone(this.require(resource, namespace, name))
  }

  /** GET /api/v1/namespaces/NAME: the Namespace object, or 404 as kube-apiserver answers. */
  getNamespace(name: string, added: ReadonlySet<string>): object {
    const exists =
      added.has(name) ||
      (BUILT_IN_NAMESPACES as readonly string[]).includes(name) ||
      FAKE_RESOURCES.some((resource) => this.store.list(resource, name).length > 0)
    if (!exists) throw notFound(NAMESPACES, name)
    return {
      kind: 'Namespace',
      apiVersion: 'v1',
      metadata: {name, labels: {'kubernetes.io/metadata.name': name}},
      spec: {finalizers: ['kubernetes']},
      status: {phase: 'Active'},
    }
  }

  create(resource: FakeResource, namespace: string, body: unknown, dryRun: boolean): FakeObject {
    if (!isObject(body)) throw badRequest('the body of the request was in an unknown format - accepted media types include: application/json')
    if (body.kind !== undefined && body.kind !== resource.kind) {
      throw badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (${resource.kind})`)
    }
    const metadata = (isObject(body.metadata) ? clone(body.metadata) : {}) as Partial<FakeMetadata>
    if (metadata.namespace && metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request')
    }
    const name = metadata.name || (metadata.generateName ? metadata.generateName + randomBytes(3).toString('hex').slice(0, 5) : '')
    if (!name) throw invalid(resource, '', 'metadata.name: Required value: name or generateName is required')
    const undecodable = decodeError(resource, body)
    if (undecodable) throw badRequest(undecodable)
    const errors = validateCreate(resource, {...body, metadata: {...metadata, name, namespace}})
    // kube-apiserver lists several field errors in brackets (errors.NewInvalid of an aggregate).
    if (errors.length > 0) throw invalid(resource, name, errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`)
    const existing = this.store.get(resource, namespace, name)
    if (existing) throw alreadyExists(resource, name, existing.metadata.deletionTimestamp !== undefined)
    const object = clone(body) as unknown as FakeObject
    object.metadata = {...metadata, name, namespace, uid: randomUUID(), resourceVersion: '', creationTimestamp: timestamp(), generation: 1}
    delete object.metadata.deletionTimestamp
    delete object.metadata.deletionGracePeriodSeconds
    dropEmptyMetadata(object.metadata)
    // PrepareForCreate: the status is the controllers' business, never the creator's.
    if (resource.plural === 'pods') object.status = {phase: 'Pending'}
    else delete object.status
    return dryRun ? {...object, apiVersion: apiVersionOf(resource), kind: resource.kind} : this.store.put(resource, object)
  }

  /** Test seeding: stores the object as given (deletionTimestamp, status and all), filling only what is missing. */
  seed(resource: FakeResource, object: FakeObject): FakeObject {
    const {name, namespace} = object.metadata
    if (this.store.get(resource, namespace, name)) throw new Error(`fake-kube: ${resource.plural} ${namespace}/${name} already exists`)
    object.metadata.uid ||= randomUUID()
    object.metadata.creationTimestamp ||= timestamp()
    dropEmptyMetadata(object.metadata)
    return this.store.put(resource, object)
  }

  update(resource: FakeResource, namespace: string, name: string, body: unknown, dryRun: boolean): FakeObject | StatusBody {
    const stored = this.require(resource, namespace, name)
    if (!isObject(body) || !isObject(body.metadata)) throw badRequest('the body of the request was in an unknown format')
    if (body.metadata.name !== name) {
      throw badRequest(`the name of the object (${String(body.metadata.name)}) does not match the name on the URL (${name})`)
    }
    return this.commit(resource, stored, body, dryRun)
  }

  patch(
    resource: FakeResource,
    namespace: string,
    name: string,
    contentType: string | undefined,
    patch: unknown,
    dryRun: boolean,
  ): FakeObject | StatusBody {
    const stored = this.require(resource, namespace, name)
    const patched = this.applyPatch(stored, contentType, patch)
    if (!isObject(patched) || !isObject(patched.metadata)) throw invalid(resource, name, 'metadata: Required value')
    return this.commit(resource, stored, patched, dryRun)
  }

  /** Server-side apply (apply.ts): creates the object when it does not exist; a no-op apply writes nothing. */
  apply(resource: FakeResource, namespace: string, name: string, body: unknown, options: ApplyOptions, dryRun: boolean): {object: FakeObject | StatusBody; created: boolean} {
    const {manager, force} = checkApplyOptions(APPLY_PATCH, options)!
    const config = parseApplyBody(body, resource, name)
    if (config.metadata.namespace && config.metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request')
    }
    const stored = this.store.get(resource, namespace, name)
    const {object, changed} = applyConfig(resource, stored, config, manager, force)
    if (!stored) return {object: this.create(resource, namespace, object, dryRun), created: true}
    if (!changed) return {object: clone(stored), created: false}
    return {object: this.commit(resource, stored, object as unknown as Record<string, unknown>, dryRun), created: false}
  }

  delete(resource: FakeResource, namespace: string, name: string, options: DeleteOptions, dryRun: boolean): DeleteResult {
    validateDeleteOptions(options)
    const stored = this.require(resource, namespace, name)
    checkPreconditions(resource, stored, options.preconditions)
    const current = stored.metadata.finalizers ?? []
    const finalizers = garbageCollectorFinalizers(resource, current, options)
    const gracePeriodSeconds = resource.plural === 'pods' ? podGracePeriod(stored, options.gracePeriodSeconds) : options.gracePeriodSeconds
    const candidate = clone(stored)
    if (stored.metadata.deletionTimestamp !== undefined) {
      // Already terminating: a new DELETE can only change the garbage-collector finalizers.
      if (sameMembers(finalizers, current)) return {body: candidate, gracePeriodSeconds}
      candidate.metadata.finalizers = finalizers
      return {body: this.persist(resource, candidate, dryRun), gracePeriodSeconds}
    }
    const grace = resource.plural === 'pods' ? (gracePeriodSeconds ?? 0) : 0
    candidate.metadata.deletionTimestamp = timestamp(new Date(Date.now() + grace * 1000))
    candidate.metadata.deletionGracePeriodSeconds = grace
    candidate.metadata.finalizers = finalizers
    dropEmptyMetadata(candidate.metadata)
    // Deleted at once or not, a pod's answer carries the marks (kube-apiserver's Store.Delete answers
    // the object of its graceful update, deletionGracePeriodSeconds 0 for an unscheduled pod); other
    // resources deleted at once answer with a Status (removed()).
    // With no finalizers a graceful pod would wait for its kubelet; the fake has none and removes it now.
    if (finalizers.length === 0) return {body: this.removed(resource, candidate, dryRun), gracePeriodSeconds}
    return {body: dryRun ? candidate : this.store.put(resource, candidate), gracePeriodSeconds}
  }

  deleteCollection(resource: FakeResource, query: ListQuery, options: DeleteOptions, dryRun: boolean): FakeObject[] {
    const {items} = this.list(resource, {...query, limit: undefined, continueToken: undefined})
    const deleted = items.map((o) => this.delete(resource, o.metadata.namespace, o.metadata.name, options, dryRun).body)
    return deleted.filter((d): d is FakeObject => d.kind !== 'Status')
  }

  private require(resource: FakeResource, namespace: string, name: string): FakeObject {
    const stored = this.store.get(resource, namespace, name)
    if (!stored) throw notFound(resource, name)
    return stored
  }

  private applyPatch(stored: FakeObject, contentType: string | undefined, patch: unknown): Json {
    const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase()
    const document = stored as unknown as Json
    try {
      switch (mediaType) {
        case 'application/json-patch+json':
          return applyJsonPatch(document, patch)
        case 'application/merge-patch+json':
          return applyMergePatch(document, this.patchObject(patch))
        case 'application/strategic-merge-patch+json':
          return applyStrategicMergePatch(document, this.patchObject(patch))
        default:
          throw failure(
            415,
            'UnsupportedMediaType',
            `the body of the request was in an unknown format - accepted media types include: ` +
              'application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json',
          )
      }
    } catch (error) {
      if (error instanceof MalformedPatch) throw badRequest(error.message)
      if (error instanceof PatchNotApplicable) {
        // A failed `test` gives the bare generic 422 (observed README); other misses say what is missing.
        const message = error.testFailed ? 'the server rejected our request due to an error in our request' : error.message
        throw failure(422, 'Invalid', message, {})
      }
      throw error
    }
  }

  private patchObject(patch: unknown): Json {
    if (!isObject(patch)) throw badRequest('json: cannot unmarshal the patch into an object')
    return patch
  }

  /** Validates an updated object against the stored one and writes it (ValidateObjectMetaUpdate + BeforeUpdate). */
  private commit(resource: FakeResource, stored: FakeObject, candidate: Record<string, unknown>, dryRun: boolean): FakeObject | StatusBody {
    const next = clone(candidate) as unknown as FakeObject
    const old = stored.metadata
    const meta = next.metadata
    for (const field of ['name', 'namespace', 'uid'] as const) {
      if (meta[field] !== undefined && meta[field] !== '' && meta[field] !== old[field]) {
        throw invalid(resource, old.name, `metadata.${field}: Invalid value: "${String(meta[field])}": field is immutable`)
      }
    }
    if (meta.resourceVersion && meta.resourceVersion !== old.resourceVersion) {
      throw conflict(resource, old.name, 'the object has been modified; please apply your changes to the latest version and try again')
    }
    next.metadata = {...meta, name: old.name, namespace: old.namespace, uid: old.uid, resourceVersion: old.resourceVersion, creationTimestamp: old.creationTimestamp}
    this.keepDeletionFields(next.metadata, old)
    this.refuseNewFinalizersWhileDeleting(resource, next.metadata, old)
    dropEmptyMetadata(next.metadata)
    next.apiVersion = stored.apiVersion
    next.kind = stored.kind
    if (deepEqual(next, stored)) return clone(stored) // a no-op write does not bump the resourceVersion
    if (shouldDeleteDuringUpdate(next.metadata, old)) {
      // deleteWithoutFinalizers: clients expect the updated object from an update, so that is the answer, never a Status.
      if (!dryRun) this.store.remove(resource, old.namespace, old.name)
      return next
    }
    return dryRun ? next : this.store.put(resource, next)
  }

  private keepDeletionFields(meta: FakeMetadata, old: FakeMetadata): void {
    for (const field of ['deletionTimestamp', 'deletionGracePeriodSeconds'] as const) {
      if (old[field] === undefined) delete meta[field]
      else (meta as Record<string, unknown>)[field] = old[field]
    }
  }

  private refuseNewFinalizersWhileDeleting(resource: FakeResource, meta: FakeMetadata, old: FakeMetadata): void {
    if (old.deletionTimestamp === undefined) return
    const added = (meta.finalizers ?? []).filter((f) => !(old.finalizers ?? []).includes(f))
    if (added.length === 0) return
    const list = added.map((f) => JSON.stringify(f)).join(', ')
    throw invalid(resource, old.name, `metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{${list}}`)
  }

  /** A DELETE's write: an object that is terminating with no finalizer left is removed instead. */
  private persist(resource: FakeResource, object: FakeObject, dryRun: boolean): FakeObject | StatusBody {
    const finalizersLeft = (object.metadata.finalizers ?? []).length > 0
    if (object.metadata.deletionTimestamp !== undefined && !finalizersLeft) return this.removed(resource, object, dryRun)
    return dryRun ? object : this.store.put(resource, object)
  }

  /** Removes the object; pods answer with the object (ReturnDeletedObject), other resources with a Status. */
  private removed(resource: FakeResource, object: FakeObject, dryRun: boolean): FakeObject | StatusBody {
    const {namespace, name, uid} = object.metadata
    if (!dryRun) this.store.remove(resource, namespace, name)
    return resource.plural === 'pods' ? object : success(resource, name, uid)
  }
}
