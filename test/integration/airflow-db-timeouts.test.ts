// --db-timeout and the run's AbortSignal at the driver: a connect or a query that gets no answer is
// given up with a one-line TimeoutError, an abort ends it at once with the signal's InterruptedError,
// and either way the socket is destroyed (the server sees it close) and close() does not wait.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {openDriver} from '../../src/airflow/drivers/open.js'
import {parseDbUrl} from '../../src/airflow/url.js'
import {InterruptedError, TimeoutError} from '../../src/errors.js'
import {type TestAirflowDb, createMysqlAirflowDb, createPostgresAirflowDb, createSqliteAirflowDb} from '../support/airflow-db/index.js'
import {type SilentListener, startSilencingProxy, startSilentListener} from '../support/faults.js'

const PASSWORD = 'Bound3d-pw'
const sigterm = () => new InterruptedError('interrupted by SIGTERM', {signal: 'SIGTERM'})

describe.each([
  {dialect: 'postgresql', create: () => createPostgresAirflowDb('2.10')},
  {dialect: 'mysql', create: () => createMysqlAirflowDb('2.10')},
])('$dialect', ({dialect, create}) => {
  let silent: SilentListener
  let db: TestAirflowDb
  beforeAll(async () => {
    silent = await startSilentListener()
    db = await create()
  })
  afterAll(async () => {
    await silent.close()
    await db?.drop()
  })

  const silentUrl = () => parseDbUrl(`${dialect}://airflow:${PASSWORD}@127.0.0.1:${silent.port}/airflow`)

  it('a connect that gets no answer fails after the timeout, naming it, and the socket is closed', async () => {
    const closed = silent.nextClose()
    const started = performance.now()
    const error = await openDriver(silentUrl(), {timeoutMs: 400}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TimeoutError)
    expect((error as Error).message).toMatch(/^cannot connect to the Airflow DB at .*:\*\*\*@127\.0\.0\.1:\d+\/airflow: no answer within the connect timeout of 0\.4s \(--db-timeout\)$/)
    expect(performance.now() - started).toBeLessThan(400 + 2_000)
    await closed
  })

  it('an abort ends a connect at once with the signal\'s error, and the socket is closed', async () => {
    const controller = new AbortController()
    const opening = openDriver(silentUrl(), {timeoutMs: 60_000, signal: controller.signal}).catch((e: unknown) => e)
    await silent.nextAccept()
    const closed = silent.nextClose()
    const aborted = performance.now()
    controller.abort(sigterm())
    const error = await opening
    expect(error).toBeInstanceOf(InterruptedError)
    expect((error as InterruptedError).exitCode).toBe(143)
    await closed
    expect(performance.now() - aborted).toBeLessThan(1_000)
  })

  it('an abort ends a query on a connection gone silent, and close() returns at once', async () => {
    const port = Number(/@[^:/]+:(\d+)\//.exec(db.url)![1])
    const proxy = await startSilencingProxy(port)
    try {
      const controller = new AbortController()
      const url = parseDbUrl(db.url.replace(/@127\.0\.0\.1:\d+\//, `@127.0.0.1:${proxy.port}/`))
      const driver = await openDriver(url, {timeoutMs: 60_000, signal: controller.signal})
      proxy.silence()
      const querying = driver.query('SELECT 1 AS one').catch((e: unknown) => e)
      await new Promise((r) => setTimeout(r, 200))
      const aborted = performance.now()
      controller.abort(sigterm())
      expect(await querying).toBeInstanceOf(InterruptedError)
      await driver.close()
      expect(performance.now() - aborted).toBeLessThan(1_000)
    } finally {
      await proxy.close()
    }
  })
})

describe('sqlite', () => {
  let db: TestAirflowDb
  beforeAll(async () => {
    db = await createSqliteAirflowDb('2.10')
  })
  afterAll(() => db?.drop())

  it('a statement that runs past the timeout is stopped with a one-line TimeoutError', async () => {
    const driver = await openDriver(parseDbUrl(db.url), {timeoutMs: 300})
    try {
      const endless = 'WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT x FROM n'
      const error = await driver.query(endless).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(TimeoutError)
      expect((error as Error).message).toMatch(/^the Airflow DB at sqlite:.* did not answer a query within 0\.3s \(--db-timeout\); the statement was stopped$/)
    } finally {
      await driver.close()
    }
  })
})
