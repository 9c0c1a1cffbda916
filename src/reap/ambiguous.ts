// Writes whose answer was lost. A DELETE or a finalizer patch that timed out, met a reset connection
// or a 5xx, or was in flight when the run was interrupted, may well have been applied by the API
// server: recording it `failed` would make history lie. Such writes are settled by reading the object
// back, with a short deadline of its own (not the run's signal, which may already be aborted).
import {ApiError, ConfigError, ForbiddenError, InterruptedError, ReapError, TimeoutError, UnreachableError} from '../errors.js'
import type {ReportItem} from '../core/report.js'
import {type KubeClient, earlierAttemptMayHaveApplied} from '../kube/client.js'
import {type KubeObject, getObject} from '../kube/objects.js'
import type {ResourceType} from '../kube/resources.js'

/** How long in-flight writes may still be answered after an interrupt, before they are aborted and settled. */
export const IN_FLIGHT_GRACE_MS = 500
/** The deadline of the GET that settles an ambiguous write. */
export const READ_BACK_TIMEOUT_MS = 1000

// Failures that happen before a request is written: it cannot have been applied.
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])

/**
 * Whether a failed write may nevertheless have been applied. Not when the API server refused it
 * (401, 403, any 4xx: nothing changed), nor when the connection was never made or no credentials
 * were obtained; yes after a 5xx, a timeout, a reset, an interrupt, or anything unforeseen.
 */
export function mayHaveApplied(error: unknown): boolean {
  if (earlierAttemptMayHaveApplied(error)) return true
  if (error instanceof ForbiddenError || error instanceof ConfigError) return false
  if (error instanceof ApiError) return error.status >= 500
  if (error instanceof UnreachableError) {
    const code = (error.cause as NodeJS.ErrnoException | undefined)?.code
    return !(code && NOT_SENT_CODES.has(code))
  }
  return true
}

/**
 * Whether the API server answered the write (a 5xx): it then finished handling it, and an object
 * read back untouched proves the write did not apply. A timeout, a reset or an interrupt leaves the
 * request possibly still queued in the server, where it may apply later: nothing read now disproves it.
 */
export function wasAnswered(error: unknown): boolean {
  return error instanceof ApiError
}

/** Why an unanswered write, whose object is still there untouched, is `unknown` rather than `failed`. */
export function mayStillApply(error: unknown): string {
  if (error instanceof InterruptedError) return 'the request was cut short by the interrupt; it may still apply'
  if (error instanceof TimeoutError) return 'the request timed out; it may still apply'
  return 'its answer was lost; it may still apply'
}

export function failureText(error: unknown): string {
  if (error instanceof ReapError) return error.message
  return error instanceof Error ? error.message.split('\n')[0] : String(error)
}

export type ReadBack = {kind: 'gone'} | {kind: 'present'; object: KubeObject} | {kind: 'unreadable'; error: string}

/** The item's object as the API server has it now: gone (404 or another UID under the name), present, or unreadable. */
export async function readBack(
  kube: KubeClient,
  resource: ResourceType,
  item: Pick<ReportItem, 'namespace' | 'name' | 'uid'>,
  signal?: AbortSignal,
): Promise<ReadBack> {
  const timeout = AbortSignal.timeout(READ_BACK_TIMEOUT_MS)
  const deadline = signal ? AbortSignal.any([timeout, signal]) : timeout
  try {
    const object = await getObject(kube, resource, item.namespace, item.name, {signal: deadline})
    if (!object || object.metadata?.uid !== item.uid) return {kind: 'gone'}
    return {kind: 'present', object}
  } catch (error) {
    return {kind: 'unreadable', error: timeout.aborted ? `no answer within ${READ_BACK_TIMEOUT_MS / 1000}s` : failureText(error)}
  }
}

/**
 * The signal for writes already started: it aborts IN_FLIGHT_GRACE_MS after the run's own, so that a
 * request in flight at Ctrl-C can still be answered. dispose() when the writes are done.
 */
export function settleAfterInterrupt(runSignal: AbortSignal | undefined): {signal: AbortSignal | undefined; dispose: () => void} {
  if (!runSignal) return {signal: undefined, dispose: () => {}}
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const onAbort = () => {
    timer = setTimeout(() => controller.abort(runSignal.reason), IN_FLIGHT_GRACE_MS)
  }
  if (runSignal.aborted) onAbort()
  else runSignal.addEventListener('abort', onAbort, {once: true})
  return {
    signal: controller.signal,
    dispose: () => {
      runSignal.removeEventListener('abort', onAbort)
      if (timer) clearTimeout(timer)
    },
  }
}
