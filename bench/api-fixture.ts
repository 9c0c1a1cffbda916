// The fake Airflow API's fixture, read back from the bench's PostgreSQL DB after it is loaded: the API
// bench (`--api`) serves exactly the rows the DB source reads — every dag run and task instance and
// each pod_name XCom — so the two sources judge the same data. XCom values are stored as Airflow 2.10
// does (JSON in bytea); the fixture holds them decoded, as the API returns them.
import pg from 'pg'
import type {FakeFixture, FakeRun} from '../test/support/fake-airflow-api/index.js'

export async function fixtureFromDb(url: string): Promise<FakeFixture> {
  const client = new pg.Client({connectionString: url})
  await client.connect()
  try {
    const dags = await client.query<{dag_id: string}>('SELECT dag_id FROM dag')
    const runs = await client.query<{dag_id: string; run_id: string; state: FakeRun['state']; end_date: Date | null}>('SELECT dag_id, run_id, state, end_date FROM dag_run')
    const tis = await client.query<{dag_id: string; run_id: string; task_id: string; map_index: number; state: string | null; try_number: number; start_date: Date | null}>(
      'SELECT dag_id, run_id, task_id, map_index, state, try_number, start_date FROM task_instance',
    )
    const xcoms = await client.query<{dag_id: string; run_id: string; task_id: string; map_index: number; value: Buffer}>(
      "SELECT dag_id, run_id, task_id, map_index, value FROM xcom WHERE key = 'pod_name'",
    )
    return {
      // /dags/{id}/tasks is read only by overdue; the bench runs zombies.
      dags: dags.rows.map((row) => ({dagId: row.dag_id, tasks: []})),
      runs: runs.rows.map((row) => ({dagId: row.dag_id, runId: row.run_id, state: row.state, endDate: row.end_date?.toISOString() ?? null})),
      taskInstances: tis.rows.map((row) => ({
        dagId: row.dag_id,
        runId: row.run_id,
        taskId: row.task_id,
        mapIndex: row.map_index,
        // 2.10 stores the true try (FACTS §4.2); the fake serves it as the 2.10 API does.
        tryNumber: row.try_number,
        state: row.state,
        startDate: row.start_date?.toISOString() ?? null,
      })),
      xcoms: xcoms.rows.map((row) => ({dagId: row.dag_id, runId: row.run_id, taskId: row.task_id, mapIndex: row.map_index, key: 'pod_name', value: JSON.parse(row.value.toString('utf8'))})),
    }
  } finally {
    await client.end()
  }
}
