// Bounds on kubeconfig `exec` credential plugins. client-node runs them (its ExecAuth: the
// ExecCredential protocol and the token cache) but waits for them for ever, with stdin left open. Its
// spawn function is swapped for this one: stdin closed (nothing is interactive here), the plugin in a
// process group of its own, killed with everything it started when it runs past the limit or the run
// is interrupted, and the waiting request failed at once with an error naming the command, whether
// or not client-node ever hears the plugin end (a killed plugin's child can hold its stdout open).
import {type ChildProcess, type SpawnOptions, spawn} from 'node:child_process'
import {TimeoutError, abortReason} from '../errors.js'
import {killGroup} from '../process-group.js'

type Spawn = (command: string, args: readonly string[] | undefined, options: SpawnOptions) => ChildProcess

interface Waiter {
  reject(error: Error): void
}

export class ExecPluginGuard {
  private readonly running = new Set<ChildProcess>()
  private readonly waiters = new Set<Waiter>()
  private readonly killAll = () => {
    for (const child of this.running) killGroup(child)
  }

  /** limitMs: how long one plugin run may take (0: no limit). */
  constructor(
    private readonly limitMs: number,
    private readonly userName: string,
  ) {}

  /** The spawn function client-node's ExecAuth is given. */
  readonly spawn: Spawn = (command, args, options) => {
    const child = spawn(command, args ?? [], {...options, stdio: ['ignore', 'pipe', 'pipe'], detached: true})
    this.running.add(child)
    if (this.running.size === 1) process.once('exit', this.killAll) // no plugin outlives the run
    const timer = this.limitMs > 0 ? setTimeout(() => this.fail(child, this.timeoutError(command)), this.limitMs) : undefined
    child.once('exit', () => {
      clearTimeout(timer)
      this.forget(child)
    })
    child.once('error', () => {
      clearTimeout(timer)
      this.forget(child)
    })
    return child
  }

  /** Runs `work` (client-node applying credentials), failing it as soon as a plugin it waits on is killed. */
  async during<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    let waiter: Waiter | undefined
    const failed = new Promise<never>((_, reject) => {
      waiter = {reject}
      this.waiters.add(waiter)
    })
    const onAbort = () => {
      const error = abortReason(signal, 'running the credential plugin')
      for (const child of [...this.running]) this.fail(child, error)
    }
    if (signal?.aborted) onAbort()
    signal?.addEventListener('abort', onAbort, {once: true})
    try {
      return await Promise.race([work(), failed])
    } finally {
      this.waiters.delete(waiter!)
      signal?.removeEventListener('abort', onAbort)
    }
  }

  private fail(child: ChildProcess, error: Error): void {
    killGroup(child)
    child.stdout?.destroy()
    child.stderr?.destroy()
    this.forget(child)
    for (const waiter of this.waiters) waiter.reject(error)
  }

  private forget(child: ChildProcess): void {
    this.running.delete(child)
    if (this.running.size === 0) process.removeListener('exit', this.killAll)
  }

  private timeoutError(command: string): TimeoutError {
    const seconds = Number((this.limitMs / 1000).toFixed(3))
    return new TimeoutError(
      `the exec credential plugin "${command}" of user "${this.userName}" did not finish within ${seconds}s (--request-timeout); it was killed`,
    )
  }
}

