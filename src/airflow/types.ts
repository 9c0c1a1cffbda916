// The contract between the commands and the Airflow metadata DB adapters. Everything here is read-only.
import type {ExecutingTaskInstanceRow, SerializedDagRow} from '../core/overdue.js'
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

/** A task of a dag run, every map index of it. */
export interface TaskRef extends DagRunRef {
  taskId: string
}

/** Which serialized DAG rows to read (overdue): see AirflowDb.serializedDags. */
export interface SerializedDagRequest {
  /** 3.x: dag_version ids (as the DB returned them). Ignored on 2.x, which has no versions. */
  versionIds: string[]
  /** DAGs whose latest row is wanted: 2.x their one serialized_dag row, 3.x the row of their newest dag_version. */
  latestOf: string[]
}

export interface SerializedDagRows {
  /** By dag_version id; a requested id without a row is absent. */
  byVersion: Map<string, SerializedDagRow>
  /** By dag_id; a requested DAG without a row is absent. */
  latest: Map<string, SerializedDagRow>
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
  /**
   * Every task instance (any state) of these tasks, every map index. One round trip, through an index
   * on the task's ids: only the rows asked for, however many other tasks their runs hold.
   */
  taskInstancesOfTasks(tasks: TaskRef[]): Promise<TaskInstanceRow[]>
  /** Every task instance (any state) of these dag runs. */
  taskInstancesOfRuns(runs: DagRunRef[]): Promise<TaskInstanceRow[]>
  /**
   * The `pod_name` XCom of each task instance, keyed by taskKeyString(key). A missing key means no
   * XCom; `null` means an XCom exists but its value is not a plain pod name (custom XCom backend).
   */
  podNameXComs(keys: TaskKey[]): Promise<Map<string, string | null>>
  /**
   * Task instances in the states where a pod executes (running, deferred) belonging to these dag runs,
   * each with what locates the serialized DAG of its try (3.x: task_instance.dag_version_id and
   * dag_run.created_dag_version_id; null on 2.x). One round trip; rows only for the runs given.
   */
  executingTaskInstances(runs: DagRunRef[]): Promise<ExecutingTaskInstanceRow[]>
  /**
   * The serialized_dag rows asked for, undecoded (`data` as JSON text, `data_compressed` as bytes):
   * at most one statement per list, reading only the rows of the ids given.
   */
  serializedDags(request: SerializedDagRequest): Promise<SerializedDagRows>
  /** How many task instances are in each of these states (`doctor`); a state with none is absent. */
  taskInstanceStateCounts(states: readonly string[]): Promise<Map<string, number>>
  close(): Promise<void>
}
