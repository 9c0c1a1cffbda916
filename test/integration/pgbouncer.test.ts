// The DB reader behind a real PgBouncer in transaction pooling mode (the Helm chart's default), where
// a server connection is shared with Airflow itself between transactions: nothing of ours may stay
// on it (read-only mode, statement_timeout), and every query must work. The reader suites
// (airflow-db, overdue-db) also run whole through PgBouncer.
import pg from 'pg'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {openDriver} from '../../src/airflow/drivers/open.js'
import {openAirflowDb} from '../../src/airflow/open.js'
import type {SqlAirflowDb} from '../../src/airflow/sql-airflow-db.js'
import {parseDbUrl} from '../../src/airflow/url.js'
import {type TestAirflowDb, createPostgresAirflowDb} from '../support/airflow-db/index.js'
import {type PgBouncer, pgbouncerMissing, startPgBouncer} from '../support/pgbouncer.js'

describe.skipIf(pgbouncerMissing)('behind PgBouncer, transaction pooling, one shared server connection', () => {
  let db: TestAirflowDb
  let pgbouncer: PgBouncer
  let airflow: SqlAirflowDb
  let neighbour: pg.Client

  beforeAll(async () => {
    db = await createPostgresAirflowDb('2.10')
    await db.seed.dagRun({dagId: 'd', runId: 'r', state: 'running'})
    await db.seed.taskInstance({dagId: 'd', taskId: 't', runId: 'r', state: 'running', tryNumber: 1})
    pgbouncer = await startPgBouncer({databases: {'airflow-metadata': parseDbUrl(db.url).database!}, poolSize: 1})
    airflow = await openAirflowDb(parseDbUrl(pgbouncer.url('airflow-metadata')))
    // Airflow's own connection through the same pool: it gets the very server connection we used.
    neighbour = new pg.Client({connectionString: pgbouncer.url('airflow-metadata')})
    await neighbour.connect()
  })

  afterAll(async () => {
    await neighbour?.end().catch(() => undefined)
    await airflow?.close()
    await pgbouncer?.stop()
    await db?.drop()
  })

  it('leaves no session state on the shared server connection between our transactions', async () => {
    const setting = async (name: string) => ((await neighbour.query(`SHOW ${name}`)).rows[0] as Record<string, string>)[name]
    const before = {readOnly: await setting('transaction_read_only'), timeout: await setting('statement_timeout')}
    for (let i = 0; i < 3; i++) {
      expect(await airflow.taskInstancesOfRuns([{dagId: 'd', runId: 'r'}])).toHaveLength(1)
      expect(await setting('transaction_read_only')).toBe(before.readOnly)
      expect(await setting('statement_timeout')).toBe(before.timeout)
      // Airflow writes on the connection we just used: it must not have been left read-only.
      await neighbour.query("UPDATE task_instance SET hostname = 'worker' WHERE dag_id = 'd'")
    }
    expect(before.readOnly).toBe('off')
  })

  it('keeps each query read-only inside its own transaction', async () => {
    const driver = await openDriver(parseDbUrl(pgbouncer.url('airflow-metadata')))
    try {
      await expect(driver.query("UPDATE task_instance SET hostname = 'x'")).rejects.toThrow(/read-only transaction/)
    } finally {
      await driver.close()
    }
  })

  it('answers every statement the commands send, interleaved with another client', async () => {
    const since = new Date(Date.now() - 3600_000)
    const [runs, tis, executing] = await Promise.all([
      airflow.dagRunsSince(since),
      airflow.taskInstancesOfTasks([{dagId: 'd', runId: 'r', taskId: 't'}]),
      airflow.executingTaskInstances([{dagId: 'd', runId: 'r'}]),
      neighbour.query('SELECT 1'),
    ])
    expect(runs.map((r) => r.runId)).toContain('r')
    expect(tis).toHaveLength(1)
    expect(executing).toHaveLength(1)
    expect((await airflow.podNameXComs([{dagId: 'd', taskId: 't', runId: 'r', mapIndex: -1}])).size).toBe(0)
    expect(await airflow.now()).toBeInstanceOf(Date)
  })
})

describe.skipIf(!pgbouncerMissing)('behind PgBouncer', () => {
  it.skip(`skipped: ${pgbouncerMissing}`, () => undefined)
})
