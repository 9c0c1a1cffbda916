// PostgreSQL: key lists travel as parallel arrays and are joined with unnest(), so one statement
// serves any number of runs and the task_instance side is reached through its (dag_id, run_id) index.
import type {SchemaFamily} from '../../core/types.js'
import {postgresOverdueQueries} from './overdue.js'
import {unfinishedRunCondition} from './states.js'
import {type DialectQueries, TI_COLUMNS} from './types.js'

export const postgresQueries: DialectQueries = {
  now: () => ({sql: 'SELECT now() AS now', params: []}),

  dagRunsSince: (since) => ({
    sql: `SELECT dag_id, run_id, state, end_date FROM dag_run
           WHERE ${unfinishedRunCondition('state', 'end_date')} OR end_date >= $1`,
    params: [since],
  }),

  taskInstancesOfRuns: (runs) => [
    {
      sql: `SELECT ${TI_COLUMNS}
              FROM unnest($1::text[], $2::text[]) AS r(dag_id, run_id)
              JOIN task_instance ti ON ti.dag_id = r.dag_id AND ti.run_id = r.run_id`,
      params: [runs.map((r) => r.dagId), runs.map((r) => r.runId)],
    },
  ],

  // Every map index of each task: the primary key's (dag_id, task_id, run_id) prefix, or ti_state_lkp.
  taskInstancesOfTasks: (tasks) => [
    {
      sql: `SELECT ${TI_COLUMNS}
              FROM unnest($1::text[], $2::text[], $3::text[]) AS k(dag_id, task_id, run_id)
              JOIN task_instance ti ON ti.dag_id = k.dag_id AND ti.task_id = k.task_id AND ti.run_id = k.run_id`,
      params: [tasks.map((t) => t.dagId), tasks.map((t) => t.taskId), tasks.map((t) => t.runId)],
    },
  ],

  xcoms: (keys, xcomKey, family) => [
    {
      sql: `SELECT x.dag_id, x.task_id, x.run_id, x.map_index, ${xcomValue(family)} AS value
              FROM unnest($1::text[], $2::text[], $3::text[], $4::int[]) AS k(dag_id, task_id, run_id, map_index)
              JOIN xcom x ON x.dag_id = k.dag_id AND x.task_id = k.task_id AND x.run_id = k.run_id
                         AND x.map_index = k.map_index
             WHERE x.key = $5`,
      params: [keys.map((k) => k.dagId), keys.map((k) => k.taskId), keys.map((k) => k.runId), keys.map((k) => k.mapIndex), xcomKey],
    },
  ],

  overdue: postgresOverdueQueries,
}

/** 2.x: bytea (returned as a Buffer). 3.x: jsonb, read as its JSON text so every dialect decodes alike. */
function xcomValue(family: SchemaFamily): string {
  return family === 'airflow-3' ? 'x.value::text' : 'x.value'
}
