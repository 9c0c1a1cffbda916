// The task-instance source over any SqlDriver: the dialect module writes the statements, the family rules interpret
// the rows. Every method reads only rows for the runs or tasks it is given (plus the bounded run list).
import type {ExecutingTaskInstanceRow, SerializedDagRow} from '../core/overdue.js'
import {interner} from '../core/interner.js'
import type {DagRunRow, TaskInstanceRow, TaskKey} from '../core/types.js'
import {taskKeyString} from '../core/types.js'
import type {SqlDriver} from './drivers/types.js'
import {uniqueRuns, uniqueTaskKeys, uniqueTaskRefs} from './queries/dedupe.js'
import {FAMILY_RULES, type FamilyRules} from './queries/families.js'
import type {RawExecutingTaskInstance, RawSerializedDag} from './queries/overdue.js'
import {prepareMysqlQueries} from './queries/mysql.js'
import {postgresQueries} from './queries/postgres.js'
import {sqliteQueries} from './queries/sqlite.js'
import {taskInstanceStateCountsSql} from './queries/states.js'
import type {DialectQueries, RawDagRun, RawNow, RawTaskInstance, RawXCom, Statement} from './queries/types.js'
import {toUtcDate} from './timestamps.js'
import {type SerializedDagRequest, type SerializedDagRows, resolveExecutionTimeouts} from './execution-timeouts.js'
import type {AirflowSchema, DagRunRef, ExecutionTimeout, Proof, ProofRequest, TaskInstanceSource, TaskRef} from './types.js'

export const POD_NAME_XCOM_KEY = 'pod_name'

/**
 * The most keys (tasks, runs, task instances) one statement carries. Longer lists are sent as several
 * statements, one after the other: the parameters of one are garbage before the next is built, so
 * the driver never holds a 150,000-element array, and each plan is made for a list of this size.
 */
export const KEYS_PER_STATEMENT = 1000

/**
 * A scan judges this many pods at a time (TaskInstanceSource.podsPerRead), one statement's keys. Measured
 * at 150,000 pods (bench/README.md, issue 22): 5,000 a slice peaked at 274–308 MB RSS, 2,500 at 242–267,
 * 1,000 at 230–251 and 500 no lower, in no more time: a smaller slice's rows die before the GC
 * promotes them to the old generation, where they would stay until the next full collection.
 */
export const PODS_PER_READ = KEYS_PER_STATEMENT

/** The statement builders for this connection (MySQL's depend on the server and the id collations). */
export async function queriesFor(driver: SqlDriver): Promise<DialectQueries> {
  switch (driver.dialect) {
    case 'postgresql':
      return postgresQueries
    case 'sqlite':
      return sqliteQueries
    case 'mysql':
      return prepareMysqlQueries(driver)
  }
}

export class SqlAirflowDb implements TaskInstanceSource {
  readonly podsPerRead = PODS_PER_READ
  private readonly rules: FamilyRules

  constructor(
    private readonly driver: SqlDriver,
    readonly schema: AirflowSchema,
    private readonly queries: DialectQueries,
    private readonly keysPerStatement = KEYS_PER_STATEMENT,
  ) {
    this.rules = FAMILY_RULES[schema.family]
  }

  async now(): Promise<Date> {
    const [row] = await this.run<RawNow>([this.queries.now()])
    const now = toUtcDate(row?.now)
    if (!now) throw new Error('the Airflow DB returned no current time')
    return now
  }

  async dagRunsSince(since: Date): Promise<DagRunRow[]> {
    const rows = await this.run<RawDagRun>([this.queries.dagRunsSince(since)])
    return rows.map((row) => ({dagId: row.dag_id, runId: row.run_id, state: row.state, endDate: toUtcDate(row.end_date)}))
  }

  async taskInstancesOfTasks(tasks: TaskRef[]): Promise<TaskInstanceRow[]> {
    const unique = uniqueTaskRefs(tasks)
    if (unique.length === 0) return []
    // One row per pod or more: dag_id, run_id, state and operator repeat across rows, each kept once.
    const once = interner()
    return this.runMapped<RawTaskInstance, TaskInstanceRow>(this.sliced(unique, (part) => this.queries.taskInstancesOfTasks(part)), (row) => this.toTaskInstance(row, once))
  }

  async taskInstancesOfRuns(runs: DagRunRef[]): Promise<TaskInstanceRow[]> {
    const unique = uniqueRuns(runs)
    if (unique.length === 0) return []
    // One row per pod or more: dag_id, run_id, state and operator repeat across rows, each kept once.
    const once = interner()
    return this.runMapped<RawTaskInstance, TaskInstanceRow>(this.sliced(unique, (part) => this.queries.taskInstancesOfRuns(part)), (row) => this.toTaskInstance(row, once))
  }

  async podNameXComs(keys: TaskKey[]): Promise<Map<string, string | null>> {
    const unique = uniqueTaskKeys(keys)
    const names = new Map<string, string | null>()
    if (unique.length === 0) return names
    const rows = await this.run<RawXCom>(this.sliced(unique, (part) => this.queries.xcoms(part, POD_NAME_XCOM_KEY, this.schema.family)))
    for (const row of rows) {
      const key = {dagId: row.dag_id, taskId: row.task_id, runId: row.run_id, mapIndex: Number(row.map_index)}
      names.set(taskKeyString(key), this.rules.decodePodName(row.value))
    }
    return names
  }

  async executingTaskInstances(runs: DagRunRef[]): Promise<ExecutingTaskInstanceRow[]> {
    const unique = uniqueRuns(runs)
    if (unique.length === 0) return []
    const rows = await this.run<RawExecutingTaskInstance>(this.sliced(unique, (part) => this.queries.overdue.executingTaskInstances(part, this.schema.family)))
    return rows.map((row) => ({
      ...this.toTaskInstance(row),
      dagVersionId: row.dag_version_id === null || row.dag_version_id === undefined ? null : String(row.dag_version_id),
      runDagVersionId: row.run_dag_version_id === null || row.run_dag_version_id === undefined ? null : String(row.run_dag_version_id),
    }))
  }

  executionTimeouts(tis: ExecutingTaskInstanceRow[], defaultSeconds?: number): Promise<Map<string, ExecutionTimeout>> {
    // Airflow 3's task SDK does not apply [core] default_task_execution_timeout.
    const fallback = this.schema.family === 'airflow-3' ? undefined : defaultSeconds
    return resolveExecutionTimeouts((request) => this.serializedDags(request), tis, fallback)
  }

  /**
   * The serialized_dag rows asked for, undecoded (`data` as JSON text, `data_compressed` as bytes):
   * at most one statement per list, reading only the rows of the ids given.
   */
  async serializedDags(request: SerializedDagRequest): Promise<SerializedDagRows> {
    const versionIds = [...new Set(request.versionIds)]
    const dagIds = [...new Set(request.latestOf)]
    const {overdue} = this.queries
    const byVersion = new Map<string, SerializedDagRow>()
    const latest = new Map<string, SerializedDagRow>()
    for (const row of await this.run<RawSerializedDag>(overdue.serializedDagsByVersion(versionIds, this.schema.family))) {
      const dag = toSerializedDag(row)
      if (dag.versionId) byVersion.set(dag.versionId, dag)
    }
    for (const row of await this.run<RawSerializedDag>(overdue.latestSerializedDags(dagIds, this.schema.family))) {
      const dag = toSerializedDag(row)
      latest.set(dag.dagId, dag)
    }
    return {byVersion, latest}
  }

  async proveCandidates(request: ProofRequest): Promise<Proof> {
    const byTask = await this.taskInstancesOfTasks(request.tasks)
    const byRun = await this.taskInstancesOfRuns(request.runs)
    return {taskInstances: [...byTask, ...byRun], foundRuns: [], notPermitted: new Set()}
  }

  async taskInstanceStateCounts(states: readonly string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>()
    if (states.length === 0) return counts
    for (const row of await this.driver.query<{state: string; n: number | string}>(taskInstanceStateCountsSql(states))) {
      counts.set(row.state, Number(row.n))
    }
    return counts
  }

  close(): Promise<void> {
    return this.driver.close()
  }

  private toTaskInstance(row: RawTaskInstance, once: (value: string) => string = (value) => value): TaskInstanceRow {
    const column = row.try_number === null ? null : Number(row.try_number)
    return {
      dagId: once(row.dag_id),
      taskId: once(row.task_id),
      runId: once(row.run_id),
      mapIndex: Number(row.map_index),
      state: row.state === null ? null : once(row.state),
      tryNumber: this.rules.effectiveTryNumber(column, row.state),
      startDate: toUtcDate(row.start_date),
      operator: row.operator === null ? null : once(row.operator),
    }
  }

  /** The statements for these keys, KEYS_PER_STATEMENT at a time, each built only when the one before has run. */
  private *sliced<K>(keys: readonly K[], statementsFor: (part: readonly K[]) => Statement[]): Generator<Statement> {
    for (let at = 0; at < keys.length; at += this.keysPerStatement) yield* statementsFor(keys.slice(at, at + this.keysPerStatement))
  }

  /** Task-instance reads can be tens of thousands of rows: converted as they arrive. */
  private async runMapped<T extends object, U>(statements: Iterable<Statement>, map: (row: T) => U): Promise<U[]> {
    const rows: U[] = []
    for (const {sql, params} of statements) {
      for (const row of await this.driver.queryMapped<T, U>(sql, params, map)) rows.push(row)
    }
    return rows
  }

  private async run<T extends object>(statements: Iterable<Statement>): Promise<T[]> {
    const rows: T[] = []
    for (const {sql, params} of statements) {
      // A loop, not push(...rows): a spread of hundreds of thousands of rows overflows the call stack.
      for (const row of await this.driver.query<T>(sql, params)) rows.push(row)
    }
    return rows
  }
}

const utf8 = new TextDecoder('utf-8')

/** JSON text stays text (it is parsed later, once per DAG, where a failure is a warning); BLOBs are bytes. */
function toSerializedDag(row: RawSerializedDag): SerializedDagRow {
  const data = jsonText(row.data)
  const compressed = row.data_compressed instanceof Uint8Array ? row.data_compressed : null
  return {
    dagId: row.dag_id,
    versionId: row.dag_version_id === null || row.dag_version_id === undefined ? null : String(row.dag_version_id),
    versionNumber: row.version_number === null || row.version_number === undefined ? null : Number(row.version_number),
    data,
    dataCompressed: compressed,
  }
}

function jsonText(value: unknown): string | null {
  if (value === null || value === undefined) return null
  if (typeof value === 'string') return value
  if (value instanceof Uint8Array) return utf8.decode(value)
  return JSON.stringify(value) // a driver that parsed the JSON column itself
}
