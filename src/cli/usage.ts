// One style for every error, as kubectl writes them: a single `error: ...` line on stderr and, for a
// usage error (exit 2), kubectl's `See 'kubectl airflow-reap CMD --help' for usage.` — never oclif's
// `›   Error:` block or a USAGE dump. Pure: the command base and the command_not_found hook print.
import {EXIT_RUNTIME, EXIT_USAGE, ReapError, UsageError} from '../errors.js'

/** How users call the program (kubectl finds `kubectl-airflow_reap` on PATH). */
export const CLI_NAME = 'kubectl airflow-reap'

/** `See 'kubectl airflow-reap zombies --help' for usage.` (oclif ids use `:` between words). */
export function usageHint(commandId?: string): string {
  const command = commandId ? ` ${commandId.replaceAll(':', ' ')}` : ''
  return `See '${CLI_NAME}${command} --help' for usage.`
}

export function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim()
}

/** A bad value of one flag, worded as kubectl's pflag does (`invalid argument "5x" for "--min-age" flag: ...`). */
export class FlagValueError extends UsageError {
  /** The one line to print: kept apart from `message`, which oclif rewrites for flag parse errors. */
  readonly line: string
  constructor(flag: string, input: string, reason: string) {
    const line = `invalid argument "${input}" for "--${flag}" flag: ${reason}`
    super(line)
    this.line = line
  }
}

export interface ErrorReport {
  /** Without the `error: ` prefix, one line. */
  line: string
  exitCode: number
  /** Usage errors get the `See '... --help' for usage.` line. */
  usage: boolean
}

interface OclifLike extends Error {
  oclif?: {exit?: number}
  code?: string
  flags?: string[]
  args?: string[]
}

/** What to print for an error a command ended with; undefined for oclif's own exit requests (this.exit). */
export function describeError(error: unknown): ErrorReport | undefined {
  if (error instanceof FlagValueError) return {line: error.line, exitCode: EXIT_USAGE, usage: true}
  if (error instanceof ReapError) return {line: oneLine(error.message), exitCode: error.exitCode, usage: error.exitCode === EXIT_USAGE}
  const e = (error instanceof Error ? error : new Error(String(error))) as OclifLike
  if (e.code === 'EEXIT') return undefined
  const parse = describeParseError(e)
  if (parse) return {line: parse, exitCode: EXIT_USAGE, usage: true}
  return {line: oneLine(e.message || String(error)), exitCode: EXIT_RUNTIME, usage: false}
}

/** oclif's parser errors (all exit 2), reworded as kubectl's; undefined when it is not one. */
function describeParseError(e: OclifLike): string | undefined {
  const message = e.message.replace(/\nSee more help with --help\s*$/, '')
  if (/^Nonexistent flags?: /.test(message)) {
    const flags = (e.flags ?? message.replace(/^Nonexistent flags?: /, '').split(', ')).map(flagNameOnly)
    return `unknown flag${flags.length === 1 ? '' : 's'}: ${flags.join(', ')}`
  }
  if (/^Unexpected arguments?: /.test(message)) {
    const args = e.args ?? message.replace(/^Unexpected arguments?: /, '').split(', ')
    return `unexpected argument${args.length === 1 ? '' : 's'}: ${args.map(quoteArgument).join(', ')}`
  }
  if (/^Missing \d+ required args?/.test(message)) {
    const names = [...message.split('\n').slice(1).join('\n').matchAll(/^\s*(\S+)/gm)].map((m) => m[1].toUpperCase()).slice(0, 5)
    return `missing required argument${names.length === 1 ? '' : 's'}${names.length > 0 ? ` ${names.join(' ')}` : ''}`
  }
  const option = /^Expected --([\w-]+)=([\s\S]*) to be one of: (.*)$/.exec(message)
  if (option) return `invalid argument "${option[2]}" for "--${option[1]}" flag: must be one of ${option[3]}`
  const parsing = /^Parsing --([\w-]+) \s*\n\t?([\s\S]*)$/.exec(message)
  if (parsing) {
    // oclif's integer flags: `Expected an integer but received: abc`, said as kubectl says it.
    const integer = /^Expected (an integer.*?) but received: (.*)$/s.exec(parsing[2].trim())
    if (integer) return `invalid argument ${quoteArgument(integer[2])} for "--${parsing[1]}" flag: must be ${oneLine(integer[1])}`
    return `invalid argument for "--${parsing[1]}" flag: ${oneLine(parsing[2])}`
  }
  const needsValue = /^Flag --([\w-]+) expects (?:a value|one of these values: (.*))/.exec(message)
  if (needsValue) return `flag needs an argument: --${needsValue[1]}${needsValue[2] ? ` (one of ${needsValue[2]})` : ''}`
  // Any other error oclif's parser raised (exit 2: exclusive flags, a failed validation): its own words, on one line.
  if (e.oclif?.exit === EXIT_USAGE) return oneLine(message.replace(/^The following errors? occurred:\s*/, ''))
  return undefined
}

/** `--db=postgresql://u:pw@h` → `--db`: a mistyped flag is named, its value never shown (it may be a secret). */
export function flagNameOnly(flag: string): string {
  const eq = flag.indexOf('=')
  return eq < 0 ? flag : flag.slice(0, eq)
}

/**
 * An argument quoted as typed when it is a plain word; a URL or anything with credentials in it is
 * described instead of shown (`zombies postgresql://u:pw@db/airflow`, the --db forgotten, must not print it).
 */
export function quoteArgument(arg: string): string {
  if (/:\/\/|@/.test(arg)) return 'a URL (did you mean --db URL?)'
  if (!/^[\w./:+-]{1,80}$/.test(arg)) return 'an argument that is not a plain word'
  return `"${arg}"`
}
