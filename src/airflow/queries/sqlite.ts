// SQLite: key lists travel as one JSON array parameter and are expanded with json_each(). CROSS
// JOIN pins the join order (SQLite never reorders it), so every key is an index lookup.
import {formatUtcTimestamp} from '../timestamps.js'
import {sqliteOverdueQueries} from './overdue.js'
import {unfinishedRunCondition} from './states.js'
import {type DialectQueries, TI_COLUMNS} from './types.js'

export const sqliteQueries: DialectQueries = {
  // Same text format as Airflow's own timestamps (UTC, microseconds).
  now: () => ({sql: `SELECT strftime('%Y-%m-%d %H:%M:%f', 'now') AS now`, params: []}),

  // Airflow's SQLite timestamps are fixed-width UTC text, so text comparison is time comparison.
  dagRunsSince: (since) => ({
    sql: `SELECT dag_id, run_id, state, end_date FROM dag_run
           WHERE ${unfinishedRunCondition('state', 'end_date')} OR end_date >= ?`,
    params: [formatUtcTimestamp(since)],
  }),

  taskInstancesOfRuns: (runs) => [
    {
      sql: `SELECT ${TI_COLUMNS}
              FROM json_each(?) AS r
              CROSS JOIN task_instance ti
             WHERE ti.dag_id = json_extract(r.value, '$[0]') AND ti.run_id = json_extract(r.value, '$[1]')`,
      params: [JSON.stringify(runs.map((r) => [r.dagId, r.runId]))],
    },
  ],

  taskInstancesOfTasks: (tasks) => [
    {
      sql: `SELECT ${TI_COLUMNS}
              FROM json_each(?) AS k
              CROSS JOIN task_instance ti
             WHERE ti.dag_id = json_extract(k.value, '$[0]') AND ti.task_id = json_extract(k.value, '$[1]')
               AND ti.run_id = json_extract(k.value, '$[2]')`,
      params: [JSON.stringify(tasks.map((t) => [t.dagId, t.taskId, t.runId]))],
    },
  ],

  // JSON and bytes alike come back as stored (TEXT or BLOB); the family rules decode them.
  xcoms: (keys, xcomKey) => [
    {
      sql: `SELECT x.dag_id, x.task_id, x.run_id, x.map_index, x.value AS value
              FROM json_each(?) AS k
              CROSS JOIN xcom x
             WHERE x.dag_id = json_extract(k.value, '$[0]') AND x.task_id = json_extract(k.value, '$[1]')
               AND x.run_id = json_extract(k.value, '$[2]') AND x.map_index = json_extract(k.value, '$[3]')
               AND x."key" = ?`,
      params: [JSON.stringify(keys.map((k) => [k.dagId, k.taskId, k.runId, k.mapIndex])), xcomKey],
    },
  ],

  overdue: sqliteOverdueQueries,
}
