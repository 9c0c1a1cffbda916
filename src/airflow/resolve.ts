// Where the Airflow metadata DB URL comes from, in the order of the CLI contract (`--db` row):
// the flag, our own variable, then Airflow's own configuration variables (FACTS §7.2).
import {spawn} from 'node:child_process'

import {redactArgv} from '../core/redact.js'
import {ConfigError, ReapError, UsageError, abortReason} from '../errors.js'
import {killGroup} from '../process-group.js'
import {ShlexError, shlexSplit} from './shlex.js'
import type {DbUrl} from './types.js'
import {InvalidDbUrlError, parseDbUrl} from './url.js'

export interface CommandResult {
  exitCode: number | null
  stdout: string
  /** Set when the command ran out of time and was killed. */
  timedOutAfterMs?: number
}

/** How long a command may run (0: no limit) and the run's signal, which kills it at once. */
export interface CommandLimits {
  timeoutMs?: number
  signal?: AbortSignal
}

/** Runs argv without a shell. Rejects when the program cannot be started, or the signal aborts. */
export type RunCommand = (argv: string[], limits?: CommandLimits) => Promise<CommandResult>

export interface ResolveDbUrlOptions {
  flag?: string
  env?: NodeJS.ProcessEnv
  runCommand?: RunCommand
  /** A `*_CMD`'s time limit (--db-timeout; 0: no limit) and the run's signal. */
  command?: CommandLimits
}

export interface ResolvedDbUrl {
  url: DbUrl
  /** '--db' or the name of the environment variable the URL came from. */
  source: string
}

// Each Airflow option may be given directly or as a command printing it; [database] before the
// deprecated [core] spelling. `*_SECRET` needs Airflow's secrets backend and is not supported.
const SOURCES: ReadonlyArray<{name: string; kind: 'value' | 'command'}> = [
  {name: 'AIRFLOW_REAP_DB', kind: 'value'},
  {name: 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN', kind: 'value'},
  {name: 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD', kind: 'command'},
  {name: 'AIRFLOW__CORE__SQL_ALCHEMY_CONN', kind: 'value'},
  {name: 'AIRFLOW__CORE__SQL_ALCHEMY_CONN_CMD', kind: 'command'},
]

export const EMPTY_DB_FLAG = 'the URL is empty: give a database URL, or leave the flag out to use the environment'

export const NO_DB_MESSAGE =
  'no Airflow metadata DB given: pass --db URL or set AIRFLOW_REAP_DB (or AIRFLOW__DATABASE__SQL_ALCHEMY_CONN)'

export async function resolveDbUrl(options: ResolveDbUrlOptions = {}): Promise<ResolvedDbUrl> {
  const resolved = await findDbUrl(options)
  if (resolved) return resolved
  throw new UsageError(NO_DB_MESSAGE + secretHint(options.env ?? process.env))
}

/** The URL given by the flag or the environment, or undefined when neither gives one (then the cluster is asked). */
export async function findDbUrl(options: ResolveDbUrlOptions = {}): Promise<ResolvedDbUrl | undefined> {
  const {flag, env = process.env, runCommand = runWithoutShell, command: limits = {}} = options
  if (flag === '') throw new InvalidDbUrlError('--db', EMPTY_DB_FLAG)
  if (flag !== undefined) return {url: parseDbUrl(flag, '--db'), source: '--db'}
  for (const {name, kind} of SOURCES) {
    const value = env[name]
    // An empty variable counts as unset, as it does for Airflow's own config lookups.
    if (value === undefined || value.trim() === '') continue
    if (kind === 'value') return {url: parseDbUrl(value, name), source: name}
    return {url: await urlFromCommand(name, value, runCommand, limits), source: name}
  }
  return undefined
}

/** Airflow can also take the URL from its secrets backend, which we cannot reach: say so. */
export function secretHint(env: NodeJS.ProcessEnv): string {
  const secret = ['AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_SECRET', 'AIRFLOW__CORE__SQL_ALCHEMY_CONN_SECRET'].find((name) => env[name])
  return secret ? ` (${secret} is set, but Airflow secrets backends are not supported)` : ''
}

/** A `*_CMD` option's output is a DB URL; its time limit is --db-timeout. */
async function urlFromCommand(variable: string, commandLine: string, runCommand: RunCommand, limits: CommandLimits): Promise<DbUrl> {
  const {text, command} = await commandOutput(variable, commandLine, runCommand, {...limits, limitFlag: '--db-timeout'})
  try {
    return parseDbUrl(text, variable)
  } catch (error) {
    if (error instanceof InvalidDbUrlError) {
      throw new ConfigError(`${variable}: ${command} printed an invalid DB URL: ${error.reason}`)
    }
    throw error
  }
}

/**
 * Runs a command option (a `*_CMD`, --airflow-token-cmd) and returns what it printed, trimmed, with
 * the redacted command for messages. Errors name the option and the whole command, never its output
 * (it is a secret); a token or password among the command's own arguments is masked as the run store
 * masks it. `limitFlag` names the flag that sets its time limit, for the message when it runs out.
 */
export async function commandOutput(
  variable: string,
  commandLine: string,
  runCommand: RunCommand,
  {limitFlag, ...limits}: CommandLimits & {limitFlag?: string} = {},
): Promise<{text: string; command: string}> {
  const argv = splitCommand(variable, commandLine)
  const command = `command "${redactArgv(argv).join(' ')}"`
  let result: CommandResult
  try {
    result = await runCommand(argv, limits)
  } catch (error) {
    if (error instanceof ReapError) throw error // interrupted: the command was killed with the run
    const code = (error as NodeJS.ErrnoException).code
    throw new ConfigError(`${variable}: cannot run ${command}${code ? ` (${code})` : ''}`, {cause: error})
  }
  if (result.timedOutAfterMs !== undefined) {
    throw new ConfigError(`${variable}: ${command} did not finish within ${result.timedOutAfterMs / 1000}s${limitFlag ? ` (${limitFlag})` : ''} and was killed`)
  }
  if (result.exitCode !== 0) {
    const how = result.exitCode === null ? 'was killed' : `exited with code ${result.exitCode}`
    throw new ConfigError(`${variable}: ${command} ${how}`)
  }
  const text = result.stdout.trim()
  if (text === '') throw new ConfigError(`${variable}: ${command} printed nothing`)
  return {text, command}
}

function splitCommand(variable: string, commandLine: string): string[] {
  let argv: string[]
  try {
    argv = shlexSplit(commandLine)
  } catch (error) {
    if (error instanceof ShlexError) throw new ConfigError(`${variable}: cannot split the command: ${error.message}`)
    throw error
  }
  if (argv.length === 0) throw new ConfigError(`${variable}: the command is empty`)
  return argv
}

/** How long a `*_CMD` may run when no --db-timeout is given (it is the default of --db-timeout). */
export const COMMAND_TIMEOUT_MS = 30_000
const MAX_OUTPUT_BYTES = 1024 * 1024

/**
 * The default RunCommand: no shell, stdin closed, stderr dropped (it may echo secrets into our
 * output). Bounded: after `timeoutMs` (0: no limit) the program is killed (SIGKILL: a hung program
 * may ignore SIGTERM) and the answer is given at once, even if a child it started still holds stdout
 * open. The run's signal (SIGINT, SIGTERM) kills it the same way, at once, and rejects: it runs in a
 * process group of its own, which a terminal's Ctrl-C or a pod's SIGTERM never reaches.
 */
export function runWithoutShell(argv: string[], options: CommandLimits = {}): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? COMMAND_TIMEOUT_MS
  const {signal} = options
  if (signal?.aborted) return Promise.reject(abortReason(signal, `running ${argv[0]}`))
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal, `running ${argv[0]}`))
    // Its own process group: at the time limit, what it started goes with it.
    const child = spawn(argv[0]!, argv.slice(1), {shell: false, stdio: ['ignore', 'pipe', 'ignore'], detached: true})
    // Out of the terminal's process group, Ctrl-C no longer reaches it: it ends when the CLI does.
    const killOnExit = () => killGroup(child)
    process.once('exit', killOnExit)
    const chunks: Buffer[] = []
    let size = 0
    let settled = false
    const done = () => {
      if (settled) return false
      settled = true
      clearTimeout(timer)
      process.removeListener('exit', killOnExit)
      signal?.removeEventListener('abort', onAbort)
      return true
    }
    const finish = (result: CommandResult) => {
      if (done()) resolve(result)
    }
    const kill = () => {
      killGroup(child)
      child.stdout.destroy()
    }
    const onAbort = () => {
      kill()
      if (done()) reject(abortReason(signal, `running ${argv[0]}`))
    }
    signal?.addEventListener('abort', onAbort, {once: true})
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            kill()
            finish({exitCode: null, stdout: '', timedOutAfterMs: timeoutMs})
          }, timeoutMs)
        : undefined
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size <= MAX_OUTPUT_BYTES) chunks.push(chunk)
      else child.kill()
    })
    child.on('error', (error) => {
      if (done()) reject(error)
    })
    child.on('close', (code) => finish({exitCode: code, stdout: Buffer.concat(chunks).toString('utf8')}))
  })
}
