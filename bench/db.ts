// The benchmark's Airflow 2.10 metadata DB on the local PostgreSQL: the test builder makes the schema
// (shared/airflow/ddl/postgres-2.10.sql), then the bulk tables are emptied of their indexes and
// constraints, loaded with COPY through psql, and indexed again exactly as the DDL defines them.
import {spawn} from 'node:child_process'
import {once} from 'node:events'
import pg from 'pg'
import {createPostgresAirflowDb} from '../test/support/airflow-db/postgres.js'
import {
  DAG_COLUMNS,
  DAG_RUN_COLUMNS,
  TASK_INSTANCE_COLUMNS,
  HISTORY_RUNS_PER_RUNNING_RUN,
  TASKS_PER_RUN,
  XCOM_COLUMNS,
  type Plan,
  dagLines,
  dagRunLines,
  historyRuns,
  historyRunLine,
  historyTaskInstanceLines,
  taskInstanceLines,
  xcomLines,
} from './dataset.js'

const BULK_TABLES = ['dag_run', 'task_instance', 'xcom']

export interface BenchDb {
  url: string
  rows: {taskInstances: number; active: number; dagRuns: number}
  timings: Record<string, number>
  /** Adds finished history (old dag runs) until task_instance holds `totalRows` rows; indexes are kept. */
  growHistory(plan: Plan, totalRows: number): Promise<{rows: number; ms: number}>
  drop(): Promise<void>
}

interface Saved {
  keys: Array<{table: string; name: string; def: string}>
  foreign: Array<{table: string; name: string; def: string}>
  indexes: Array<{name: string; def: string}>
}

/** `onCreated` gets the DB's drop as soon as the DB exists, so that a run interrupted while it loads can still drop it. */
export async function buildBenchDb(plan: Plan, log: (line: string) => void, onCreated?: (drop: () => Promise<void>) => void): Promise<BenchDb> {
  const timings: Record<string, number> = {}
  const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now()
    const result = await work()
    timings[name] = Math.round(performance.now() - started)
    log(`  db: ${name} ${(timings[name] / 1000).toFixed(1)} s`)
    return result
  }
  const db = await createPostgresAirflowDb('2.10')
  const client = new pg.Client({connectionString: db.url})
  const drop = async () => {
    await client.end().catch(() => undefined)
    await db.drop()
  }
  onCreated?.(drop)
  await client.connect()
  try {
    const saved = await saveAndDropIndexes(client)
    await step('copy dag', () => copyInto(db.url, 'dag', DAG_COLUMNS, dagLines(plan)))
    await step('copy dag_run', () => copyInto(db.url, 'dag_run', DAG_RUN_COLUMNS, dagRunLines(plan)))
    await step('copy task_instance', () => copyInto(db.url, 'task_instance', TASK_INSTANCE_COLUMNS, taskInstanceLines(plan)))
    await step('copy xcom', () => copyInto(db.url, 'xcom', XCOM_COLUMNS, xcomLines(plan)))
    await step('indexes and constraints', () => restoreIndexes(client, saved))
    await client.query(`SELECT setval('dag_run_id_seq', (SELECT max(id) FROM dag_run))`)
    await step('analyze', () => client.query('ANALYZE'))
    const counts = await client.query<{tis: string; active: string; runs: string}>(
      `SELECT (SELECT count(*) FROM task_instance) AS tis,
              (SELECT count(*) FROM task_instance WHERE state IS NULL OR state NOT IN ('success','failed','skipped','upstream_failed','removed')) AS active,
              (SELECT count(*) FROM dag_run) AS runs`,
    )
    const row = counts.rows[0]
    return {
      url: db.url,
      rows: {taskInstances: Number(row.tis), active: Number(row.active), dagRuns: Number(row.runs)},
      timings,
      growHistory: (growPlan, totalRows) => growHistory(client, db.url, growPlan, totalRows),
      drop,
    }
  } catch (error) {
    await drop()
    throw error
  }
}

async function saveAndDropIndexes(client: pg.Client): Promise<Saved> {
  const tables = BULK_TABLES.map((t) => `'${t}'::regclass`).join(', ')
  const constraints = await client.query<{table: string; name: string; type: string; def: string}>(
    `SELECT conrelid::regclass::text AS table, conname AS name, contype AS type, pg_get_constraintdef(oid) AS def
       FROM pg_constraint WHERE conrelid IN (${tables}) AND contype IN ('p', 'u', 'f') ORDER BY conname`,
  )
  const indexes = await client.query<{name: string; def: string}>(
    `SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS def FROM pg_index
      WHERE indrelid IN (${tables}) AND indexrelid NOT IN (SELECT conindid FROM pg_constraint WHERE conindid <> 0)`,
  )
  const saved: Saved = {
    keys: constraints.rows.filter((c) => c.type !== 'f'),
    foreign: constraints.rows.filter((c) => c.type === 'f'),
    indexes: indexes.rows,
  }
  // Foreign keys pointing INTO the bulk tables from elsewhere would block the drops; the DDL has none.
  for (const fk of saved.foreign) await client.query(`ALTER TABLE ${fk.table} DROP CONSTRAINT ${fk.name}`)
  for (const index of saved.indexes) await client.query(`DROP INDEX ${index.name}`)
  for (const key of saved.keys) await client.query(`ALTER TABLE ${key.table} DROP CONSTRAINT ${key.name}`)
  return saved
}

async function restoreIndexes(client: pg.Client, saved: Saved): Promise<void> {
  await client.query(`SET maintenance_work_mem = '1GB'`)
  for (const key of saved.keys) await client.query(`ALTER TABLE ${key.table} ADD CONSTRAINT ${key.name} ${key.def}`)
  for (const index of saved.indexes) await client.query(index.def)
  for (const fk of saved.foreign) await client.query(`ALTER TABLE ${fk.table} ADD CONSTRAINT ${fk.name} ${fk.def}`)
}

/** Streams text-format COPY lines into psql (no COPY support in node-postgres without another package). */
export async function copyInto(url: string, table: string, columns: string[], lines: Iterable<string>): Promise<number> {
  const psql = spawn('psql', [url, '-q', '-v', 'ON_ERROR_STOP=1', '-c', `COPY ${table} (${columns.join(', ')}) FROM STDIN`], {
    stdio: ['pipe', 'ignore', 'pipe'],
  })
  let stderr = ''
  psql.stderr.on('data', (chunk) => (stderr += chunk))
  const exited = once(psql, 'close')
  let count = 0
  let buffer: string[] = []
  let size = 0
  for (const line of lines) {
    buffer.push(line)
    size += line.length + 1
    count++
    if (size >= 1 << 20) {
      if (!psql.stdin.write(buffer.join('\n') + '\n')) await once(psql.stdin, 'drain')
      buffer = []
      size = 0
    }
  }
  if (buffer.length > 0) psql.stdin.write(buffer.join('\n') + '\n')
  psql.stdin.end()
  const [code] = await exited
  if (code !== 0) throw new Error(`COPY ${table} failed (psql exit ${code}): ${stderr.trim()}`)
  return count
}

/**
 * More finished history for the same pods: older dag runs of the same DAGs, ended long before the
 * oldest pod, appended with the indexes in place (as a real DB grows). Shows whether memory grows with M.
 */
async function growHistory(client: pg.Client, url: string, plan: Plan, totalRows: number): Promise<{rows: number; ms: number}> {
  const started = performance.now()
  const {rows} = await client.query<{n: string; id: string}>('SELECT (SELECT count(*) FROM task_instance) AS n, (SELECT max(id) FROM dag_run) AS id')
  const missing = totalRows - Number(rows[0].n)
  if (missing <= 0) return {rows: 0, ms: 0}
  const perRunningRun = Math.ceil(missing / (TASKS_PER_RUN * plan.runs.length))
  const fresh = [...historyRuns(plan, Number(rows[0].id) + 1, perRunningRun, HISTORY_RUNS_PER_RUNNING_RUN)]
  await copyInto(url, 'dag_run', DAG_RUN_COLUMNS, fresh.map(historyRunLine))
  let salt = 0
  const lines = function* () {
    for (const h of fresh) yield* historyTaskInstanceLines(h, () => salt++)
  }
  const added = await copyInto(url, 'task_instance', TASK_INSTANCE_COLUMNS, lines())
  await client.query(`SELECT setval('dag_run_id_seq', (SELECT max(id) FROM dag_run))`)
  await client.query('ANALYZE task_instance')
  await client.query('ANALYZE dag_run')
  return {rows: added, ms: Math.round(performance.now() - started)}
}
