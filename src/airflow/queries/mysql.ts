// MySQL/MariaDB: key lists travel as one JSON array parameter, expanded with JSON_TABLE and joined to
// task_instance / xcom through their (dag_id, run_id) and (dag_id, task_id, run_id, map_index) indexes.
//
// JSON_TABLE's text columns have the connection's character set, while Airflow's id columns use
// `sql_engine_collation_for_ids` (utf8mb3_bin by default). Compared as they are, the server converts
// the indexed column and cannot use the index (measured on MariaDB 10.11, 100k TIs, 3000 runs: a
// 0.9 s join-buffer scan). Converting the JSON side into the column's own charset and collation gives
// index lookups (33 ms). Row-constructor IN lists were slower still: MariaDB's optimizer time grows
// quadratically with the list (1000 pairs: 0.34 s, and it then scanned the whole ti_state index).
import type {SchemaFamily} from '../../core/types.js'
import {SchemaError} from '../../errors.js'
import type {SqlDriver} from '../drivers/types.js'
import {formatUtcTimestamp} from '../timestamps.js'
import {mysqlOverdueQueries} from './overdue.js'
import {unfinishedRunCondition} from './states.js'
import {type DialectQueries, TI_COLUMNS} from './types.js'

/** Character set and collation of an id column, e.g. {charset: 'utf8mb3', collation: 'utf8mb3_bin'}. */
export interface ColumnCollation {
  charset: string
  collation: string
}

/** Keyed `table.column` for the id columns we compare with: task_instance and xcom's dag_id, task_id, run_id; serialized_dag and dag_version's ids. */
export type IdCollations = Record<string, ColumnCollation>

export function mysqlQueries(collations: IdCollations): DialectQueries {
  // `r.dag_id` in the column's charset and collation, so `ti.dag_id = <this>` can use the index.
  const asColumn = (table: string, column: string, source: string): string => {
    const c = collations[`${table}.${column}`]
    return c ? `CONVERT(${source} USING ${c.charset}) COLLATE ${c.collation}` : source
  }
  return {
    now: () => ({sql: 'SELECT UTC_TIMESTAMP(6) AS now', params: []}),

    dagRunsSince: (since) => ({
      sql: `SELECT dag_id, run_id, state, end_date FROM dag_run
             WHERE ${unfinishedRunCondition('state', 'end_date')} OR end_date >= ?`,
      params: [formatUtcTimestamp(since)],
    }),

    taskInstancesOfRuns: (runs) => [
      {
        sql: `SELECT ${TI_COLUMNS}
                FROM JSON_TABLE(?, '$[*]' COLUMNS (dag_id VARCHAR(250) PATH '$[0]', run_id VARCHAR(250) PATH '$[1]')) AS r
                STRAIGHT_JOIN task_instance ti
                  ON ti.dag_id = ${asColumn('task_instance', 'dag_id', 'r.dag_id')}
                 AND ti.run_id = ${asColumn('task_instance', 'run_id', 'r.run_id')}`,
        params: [JSON.stringify(runs.map((r) => [r.dagId, r.runId]))],
      },
    ],

    taskInstancesOfTasks: (tasks) => [
      {
        sql: `SELECT ${TI_COLUMNS}
                FROM JSON_TABLE(?, '$[*]' COLUMNS (dag_id VARCHAR(250) PATH '$[0]', task_id VARCHAR(250) PATH '$[1]',
                                                   run_id VARCHAR(250) PATH '$[2]')) AS k
                STRAIGHT_JOIN task_instance ti
                  ON ti.dag_id = ${asColumn('task_instance', 'dag_id', 'k.dag_id')}
                 AND ti.task_id = ${asColumn('task_instance', 'task_id', 'k.task_id')}
                 AND ti.run_id = ${asColumn('task_instance', 'run_id', 'k.run_id')}`,
        params: [JSON.stringify(tasks.map((t) => [t.dagId, t.taskId, t.runId]))],
      },
    ],

    xcoms: (keys, xcomKey, family) => [
      {
        sql: `SELECT x.dag_id, x.task_id, x.run_id, x.map_index, ${xcomValue(family)} AS value
                FROM JSON_TABLE(?, '$[*]' COLUMNS (dag_id VARCHAR(250) PATH '$[0]', task_id VARCHAR(250) PATH '$[1]',
                                                   run_id VARCHAR(250) PATH '$[2]', map_index INT PATH '$[3]')) AS k
                STRAIGHT_JOIN xcom x
                  ON x.dag_id = ${asColumn('xcom', 'dag_id', 'k.dag_id')}
                 AND x.task_id = ${asColumn('xcom', 'task_id', 'k.task_id')}
                 AND x.run_id = ${asColumn('xcom', 'run_id', 'k.run_id')}
                 AND x.map_index = k.map_index
               WHERE x.\`key\` = ?`,
        params: [JSON.stringify(keys.map((k) => [k.dagId, k.taskId, k.runId, k.mapIndex])), xcomKey],
      },
    ],

    overdue: mysqlOverdueQueries(asColumn),
  }
}

/** 2.x: LONGBLOB (a Buffer). 3.x: JSON, read as text (MySQL's JSON type would otherwise be parsed). */
function xcomValue(family: SchemaFamily): string {
  return family === 'airflow-3' ? 'CAST(x.value AS CHAR)' : 'x.value'
}

/** Reads what the statements depend on: JSON_TABLE support and the id columns' collations. */
export async function prepareMysqlQueries(driver: SqlDriver): Promise<DialectQueries> {
  const [version] = await driver.query<{version: string}>('SELECT VERSION() AS version')
  requireJsonTable(version?.version ?? '')
  const rows = await driver.query<{table_name: string; column_name: string; charset: string | null; collation: string | null}>(
    `SELECT table_name AS table_name, column_name AS column_name,
            character_set_name AS charset, collation_name AS collation
       FROM information_schema.columns
      WHERE table_schema = DATABASE() AND table_name IN ('task_instance', 'xcom', 'serialized_dag', 'dag_version')
        AND column_name IN ('dag_id', 'task_id', 'run_id', 'id', 'dag_version_id')`,
  )
  const collations: IdCollations = {}
  for (const row of rows) {
    // The names go into the SQL text; information_schema only holds plain identifiers, but check.
    if (!row.charset || !row.collation || !/^\w+$/.test(row.charset) || !/^\w+$/.test(row.collation)) continue
    collations[`${row.table_name.toLowerCase()}.${row.column_name.toLowerCase()}`] = {charset: row.charset, collation: row.collation}
  }
  return mysqlQueries(collations)
}

/** JSON_TABLE exists from MySQL 8.0.4 and MariaDB 10.6 (Airflow 2.7+ itself needs MySQL 8.0). */
export function requireJsonTable(version: string): void {
  const [major = 0, minor = 0, patch = 0] = (version.match(/^(\d+)\.(\d+)\.(\d+)/)?.slice(1) ?? []).map(Number)
  const isMariaDb = /mariadb/i.test(version)
  const ok = isMariaDb ? major > 10 || (major === 10 && minor >= 6) : major > 8 || (major === 8 && (minor > 0 || patch >= 4))
  if (!ok) throw new SchemaError(`MySQL 8.0.4+ or MariaDB 10.6+ is needed to read the Airflow DB (server is ${version})`)
}
