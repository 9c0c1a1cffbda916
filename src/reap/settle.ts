// Settling later: each write an earlier run recorded `unknown` (its answer never came; it may have
// applied after the run ended) is looked up by namespace, name and UID at the start of the next run
// against the same API server, and what became of it is recorded next to the original `unknown`.
// Best effort and bounded: a failure to read leaves it for a later run, and never fails this one.
import {type ObjectNow, settleUnknown} from '../core/settle.js'
import type {KubeClient} from '../kube/client.js'
import {RESOURCE_TYPES} from '../kube/resources.js'
import type {Settlement, UnsettledAction} from '../store/types.js'
import {readBack} from './ambiguous.js'
import {forEachLimited} from './pool.js'
import type {Progress} from './progress.js'

/** How many unknown actions one run looks up at most (newest first); the rest wait for the next run. */
export const SETTLE_BATCH = 50
/** The whole look-up's deadline: a run must not wait on its predecessors' loose ends. */
export const SETTLE_BUDGET_MS = 5_000
const CONCURRENCY = 10

/** Where unknown actions are found and their settlements written (the run store, through the recorder). */
export interface SettlementLedger {
  unsettledActions(server: string, limit: number): UnsettledAction[]
  recordSettlement(itemId: number, settlement: Omit<Settlement, 'byRunId'>): void
}

export interface SettledCount {
  looked: number
  settled: Record<Settlement['action'], number>
}

export async function settleEarlierUnknowns(kube: KubeClient, ledger: SettlementLedger, signal?: AbortSignal, now = () => new Date()): Promise<SettledCount> {
  const actions = ledger.unsettledActions(kube.server, SETTLE_BATCH)
  const count: SettledCount = {looked: actions.length, settled: {deleted: 0, patched: 0, failed: 0}}
  if (actions.length === 0) return count
  const budget = AbortSignal.timeout(SETTLE_BUDGET_MS)
  const deadline = signal ? AbortSignal.any([budget, signal]) : budget
  await forEachLimited(
    actions,
    CONCURRENCY,
    async (action) => {
      const object = await lookUp(kube, action, deadline)
      if (!object) return
      const verdict = settleUnknown({verb: action.verb, actedAt: action.actedAt}, object, now())
      if (!verdict) return
      ledger.recordSettlement(action.itemId, {...verdict, at: now().toISOString()})
      count.settled[verdict.action]++
    },
    deadline,
  )
  return count
}

/** The action's object now, or undefined when it cannot be read (or is of a kind not known here). */
async function lookUp(kube: KubeClient, action: UnsettledAction, signal: AbortSignal): Promise<ObjectNow | undefined> {
  const resource = RESOURCE_TYPES.find((r) => r.kind === action.kind)
  if (!resource) return undefined
  const state = await readBack(kube, resource, action, signal)
  if (state.kind === 'unreadable') return undefined
  if (state.kind === 'gone') return {kind: 'gone'}
  const metadata = state.object.metadata
  return {kind: 'present', terminating: Boolean(metadata?.deletionTimestamp), finalizers: metadata?.finalizers ?? []}
}

/** One line for stderr about what was settled, or undefined when nothing was. */
export function settledLine(count: SettledCount): string | undefined {
  const parts = Object.entries(count.settled)
    .filter(([, n]) => n > 0)
    .map(([action, n]) => `${n} ${action}`)
  if (parts.length === 0) return undefined
  return `settled actions of earlier runs recorded unknown: ${parts.join(', ')} (history show RUN_ID shows them)`
}

/** At the start of a run, once the cluster is known: settle what earlier runs left unknown, and say so. */
export async function settleEarlierRuns(kube: KubeClient, recorder: {ledger(): SettlementLedger | undefined}, progress: Progress, signal?: AbortSignal): Promise<void> {
  const ledger = recorder.ledger()
  if (!ledger) return
  progress.update('settling actions of earlier runs whose outcome was unknown')
  const line = settledLine(await settleEarlierUnknowns(kube, ledger, signal))
  if (line) progress.note(line)
}
