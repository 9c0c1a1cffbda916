// `history` settles what earlier runs left `unknown` too, when the kubeconfig's cluster can be asked
// (issue 21): never required. No kubeconfig, an unreachable or refusing server, a store that cannot be
// written: history shows what is recorded, as it would have anyway. Bounded by the settling budget.
import {KubeClient} from '../kube/client.js'
import {loadKubeTarget} from '../kube/config.js'
import {settleEarlierUnknowns, settledLine} from '../reap/settle.js'
import type {RunHistory} from './open-store.js'

/** Per request: history must answer at once, and the whole look-up has SETTLE_BUDGET_MS anyway. */
const REQUEST_TIMEOUT_MS = 3_000

export interface HistoryKubeOptions {
  kubeconfig?: string
  context?: string
}

/** Settles earlier runs' unknown actions against the kubeconfig's server, and says so on stderr. */
export async function settleFromHistory(history: RunHistory, kube: HistoryKubeOptions, signal: AbortSignal): Promise<void> {
  const line = await settle(history, kube, signal)
  if (line) process.stderr.write(`${line}\n`)
}

async function settle(history: RunHistory, kube: HistoryKubeOptions, signal: AbortSignal): Promise<string | undefined> {
  const ledger = history.settlementLedger()
  if (!ledger) return undefined
  let client: KubeClient
  try {
    client = new KubeClient(loadKubeTarget({...kube, requestTimeoutMs: REQUEST_TIMEOUT_MS}))
  } catch {
    return undefined // no kubeconfig (or a broken one): nothing to ask, and nothing to complain about
  }
  try {
    // Asks the server only when this store holds unknown actions of that very server.
    return settledLine(await settleEarlierUnknowns(client, ledger, signal))
  } catch {
    return undefined
  } finally {
    client.close()
  }
}
