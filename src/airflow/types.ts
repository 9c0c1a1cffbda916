// The contract between the commands and the Airflow metadata DB adapters. Everything here is read-only.
import type {DagRunRow, Dialect, SchemaFamily, TaskInstanceRow, TaskKey} from '../core/types.js'

/** A parsed SQLAlchemy URL. `redacted` is safe to print; `password` never is. */
export interface DbUrl {
  dialect: Dialect
  driver?: string // e.g. psycopg2, mysqldb (informational)
  host?: string
  port?: number
  user?: string
  password?: string
  database?: string // sqlite: the file path (':memory:' for sqlite://)
  params: Record<string, string> // query string, kept (sslmode, options=-csearch_path=...)
  redacted: string
}

export interface AirflowSchema {
  family: SchemaFamily
  dialect: Dialect
  /** alembic_version.version_num when readable, for the report. */
  revision?: string
}

export interface DagRunRef {
  dagId: string
  runId: string
}

export interface AirflowDb {
  readonly schema: AirflowSchema
  /** The database's clock (now() / CURRENT_TIMESTAMP), so verdicts do not depend on the laptop's clock. */
  now(): Promise<Date>
  /**
   * Dag runs that can own a pod created at or after `since`: unfinished ones, and those that ended
   * after `since`. Bounds the rows read however long the DB's history is.
   */
  dagRunsSince(since: Date): Promise<DagRunRow[]>
  /** Task instances in an unfinished state (NULL included) belonging to these dag runs. One round trip. */
  activeTaskInstances(runs: DagRunRef[]): Promise<TaskInstanceRow[]>
  /** Every task instance (any state) of these dag runs: used for details and the re-check before acting. */
  taskInstancesOfRuns(runs: DagRunRef[]): Promise<TaskInstanceRow[]>
  /**
   * The `pod_name` XCom of each task instance, keyed by taskKeyString(key). A missing key means no
   * XCom; `null` means an XCom exists but its value is not a plain pod name (custom XCom backend).
   */
  podNameXComs(keys: TaskKey[]): Promise<Map<string, string | null>>
  close(): Promise<void>
}
