// The one HTTP client of the Kubernetes API: node:https with the kubeconfig's TLS settings and
// credentials (tokens, client certificates; exec plugins through client-node), a keep-alive agent, a
// per-request timeout, bounded retries, and failures turned into typed errors.

import type {IncomingHttpHeaders} from 'node:http'
import https from 'node:https'
import {setTimeout as sleep} from 'node:timers/promises'
import {ApiError, ConfigError, ReapError, TimeoutError, abortReason} from '../errors.js'
import type {KubeTarget} from './config.js'
import {type Credentials, credentialsFor} from './credentials.js'
import {errorForNetwork, errorForResponse, oneLine} from './status.js'

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

export interface KubeRequest {
  method: HttpMethod
  /** From the API root, e.g. `/api/v1/namespaces/airflow/pods`; the server URL may add a prefix. */
  path: string
  query?: Record<string, string | number | boolean | undefined>
  /** Sent as JSON unless a string. */
  body?: unknown
  contentType?: string
  accept?: string
  signal?: AbortSignal
  /** Non-2xx statuses the caller handles itself (404, 409, 410, 422...): returned, not thrown. */
  allowStatus?: readonly number[]
}

export interface KubeResponse<T = unknown> {
  status: number
  /** Parsed JSON, or the text of a non-JSON answer. */
  body: T
  headers: IncomingHttpHeaders
  /** Characters of the answer's text (the list sizes its pages by it). */
  bodyChars?: number
  /**
   * An earlier attempt of this (write) request failed in a way that may hide a success: a 5xx or a
   * reset connection. A retried DELETE answered 404, for one, most likely deleted it itself.
   */
  earlierAttemptMayHaveApplied: boolean
}

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number
  baseDelayMs: number
  maxDelayMs: number
  /** A longer Retry-After is cut to this. */
  maxRetryAfterSeconds: number
}

export interface KubeClientOptions {
  retry?: Partial<RetryPolicy>
  userAgent?: string
  /** Told (one line) when the API server throttles a request and the retry waits a second or more. */
  onThrottle?: (text: string) => void
}

interface RawResponse {
  status: number
  headers: IncomingHttpHeaders
  body: unknown
  bodyChars: number
}

type Attempt = {response: RawResponse} | {networkError: unknown}

const DEFAULT_RETRY: RetryPolicy = {maxAttempts: 5, baseDelayMs: 250, maxDelayMs: 8_000, maxRetryAfterSeconds: 30}
/**
 * What one request may spend in all, retries and their waits included: its --request-timeout, at least
 * MIN_RETRY_BUDGET_MS (a 1 s Retry-After must not fail a 1 s request at once), RETRY_BUDGET_NO_TIMEOUT_MS
 * with `--request-timeout 0`. A retry whose wait would end past it is not made: the request fails.
 */
export const MIN_RETRY_BUDGET_MS = 10_000
export const RETRY_BUDGET_NO_TIMEOUT_MS = 300_000
const RETRIED_STATUSES = new Set([429, 500, 502, 503, 504])
// Connection failures after which the same request may well succeed (a keep-alive socket the server
// closed, a proxy hiccup). Refused connections, DNS and TLS failures are not retried: they persist.
const RETRIED_NETWORK_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'EAI_AGAIN'])


// Errors of writes an earlier attempt of which failed in a way that may hide a success (a 5xx, a reset).
const appliedMaybe = new WeakSet<Error>()

/**
 * Whether a failed write had an earlier attempt that may have been applied: its last attempt failed
 * (refused, say), but one before it was answered with a 5xx or lost on a reset connection.
 */
export function earlierAttemptMayHaveApplied(error: unknown): boolean {
  return error instanceof Error && appliedMaybe.has(error)
}

export class KubeClient {
  readonly server: string
  private readonly retry: RetryPolicy
  private readonly userAgent: string
  private readonly agent = new https.Agent({keepAlive: true, maxSockets: 32})
  private readonly credentials: Credentials
  private readonly onThrottle: (text: string) => void
  private readonly retryBudgetMs: number

  constructor(
    readonly target: KubeTarget,
    options: KubeClientOptions = {},
  ) {
    this.server = target.server.replace(/\/+$/, '')
    this.retry = {...DEFAULT_RETRY, ...options.retry}
    this.userAgent = options.userAgent ?? 'airflow-reap'
    this.credentials = credentialsFor(target)
    this.onThrottle = options.onThrottle ?? (() => {})
    this.retryBudgetMs = target.requestTimeoutMs ? Math.max(target.requestTimeoutMs, MIN_RETRY_BUDGET_MS) : RETRY_BUDGET_NO_TIMEOUT_MS
  }

  /**
   * Sends the request, retrying 429, 5xx and reset connections within the request's retry budget;
   * non-2xx answers not in allowStatus throw.
   */
  async request<T = unknown>(request: KubeRequest): Promise<KubeResponse<T>> {
    let mayHaveApplied = false
    const started = Date.now()
    for (let attempt = 1; ; attempt++) {
      const result = await this.attempt(request)
      const delayMs = this.retryDelay(result, attempt)
      if (delayMs === undefined) return this.finishOrMark<T>(request, result, mayHaveApplied)
      const throttled = 'response' in result && result.response.status === 429
      if (Date.now() + delayMs - started > this.retryBudgetMs) {
        if (throttled) throw this.throttledPastBudget(request, delayMs, mayHaveApplied)
        return this.finishOrMark<T>(request, result, mayHaveApplied)
      }
      mayHaveApplied ||= request.method !== 'GET' && !throttled
      if (throttled && delayMs >= 1000) {
        this.onThrottle(`the API server is throttling requests (429 Too Many Requests): retrying ${request.method} ${request.path} in ${seconds(delayMs)}`)
      }
      await this.pause(delayMs, request.signal)
    }
  }

  /** A 429 whose next retry would end past the request's retry budget: say so, with the numbers. */
  private throttledPastBudget(request: KubeRequest, delayMs: number, mayHaveApplied: boolean): ApiError {
    const error = new ApiError(
      `${request.method} ${request.path}: the Kubernetes API at ${this.server} is throttling requests (429 Too Many Requests); ` +
        `waiting ${seconds(delayMs)} more to retry would pass the ${seconds(this.retryBudgetMs)} one request may take with its retries (--request-timeout)`,
      429,
      'TooManyRequests',
    )
    if (mayHaveApplied) appliedMaybe.add(error)
    return error
  }

  /** finish, and a write that fails after an attempt that may have applied says so (earlierAttemptMayHaveApplied). */
  private finishOrMark<T>(request: KubeRequest, result: Attempt, mayHaveApplied: boolean): KubeResponse<T> {
    try {
      return this.finish<T>(request, result, mayHaveApplied)
    } catch (error) {
      if (mayHaveApplied && error instanceof Error) appliedMaybe.add(error)
      throw error
    }
  }

  /**
   * The kubeconfig's TLS material and credentials, set on a request this client does not send itself
   * (the port-forward's WebSockets): the same token cache and exec plugin, and the same one-line
   * failure that never quotes what a plugin printed.
   */
  async applyCredentials(options: https.RequestOptions, signal?: AbortSignal): Promise<void> {
    try {
      await this.credentials.apply(options, signal)
    } catch (error) {
      if (error instanceof ReapError) throw error // a plugin killed at its time limit or on a signal
      throw new ConfigError(`cannot get credentials for context "${this.target.contextName}": ${credentialFailure(error)}`)
    }
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy()
  }

  private async attempt(request: KubeRequest): Promise<Attempt> {
    throwIfAborted(request.signal)
    try {
      return {response: await this.send(request)}
    } catch (error) {
      if (error instanceof ReapError) throw error
      return {networkError: error}
    }
  }

  /** Milliseconds to wait before the next attempt, or undefined when this result is final. */
  private retryDelay(result: Attempt, attempt: number): number | undefined {
    if (attempt >= this.retry.maxAttempts) return undefined
    if ('networkError' in result) {
      const code = (result.networkError as NodeJS.ErrnoException).code
      return code && RETRIED_NETWORK_CODES.has(code) ? this.backoff(attempt) : undefined
    }
    const {status, headers} = result.response
    if (!RETRIED_STATUSES.has(status)) return undefined
    const retryAfter = headers['retry-after']
    // Seconds, as API Priority and Fairness sends it; an HTTP date or garbage falls back to backoff.
    if (retryAfter && /^\d+$/.test(retryAfter.trim())) return Math.min(Number(retryAfter), this.retry.maxRetryAfterSeconds) * 1000
    return this.backoff(attempt)
  }

  /** Exponential, with a little jitter so that concurrent workers do not retry in step. */
  private backoff(attempt: number): number {
    const exponential = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1))
    return Math.round(exponential * (1 + Math.random() * 0.25))
  }

  private async pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
    try {
      await sleep(ms, undefined, {signal})
    } catch {
      throwIfAborted(signal)
    }
  }

  private finish<T>(request: KubeRequest, result: Attempt, mayHaveApplied: boolean): KubeResponse<T> {
    if ('networkError' in result) throw errorForNetwork(result.networkError, this.server)
    const {status, headers, body, bodyChars} = result.response
    const allowed = (status >= 200 && status < 300) || (request.allowStatus ?? []).includes(status)
    if (!allowed) throw errorForResponse({method: request.method, path: request.path, status, body, server: this.server})
    return {status, headers, body: body as T, bodyChars, earlierAttemptMayHaveApplied: mayHaveApplied}
  }

  private async send(request: KubeRequest): Promise<RawResponse> {
    const url = new URL(`${this.server}${request.path}`)
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value))
    }
    const payload = request.body === undefined ? undefined : typeof request.body === 'string' ? request.body : JSON.stringify(request.body)
    const options = await this.requestOptions(request, payload)
    return new Promise<RawResponse>((resolve, reject) => {
      const outgoing = https.request(url, options, (incoming) => {
        // Decoded as it arrives (a decoder keeps split UTF-8 sequences whole): a page of a large list is
        // about a megabyte, and copying it into one Buffer first left that much malloc'd memory per page.
        let text = ''
        incoming.setEncoding('utf8')
        incoming.on('data', (chunk: string) => {
          text += chunk
        })
        incoming.on('error', reject)
        incoming.on('end', () => {
          resolve({status: incoming.statusCode ?? 0, headers: incoming.headers, body: parseBody(text, incoming.headers['content-type']), bodyChars: text.length})
        })
      })
      this.limitDuration(request, outgoing, reject)
      const onAbort = () => outgoing.destroy(abortError(request.signal))
      request.signal?.addEventListener('abort', onAbort, {once: true})
      outgoing.on('close', () => request.signal?.removeEventListener('abort', onAbort))
      outgoing.on('error', reject)
      outgoing.end(payload)
    })
  }

  /**
   * --request-timeout: from sending the request to the last byte of the answer (a list page included),
   * as kubectl's http.Client timeout. A TimeoutError is a ReapError, so it is never retried: a write
   * that timed out may have been applied.
   */
  private limitDuration(request: KubeRequest, outgoing: ReturnType<typeof https.request>, reject: (error: unknown) => void): void {
    const timeoutMs = this.target.requestTimeoutMs
    if (!timeoutMs) return
    const timer = setTimeout(() => {
      const error = new TimeoutError(
        `${request.method} ${request.path}: no answer from the Kubernetes API at ${this.server} within ${Number((timeoutMs / 1000).toFixed(3))}s (--request-timeout)`,
      )
      outgoing.destroy(error)
      reject(error)
    }, timeoutMs)
    outgoing.on('close', () => clearTimeout(timer))
  }

  /** Headers, TLS material and credentials from the kubeconfig, applied afresh for every request (exec tokens expire). */
  private async requestOptions(request: KubeRequest, payload: string | undefined): Promise<https.RequestOptions> {
    const headers: Record<string, string> = {Accept: request.accept ?? 'application/json', 'User-Agent': this.userAgent}
    if (payload !== undefined) {
      headers['Content-Type'] = request.contentType ?? 'application/json'
      // Node frames a DELETE body only with an explicit length.
      headers['Content-Length'] = String(Buffer.byteLength(payload))
    }
    const options: https.RequestOptions = {method: request.method, headers}
    await this.applyCredentials(options, request.signal)
    // client-node builds a new agent per call; keep its proxy agents, otherwise reuse our keep-alive one.
    // The TLS options stay on the request, where the shared agent picks them up per connection.
    if (!this.credentials.usesProxy) options.agent = this.agent
    return options
  }
}

/** One line about a failed credential source (exec plugin, token or certificate file). */
function credentialFailure(error: unknown): string {
  // JSON.parse quotes the text it choked on: an exec plugin's stdout, which may well be a token.
  if (error instanceof SyntaxError) return 'the credential plugin did not print an ExecCredential (invalid JSON)'
  const code = (error as NodeJS.ErrnoException).code
  const message = error instanceof Error ? oneLine(error.message.split('\n')[0]) : ''
  return message || code || 'unknown error'
}

function parseBody(text: string, contentType: string | undefined): unknown {
  if (!(contentType ?? '').includes('json')) return text
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))}s`
}

function abortError(signal: AbortSignal | undefined): Error {
  return abortReason(signal, 'talking to the Kubernetes API')
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal)
}
