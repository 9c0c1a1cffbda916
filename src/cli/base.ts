// Base of every command: one place that maps errors to exit codes and prints them in one style
// (src/cli/usage.ts: one `error: ...` line, kubectl's usage hint for usage errors, never a stack
// trace), and turns SIGINT and SIGTERM into an AbortSignal the use cases honour.
import {Command} from '@oclif/core'
import {EXIT_SIGINT, EXIT_SIGTERM, InterruptedError} from '../errors.js'
import {describeError, oneLine, usageHint} from './usage.js'

/**
 * After SIGINT or SIGTERM, how long the run gets to stop its I/O, record itself and print its report
 * before the process exits anyway (the contract: a signal ends a run within 2 s, whatever it waits
 * on). Waits honour the abort within milliseconds; what is meant to take longer must fit inside this
 * budget: deletes in flight get a short grace to be answered, then a bounded read-back settles them.
 */
export const INTERRUPT_DEADLINE_MS = 1_900

const HANDLED_SIGNALS = ['SIGINT', 'SIGTERM'] as const
type HandledSignal = (typeof HANDLED_SIGNALS)[number]

export function exitCodeOfSignal(signal: HandledSignal): number {
  return signal === 'SIGTERM' ? EXIT_SIGTERM : EXIT_SIGINT
}

export abstract class ReapCommand extends Command {
  protected readonly abort = new AbortController()
  private interruptedBy?: HandledSignal
  private finished = false
  private readonly listeners = new Map<HandledSignal, () => void>(HANDLED_SIGNALS.map((s) => [s, () => this.onSignal(s)]))

  override async init(): Promise<void> {
    await super.init()
    for (const [signal, listener] of this.listeners) process.on(signal, listener)
  }

  override async finally(error: Error | undefined): Promise<void> {
    this.finished = true
    if (this.interruptedBy) process.exitCode = exitCodeOfSignal(this.interruptedBy)
    for (const [signal, listener] of this.listeners) process.removeListener(signal, listener)
    await super.finally(error)
  }

  override async catch(error: Error & {oclif?: {exit?: number}}): Promise<void> {
    // A parse error is reported here in our own words: oclif's "did not parse its arguments" warning
    // (printed when NODE_ENV is development or test) would add two lines of noise after it.
    this.parsed = true
    if (this.interruptedBy) {
      // Whatever failed after the signal failed because of it (an aborted request, a closed socket).
      const message = error instanceof InterruptedError ? error.message : `interrupted by ${this.interruptedBy}: ${error.message}`
      process.stderr.write(`error: ${oneLine(message)}\n`)
      process.exitCode = exitCodeOfSignal(this.interruptedBy)
      return
    }
    const report = describeError(error)
    // oclif's own exit requests (this.exit) keep oclif's handling.
    if (!report) throw error
    process.stderr.write(`error: ${report.line}\n`)
    if (report.usage) process.stderr.write(`${usageHint(this.id)}\n`)
    if (process.env.AIRFLOW_REAP_DEBUG && error.stack) process.stderr.write(`${error.stack}\n`)
    process.exitCode = report.exitCode
  }

  /** A `warning: ...` line on stderr: something the user should know that does not stop the command. */
  protected writeWarning(text: string): void {
    process.stderr.write(`warning: ${oneLine(text)}\n`)
  }

  /** Writes the result to stdout (the only thing that goes there). */
  protected writeOut(text: string): void {
    if (text) process.stdout.write(text)
  }

  /**
   * The first signal aborts the run: in-flight requests, DB queries, exec plugins and the confirmation
   * end, the run frame records the run as interrupted and the report is printed. A second signal exits
   * at once, as does the deadline should something ignore the abort.
   */
  private onSignal(signal: HandledSignal): void {
    const code = exitCodeOfSignal(signal)
    if (this.interruptedBy) {
      process.stderr.write(`\nerror: ${signal} again: exiting without waiting for the run to stop\n`)
      process.exit(code)
    }
    this.interruptedBy = signal
    process.exitCode = code
    this.abort.abort(new InterruptedError(`interrupted by ${signal}`, {signal}))
    const deadline = setTimeout(() => {
      if (!this.finished) {
        process.stderr.write(`\nerror: interrupted by ${signal}: the run did not stop within ${INTERRUPT_DEADLINE_MS / 1000}s; exiting\n`)
      }
      process.exit(code)
    }, INTERRUPT_DEADLINE_MS)
    deadline.unref() // a run that ends sooner exits as usual
  }
}
