// The reader's statements must stay index lookups however big task_instance and xcom grow: fill each
// dialect with 50k task instances and check the plans of the statements the reader really sends.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {openDriver} from '../../src/airflow/drivers/open.js'
import type {SqlDriver} from '../../src/airflow/drivers/types.js'
import type {DialectQueries} from '../../src/airflow/queries/types.js'
import {queriesFor} from '../../src/airflow/sql-airflow-db.js'
import {parseDbUrl} from '../../src/airflow/url.js'
import type {Dialect} from '../../src/core/types.js'
import {
  type TestAirflowDb,
  createMysqlAirflowDb,
  createPostgresAirflowDb,
  createSqliteAirflowDb,
} from '../support/airflow-db/index.js'

const RUNS = 5_000 // dag runs, 10 task instances each; xcoms for 3 tasks in 10

// Rows n = 0..RUNS*10-1: dag `dag{run % 50}`, run `run{run}`, task `t{n % 10}`; 1 in 97 running.
const DIGITS = '(SELECT 0 AS d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)'
const numbers = (dialect: Dialect, count: number): string =>
  dialect === 'postgresql'
    ? `(SELECT generate_series(0, ${count - 1}) AS n) s`
    : // portable: no recursion limits (MySQL's cte_max_recursion_depth is 1000)
      `(SELECT a.d + 10*b.d + 100*c.d + 1000*e.d + 10000*f.d AS n FROM ${DIGITS} a, ${DIGITS} b, ${DIGITS} c, ${DIGITS} e, ${DIGITS} f) s WHERE n < ${count}`

function fillSql(dialect: Dialect): string[] {
  const concat = (...parts: string[]) => (dialect === 'mysql' ? `CONCAT(${parts.join(', ')})` : parts.join(' || '))
  const div = (a: string, b: number) => (dialect === 'mysql' ? `${a} DIV ${b}` : `${a} / ${b}`)
  const cast = (expr: string) => (dialect === 'mysql' ? expr : `CAST(${expr} AS TEXT)`)
  const ts = dialect === 'postgresql' ? `now() - n * interval '1 second'` : `'2024-01-01 00:00:00.000000'`
  return [
    `INSERT INTO dag_run (dag_id, run_id, execution_date, state, run_type, start_date, end_date)
     SELECT ${concat("'dag'", cast('n % 50'))}, ${concat("'run'", cast('n'))},
            ${dialect === 'postgresql' ? ts : dialect === 'mysql' ? "TIMESTAMPADD(SECOND, n, '2020-01-01')" : "datetime('2020-01-01', '+' || n || ' seconds')"},
            'success', 'scheduled', ${ts}, ${ts}
       FROM ${numbers(dialect, RUNS)}`,
    `INSERT INTO task_instance (dag_id, task_id, run_id, map_index, state, try_number, pool, pool_slots, operator)
     SELECT ${concat("'dag'", cast(`${div('n', 10)} % 50`))}, ${concat("'t'", cast('n % 10'))}, ${concat("'run'", cast(div('n', 10)))},
            -1, CASE WHEN n % 97 = 0 THEN 'running' ELSE 'success' END, 1, 'default_pool', 1, 'KubernetesPodOperator'
       FROM ${numbers(dialect, RUNS * 10)}`,
    `INSERT INTO xcom (dag_run_id, task_id, map_index, ${dialect === 'mysql' ? '`key`' : '"key"'}, dag_id, run_id, value, timestamp)
     SELECT r.id, ti.task_id, ti.map_index, 'pod_name', ti.dag_id, ti.run_id, NULL, ${dialect === 'postgresql' ? 'now()' : "'2024-01-01 00:00:00.000000'"}
       FROM task_instance ti JOIN dag_run r ON r.dag_id = ti.dag_id AND r.run_id = ti.run_id
      WHERE ti.task_id IN ('t0', 't1', 't2')`,
    dialect === 'mysql' ? 'ANALYZE TABLE dag_run, task_instance, xcom' : 'ANALYZE',
  ]
}

const someRuns = Array.from({length: 20}, (_, i) => ({dagId: `dag${(i * 37) % 50}`, runId: `run${i * 37}`}))
const someTasks = someRuns.map((r, i) => ({...r, taskId: `t${i % 10}`, mapIndex: -1}))

interface Case {
  dialect: Dialect
  create(): Promise<TestAirflowDb>
  explain(driver: SqlDriver, sql: string, params: unknown[]): Promise<string>
  /** A plan that reads a whole table (or a whole index of it) rather than looking keys up. */
  fullScan: RegExp
}

const CASES: Case[] = [
  {
    dialect: 'postgresql',
    create: () => createPostgresAirflowDb('2.10'),
    explain: async (driver, sql, params) =>
      (await driver.query<{'QUERY PLAN': string}>(`EXPLAIN ${sql}`, params)).map((r) => r['QUERY PLAN']).join('\n'),
    fullScan: /Seq Scan on (task_instance|xcom)|Index Only Scan using ti_state on task_instance(?![^\n]*Index Cond)/,
  },
  {
    dialect: 'sqlite',
    create: () => createSqliteAirflowDb('2.10'),
    explain: async (driver, sql, params) =>
      (await driver.query<{detail: string}>(`EXPLAIN QUERY PLAN ${sql}`, params)).map((r) => r.detail).join('\n'),
    fullScan: /SCAN (ti|x)\b/,
  },
  {
    dialect: 'mysql',
    create: () => createMysqlAirflowDb('2.10'),
    explain: async (driver, sql, params) =>
      (await driver.query<{table: string; type: string; key: string | null}>(`EXPLAIN ${sql}`, params))
        .map((r) => `${r.table}: ${r.type} ${r.key ?? ''}`)
        .join('\n'),
    fullScan: /^(ti|x): (ALL|index)\b/m,
  },
]

describe.each(CASES)('statement plans on $dialect with 50k task instances', (c) => {
  let db: TestAirflowDb
  let driver: SqlDriver
  let queries: DialectQueries

  beforeAll(async () => {
    db = await c.create()
    for (const sql of fillSql(c.dialect)) await db.seed.sql(sql)
    driver = await openDriver(parseDbUrl(db.url))
    queries = await queriesFor(driver)
  }, 120_000)

  afterAll(async () => {
    await driver?.close()
    await db?.drop()
  })

  it('task instances of 20 runs are index lookups', async () => {
    const [statement] = queries.taskInstancesOfRuns(someRuns)
    const plan = await c.explain(driver, statement!.sql, statement!.params)
    expect(plan).not.toMatch(c.fullScan)
    expect(plan).toMatch(/ti_dag_run|ti_state_lkp|task_instance_pkey|PRIMARY|ti_dag_state/)
  })

  it('task instances of 20 tasks are index lookups', async () => {
    const [statement] = queries.taskInstancesOfTasks(someTasks)
    const plan = await c.explain(driver, statement!.sql, statement!.params)
    expect(plan).not.toMatch(c.fullScan)
    expect(plan).toMatch(/task_instance_pkey|PRIMARY|ti_state_lkp|ti_dag_run/)
  })

  it('pod_name XComs of 20 task instances are index lookups', async () => {
    const [statement] = queries.xcoms(someTasks, 'pod_name', 'airflow-2.10')
    const plan = await c.explain(driver, statement!.sql, statement!.params)
    expect(plan).not.toMatch(c.fullScan)
    expect(plan).toMatch(/idx_xcom_task_instance|xcom_pkey|PRIMARY|idx_xcom_key/)
  })
})
