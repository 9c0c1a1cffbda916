// Base of every command: one place that maps typed errors to exit codes and one line on stderr
// (never a stack trace), and turns Ctrl-C into an AbortSignal the use cases honour.
import {Command} from '@oclif/core'
import {EXIT_RUNTIME, InterruptedError, ReapError} from '../errors.js'

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
    if (error instanceof ReapError) {
      process.stderr.write(`error: ${oneLine(error.message)}\n`)
      process.exitCode = error.exitCode
      return
    }
    // oclif's own errors (bad flags: exit 2, and its exit requests) keep oclif's handling.
    if (error.oclif?.exit !== undefined) throw error
    process.stderr.write(`error: ${oneLine(error.message || String(error))}\n`)
    if (process.env.AIRFLOW_REAP_DEBUG) process.stderr.write(`${error.stack}\n`)
    process.exitCode = EXIT_RUNTIME
  }

  /** Writes the result to stdout (the only thing that goes there). */
  protected writeOut(text: string): void {
    if (text) process.stdout.write(text)
  }
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim()
}
