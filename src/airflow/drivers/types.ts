// The little a query module needs from a database connection. Each dialect keeps its own
// placeholder syntax ($1 for PostgreSQL, ? for SQLite and MySQL): the query modules are per dialect.
import type {Dialect} from '../../core/types.js'

export interface SqlDriver {
  readonly dialect: Dialect
  /** Run one statement inside a read-only transaction and return its rows. */
  query<T extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>
  /**
   * The same, each row converted as it arrives: with tens of thousands of rows the raw ones then die
   * young instead of all living (and being promoted by the GC) until the last one is read.
   */
  queryMapped<T extends object, U>(sql: string, params: readonly unknown[], map: (row: T) => U): Promise<U[]>
  close(): Promise<void>
}

export interface DriverOptions {
  /** How long to wait for a connection (default 10 s; a `connect_timeout` URL parameter wins). */
  connectTimeoutMs?: number
  /** Server-side limit for one statement where the dialect has one (default 120 s). */
  statementTimeoutMs?: number
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000
export const DEFAULT_STATEMENT_TIMEOUT_MS = 120_000
export const APPLICATION_NAME = 'airflow-reap'
