// Turning driver errors into our typed errors: one line, the redacted URL, never the password.
import {ReapError, TimeoutError, UnreachableError} from '../../errors.js'
import {seconds} from './bounded.js'
import type {DbUrl} from '../types.js'

// Postgres SQLSTATE class 28 (invalid authorization) and MySQL's access-denied errors.
const AUTH_CODES = new Set(['28P01', '28000', 'ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ER_NOT_SUPPORTED_AUTH_MODE'])
// Errors that mean the connection itself is gone, not that the statement was wrong.
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'PROTOCOL_CONNECTION_LOST',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08003',
  '08006',
])

interface DriverError {
  code?: string | number
  errno?: number
  message?: string
  errors?: unknown[]
}

/** The failure to open a connection, as UnreachableError (our own typed errors, a timeout or an interruption, pass through). */
export function connectError(url: DbUrl, error: unknown): ReapError {
  if (error instanceof ReapError) return error
  const code = errorCode(error)
  const reason = safeReason(url, error)
  if (url.dialect !== 'sqlite' && !hasPassword(url) && isPasswordWanted(code, reason)) {
    // pg says `SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string`; say it in words.
    const driverWords = /^SASL: |password must be a/.test(reason) ? '' : ` (${reason})`
    const how = `${url.dialect}://USER:PASSWORD@HOST/DATABASE, the password percent-encoded`
    return new UnreachableError(
      `cannot log in to the Airflow DB at ${url.redacted}: the server wants a password and the URL has none (write the URL as ${how})${driverWords}`,
      {cause: error},
    )
  }
  const what = code && AUTH_CODES.has(code) ? 'cannot log in to' : 'cannot connect to'
  return new UnreachableError(`${what} the Airflow DB at ${url.redacted}: ${reason}`, {cause: error})
}

function hasPassword(url: DbUrl): boolean {
  return (url.password !== undefined && url.password !== '') || Boolean(url.params.password)
}

/** The server asked for a password the client did not have (pg's SASL and cleartext paths, MySQL's "using password: NO"). */
function isPasswordWanted(code: string | undefined, reason: string): boolean {
  if (/client password must be a (non-empty )?string|using password: NO|no password (was )?(supplied|provided)/i.test(reason)) return true
  return code === '28P01' || code === '28000'
}

// A statement ended by its timeout: PostgreSQL's query_canceled (also sent for an admin's cancel, told
// apart by its message), MySQL's max_execution_time, mysql2's own per-query timer.
const STATEMENT_TIMEOUT_CODES = new Set(['57014', 'ER_QUERY_TIMEOUT', 'PROTOCOL_SEQUENCE_TIMEOUT'])

/**
 * A failed statement: TimeoutError naming --db-timeout when the statement timeout ended it,
 * UnreachableError when the connection was lost, else a plain ReapError.
 */
export function queryError(url: DbUrl, error: unknown, statementTimeoutMs?: number): ReapError {
  const code = errorCode(error)
  const reason = safeReason(url, error)
  if (statementTimeoutMs && code && STATEMENT_TIMEOUT_CODES.has(code) && (code !== '57014' || /statement timeout/i.test(reason))) {
    return new TimeoutError(
      `the Airflow DB at ${url.redacted} cancelled a query at its statement timeout (--db-timeout ${seconds(statementTimeoutMs)}): ${reason}`,
      {cause: error},
    )
  }
  if ((code && CONNECTION_CODES.has(code)) || /Connection terminated|connection is in closed state/i.test(reason)) {
    return new UnreachableError(`lost the connection to the Airflow DB at ${url.redacted}: ${reason}`, {cause: error})
  }
  return new ReapError(`query on the Airflow DB at ${url.redacted} failed: ${reason}`, {cause: error})
}

/** Connecting took longer than its bound (a server that accepts the connection and says nothing). */
export function connectTimeoutError(url: DbUrl, timeoutMs: number): TimeoutError {
  return new TimeoutError(`cannot connect to the Airflow DB at ${url.redacted}: no answer within the connect timeout of ${seconds(timeoutMs)} (--db-timeout)`)
}

/** A query went past its client-side bound: the connection went silent, or the server ignored its statement timeout. */
export function queryTimeoutError(url: DbUrl, limitMs: number, statementTimeoutMs: number, outcome = 'the connection was closed'): TimeoutError {
  const grace = limitMs - statementTimeoutMs
  const why = grace > 0 ? `--db-timeout ${seconds(statementTimeoutMs)}, plus ${seconds(grace)} for the server to cancel it` : '--db-timeout'
  return new TimeoutError(`the Airflow DB at ${url.redacted} did not answer a query within ${seconds(limitMs)} (${why}); ${outcome}`)
}

function errorCode(error: unknown): string | undefined {
  const e = error as DriverError | undefined
  if (e?.code !== undefined) return String(e.code)
  const inner = e?.errors?.[0] as DriverError | undefined // AggregateError from multi-address connects
  return inner?.code !== undefined ? String(inner.code) : undefined
}

/** The driver's message on one line, with the password cut out should a driver ever echo it. */
export function safeReason(url: DbUrl, error: unknown): string {
  const e = error as DriverError | undefined
  const message = e?.message || errorCode(error) || String(error)
  // The password may come as `?password=` too (hasPassword above knows both).
  return scrubPassword(scrubPassword(oneLine(message), url.password), url.params.password)
}

export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim()
}

export function scrubPassword(text: string, password: string | undefined): string {
  // Very short passwords would blank out ordinary letters; they cannot be scrubbed meaningfully.
  if (!password || password.length < 3) return text
  let out = text.split(password).join('***')
  const encoded = encodeURIComponent(password)
  if (encoded !== password) out = out.split(encoded).join('***')
  return out
}
