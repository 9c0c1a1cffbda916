import {existsSync} from 'node:fs'
import {StoreTooNewError, StoreUnavailableError} from '../store/errors.js'
import {resolveStorePath} from '../store/location.js'
import {type RunStore, openRunStore} from '../store/run-store.js'
import {openRunStoreSnapshot} from '../store/snapshot.js'
import type {SettlementLedger} from '../reap/settle.js'

/**
 * What `history` needs of the store: reading, and, while the store is writable, recording what became
 * of earlier runs' unknown actions (settled by history itself: by no run).
 */
export type RunHistory = Pick<RunStore, 'listRuns' | 'getRun' | 'close'> & {settlementLedger(): SettlementLedger | undefined}

/**
 * The run store for `history`: undefined when nothing was ever recorded. A store that can be read but
 * not written is served from an in-memory copy, with a warning that says why and how to fix it. A
 * store that cannot be read at all throws StoreUnavailableError, whose message says what to do.
 */
export function openStoreForReading(flag: string | undefined, warn: (text: string) => void): RunHistory | undefined {
  const path = resolveStorePath({flag})
  if (!path || !existsSync(path)) return undefined
  const readOnly = (err: unknown): RunStore => {
    // A newer schema is unknown to us: not read, not even from a copy.
    if (!(err instanceof StoreUnavailableError) || err instanceof StoreTooNewError) throw err
    // Unreadable too: its error (corrupt, permission denied) is why history cannot be shown.
    const snapshot = openRunStoreSnapshot(path)
    warn(`run store ${path} ${err.problem}: showing it read-only; to record runs: ${err.fix}`)
    return snapshot
  }
  const readOnlyHistory = (err: unknown): RunHistory => {
    const snapshot = readOnly(err)
    return {listRuns: (o) => snapshot.listRuns(o), getRun: (id) => snapshot.getRun(id), close: () => snapshot.close(), settlementLedger: () => undefined}
  }
  try {
    // Writable first: runs whose process died are then recorded crashed for good, and the schema upgraded.
    return withReadOnlyFallback(openRunStore(path), readOnly)
  } catch (err) {
    return readOnlyHistory(err)
  }
}

/**
 * Reading writes when it settles crashed runs: should that fail (the store locked past the busy
 * timeout, a full disk), the same read is answered from the read-only copy.
 */
function withReadOnlyFallback(writable: RunStore, readOnly: (err: unknown) => RunStore): RunHistory {
  let current = writable
  const read = <T>(work: (store: RunStore) => T): T => {
    try {
      return work(current)
    } catch (err) {
      if (current !== writable) throw err
      writable.close()
      current = readOnly(err)
      return work(current)
    }
  }
  return {
    listRuns: (options) => read((store) => store.listRuns(options)),
    getRun: (runId) => read((store) => store.getRun(runId)),
    close: () => current.close(),
    // Settlements go only to the store itself, never to a read-only copy.
    settlementLedger: () =>
      current === writable
        ? {
            unsettledActions: (server, limit) => writable.unsettledActions(server, limit),
            recordSettlement: (itemId, settlement) => writable.recordSettlement(itemId, {...settlement, byRunId: null}),
          }
        : undefined,
  }
}
