// What differs between dialects is only the SQL text: how a list of keys reaches the server in one
// statement (PostgreSQL arrays with unnest, SQLite json_each, MySQL JSON_TABLE) and how a JSON
// column is read as text.
import type {SchemaFamily, TaskKey} from '../../core/types.js'
import type {DagRunRef, TaskRef} from '../types.js'
import type {OverdueQueries} from './overdue.js'

export interface Statement {
  sql: string
  params: unknown[]
}

export interface DialectQueries {
  now(): Statement
  dagRunsSince(since: Date): Statement
  // Statement lists: one statement each today (SqlAirflowDb itself sends long key lists in slices of
  // KEYS_PER_STATEMENT); a list leaves room for a dialect that must split a list further.
  taskInstancesOfRuns(runs: readonly DagRunRef[]): Statement[]
  taskInstancesOfTasks(tasks: readonly TaskRef[]): Statement[]
  xcoms(keys: readonly TaskKey[], xcomKey: string, family: SchemaFamily): Statement[]
  /** The overdue command's statements (queries/overdue.ts). */
  overdue: OverdueQueries
}

export interface RawDagRun {
  dag_id: string
  run_id: string
  state: string | null
  end_date: unknown
}

/** The columns every task-instance statement selects (table alias `ti`), as RawTaskInstance. */
export const TI_COLUMNS = 'ti.dag_id, ti.task_id, ti.run_id, ti.map_index, ti.state, ti.try_number, ti.start_date, ti.operator'

export interface RawTaskInstance {
  dag_id: string
  task_id: string
  run_id: string
  map_index: number | string
  state: string | null
  try_number: number | string | null
  start_date: unknown
  operator: string | null
}

export interface RawXCom {
  dag_id: string
  task_id: string
  run_id: string
  map_index: number | string
  value: unknown
}

export interface RawNow {
  now: unknown
}
