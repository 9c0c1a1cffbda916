// MySQL and MariaDB through mysql2. Airflow sets every MySQL session to UTC ("SET time_zone =
// '+00:00'"), so TIMESTAMP values are read the same way here and parsed as UTC text.
import {readFileSync} from 'node:fs'

import mysql from 'mysql2/promise'

import {ConfigError, UsageError} from '../../errors.js'
import type {DbUrl} from '../types.js'
import {connectError, queryError} from './errors.js'
import {DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_STATEMENT_TIMEOUT_MS, type DriverOptions, type SqlDriver} from './types.js'

class MysqlDriver implements SqlDriver {
  readonly dialect = 'mysql' as const

  constructor(
    private readonly connection: mysql.Connection,
    private readonly url: DbUrl,
    private readonly statementTimeoutMs: number,
  ) {}

  // One transaction at a time on the connection (see the PostgreSQL driver).
  private turn: Promise<unknown> = Promise.resolve()

  query<T extends object>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const result = this.turn.then(() => this.transaction<T>(sql, params))
    this.turn = result.catch(() => undefined)
    return result
  }

  private async transaction<T extends object>(sql: string, params: readonly unknown[]): Promise<T[]> {
    try {
      await this.connection.query('START TRANSACTION READ ONLY')
      const [rows] = await this.connection.query({sql, values: params as unknown[], timeout: this.statementTimeoutMs})
      await this.connection.query('COMMIT')
      return rows as T[]
    } catch (error) {
      await this.connection.query('ROLLBACK').catch(() => undefined)
      throw queryError(this.url, error)
    }
  }

  // mysql2 returns the rows all at once: they are converted after.
  async queryMapped<T extends object, U>(sql: string, params: readonly unknown[], map: (row: T) => U): Promise<U[]> {
    const rows = await this.query<T>(sql, params)
    try {
      return rows.map(map)
    } catch (error) {
      throw queryError(this.url, error)
    }
  }

  async close(): Promise<void> {
    await this.connection.end().catch(() => undefined)
  }
}

export async function openMysql(url: DbUrl, options: DriverOptions = {}): Promise<SqlDriver> {
  let connection: mysql.Connection | undefined
  try {
    connection = await mysql.createConnection({
      host: url.host ?? url.params.host ?? 'localhost',
      port: url.port ?? 3306,
      user: url.user,
      password: url.password,
      database: url.database,
      connectTimeout: connectTimeout(url.params.connect_timeout, options),
      charset: 'utf8mb4',
      timezone: 'Z',
      dateStrings: true, // parsed by toUtcDate, keeping microsecond text out of local-time conversions
      supportBigNumbers: true,
      ssl: mysqlSsl(url.params),
    })
    connection.on('error', () => undefined) // reported by the next query instead of crashing the process
    await connection.query("SET time_zone = '+00:00'")
    return new MysqlDriver(connection, url, options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS)
  } catch (error) {
    await connection?.end().catch(() => undefined)
    if (error instanceof ConfigError || error instanceof UsageError) throw error
    throw connectError(url, error)
  }
}

function connectTimeout(param: string | undefined, options: DriverOptions): number {
  const seconds = Number(param)
  if (param && Number.isFinite(seconds) && seconds > 0) return seconds * 1000
  return options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
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

function readSslFile(param: string, file: string): Buffer {
  try {
    return readFileSync(file)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable'
    throw new ConfigError(`cannot read the ${param} file ${file} given in the DB URL (${code})`)
  }
}
