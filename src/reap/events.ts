// Kubernetes Events for what a run did: one per delete or finalizer patch, posted once the outcome of
// every action is known and recorded (the run frame calls this after the work, also when it failed
// part-way; not after a signal, whose deadline is for recording and printing the run). Best effort: a post that fails never fails the run; it becomes one warning,
// and the remaining posts are not tried (a missing RBAC rule or a failing API server would only fail
// them again, slowly). Dry runs post nothing: nothing was done.
import os from 'node:os'
import {actionEvent, reportingInstanceFor} from '../core/events.js'
import type {ReportItem} from '../core/report.js'
import {ForbiddenError} from '../errors.js'
import type {KubeClient} from '../kube/client.js'
import {createEvent} from '../kube/events.js'
import {RESOURCE_TYPES, apiVersionOf} from '../kube/resources.js'
import {forEachLimited} from './pool.js'
import {failureText} from './ambiguous.js'
import type {Progress} from './progress.js'

/** Events get this long in all: the run is recorded before, so a slow API server only costs time. */
export const EVENTS_BUDGET_MS = 10_000
const CONCURRENCY = 5

export interface EventOptions {
  progress: Progress
  /** Overrides (tests): the instance name and the clock, in nanoseconds since the epoch. */
  reportingInstance?: string
  nowNanos?: () => bigint
  budgetMs?: number
}

/** Posts the events of the items acted on; returns the warnings for the report (empty when all were posted). */
export async function postActionEvents(kube: KubeClient, items: readonly ReportItem[], options: EventOptions): Promise<string[]> {
  const instance = options.reportingInstance ?? reportingInstanceFor(os.hostname())
  const now = options.nowNanos ?? wallClockNanos
  const acted = items.filter((item) => item.action === 'deleted' || item.action === 'patched')
  if (acted.length === 0) return []
  options.progress.update(`posting ${acted.length} Kubernetes events`)
  // Its own deadline: the run's signal has not fired (the run frame posts nothing after one).
  const signal = AbortSignal.timeout(options.budgetMs ?? EVENTS_BUDGET_MS)
  let failure: unknown
  let posted = 0
  const post = async (item: ReportItem) => {
    if (failure !== undefined) return
    const event = actionEvent(item, {apiVersion: apiVersionOfKind(item.kind), reportingInstance: instance, nowNanos: now()})
    if (!event) return
    try {
      await createEvent(kube, event, signal)
      posted++
    } catch (error) {
      failure ??= error
    }
  }
  // The first one alone: when it is refused (no RBAC for events) the others are not even tried.
  await post(acted[0])
  await forEachLimited(acted.slice(1), CONCURRENCY, post, signal)
  if (failure === undefined && posted === acted.length) return []
  const why = signal.aborted ? `no answer within ${(options.budgetMs ?? EVENTS_BUDGET_MS) / 1000}s` : failureText(failure)
  return [`Kubernetes events not posted for ${acted.length - posted} of ${acted.length} actions: ${why}${hint(failure)}`]
}

/** postActionEvents for the run frame: each warning also goes to stderr. */
export async function announceActions(kube: KubeClient, items: readonly ReportItem[], progress: Progress): Promise<string[]> {
  const warnings = await postActionEvents(kube, items, {progress})
  for (const warning of warnings) progress.warn(warning)
  return warnings
}

function apiVersionOfKind(kind: string): string {
  const resource = RESOURCE_TYPES.find((r) => r.kind === kind)
  return resource ? apiVersionOf(resource) : 'v1'
}


function hint(error: unknown): string {
  return error instanceof ForbiddenError ? ' (grant create on events.events.k8s.io, or pass --no-events)' : ''
}

/** Nanoseconds since the epoch, with the sub-millisecond part from the monotonic clock. */
function wallClockNanos(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6))
}
