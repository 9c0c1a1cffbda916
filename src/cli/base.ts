// Base of every command: one place that maps errors to exit codes and prints them in one style
// (src/cli/usage.ts: one `error: ...` line, kubectl's usage hint for usage errors, never a stack
// trace), and turns Ctrl-C into an AbortSignal the use cases honour.
import {Command} from '@oclif/core'
import {InterruptedError} from '../errors.js'
import {describeError, usageHint} from './usage.js'

export abstract class ReapCommand extends Command {
  protected readonly abort = new AbortController()
  private readonly onSignal = () => this.abort.abort(new InterruptedError('interrupted'))

  override async init(): Promise<void> {
    await super.init()
    process.once('SIGINT', this.onSignal)
    process.once('SIGTERM', this.onSignal)
  }

  override async finally(error: Error | undefined): Promise<void> {
    process.removeListener('SIGINT', this.onSignal)
    process.removeListener('SIGTERM', this.onSignal)
    await super.finally(error)
  }

  override async catch(error: Error & {oclif?: {exit?: number}}): Promise<void> {
    const report = describeError(error)
    // oclif's own exit requests (this.exit) keep oclif's handling.
    if (!report) throw error
    process.stderr.write(`error: ${report.line}\n`)
    if (report.usage) process.stderr.write(`${usageHint(this.id)}\n`)
    if (process.env.AIRFLOW_REAP_DEBUG && error.stack) process.stderr.write(`${error.stack}\n`)
    process.exitCode = report.exitCode
  }

  /** Writes the result to stdout (the only thing that goes there). */
  protected writeOut(text: string): void {
    if (text) process.stdout.write(text)
  }
}
