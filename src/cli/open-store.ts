import {existsSync} from 'node:fs'
import {resolveStorePath} from '../store/location.js'
import {type RunStore, openRunStore} from '../store/run-store.js'

/**
 * The run store for `history`: undefined when nothing was ever recorded. A broken store throws
 * StoreUnavailableError, whose message says how to move the file aside.
 */
export function openStoreForReading(flag: string | undefined): RunStore | undefined {
  const path = resolveStorePath({flag})
  if (!path || !existsSync(path)) return undefined
  return openRunStore(path)
}
