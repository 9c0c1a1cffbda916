// PostgreSQL through `pg`. Connection settings follow libpq's URL parameters as psycopg2 (Airflow's
// driver) reads them: sslmode, sslrootcert/sslcert/sslkey, options (search_path), connect_timeout.
import type {ConnectionOptions} from 'node:tls'

import pg from 'pg'

import type {Socket} from 'node:net'
import {ConfigError} from '../../errors.js'
import {parseUtcTimestamp} from '../timestamps.js'
import type {DbUrl} from '../types.js'
import {type Bound, bounded} from './bounded.js'
import {connectTimeout, readSslFile} from './url-settings.js'
import {connectError, connectTimeoutError, queryError, queryTimeoutError} from './errors.js'
import {APPLICATION_NAME, CLOSE_GRACE_MS, DEFAULT_DB_TIMEOUT_MS, type DriverOptions, STATEMENT_GRACE_MS, type SqlDriver} from './types.js'

const TIMESTAMP_WITHOUT_TZ_OID = 1114

// Naive `timestamp` columns (2.x trigger_timeout) hold UTC wall-clock time; pg would read them in the
// local zone. This parser set is per client, so other pg users in the process are unaffected.
const utcTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === TIMESTAMP_WITHOUT_TZ_OID && format !== 'binary') return parseUtcTimestamp
    return pg.types.getTypeParser(oid, format ?? 'text')
  },
} as pg.CustomTypesConfig

class PostgresDriver implements SqlDriver {
  readonly dialect = 'postgresql' as const
  /** Given up on (timeout, signal): the socket is destroyed, not closed politely. */
  private broken = false

  constructor(
    private readonly client: pg.Client,
    private readonly url: DbUrl,
    private readonly statementTimeoutMs: number,
    private readonly bound: Bound,
  ) {}

  // Read-only per transaction, not per session: behind PgBouncer in transaction pooling (the Helm
  // chart's default) a session-level SET would stay on a server connection Airflow itself reuses.
  async query<T extends object>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.inReadOnlyTransaction(async () => (await this.client.query(sql, params as unknown[])).rows as T[])
  }

  async queryMapped<T extends object, U>(sql: string, params: readonly unknown[], map: (row: T) => U): Promise<U[]> {
    return this.inReadOnlyTransaction(
      () =>
        new Promise<U[]>((resolve, reject) => {
          const rows: U[] = []
          let failed: {error: unknown} | undefined
          // With a 'row' listener and no callback, pg hands each row over and keeps none itself. A
          // conversion that throws must not throw inside pg's event handler: it fails the query instead.
          const query = new pg.Query(sql, params as unknown[])
          query.on('row', (row: T) => {
            if (failed) return
            try {
              rows.push(map(row))
            } catch (error) {
              failed = {error}
            }
          })
          query.on('end', () => (failed ? reject(failed.error) : resolve(rows)))
          query.on('error', reject)
          void this.client.query(query)
        }),
    )
  }

  // One transaction at a time on the connection: two callers' BEGINs must not interleave (the second
  // would join the first's transaction, and its COMMIT end the other's).
  private turn: Promise<unknown> = Promise.resolve()

  private inReadOnlyTransaction<R>(work: () => Promise<R>): Promise<R> {
    const result = this.turn.then(() => this.boundedTransaction(work))
    this.turn = result.catch(() => undefined)
    return result
  }

  /** The transaction, bounded client-side: past the server's own statement timeout and a grace, the connection is closed. */
  private boundedTransaction<R>(work: () => Promise<R>): Promise<R> {
    const limitMs = this.bound.timeoutMs && this.bound.timeoutMs + STATEMENT_GRACE_MS
    return bounded(
      () => this.transaction(work),
      {timeoutMs: limitMs, signal: this.bound.signal},
      () => queryTimeoutError(this.url, limitMs, this.bound.timeoutMs),
      () => {
        this.broken = true
        destroySocket(this.client)
      },
    )
  }

  private async transaction<R>(work: () => Promise<R>): Promise<R> {
    try {
      await this.client.query(`BEGIN TRANSACTION READ ONLY; SET LOCAL statement_timeout = ${this.statementTimeoutMs}`)
      const result = await work()
      await this.client.query('COMMIT')
      return result
    } catch (error) {
      await this.client.query('ROLLBACK').catch(() => undefined)
      throw queryError(this.url, error, this.statementTimeoutMs)
    }
  }

  async close(): Promise<void> {
    await closeWithin(this.client, this.broken)
  }
}

/** pg's end() waits for the server to close its side: on a silent server, for ever. */
async function closeWithin(client: pg.Client, broken: boolean): Promise<void> {
  if (broken) return destroySocket(client)
  await bounded(
    () => client.end().catch(() => undefined),
    {timeoutMs: CLOSE_GRACE_MS},
    () => new Error('close timed out'),
    () => destroySocket(client),
  ).catch(() => undefined)
}

function destroySocket(client: pg.Client): void {
  ;(client as unknown as {connection?: {stream?: Socket}}).connection?.stream?.destroy()
}

export async function openPostgres(url: DbUrl, options: DriverOptions = {}): Promise<SqlDriver> {
  const ssl = sslSettings(url.params)
  const base = clientConfig(url)
  const timeoutMs = options.timeoutMs ?? DEFAULT_DB_TIMEOUT_MS
  const connectBound = {timeoutMs: connectTimeout(url.params.connect_timeout, options, timeoutMs), signal: options.signal}
  let client: pg.Client
  try {
    client = await connect(url, {...base, ssl: ssl.first}, connectBound)
  } catch (error) {
    // sslmode=prefer (libpq's default): a server without SSL is fine, so try again in plain text.
    if (!(ssl.plainFallback && isNoSslError(error))) throw connectError(url, error)
    try {
      client = await connect(url, {...base, ssl: false}, connectBound)
    } catch (plainError) {
      throw connectError(url, plainError)
    }
  }
  return new PostgresDriver(client, url, options.statementTimeoutMs ?? timeoutMs, {timeoutMs: options.statementTimeoutMs ?? timeoutMs, signal: options.signal})
}

/** Connecting (TCP, TLS, authentication) within the bound; pg's own connection timer is not used, so the error is ours. */
async function connect(url: DbUrl, config: pg.ClientConfig, bound: Bound): Promise<pg.Client> {
  const client = new pg.Client(config)
  // A dropped idle connection emits 'error'; the next query reports it, the process must not crash.
  client.on('error', () => undefined)
  let gaveUp = false
  try {
    await bounded(
      () => client.connect(),
      bound,
      () => connectTimeoutError(url, bound.timeoutMs),
      () => {
        gaveUp = true
        destroySocket(client)
      },
    )
    return client
  } catch (error) {
    await closeWithin(client, gaveUp)
    throw error
  }
}

function clientConfig(url: DbUrl): pg.ClientConfig {
  const p = url.params
  return {
    host: url.host ?? p.host,
    port: url.port ?? (p.port ? Number(p.port) : undefined),
    user: url.user ?? p.user,
    password: url.password ?? p.password,
    database: url.database ?? p.dbname,
    options: p.options,
    application_name: p.application_name ?? APPLICATION_NAME,
    types: utcTypes,
  }
}


interface SslSettings {
  first: false | ConnectionOptions
  /** When the first attempt fails because the server has no SSL, retry without (sslmode=prefer). */
  plainFallback: boolean
}

/** libpq sslmode semantics (https://www.postgresql.org/docs/current/libpq-ssl.html). */
export function sslSettings(params: Record<string, string>): SslSettings {
  const mode = params.sslmode ?? 'prefer'
  const files = sslFiles(params)
  switch (mode) {
    case 'disable':
    case 'allow': // libpq tries plain text first; no server needs more than that
      return {first: false, plainFallback: false}
    case 'prefer':
      return {first: {...files, rejectUnauthorized: false}, plainFallback: true}
    case 'require':
      // libpq: with a root certificate given, require behaves like verify-ca.
      return {first: files.ca ? verifyCa(files) : {...files, rejectUnauthorized: false}, plainFallback: false}
    case 'verify-ca':
      return {first: verifyCa(files), plainFallback: false}
    case 'verify-full':
      return {first: {...files, rejectUnauthorized: true}, plainFallback: false}
    default:
      throw new ConfigError(`unsupported sslmode "${mode}" in the DB URL (use disable, allow, prefer, require, verify-ca or verify-full)`)
  }
}

/** The certificate chain is checked, the host name is not. */
function verifyCa(files: ConnectionOptions): ConnectionOptions {
  return {...files, rejectUnauthorized: true, checkServerIdentity: () => undefined}
}

function sslFiles(params: Record<string, string>): ConnectionOptions {
  const files: ConnectionOptions = {}
  // sslrootcert=system (libpq 16) means the platform's CAs, which is Node's default.
  if (params.sslrootcert && params.sslrootcert !== 'system') files.ca = readSslFile('sslrootcert', params.sslrootcert)
  if (params.sslcert) files.cert = readSslFile('sslcert', params.sslcert)
  if (params.sslkey) files.key = readSslFile('sslkey', params.sslkey)
  return files
}


function isNoSslError(error: unknown): boolean {
  return error instanceof Error && /does not support SSL/i.test(error.message)
}
