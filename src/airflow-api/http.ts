// One HTTP client for every request to an Airflow API server, so that every bound holds in one place:
// keep-alive connections (fetch's own pool), a per-request timeout that covers the body too, a request
// budget counted per attempt, a cap on requests in flight, retries only for idempotent reads and only
// on 429/502/503/504 or a reset connection (Retry-After honoured, the total wait bounded), no redirect
// followed (it would carry the Authorization header elsewhere, and a login redirect is not an answer),
// and the run's abort signal ending any wait at once.
import {ReapError, TimeoutError, UnreachableError, abortReason} from '../errors.js'
import type {ApiBaseUrl} from './url.js'

/** Answers that a retry may cure: too many requests, and a gateway or server that is briefly away. */
const RETRIED_STATUSES = new Set([429, 502, 503, 504])
/** Connection failures after which an idempotent read may be sent again. */
const RETRIED_CODES = new Set(['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE', 'UND_ERR_CLOSED'])
export const MAX_TRIES = 3
/** A Retry-After longer than this is not waited for: the request fails instead. */
export const MAX_RETRY_AFTER_MS = 30_000

/** An answer the caller must interpret (2xx or 4xx); everything else is thrown. */
export interface ApiAnswer {
  status: number
  /** The parsed JSON body; undefined when the answer was not JSON (a 4xx from a proxy, say). */
  body: unknown
  /** The server's clock from the Date header (1 s resolution), when it sent one. */
  date?: Date
  /** The text of a 4xx that was not JSON, shortened, for messages. */
  text?: string
}

/** Credentials as the client uses them; the secret itself never leaves this object except in the header. */
export interface ApiAuth {
  /** How the credentials were obtained, for reports: token-cmd, token, password, none. */
  readonly how: 'token-cmd' | 'token' | 'password' | 'none'
  /** The Authorization header value, or undefined to send none. */
  header(signal?: AbortSignal): Promise<string | undefined>
  /** After a 401 "expired": obtain new credentials; false when the source cannot (a static token). */
  renew(signal?: AbortSignal): Promise<boolean>
}

export interface ApiClientOptions {
  base: ApiBaseUrl
  /** --airflow-timeout per request, headers and body; 0: no limit. */
  timeoutMs: number
  /** --airflow-max-requests: attempts of a run, retries included. */
  maxRequests: number
  /** Requests in flight at once. */
  concurrency: number
  auth: ApiAuth
  signal?: AbortSignal
  /** Waits between tries (tests replace it); must end early when the signal aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
}

/** The run would send more requests than --airflow-max-requests allows: nothing may be acted on. */
export class RequestBudgetError extends ReapError {}

/** An answer that is not what an Airflow API sends (a redirect, HTML, a 5xx, malformed JSON). */
export class AirflowApiError extends ReapError {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message)
  }
}

/** A DAG the credentials may not read (403 on its own paths). */
export class NotPermittedError extends AirflowApiError {
  constructor(readonly dagId: string) {
    super(`the Airflow API credentials may not read DAG ${dagId} (403)`, 403)
  }
}

/** The credentials were refused (401 that renewing did not cure, 403 on the token itself): exit 1. */
export class AirflowAuthError extends ReapError {}

export interface ApiStats {
  requests: number
  retries: number
}

interface Attempt {
  method: 'GET' | 'POST'
  url: string
  /** Shown in messages: the path below the base, never a query value (they may name DAGs, not secrets, but stay short). */
  what: string
  body?: string
  idempotent: boolean
  /** Sent without credentials (the token request itself): no Authorization, no renewal. */
  anonymous?: boolean
}

export class AirflowApiClient {
  readonly stats: ApiStats = {requests: 0, retries: 0}
  private inFlight = 0
  private readonly queue: Array<() => void> = []

  constructor(private readonly options: ApiClientOptions) {}

  get base(): ApiBaseUrl {
    return this.options.base
  }

  get authHow(): ApiAuth['how'] {
    return this.options.auth.how
  }

  /** GET url (built with requestUrl): idempotent, so retried on the transient answers. */
  get(url: string): Promise<ApiAnswer> {
    return this.send({method: 'GET', url, what: `GET ${this.pathOf(url)}`, idempotent: true})
  }

  /**
   * POST of a read-only list (the batch task-instance list, `…/taskInstances/list`): a POST only so that
   * its filters (lists of DAG, run and task ids) fit in a body rather than a URL. It changes nothing on
   * the server, so sending it twice is as harmless as a GET: it is marked idempotent, and retried like
   * one on 429/502/503/504 and a reset connection.
   */
  list(url: string, body: unknown): Promise<ApiAnswer> {
    return this.post(url, body, {idempotent: true})
  }

  /** POST with a JSON body; `idempotent` only for the read-only list endpoints; `anonymous` for /auth/token. */
  post(url: string, body: unknown, options: {idempotent: boolean; anonymous?: boolean}): Promise<ApiAnswer> {
    return this.send({method: 'POST', url, what: `POST ${this.pathOf(url)}`, body: JSON.stringify(body), ...options})
  }

  private pathOf(url: string): string {
    const rest = url.slice(this.options.base.base.length)
    const query = rest.indexOf('?')
    return query === -1 ? rest : rest.slice(0, query)
  }

  private async send(attempt: Attempt): Promise<ApiAnswer> {
    await this.slot()
    try {
      return attempt.anonymous ? await this.withRetries(attempt) : await this.withRenewal(attempt)
    } finally {
      this.release()
    }
  }

  /** A 401 "Token Expired" (or any 401 with a renewable source) gets new credentials once and one more try. */
  private async withRenewal(attempt: Attempt): Promise<ApiAnswer> {
    const answer = await this.withRetries(attempt)
    if (answer.status !== 401) return this.checkAuth(answer, attempt)
    if (!(await this.options.auth.renew(this.options.signal))) return this.checkAuth(answer, attempt)
    return this.checkAuth(await this.withRetries(attempt), attempt)
  }

  private checkAuth(answer: ApiAnswer, attempt: Attempt): ApiAnswer {
    const detail = detailOf(answer)
    if (answer.status === 401) {
      throw new AirflowAuthError(`the Airflow API refused the credentials (${this.options.auth.how}) on ${attempt.what}: 401 ${detail}`)
    }
    // v2 answers 403 "Invalid JWT token" for a token it cannot verify: the token is wrong, not the permission.
    // A proxy in front (Composer, Astro) answers 403 with a page of its own.
    if (answer.status === 403 && (/invalid jwt/i.test(detail) || answer.body === undefined)) {
      throw new AirflowAuthError(`the Airflow API rejected the token (${this.options.auth.how}) on ${attempt.what}: 403 ${detail}`)
    }
    return answer
  }

  private async withRetries(attempt: Attempt): Promise<ApiAnswer> {
    for (let tryNumber = 1; ; tryNumber++) {
      const outcome = await this.once(attempt)
      const last = !attempt.idempotent || tryNumber >= MAX_TRIES
      if (outcome.kind === 'answer') return outcome.answer
      if (last || outcome.waitMs === undefined) throw outcome.error
      this.stats.retries++
      await this.wait(outcome.waitMs)
    }
  }

  /** One request: an answer, or an error with how long to wait before the next try (undefined: no retry). */
  private async once(attempt: Attempt): Promise<{kind: 'answer'; answer: ApiAnswer} | {kind: 'error'; error: Error; waitMs?: number}> {
    const {signal, timeoutMs} = this.options
    if (signal?.aborted) throw abortReason(signal, `waiting for the Airflow API (${attempt.what})`)
    // Credentials first (a token command has its own bound): the request's timeout is the server's alone.
    const authorization = attempt.anonymous ? undefined : await this.options.auth.header(signal)
    if (this.stats.requests >= this.options.maxRequests) {
      throw new RequestBudgetError(`the request budget of ${this.options.maxRequests} requests to the Airflow API is spent (--airflow-max-requests); nothing was acted on after it`)
    }
    this.stats.requests++
    const timeout = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined
    const signals = [signal, timeout].filter((s): s is AbortSignal => s !== undefined)
    const combined = signals.length > 0 ? AbortSignal.any(signals) : undefined
    try {
      const headers: Record<string, string> = {accept: 'application/json'}
      if (authorization) headers.authorization = authorization
      if (attempt.body !== undefined) headers['content-type'] = 'application/json'
      const response = await fetch(attempt.url, {method: attempt.method, headers, body: attempt.body, redirect: 'manual', signal: combined})
      const text = await response.text() // within the same timeout: a trickled body is bounded too
      return this.interpret(response, text, attempt)
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal, `waiting for the Airflow API (${attempt.what})`)
      if (timeout?.aborted) {
        return {kind: 'error', error: new TimeoutError(`no answer from the Airflow API within ${timeoutMs / 1000}s (--airflow-timeout) to ${attempt.what}`)}
      }
      if (error instanceof ReapError) throw error
      const code = errorCode(error)
      const unreachable = new UnreachableError(`cannot reach the Airflow API at ${this.options.base.redacted} (${attempt.what}): ${code ?? (error as Error).message}`, {cause: error})
      return {kind: 'error', error: unreachable, waitMs: code && RETRIED_CODES.has(code) ? backoffMs(1) : undefined}
    }
  }

  private interpret(response: Response, text: string, attempt: Attempt): {kind: 'answer'; answer: ApiAnswer} | {kind: 'error'; error: Error; waitMs?: number} {
    const {status} = response
    if (status >= 300 && status < 400) {
      const location = response.headers.get('location')
      const where = location ? ` to ${hostOf(location, attempt.url)}` : ''
      throw new AirflowApiError(`the Airflow API answered ${attempt.what} with a redirect (${status}${where}); redirects are not followed: is --airflow-url the API server's URL, and is a login proxy in front of it?`, status)
    }
    if (RETRIED_STATUSES.has(status) || status >= 500) {
      const error = new AirflowApiError(`the Airflow API answered ${attempt.what} with ${status} ${response.statusText}`.trimEnd(), status)
      return {kind: 'error', error, waitMs: RETRIED_STATUSES.has(status) ? retryAfterMs(response.headers.get('retry-after')) : undefined}
    }
    const date = parseHttpDate(response.headers.get('date'))
    const isJson = /\bjson\b/i.test(response.headers.get('content-type') ?? '')
    let body: unknown
    if (isJson) {
      try {
        body = JSON.parse(text)
      } catch {
        throw new AirflowApiError(`the Airflow API answered ${attempt.what} with malformed JSON (${status}, ${text.length} bytes)`, status)
      }
    } else if (status < 300) {
      // A 200 login page must never read as "no task instances".
      const type = response.headers.get('content-type') ?? 'no content type'
      throw new AirflowApiError(`the Airflow API answered ${attempt.what} with ${type}, not JSON (a login page or a proxy in front of the API?)`, status)
    }
    return {kind: 'answer', answer: {status, body, date, text: isJson ? undefined : text.slice(0, 200)}}
  }

  private wait(ms: number): Promise<void> {
    const sleep = this.options.sleep ?? abortableSleep
    return sleep(ms, this.options.signal).then(() => {
      if (this.options.signal?.aborted) throw abortReason(this.options.signal, 'waiting to retry a request to the Airflow API')
    })
  }

  private async slot(): Promise<void> {
    if (this.inFlight < this.options.concurrency) {
      this.inFlight++
      return
    }
    await new Promise<void>((resolve) => this.queue.push(resolve))
  }

  private release(): void {
    const next = this.queue.shift()
    if (next) next()
    else this.inFlight--
  }
}

/** The detail of an error answer: v2 `{"detail": ...}`, v1 problem JSON `{"title", "detail"}`, or the status alone. */
export function detailOf(answer: ApiAnswer): string {
  const body = answer.body as {detail?: unknown; title?: unknown} | undefined
  if (body && typeof body === 'object') {
    if (typeof body.detail === 'string') return body.detail
    if (typeof body.title === 'string') return body.title
    if (body.detail !== undefined) return JSON.stringify(body.detail).slice(0, 200)
  }
  return answer.body === undefined ? '(not JSON: a proxy in front of the API?)' : ''
}

/** Retry-After in seconds or as an HTTP date; absent: a short backoff; beyond MAX_RETRY_AFTER_MS: no retry. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return backoffMs(1)
  const seconds = /^\d+$/.test(value.trim()) ? Number(value.trim()) * 1000 : undefined
  const ms = seconds ?? (parseHttpDate(value)?.getTime() ?? Number.NaN) - now
  if (Number.isNaN(ms)) return backoffMs(1)
  if (ms > MAX_RETRY_AFTER_MS) return undefined
  return Math.max(0, ms)
}

/** 250–500 ms, jittered so that concurrent readers do not retry in step. */
function backoffMs(attempt: number): number {
  return 250 * 2 ** (attempt - 1) * (1 + Math.random())
}

function parseHttpDate(value: string | null): Date | undefined {
  if (!value) return undefined
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? undefined : new Date(ms)
}

function hostOf(location: string, requested: string): string {
  try {
    return new URL(location, requested).host
  } catch {
    return 'an unparseable location'
  }
}

function errorCode(error: unknown): string | undefined {
  const cause = (error as {cause?: {code?: unknown}}).cause
  if (typeof cause?.code === 'string') return cause.code
  const code = (error as {code?: unknown}).code
  return typeof code === 'string' ? code : undefined
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, {once: true})
  })
}
