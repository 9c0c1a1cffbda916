// Client-side bounds on a DB wait: a timeout and the run's AbortSignal. Drivers' own timeouts do not
// cover a connection that goes silent mid-session (no RST): pg has none for queries, and mysql2's
// per-query timer leaves the connection open. Giving up here closes the socket, so nothing stays in
// flight and the process can exit.
import {type ReapError, abortReason} from '../../errors.js'

export interface Bound {
  /** 0: no limit. */
  timeoutMs: number
  signal?: AbortSignal
}

/**
 * `work` or, when the bound passes first, `giveUp()` (destroy the connection) and a rejection: the
 * error `onTimeout` makes, or the signal's InterruptedError.
 */
export async function bounded<T>(work: () => Promise<T>, bound: Bound, onTimeout: () => Error, giveUp: () => void): Promise<T> {
  const {timeoutMs, signal} = bound
  if (signal?.aborted) {
    giveUp()
    throw interruptedReason(signal)
  }
  if (!timeoutMs && !signal) return work()
  let timer: NodeJS.Timeout | undefined
  let onAbort: (() => void) | undefined
  const limit = new Promise<never>((_, reject) => {
    if (timeoutMs > 0) {
      timer = setTimeout(() => {
        giveUp()
        reject(onTimeout())
      }, timeoutMs)
    }
    onAbort = () => {
      giveUp()
      reject(interruptedReason(signal!))
    }
    signal?.addEventListener('abort', onAbort, {once: true})
  })
  try {
    return await Promise.race([work(), limit])
  } finally {
    clearTimeout(timer)
    if (onAbort) signal?.removeEventListener('abort', onAbort)
  }
}

export function interruptedReason(signal: AbortSignal): ReapError {
  return abortReason(signal, 'waiting for the Airflow DB')
}

/** "30s", "1.5s": how a bound is named in an error. */
export function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`
}
