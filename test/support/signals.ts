// Running the built CLI until it waits on something, then sending it a signal, timing how long it
// takes to exit from the moment the signal is sent.
import {spawn} from 'node:child_process'
import {BIN, cleanEnv} from './cli.js'

export interface SignalledResult {
  code: number | null
  /** Killed by a signal instead of exiting (the contract wants an exit code). */
  killedBy: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** Milliseconds from sending the signal to the process's exit; undefined when none was sent. */
  exitMsAfterSignal?: number
}

export interface SignalOptions {
  env: Record<string, string | undefined>
  /** Resolves once the CLI is waiting on the thing under test. */
  waiting?: Promise<unknown>
  /** Sent once `waiting` resolves (plus settleMs). */
  signal?: NodeJS.Signals
  /** Time left for the CLI to settle into the wait after `waiting` resolved (default 300 ms). */
  settleMs?: number
  timeoutMs?: number
}

export function runCliSignalled(args: string[], options: SignalOptions): Promise<SignalledResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {env: cleanEnv({NO_COLOR: '1', ...options.env}), stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    let signalledAt: number | undefined
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const killer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
    child.on('error', reject)
    child.on('exit', (code, killedBy) => {
      const exitedAt = performance.now()
      clearTimeout(killer)
      child.on('close', () =>
        resolve({code, killedBy, stdout, stderr, exitMsAfterSignal: signalledAt === undefined ? undefined : exitedAt - signalledAt}),
      )
    })
    if (options.signal) {
      void (options.waiting ?? Promise.resolve()).then(async () => {
        await new Promise((r) => setTimeout(r, options.settleMs ?? 300))
        if (child.exitCode !== null) return
        signalledAt = performance.now()
        child.kill(options.signal)
      })
    }
  })
}

/** The lines of stderr that are not blank. */
export function stderrLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.trim() !== '')
}
