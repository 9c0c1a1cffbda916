// The contract between the commands and the sources of Airflow's task instances (the metadata DB, the
// REST API), and the DB adapters' own types.
import type {ExecutingTaskInstanceRow} from '../core/overdue.js'
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

/**
 * A task whose task instances are asked for: every map index, or with `mapIndex` the one the caller
 * needs (a source may answer more: the DB reads every map index of the task through its index).
 */
export type TaskQuery = TaskRef & {mapIndex?: number}

/**
 * A task's execution_timeout as the try running it was built: seconds, none (the task has none), or
 * unknown with the reason (its DAG could not be read), in which case the task is not judged.
 */
export type ExecutionTimeout = {kind: 'seconds'; seconds: number} | {kind: 'none'} | {kind: 'unknown'; reason: string}

/**
 * What re-proving candidate pods reads again, with the real ids the scan matched them to: each pod's
 * own task instance by key, or (a task_id label that may have been rewritten) its whole dag run, and
 * the dag runs of pods the scan's run list did not hold.
 */
export interface ProofRequest {
  tasks: TaskKey[]
  runs: DagRunRef[]
  /** Of pods the scan's run list did not hold: their dag_id and run_id labels (which may have been rewritten). */
  missingRuns: DagRunRef[]
}

/** What a proof found. */
export interface Proof {
  /** Every task instance read (any state), each proved by a read of its own where the source can. */
  taskInstances: TaskInstanceRow[]
  /**
   * Of the missing runs (as labelled), those not proved absent: they exist after all (a list that is
   * not a snapshot can miss rows), or a read of their own cannot rule them out. Their pods are kept.
   */
  foundRuns: DagRunRef[]
  /** DAGs among those asked about that the credentials may not read: their pods are kept (not-permitted). */
  notPermitted: Set<string>
}

/**
 * Where the verdicts' facts about task instances come from: the metadata DB (SqlAirflowDb) or the REST
 * API (src/airflow-api, ApiTaskInstanceSource). Read-only, and at the level the verdicts need.
 */
export interface TaskInstanceSource {
  /**
   * How many pods' task instances a scan reads and judges at a time (whole dag runs together, so a run or
   * a task is never read in two calls): what a slice read is garbage once it is judged, so memory follows
   * this number, not the pods listed. Undefined: every pod in one call (a source whose reads are per run
   * or per task gains nothing from slices, and one that lists more at once would repeat it per slice).
   */
  readonly podsPerRead?: number
  /** Airflow's clock (the DB's now()), so verdicts do not depend on the laptop's clock. */
  now(): Promise<Date>
  /**
   * Dag runs that can own a pod created at or after `since`: unfinished ones, and those that ended
   * after `since`. Bounds the rows read however long the DB's history is.
   */
  dagRunsSince(since: Date): Promise<DagRunRow[]>
  /**
   * Every task instance (any state) of these tasks, every map index (at least the one a query names).
   * The DB: through an index on the task's ids, only the rows asked for however many other tasks their
   * runs hold, one statement per KEYS_PER_STATEMENT tasks. The API: the batch list of their DAGs × runs ×
   * tasks (its pages are not a snapshot; a task it does not answer is read by its own list).
   */
  taskInstancesOfTasks(tasks: TaskQuery[]): Promise<TaskInstanceRow[]>
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
   * dag_run.created_dag_version_id; null on 2.x). Rows only for the runs given.
   */
  executingTaskInstances(runs: DagRunRef[]): Promise<ExecutingTaskInstanceRow[]>
  /**
   * execution_timeout of each task instance's task, as the DAG version its try runs defines it, keyed
   * by taskKeyString. Every task instance given has an answer. `defaultSeconds` is Airflow 2.x's
   * `[core] default_task_execution_timeout`, for tasks that do not set one; a source for Airflow 3,
   * whose task SDK does not apply that option, ignores it.
   */
  executionTimeouts(tis: ExecutingTaskInstanceRow[], defaultSeconds?: number): Promise<Map<string, ExecutionTimeout>>
  /**
   * Reads again what the verdicts on candidate pods rest on, just before they are reported or acted
   * on. A list only ever clears a pod: the API proves each fact by a point read (the DAG, the run, the
   * task instance). The DB answers from its statements, each one consistent snapshot: a run its list
   * did not hold does not exist, and it may read every DAG.
   */
  proveCandidates(request: ProofRequest): Promise<Proof>
  /** How many task instances are in each of these states (`doctor`); a state with none is absent. */
  taskInstanceStateCounts(states: readonly string[]): Promise<Map<string, number>>
  close(): Promise<void>
}
