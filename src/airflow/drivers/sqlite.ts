// SQLite through better-sqlite3, opened read-only: the file must exist and is never written.
import Database from 'better-sqlite3'

import {ReapError} from '../../errors.js'
import type {DbUrl} from '../types.js'
import {type Bound, interruptedReason} from './bounded.js'
import {connectError, queryError, queryTimeoutError} from './errors.js'
import {DEFAULT_DB_TIMEOUT_MS, type DriverOptions, type SqlDriver} from './types.js'

// Airflow may be writing; wait for its lock rather than fail at once. Not longer: SQLite waits for a
// lock synchronously, and a signal is seen only once it returns.
const BUSY_TIMEOUT_MS = 5_000
// How many rows are read between two looks at the clock.
const ROWS_PER_CHECK = 1_000

class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const

  constructor(
    private readonly db: Database.Database,
    private readonly url: DbUrl,
    private readonly bound: Bound,
  ) {}

  async query<T extends object>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.queryMapped<T, T>(sql, params, (row) => row)
  }

  async queryMapped<T extends object, U>(sql: string, params: readonly unknown[], map: (row: T) => U): Promise<U[]> {
    // A local file: no network to go silent, but the statement runs synchronously, so it is bounded
    // by looking at the clock as its rows come (and a signal already received ends it before it starts).
    const {timeoutMs, signal} = this.bound
    if (signal?.aborted) throw interruptedReason(signal)
    const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Infinity
    const statement = this.prepare(sql)
    const rows: U[] = []
    const iterator = statement.iterate(...params)
    try {
      for (const row of iterator) {
        rows.push(map(row as T))
        if (rows.length % ROWS_PER_CHECK === 0 && Date.now() > deadline) {
          iterator.return?.()
          throw queryTimeoutError(this.url, timeoutMs, timeoutMs, 'the statement was stopped')
        }
      }
      return rows
    } catch (error) {
      if (error instanceof ReapError) throw error
      throw queryError(this.url, error)
    }
  }

  private prepare(sql: string): Database.Statement {
    try {
      const statement = this.db.prepare(sql)
      if (!statement.reader) throw new Error('only statements that return rows are run on the Airflow DB')
      return statement
    } catch (error) {
      throw queryError(this.url, error)
    }
  }

  async close(): Promise<void> {
    this.db.close()
  }
}

export async function openSqlite(url: DbUrl, options: DriverOptions = {}): Promise<SqlDriver> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_DB_TIMEOUT_MS
  const busyTimeoutMs = timeoutMs > 0 ? Math.min(BUSY_TIMEOUT_MS, timeoutMs) : BUSY_TIMEOUT_MS
  const file = url.database ?? ':memory:'
  let db: Database.Database | undefined
  try {
    // An in-memory database cannot be opened read-only; it is empty anyway (and fails schema checks).
    db =
      file === ':memory:'
        ? new Database(':memory:')
        : new Database(file, {readonly: true, fileMustExist: true, timeout: busyTimeoutMs})
    db.pragma('query_only = ON')
    db.prepare('SELECT count(*) FROM sqlite_master').get() // "file is not a database" shows up here, not at open
    return new SqliteDriver(db, url, {timeoutMs, signal: options.signal})
  } catch (error) {
    db?.close()
    throw connectError(url, error)
  }
}
