// RBAC refuses a verb on a resource for every object of a namespace alike: after the first denial
// for a kind of object in a namespace, the rest there are not sent (other namespaces may have other Roles). Shared by every command that
// writes (guarded deletes, unstick's finalizer patches), so that each says the same thing.
import type {ReportItem} from '../core/report.js'
import {ForbiddenError} from '../errors.js'
import {forEachLimited} from './pool.js'

/** A 403 from RBAC (not an admission webhook's, which may refuse one object and accept the next). */
export function isRbacDenial(error: unknown): error is ForbiddenError {
  return error instanceof ForbiddenError && error.message.startsWith('RBAC denied')
}

export interface RbacStopOptions<T> {
  concurrency: number
  signal?: AbortSignal
  /** The report item a task writes: marked skipped (not-permitted) when it is not sent. */
  itemOf: (task: T) => ReportItem
}

/**
 * Runs `send` for each task, at most `concurrency` at once, the first alone (a missing permission then
 * costs one refused request, not one per worker). `send` returns the error of a refused request; after
 * an RBAC denial for a kind in a namespace, the tasks there still to start are not sent but marked skipped,
 * not-permitted, saying which permission is missing.
 */
export async function forEachUntilDenied<T>(
  tasks: readonly T[],
  options: RbacStopOptions<T>,
  send: (task: T) => Promise<unknown>,
): Promise<void> {
  const denials = new Map<string, ForbiddenError>()
  const work = async (task: T) => {
    const item = options.itemOf(task)
    const scope = `${item.kind} ${item.namespace}`
    const denial = denials.get(scope)
    if (denial) {
      item.action = 'skipped'
      item.skipReason = 'not-permitted'
      item.detail = `${item.detail}; not sent: ${denial.message}`
      return
    }
    const refusal = await send(task)
    if (isRbacDenial(refusal) && !denials.has(scope)) denials.set(scope, refusal)
  }
  await forEachLimited(tasks.slice(0, 1), 1, work, options.signal)
  await forEachLimited(tasks.slice(1), options.concurrency, work, options.signal)
}
