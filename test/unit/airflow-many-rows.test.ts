// Found by the 50k-pod benchmark: half a million active task instances must not overflow the call
// stack anywhere between the driver and the caller.
import {describe, expect, it} from 'vitest'
import type {SqlDriver} from '../../src/airflow/drivers/types.js'
import {SqlAirflowDb, queriesFor} from '../../src/airflow/sql-airflow-db.js'

const ROWS = 500_000

describe('SqlAirflowDb with very many rows', () => {
  it('returns 500k task instances from one statement', async () => {
    const rows = Array.from({length: ROWS}, (_, i) => ({
      dag_id: 'd',
      task_id: `t${i}`,
      run_id: 'r',
      map_index: -1,
      state: 'running',
      try_number: 1,
      start_date: null,
      operator: 'KubernetesPodOperator',
    }))
    const driver = {
      dialect: 'sqlite',
      query: async () => rows,
      queryMapped: async (_sql: string, _params: unknown[], map: (row: unknown) => unknown) => rows.map(map),
      close: async () => {},
    } as unknown as SqlDriver
    const db = new SqlAirflowDb(driver, {family: 'airflow-2.10', dialect: 'sqlite'}, await queriesFor(driver))
    const tis = await db.taskInstancesOfRuns([{dagId: 'd', runId: 'r'}])
    expect(tis).toHaveLength(ROWS)
  })
})
