// Reading one object, and the two guarded writes: a DELETE that always carries the UID it means
// (so a re-created namesake is never touched) and a JSON patch of the finalizers that only applies
// to the exact state it was computed from.

import {setTimeout as sleep} from 'node:timers/promises'
import type {ObjectMeta} from '../core/types.js'
import {ReapError} from '../errors.js'
import type {KubeClient, KubeResponse} from './client.js'
import {type KubeObject, toObjectMeta} from './convert.js'
import {type ResourceType, objectPath, qualifiedName} from './resources.js'
import {asStatus} from './status.js'

export type {KubeObject, RawObjectMeta} from './convert.js'

export type DeleteOutcome = 'deleted' | 'terminating' | 'not-found' | 'uid-mismatch'
export type FinalizerPatchOutcome = 'patched' | 'gone' | 'changed-concurrently' | 'not-found'
export type PropagationPolicy = 'Orphan' | 'Background' | 'Foreground'

export interface GuardedDeleteOptions {
  /** The UID the caller saw: the DELETE applies to that object only. */
  uid: string
  gracePeriodSeconds?: number
  propagationPolicy?: PropagationPolicy
  /** Server-side dry run (dryRun=All): RBAC and admission are checked, nothing changes. */
  dryRun?: boolean
  signal?: AbortSignal
}

export interface FinalizerPatchOptions {
  /** The object's finalizers exactly as read, in order. */
  expected: readonly string[]
  remove: readonly string[]
  /** The resourceVersion they were read at. */
  resourceVersion: string
  /** The object's UID: after a lost answer, another object under the name means ours is gone. */
  uid?: string
  dryRun?: boolean
  signal?: AbortSignal
}

export interface ContainerSummary {
  name: string
  ready: boolean
  restartCount: number
  state: 'waiting' | 'running' | 'terminated' | 'unknown'
  /** Why it is waiting or terminated (CrashLoopBackOff, OOMKilled, Completed...). */
  reason?: string
  exitCode?: number
}

export interface PodSummary {
  phase: string
  /** Evicted, NodeLost, DeadlineExceeded... */
  reason?: string
  nodeName?: string
  containers: ContainerSummary[]
}

function describe(resource: ResourceType, namespace: string, name: string): string {
  return `${qualifiedName(resource)} ${namespace}/${name}`
}

/** The object as the API returns it, or null when it does not exist. */
export async function getObject(
  client: KubeClient,
  resource: ResourceType,
  namespace: string,
  name: string,
  options: {signal?: AbortSignal} = {},
): Promise<KubeObject | null> {
  const response = await client.request<KubeObject>({
    method: 'GET',
    path: objectPath(resource, namespace, name),
    signal: options.signal,
    allowStatus: [404],
  })
  return response.status === 404 ? null : response.body
}

export function objectMetaOf(resource: ResourceType, object: KubeObject): ObjectMeta {
  return toObjectMeta(resource.kind, object.metadata)
}

export function podPhase(pod: KubeObject): string {
  const phase = pod.status?.phase
  return typeof phase === 'string' && phase ? phase : 'Unknown'
}

interface RawContainerStatus {
  name?: string
  ready?: boolean
  restartCount?: number
  state?: {
    waiting?: {reason?: string}
    running?: object
    terminated?: {reason?: string; exitCode?: number}
  }
}

function containerSummary(raw: RawContainerStatus): ContainerSummary {
  const summary: ContainerSummary = {name: raw.name ?? '', ready: raw.ready === true, restartCount: raw.restartCount ?? 0, state: 'unknown'}
  const {waiting, running, terminated} = raw.state ?? {}
  if (terminated) Object.assign(summary, {state: 'terminated', reason: terminated.reason, exitCode: terminated.exitCode})
  else if (running) summary.state = 'running'
  else if (waiting) Object.assign(summary, {state: 'waiting', reason: waiting.reason})
  if (summary.reason === undefined) delete summary.reason
  if (summary.exitCode === undefined) delete summary.exitCode
  return summary
}

export function podSummary(pod: KubeObject): PodSummary {
  const status = (pod.status ?? {}) as {reason?: string; containerStatuses?: RawContainerStatus[]}
  const summary: PodSummary = {phase: podPhase(pod), containers: (status.containerStatuses ?? []).map(containerSummary)}
  if (status.reason) summary.reason = status.reason
  const nodeName = pod.spec?.nodeName
  if (typeof nodeName === 'string' && nodeName) summary.nodeName = nodeName
  return summary
}

function isTerminating(object: KubeObject): boolean {
  return Boolean(object.metadata?.deletionTimestamp)
}

/**
 * DELETE with `preconditions.uid`, always: the API server refuses (409) if the name now belongs to
 * another object. Outcomes: deleted (gone), terminating (accepted, still there: graceful pod,
 * finalizers), not-found (already gone), uid-mismatch (replaced: left alone).
 */
export async function deleteGuarded(
  client: KubeClient,
  resource: ResourceType,
  namespace: string,
  name: string,
  options: GuardedDeleteOptions,
): Promise<{outcome: DeleteOutcome; object?: KubeObject}> {
  if (!options.uid) throw new ReapError(`refusing to delete ${describe(resource, namespace, name)} without a UID precondition`)
  const body: Record<string, unknown> = {kind: 'DeleteOptions', apiVersion: 'v1', preconditions: {uid: options.uid}}
  if (options.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = options.gracePeriodSeconds
  if (options.propagationPolicy) body.propagationPolicy = options.propagationPolicy
  if (options.dryRun) body.dryRun = ['All']
  const response = await client.request<KubeObject>({
    method: 'DELETE',
    path: objectPath(resource, namespace, name),
    body,
    signal: options.signal,
    allowStatus: [404, 409],
  })
  return deleteOutcome(response)
}

function deleteOutcome(response: KubeResponse<KubeObject>): {outcome: DeleteOutcome; object?: KubeObject} {
  // A retried DELETE that finds nothing: the attempt whose answer was lost most likely did it.
  if (response.status === 404) return {outcome: response.earlierAttemptMayHaveApplied ? 'deleted' : 'not-found'}
  if (response.status === 409) return {outcome: 'uid-mismatch'}
  if (asStatus(response.body)) return {outcome: 'deleted'}
  const object = response.body
  // kube-apiserver answers a pod it removes at once (unscheduled, or grace 0) marked for deletion.
  return {outcome: isTerminating(object) && !removedByServer(object) ? 'terminating' : 'deleted', object}
}

/**
 * Removes finalizers with a JSON patch that first tests the exact list and resourceVersion read, so
 * it applies to that state only. Outcomes: patched (still there: other finalizers, or a pod whose
 * graceful deletion still runs), gone (that was the last finalizer of a terminating object with no
 * grace period left: it is deleted), changed-concurrently (409/422: read again and decide again), not-found.
 */
export async function patchFinalizersGuarded(
  client: KubeClient,
  resource: ResourceType,
  namespace: string,
  name: string,
  options: FinalizerPatchOptions,
): Promise<{outcome: FinalizerPatchOutcome; object?: KubeObject}> {
  const what = describe(resource, namespace, name)
  if (!options.resourceVersion) throw new ReapError(`refusing to patch the finalizers of ${what} without its resourceVersion`)
  const remaining = options.expected.filter((f) => !options.remove.includes(f))
  if (remaining.length === options.expected.length) throw new ReapError(`none of the finalizers to remove is on ${what}`)
  const response = await client.request<KubeObject>({
    method: 'PATCH',
    path: objectPath(resource, namespace, name),
    contentType: 'application/json-patch+json',
    body: [
      {op: 'test', path: '/metadata/finalizers', value: options.expected},
      {op: 'test', path: '/metadata/resourceVersion', value: options.resourceVersion},
      {op: 'replace', path: '/metadata/finalizers', value: remaining},
    ],
    query: {dryRun: options.dryRun ? 'All' : undefined},
    signal: options.signal,
    allowStatus: [404, 409, 422],
  })
  if (response.status === 200 || response.status === 201) return patchedOutcome(response.body)
  if (response.status === 404) return {outcome: response.earlierAttemptMayHaveApplied ? 'gone' : 'not-found'}
  if (response.earlierAttemptMayHaveApplied) return settleAfterRetry(client, resource, namespace, name, options)
  return {outcome: 'changed-concurrently'}
}

function patchedOutcome(body: KubeObject): {outcome: FinalizerPatchOutcome; object?: KubeObject} {
  if (asStatus(body)) return {outcome: 'gone'} // an API server that deleted it and answered with a Status
  return {outcome: removedByServer(body) ? 'gone' : 'patched', object: body}
}

/**
 * Did the API server remove the object it answered a DELETE or a finalizer patch with? kube-apiserver
 * removes a terminating object with no finalizer only when no grace period runs (none, or 0: a DELETE's
 * deleteImmediately, a patch's ShouldDeleteDuringUpdate), and answers with the object as last stored;
 * a pod deleted gracefully stays Terminating until its kubelet is done.
 */
function removedByServer(body: KubeObject): boolean {
  const meta = body.metadata
  if (!isTerminating(body) || (meta?.finalizers ?? []).length > 0) return false
  return !meta?.deletionGracePeriodSeconds
}

/**
 * Our patch was retried and its test now fails: perhaps because the lost attempt applied it (the
 * resourceVersion moved on). Read the object, and judge as the reap layer judges a lost answer
 * (reap/unstick.ts settlePatch): gone, or another object under the name, is gone; none of the
 * finalizers we meant to remove left is patched; anything else changed concurrently.
 */
async function settleAfterRetry(
  client: KubeClient,
  resource: ResourceType,
  namespace: string,
  name: string,
  options: FinalizerPatchOptions,
): Promise<{outcome: FinalizerPatchOutcome; object?: KubeObject}> {
  const object = await getObject(client, resource, namespace, name, {signal: options.signal})
  if (!object || (options.uid !== undefined && object.metadata?.uid !== options.uid)) return {outcome: 'gone'}
  const current = object.metadata?.finalizers ?? []
  const removed = !options.remove.some((f) => current.includes(f))
  return {outcome: removed ? 'patched' : 'changed-concurrently', object}
}

export interface WaitUntilGoneOptions {
  /** The object waited for: another one under the same name counts as gone. */
  uid: string
  timeoutMs: number
  pollIntervalMs?: number
  signal?: AbortSignal
}

/** Polls until the object is gone (404 or a different UID); false if it is still there at the deadline. */
export async function waitUntilGone(
  client: KubeClient,
  resource: ResourceType,
  namespace: string,
  name: string,
  options: WaitUntilGoneOptions,
): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs
  for (;;) {
    const object = await getObject(client, resource, namespace, name, {signal: options.signal})
    if (!object || object.metadata?.uid !== options.uid) return true
    const left = deadline - Date.now()
    if (left <= 0) return false
    await sleep(Math.min(options.pollIntervalMs ?? 1000, left), undefined, {signal: options.signal})
  }
}
