// Credentials for the Airflow API, first found wins (cli-contract.md, "Task-instance source"):
// --airflow-token-cmd / AIRFLOW_REAP_API_TOKEN_CMD (a command printing a bearer token or an
// ExecCredential whose expiry is honoured; run without a shell, bounded, in its own process group, as
// Airflow's `*_CMD` options are), then AIRFLOW_REAP_API_TOKEN, then AIRFLOW_REAP_API_USERNAME and
// AIRFLOW_REAP_API_PASSWORD (v2: a token from POST /auth/token; v1: basic auth). No secret is ever a
// flag value or part of the URL, and none appears in a message.
import {type RunCommand, commandOutput, runWithoutShell} from '../airflow/resolve.js'
import {ConfigError, UsageError} from '../errors.js'
import type {ApiAuth} from './http.js'

export const TOKEN_CMD_ENV = 'AIRFLOW_REAP_API_TOKEN_CMD'
export const TOKEN_ENV = 'AIRFLOW_REAP_API_TOKEN'
export const USERNAME_ENV = 'AIRFLOW_REAP_API_USERNAME'
export const PASSWORD_ENV = 'AIRFLOW_REAP_API_PASSWORD'

/** A token this close to its expiry is fetched again before it is used. */
const EXPIRY_MARGIN_MS = 10_000

export type CredentialSource =
  | {kind: 'token-cmd'; commandLine: string; from: string}
  | {kind: 'token'; token: string}
  | {kind: 'password'; username: string; password: string}
  | {kind: 'none'}

/** Where the credentials come from; an empty variable counts as unset. Half a username/password pair is a usage error. */
export function credentialSource(tokenCmdFlag: string | undefined, env: NodeJS.ProcessEnv): CredentialSource {
  const set = (name: string) => (env[name]?.trim() ? env[name] : undefined)
  if (tokenCmdFlag !== undefined) {
    if (tokenCmdFlag.trim() === '') throw new UsageError('--airflow-token-cmd: the command is empty')
    return {kind: 'token-cmd', commandLine: tokenCmdFlag, from: '--airflow-token-cmd'}
  }
  const tokenCmd = set(TOKEN_CMD_ENV)
  if (tokenCmd) return {kind: 'token-cmd', commandLine: tokenCmd, from: TOKEN_CMD_ENV}
  const token = set(TOKEN_ENV)
  if (token) return {kind: 'token', token: token.trim()}
  const username = set(USERNAME_ENV)
  const password = set(PASSWORD_ENV)
  if (username && password) return {kind: 'password', username, password}
  if (username || password) throw new UsageError(`${username ? USERNAME_ENV : PASSWORD_ENV} is set without ${username ? PASSWORD_ENV : USERNAME_ENV}: give both, or a token`)
  return {kind: 'none'}
}

/** Obtains a token for a username and password (v2: POST /auth/token); the adapter supplies it. */
export type RequestToken = (username: string, password: string, signal?: AbortSignal) => Promise<string>

export interface AuthOptions {
  /** v1 sends basic auth for a username/password; v2 exchanges them for a token. */
  api: 'v1' | 'v2'
  requestToken: RequestToken
  runCommand?: RunCommand
}

export function createAuth(source: CredentialSource, options: AuthOptions): ApiAuth {
  switch (source.kind) {
    case 'none':
      return {how: 'none', header: async () => undefined, renew: async () => false}
    case 'token':
      return {how: 'token', header: async () => `Bearer ${checkedToken(source.token, TOKEN_ENV)}`, renew: async () => false}
    case 'password':
      if (options.api === 'v1') {
        const basic = `Basic ${Buffer.from(`${source.username}:${source.password}`).toString('base64')}`
        return {how: 'password', header: async () => basic, renew: async () => false}
      }
      return new RenewableToken('password', (signal) => options.requestToken(source.username, source.password, signal).then((token) => ({token})))
    case 'token-cmd':
      return new RenewableToken('token-cmd', (signal) => tokenFromCommand(source, options.runCommand, signal))
  }
}

interface Obtained {
  token: string
  /** From an ExecCredential's status.expirationTimestamp. */
  expiresAt?: Date
}

/** A token obtained on first use, kept until its expiry, obtained again on expiry or when the server says it expired. */
class RenewableToken implements ApiAuth {
  private current?: Promise<Obtained>

  constructor(
    readonly how: 'token-cmd' | 'password',
    private readonly obtain: (signal?: AbortSignal) => Promise<Obtained>,
  ) {}

  async header(signal?: AbortSignal): Promise<string> {
    let obtained = await (this.current ??= this.obtain(signal))
    if (obtained.expiresAt && obtained.expiresAt.getTime() - EXPIRY_MARGIN_MS <= Date.now()) {
      this.current = this.obtain(signal)
      obtained = await this.current
    }
    return `Bearer ${obtained.token}`
  }

  async renew(signal?: AbortSignal): Promise<boolean> {
    this.current = this.obtain(signal)
    await this.current
    return true
  }
}

/** Runs the token command; its output is a bare token or an ExecCredential (client.authentication.k8s.io). */
async function tokenFromCommand(source: Extract<CredentialSource, {kind: 'token-cmd'}>, runCommand: RunCommand | undefined, signal?: AbortSignal): Promise<Obtained> {
  const run = runCommand ?? runWithoutShell
  const {text, command} = await commandOutput(source.from, source.commandLine, run, {signal})
  if (!text.startsWith('{')) return {token: checkedToken(text, `${source.from}: ${command}`)}
  return execCredential(text, `${source.from}: ${command}`)
}

function execCredential(text: string, what: string): Obtained {
  let document: {apiVersion?: unknown; kind?: unknown; status?: {token?: unknown; expirationTimestamp?: unknown}}
  try {
    document = JSON.parse(text)
  } catch {
    throw new ConfigError(`${what} printed malformed JSON (expected a token or an ExecCredential)`)
  }
  const apiVersion = typeof document.apiVersion === 'string' ? document.apiVersion : ''
  if (document.kind !== 'ExecCredential' || !apiVersion.startsWith('client.authentication.k8s.io/')) {
    throw new ConfigError(`${what} printed JSON that is not an ExecCredential (client.authentication.k8s.io)`)
  }
  const token = document.status?.token
  if (typeof token !== 'string' || token === '') throw new ConfigError(`${what} printed an ExecCredential without status.token`)
  const expiry = document.status?.expirationTimestamp
  if (expiry === undefined || expiry === null) return {token: checkedToken(token, what)}
  const expiresAt = typeof expiry === 'string' ? new Date(expiry) : new Date(Number.NaN)
  if (Number.isNaN(expiresAt.getTime())) throw new ConfigError(`${what} printed an ExecCredential whose status.expirationTimestamp is not a time`)
  return {token: checkedToken(token, what), expiresAt}
}

/** A token is one word of visible ASCII: anything else would corrupt the header (and is no token). */
function checkedToken(token: string, what: string): string {
  if (!/^[\x21-\x7e]+$/.test(token)) throw new ConfigError(`${what}: not a bearer token (expected one word of visible ASCII characters)`)
  return token
}
