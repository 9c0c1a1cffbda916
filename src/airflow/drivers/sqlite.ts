// SQLite through better-sqlite3, opened read-only: the file must exist and is never written.
import Database from 'better-sqlite3'

import type {DbUrl} from '../types.js'
import {connectError, queryError} from './errors.js'
import type {SqlDriver} from './types.js'

const BUSY_TIMEOUT_MS = 5_000 // Airflow may be writing; wait for its lock rather than fail at once

class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const

  constructor(
    private readonly db: Database.Database,
    private readonly url: DbUrl,
  ) {}

  async query<T extends object>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.queryMapped<T, T>(sql, params, (row) => row)
  }

  async queryMapped<T extends object, U>(sql: string, params: readonly unknown[], map: (row: T) => U): Promise<U[]> {
    try {
      const statement = this.db.prepare(sql)
      if (!statement.reader) throw new Error('only statements that return rows are run on the Airflow DB')
      const rows: U[] = []
      for (const row of statement.iterate(...params)) rows.push(map(row as T))
      return rows
    } catch (error) {
      throw queryError(this.url, error)
    }
  }

  async close(): Promise<void> {
    this.db.close()
  }
}

export async function openSqlite(url: DbUrl): Promise<SqlDriver> {
  const file = url.database ?? ':memory:'
  let db: Database.Database | undefined
  try {
    // An in-memory database cannot be opened read-only; it is empty anyway (and fails schema checks).
    db =
      file === ':memory:'
        ? new Database(':memory:')
        : new Database(file, {readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS})
    db.pragma('query_only = ON')
    db.prepare('SELECT count(*) FROM sqlite_master').get() // "file is not a database" shows up here, not at open
    return new SqliteDriver(db, url)
  } catch (error) {
    db?.close()
    throw connectError(url, error)
  }
}
