// Who is running a run, recorded so that a later `history` can tell a run that is still going from one
// whose process died without recording an outcome (SIGKILL, OOM, a lost node). A pid alone is not
// enough: pids are reused, so on Linux the process's start time (in clock ticks since boot, from
// /proc/PID/stat) and the boot id are recorded too, and a live process with the same pid but another
// start is a different process.
import {readFileSync} from 'node:fs'
import {hostname} from 'node:os'

export interface ProcessIdentity {
  pid: number
  host: string
  /** `BOOT_ID:START_TICKS` on Linux; null where the start of another process cannot be read. */
  start: string | null
}

/** Liveness of a recorded process as seen from here: `unknown` when it ran on another host. */
export type Liveness = 'alive' | 'gone' | 'unknown'

export function currentProcess(): ProcessIdentity {
  return {pid: process.pid, host: hostname(), start: processStart(process.pid)}
}

export function liveness(recorded: {pid: number | null; host: string | null; start: string | null}): Liveness {
  if (recorded.pid === null || recorded.host === null) return 'unknown' // recorded by a version that did not say
  if (recorded.host !== hostname()) return 'unknown'
  if (!pidExists(recorded.pid)) return 'gone'
  if (recorded.start === null) return 'alive'
  const now = processStart(recorded.pid)
  // The pid exists but belongs to a process started at another moment (or after a reboot): ours is gone.
  if (now !== null && now !== recorded.start) return 'gone'
  return 'alive'
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) is in parentheses and may hold spaces or parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const startTicks = fields[19] // field 22, starttime; fields[0] is field 3
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
    return startTicks && /^\d+$/.test(startTicks) ? `${bootId}:${startTicks}` : null
  } catch {
    return null // not Linux, or the process is gone
  }
}
