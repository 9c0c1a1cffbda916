// The statements of the overdue command, per dialect: running/deferred task instances of given dag
// runs (with what locates their serialized DAG), and the serialized_dag rows those need. Same
// techniques as the other statements (unnest / json_each / JSON_TABLE): one statement for any number
// of keys, every key an index lookup (task_instance (dag_id, run_id), dag_run UNIQUE (dag_id, run_id),
// serialized_dag UNIQUE dag_version_id / PK dag_id, dag_version UNIQUE (dag_id, version_number)).
import {POD_CHOSEN_STATES, type SchemaFamily} from '../../core/types.js'
import type {DagRunRef} from '../types.js'
import type {RawTaskInstance, Statement} from './types.js'

export interface OverdueQueries {
  /** running/deferred task instances of these runs; 3.x adds ti.dag_version_id and dag_run.created_dag_version_id. */
  executingTaskInstances(runs: readonly DagRunRef[], family: SchemaFamily): Statement[]
  /** 3.x: serialized_dag rows of these dag_version ids (none on 2.x, which has no versions). */
  serializedDagsByVersion(versionIds: readonly string[], family: SchemaFamily): Statement[]
  /** 2.x: the one serialized_dag row of each DAG; 3.x: the row of its newest dag_version. */
  latestSerializedDags(dagIds: readonly string[], family: SchemaFamily): Statement[]
}

export interface RawExecutingTaskInstance extends RawTaskInstance {
  dag_version_id: string | null
  run_dag_version_id: string | null
}

export interface RawSerializedDag {
  dag_id: string
  dag_version_id: string | null
  version_number: number | string | null
  data: unknown
  data_compressed: unknown
}

const TI_COLUMNS = 'ti.dag_id, ti.task_id, ti.run_id, ti.map_index, ti.state, ti.try_number, ti.start_date, ti.operator'

/** State names are our constants, written into the statement so the planner may use ti_state. */
export function executingStateCondition(column: string): string {
  return `${column} IN (${POD_CHOSEN_STATES.map((s) => `'${s}'`).join(', ')})`
}

const isAirflow3 = (family: SchemaFamily) => family === 'airflow-3'

/**
 * 3.x: the id of a DAG's newest dag_version that has a serialized_dag row. Evaluated once per DAG:
 * a backward walk of UNIQUE (dag_id, version_number) that stops at the first version with a row.
 */
function newestVersion(dagIdExpr: string): string {
  return `SELECT v2.id FROM dag_version v2
           WHERE v2.dag_id = ${dagIdExpr}
             AND EXISTS (SELECT 1 FROM serialized_dag s2 WHERE s2.dag_version_id = v2.id)
           ORDER BY v2.version_number DESC LIMIT 1`
}

export const postgresOverdueQueries: OverdueQueries = {
  executingTaskInstances: (runs, family) => [
    {
      sql: `SELECT ${TI_COLUMNS},
                   ${isAirflow3(family) ? 'ti.dag_version_id::text' : 'NULL::text'} AS dag_version_id,
                   ${isAirflow3(family) ? 'dr.created_dag_version_id::text' : 'NULL::text'} AS run_dag_version_id
              FROM unnest($1::text[], $2::text[]) AS r(dag_id, run_id)
              JOIN task_instance ti ON ti.dag_id = r.dag_id AND ti.run_id = r.run_id
              ${isAirflow3(family) ? 'LEFT JOIN dag_run dr ON dr.dag_id = r.dag_id AND dr.run_id = r.run_id' : ''}
             WHERE ${executingStateCondition('ti.state')}`,
      params: [runs.map((r) => r.dagId), runs.map((r) => r.runId)],
    },
  ],

  serializedDagsByVersion: (versionIds, family) =>
    !isAirflow3(family) || versionIds.length === 0
      ? []
      : [
          {
            sql: `SELECT s.dag_id, v.id::text AS dag_version_id, v.version_number, s.data::text AS data, s.data_compressed
                    FROM unnest($1::uuid[]) AS k(id)
                    JOIN serialized_dag s ON s.dag_version_id = k.id
                    JOIN dag_version v ON v.id = s.dag_version_id`,
            params: [[...versionIds]],
          },
        ],

  latestSerializedDags: (dagIds, family) =>
    dagIds.length === 0
      ? []
      : [
          isAirflow3(family)
            ? {
                sql: `SELECT s.dag_id, v.id::text AS dag_version_id, v.version_number, s.data::text AS data, s.data_compressed
                        FROM unnest($1::text[]) AS k(dag_id)
                        JOIN dag_version v ON v.id = (${newestVersion('k.dag_id')})
                        JOIN serialized_dag s ON s.dag_version_id = v.id`,
                params: [[...dagIds]],
              }
            : {
                sql: `SELECT s.dag_id, NULL::text AS dag_version_id, NULL::int AS version_number, s.data::text AS data, s.data_compressed
                        FROM unnest($1::text[]) AS k(dag_id)
                        JOIN serialized_dag s ON s.dag_id = k.dag_id`,
                params: [[...dagIds]],
              },
        ],
}

// SQLite: CROSS JOIN pins json_each as the outer loop, so each key is an index lookup.
export const sqliteOverdueQueries: OverdueQueries = {
  executingTaskInstances: (runs, family) => [
    {
      sql: `SELECT ${TI_COLUMNS},
                   ${isAirflow3(family) ? 'ti.dag_version_id' : 'NULL'} AS dag_version_id,
                   ${isAirflow3(family) ? 'dr.created_dag_version_id' : 'NULL'} AS run_dag_version_id
              FROM json_each(?) AS r
              CROSS JOIN task_instance ti
              ${isAirflow3(family) ? 'LEFT JOIN dag_run dr ON dr.dag_id = ti.dag_id AND dr.run_id = ti.run_id' : ''}
             WHERE ti.dag_id = json_extract(r.value, '$[0]') AND ti.run_id = json_extract(r.value, '$[1]')
               AND ${executingStateCondition('ti.state')}`,
      params: [JSON.stringify(runs.map((r) => [r.dagId, r.runId]))],
    },
  ],

  serializedDagsByVersion: (versionIds, family) =>
    !isAirflow3(family) || versionIds.length === 0
      ? []
      : [
          {
            sql: `SELECT s.dag_id, v.id AS dag_version_id, v.version_number, s.data AS data, s.data_compressed
                    FROM json_each(?) AS k
                    CROSS JOIN serialized_dag s
                    JOIN dag_version v ON v.id = s.dag_version_id
                   WHERE s.dag_version_id = k.value`,
            params: [JSON.stringify(versionIds)],
          },
        ],

  latestSerializedDags: (dagIds, family) =>
    dagIds.length === 0
      ? []
      : [
          isAirflow3(family)
            ? {
                sql: `SELECT s.dag_id, v.id AS dag_version_id, v.version_number, s.data AS data, s.data_compressed
                        FROM json_each(?) AS k
                        CROSS JOIN dag_version v
                        JOIN serialized_dag s ON s.dag_version_id = v.id
                       WHERE v.id = (${newestVersion('k.value')})`,
                params: [JSON.stringify(dagIds)],
              }
            : {
                sql: `SELECT s.dag_id, NULL AS dag_version_id, NULL AS version_number, s.data AS data, s.data_compressed
                        FROM json_each(?) AS k
                        CROSS JOIN serialized_dag s
                       WHERE s.dag_id = k.value`,
                params: [JSON.stringify(dagIds)],
              },
        ],
}

/**
 * MySQL/MariaDB: `asColumn(table, column, expr)` converts a JSON_TABLE value into the id column's
 * charset and collation (see queries/mysql.ts), so the comparison can use the column's index.
 * JSON columns are read as text (CAST AS CHAR), as on the other dialects.
 */
export function mysqlOverdueQueries(asColumn: (table: string, column: string, source: string) => string): OverdueQueries {
  return {
    executingTaskInstances: (runs, family) => [
      {
        sql: `SELECT ${TI_COLUMNS},
                     ${isAirflow3(family) ? 'ti.dag_version_id' : 'NULL'} AS dag_version_id,
                     ${isAirflow3(family) ? 'dr.created_dag_version_id' : 'NULL'} AS run_dag_version_id
                FROM JSON_TABLE(?, '$[*]' COLUMNS (dag_id VARCHAR(250) PATH '$[0]', run_id VARCHAR(250) PATH '$[1]')) AS r
                STRAIGHT_JOIN task_instance ti
                  ON ti.dag_id = ${asColumn('task_instance', 'dag_id', 'r.dag_id')}
                 AND ti.run_id = ${asColumn('task_instance', 'run_id', 'r.run_id')}
                ${isAirflow3(family) ? 'LEFT JOIN dag_run dr ON dr.dag_id = ti.dag_id AND dr.run_id = ti.run_id' : ''}
               WHERE ${executingStateCondition('ti.state')}`,
        params: [JSON.stringify(runs.map((r) => [r.dagId, r.runId]))],
      },
    ],

    serializedDagsByVersion: (versionIds, family) =>
      !isAirflow3(family) || versionIds.length === 0
        ? []
        : [
            {
              sql: `SELECT s.dag_id, v.id AS dag_version_id, v.version_number, CAST(s.data AS CHAR) AS data, s.data_compressed
                      FROM JSON_TABLE(?, '$[*]' COLUMNS (id VARCHAR(36) PATH '$')) AS k
                      STRAIGHT_JOIN serialized_dag s ON s.dag_version_id = ${asColumn('serialized_dag', 'dag_version_id', 'k.id')}
                      JOIN dag_version v ON v.id = s.dag_version_id`,
              params: [JSON.stringify(versionIds)],
            },
          ],

    latestSerializedDags: (dagIds, family) =>
      dagIds.length === 0
        ? []
        : [
            isAirflow3(family)
              ? {
                  sql: `SELECT s.dag_id, v.id AS dag_version_id, v.version_number, CAST(s.data AS CHAR) AS data, s.data_compressed
                          FROM JSON_TABLE(?, '$[*]' COLUMNS (dag_id VARCHAR(250) PATH '$')) AS k
                          STRAIGHT_JOIN dag_version v ON v.id = (${newestVersion(asColumn('dag_version', 'dag_id', 'k.dag_id'))})
                          JOIN serialized_dag s ON s.dag_version_id = v.id`,
                  params: [JSON.stringify(dagIds)],
                }
              : {
                  sql: `SELECT s.dag_id, NULL AS dag_version_id, NULL AS version_number, CAST(s.data AS CHAR) AS data, s.data_compressed
                          FROM JSON_TABLE(?, '$[*]' COLUMNS (dag_id VARCHAR(250) PATH '$')) AS k
                          STRAIGHT_JOIN serialized_dag s ON s.dag_id = ${asColumn('serialized_dag', 'dag_id', 'k.dag_id')}`,
                  params: [JSON.stringify(dagIds)],
                },
          ],
  }
}
