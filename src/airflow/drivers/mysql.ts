// MySQL and MariaDB through mysql2. Airflow sets every MySQL session to UTC ("SET time_zone =
// '+00:00'"), so TIMESTAMP values are read the same way here and parsed as UTC text.

import mysqlCore from 'mysql2'
import type mysql from 'mysql2/promise'

import {ConfigError, UsageError} from '../../errors.js'
import type {DbUrl} from '../types.js'
import {type Bound, bounded} from './bounded.js'
import {connectTimeout, readSslFile} from './url-settings.js'
import {connectError, connectTimeoutError, queryError, queryTimeoutError} from './errors.js'
import {CLOSE_GRACE_MS, DEFAULT_DB_TIMEOUT_MS, type DriverOptions, STATEMENT_GRACE_MS, type SqlDriver} from './types.js'

class MysqlDriver implements SqlDriver {
  readonly dialect = 'mysql' as const
  /** Given up on (timeout, signal): the socket is destroyed, not closed politely. */
  private broken = false

  constructor(
    private readonly connection: mysql.Connection,
    private readonly url: DbUrl,
    private readonly statementTimeoutMs: number,
    private readonly bound: Bound,
  ) {}

  // One transaction at a time on the connection (see the PostgreSQL driver).
  private turn: Promise<unknown> = Promise.resolve()

  query<T extends object>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const result = this.turn.then(() => this.bounded(() => this.transaction<T>(sql, params)))
    this.turn = result.catch(() => undefined)
    return result
  }

  /**
   * mysql2's own per-query timer (statementTimeoutMs) fails the query but leaves the connection open,
   * and the ROLLBACK after it would wait on a silent server for ever: the whole transaction is bounded
   * here, and past the bound the connection is destroyed.
   */
  private bounded<R>(work: () => Promise<R>): Promise<R> {
    const limitMs = this.bound.timeoutMs && this.bound.timeoutMs + STATEMENT_GRACE_MS
    return bounded(
      work,
      {timeoutMs: limitMs, signal: this.bound.signal},
      () => queryTimeoutError(this.url, limitMs, this.bound.timeoutMs),
      () => {
        this.broken = true
        this.connection.destroy()
      },
    )
  }

  private async transaction<T extends object>(sql: string, params: readonly unknown[]): Promise<T[]> {
    try {
      await this.connection.query('START TRANSACTION READ ONLY')
      const [rows] = await this.connection.query({sql, values: params as unknown[], timeout: this.statementTimeoutMs})
      await this.connection.query('COMMIT')
      return rows as T[]
    } catch (error) {
      await this.connection.query('ROLLBACK').catch(() => undefined)
      throw queryError(this.url, error, this.statementTimeoutMs)
    }
  }

  /** Airflow's own session setting; bounded like every query. */
  async setUtc(): Promise<void> {
    await this.bounded(() => this.connection.query("SET time_zone = '+00:00'"))
  }

  // mysql2 returns the rows all at once: they are converted after.
  async queryMapped<T extends object, U>(sql: string, params: readonly unknown[], map: (row: T) => U): Promise<U[]> {
    const rows = await this.query<T>(sql, params)
    try {
      return rows.map(map)
    } catch (error) {
      throw queryError(this.url, error, this.statementTimeoutMs)
    }
  }

  async close(): Promise<void> {
    await closeWithin(this.connection, this.broken)
  }
}

/** end() sends COM_QUIT and waits for the server: on a silent server, for ever. */
async function closeWithin(connection: mysql.Connection, broken: boolean): Promise<void> {
  if (broken) return connection.destroy()
  await bounded(
    () => connection.end().catch(() => undefined),
    {timeoutMs: CLOSE_GRACE_MS},
    () => new Error('close timed out'),
    () => connection.destroy(),
  ).catch(() => undefined)
}

export async function openMysql(url: DbUrl, options: DriverOptions = {}): Promise<SqlDriver> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_DB_TIMEOUT_MS
  const connectBound = {timeoutMs: connectTimeout(url.params.connect_timeout, options, timeoutMs), signal: options.signal}
  const statementTimeoutMs = options.statementTimeoutMs ?? timeoutMs
  let core: mysqlCore.Connection | undefined
  let driver: MysqlDriver | undefined
  let gaveUp = false
  try {
    await bounded(
      async () => {
        core = mysqlCore.createConnection(connectionOptions(url))
        await new Promise<void>((resolve, reject) => {
          core!.once('connect', () => resolve())
          core!.once('error', reject)
        })
        // Reported by the next query instead of crashing the process.
        core!.on('error', () => undefined)
        driver = new MysqlDriver(core!.promise(), url, statementTimeoutMs, {timeoutMs: statementTimeoutMs, signal: options.signal})
      },
      connectBound,
      () => connectTimeoutError(url, connectBound.timeoutMs),
      () => {
        gaveUp = true
        core?.destroy()
      },
    )
    await driver!.setUtc()
    return driver!
  } catch (error) {
    if (driver) await driver.close()
    else if (core && !gaveUp) core.destroy()
    if (error instanceof ConfigError || error instanceof UsageError) throw error
    throw connectError(url, error)
  }
}

/** The connect is bounded by openMysql (its own error, and a signal ends it), not by mysql2's timer. */
function connectionOptions(url: DbUrl): mysqlCore.ConnectionOptions {
  return {
    host: url.host ?? url.params.host ?? 'localhost',
    port: url.port ?? 3306,
    user: url.user,
    password: url.password,
    database: url.database,
    connectTimeout: 0,
    charset: 'utf8mb4',
    timezone: 'Z',
    dateStrings: true, // parsed by toUtcDate, keeping microsecond text out of local-time conversions
    supportBigNumbers: true,
    ssl: mysqlSsl(url.params),
  }
}


type MysqlSsl = {ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean; verifyIdentity?: boolean}

/**
 * SSL from the URL parameters of mysqlclient (ssl_mode, ssl_ca, ssl_cert, ssl_key) and PyMySQL
 * (ssl_disabled, ssl_verify_cert, ssl_verify_identity). Without any, no SSL (mysql2 cannot "prefer").
 */
export function mysqlSsl(params: Record<string, string>): MysqlSsl | undefined {
  const mode = (params.ssl_mode ?? '').toUpperCase()
  if (mode === 'DISABLED' || isTrue(params.ssl_disabled)) return undefined
  const files: MysqlSsl = {}
  if (params.ssl_ca) files.ca = readSslFile('ssl_ca', params.ssl_ca)
  if (params.ssl_cert) files.cert = readSslFile('ssl_cert', params.ssl_cert)
  if (params.ssl_key) files.key = readSslFile('ssl_key', params.ssl_key)
  switch (mode) {
    case '':
    case 'PREFERRED':
      if (!files.ca && !files.cert && !isTrue(params.ssl_verify_cert) && !isTrue(params.ssl)) return undefined
      return {
        ...files,
        rejectUnauthorized: files.ca !== undefined || isTrue(params.ssl_verify_cert),
        verifyIdentity: isTrue(params.ssl_verify_identity),
      }
    case 'REQUIRED':
      return {...files, rejectUnauthorized: false}
    case 'VERIFY_CA':
      return {...files, rejectUnauthorized: true, verifyIdentity: false}
    case 'VERIFY_IDENTITY':
      return {...files, rejectUnauthorized: true, verifyIdentity: true}
    default:
      throw new ConfigError(
        `unsupported ssl_mode "${params.ssl_mode}" in the DB URL (use DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY)`,
      )
  }
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes|on)$/i.test(value)
}

