// What became of a write recorded `unknown` (its answer never came): judged later from the object as
// the API server has it now. Pure: the caller reads the object and records the verdict.
import {formatAge} from './duration.js'
import {GC_FINALIZERS} from './unstick.js'

/**
 * How long after its request an unknown write that left no trace is judged not to have applied. A
 * request the API server has not finished handling by its own request timeout (60 s by default, its
 * `--request-timeout`) is abandoned by the server: ten minutes is long past any queue or retry.
 */
export const SETTLE_AS_FAILED_AFTER_MS = 10 * 60_000

/** The object under the action's namespace and name, as read now. `gone`: 404, or another UID. */
export type ObjectNow = {kind: 'gone'} | {kind: 'present'; terminating: boolean; finalizers: readonly string[]}

export interface UnknownWrite {
  verb: 'delete' | 'patch'
  /** When the request was sent (ISO 8601); null on rows that never recorded it. */
  actedAt: string | null
}

export interface SettleVerdict {
  action: 'deleted' | 'patched' | 'failed'
  detail: string
}

/** The settlement of an unknown write, or undefined while it cannot be told yet (it may still apply). */
export function settleUnknown(write: UnknownWrite, object: ObjectNow, now: Date): SettleVerdict | undefined {
  if (object.kind === 'gone') {
    return write.verb === 'delete'
      ? {action: 'deleted', detail: 'that object (its UID) is gone'}
      : {action: 'patched', detail: 'that object (its UID) is gone: its finalizers no longer held it'}
  }
  if (write.verb === 'delete' && object.terminating) return {action: 'deleted', detail: 'that object (its UID) is terminating'}
  const held = object.finalizers.filter((f) => (GC_FINALIZERS as readonly string[]).includes(f))
  if (write.verb === 'patch' && held.length === 0) return {action: 'patched', detail: 'that object (its UID) no longer holds a garbage-collector finalizer'}
  const sinceMs = write.actedAt === null ? undefined : now.getTime() - Date.parse(write.actedAt)
  if (sinceMs === undefined || Number.isNaN(sinceMs) || sinceMs < SETTLE_AS_FAILED_AFTER_MS) return undefined
  const untouched = write.verb === 'delete' ? 'still there and not being deleted' : `still there, holding ${held.join(', ')}`
  return {action: 'failed', detail: `that object (its UID) is ${untouched} ${formatAge(sinceMs / 1000)} after the request: it did not apply`}
}
