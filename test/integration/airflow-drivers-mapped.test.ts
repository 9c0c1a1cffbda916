// SqlDriver.queryMapped on every dialect: rows converted as they arrive, and a conversion that throws
// fails the query with one line (never an uncaught exception) and leaves the connection usable.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {openDriver} from '../../src/airflow/drivers/open.js'
import type {SqlDriver} from '../../src/airflow/drivers/types.js'
import {parseDbUrl} from '../../src/airflow/url.js'
import {ReapError} from '../../src/errors.js'
import {type TestAirflowDb, createMysqlAirflowDb, createPostgresAirflowDb, createSqliteAirflowDb} from '../support/airflow-db/index.js'

const BACKENDS: Array<[string, () => Promise<TestAirflowDb>]> = [
  ['postgresql', () => createPostgresAirflowDb('2.10')],
  ['sqlite', () => createSqliteAirflowDb('2.10')],
  ['mysql', () => createMysqlAirflowDb('2.10')],
]

const THREE_ROWS = 'SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3'

describe.each(BACKENDS)('queryMapped on %s', (_name, create) => {
  let db: TestAirflowDb
  let driver: SqlDriver

  beforeAll(async () => {
    db = await create()
    driver = await openDriver(parseDbUrl(db.url))
  })

  afterAll(async () => {
    await driver?.close()
    await db?.drop()
  })

  it('returns every row, converted', async () => {
    const rows = await driver.queryMapped<{n: number | string}, number>(THREE_ROWS, [], (row) => Number(row.n) * 10)
    expect(rows.sort()).toEqual([10, 20, 30])
  })

  it('fails the query in one line when a conversion throws, and the connection stays usable', async () => {
    const failing = driver.queryMapped<{n: number | string}, number>(THREE_ROWS, [], (row) => {
      if (Number(row.n) === 2) throw new Error('row 2 cannot be converted')
      return Number(row.n)
    })
    await expect(failing).rejects.toThrow(ReapError)
    await expect(failing).rejects.toThrow(/^query on the Airflow DB at .* failed: row 2 cannot be converted$/)
    expect((await driver.query<{n: number | string}>(THREE_ROWS)).length).toBe(3)
  })
})
