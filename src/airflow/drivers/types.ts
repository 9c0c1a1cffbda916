// The little a query module needs from a database connection. Each dialect keeps its own
// placeholder syntax ($1 for PostgreSQL, ? for SQLite and MySQL): the query modules are per dialect.
import type {Dialect} from '../../core/types.js'
import {DEFAULT_DB_TIMEOUT_SECONDS} from '../../core/timeouts.js'

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
  /**
   * --db-timeout, client-side: how long connecting and each query may take before the connection is
   * given up and closed (a server that went silent, no RST, would otherwise be waited on for ever).
   * 0: no limit. Default DEFAULT_DB_TIMEOUT_MS.
   */
  timeoutMs?: number
  /** How long to wait for a connection (default timeoutMs; a `connect_timeout` URL parameter wins). */
  connectTimeoutMs?: number
  /** Server-side limit for one statement where the dialect has one (default timeoutMs). */
  statementTimeoutMs?: number
  /** Aborting it (Ctrl-C, SIGTERM) ends a connect or query in flight and destroys the connection. */
  signal?: AbortSignal
}

export const DEFAULT_DB_TIMEOUT_MS = DEFAULT_DB_TIMEOUT_SECONDS * 1000
/**
 * The client-side bound of a query is the server-side statement timeout plus this: a server that is
 * alive but slow cancels its own statement first (cleanly, nothing left running), and only a silent
 * connection reaches the client-side bound.
 */
export const STATEMENT_GRACE_MS = 5_000
/** Closing politely (Terminate, COM_QUIT) waits for the server; a silent one gets this long, then the socket is destroyed. */
export const CLOSE_GRACE_MS = 1_000
export const APPLICATION_NAME = 'airflow-reap'
