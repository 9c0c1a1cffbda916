// zombies through the REST API source, end to end with the built CLI: the seed scenario of issue 2
// served by a test Airflow DB and by the fake Airflow API from the same seeds gives the same report
// (but for the source block), v1 and v2; and the source is what reports and history record.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {type TestAirflowDb, createPostgresAirflowDb, createSqliteAirflowDb} from '../support/airflow-db/index.js'
import {type CliWorkspace, cliWorkspace, runCli} from '../support/cli.js'
import {type FakeAirflowApi, type FakeOptions, startFakeAirflowApi} from '../support/fake-airflow-api/index.js'
import {fixtureSeeder} from '../support/fake-airflow-api/seeder.js'
import {type FakeKube, startFakeKube} from '../support/fake-kube/index.js'
import {comparable, historyOf, reportOf, showRun} from '../support/run-history.js'
import {EXPECTED_IN_AIRFLOW_NS, seedZombieScenario} from '../support/zombie-scenario.js'

const PAIRS: Array<{name: string; db: () => Promise<TestAirflowDb>; fake: Pick<FakeOptions, 'personality' | 'version'>; fixture: '2.10' | '3.x'}> = [
  {name: 'v1 (Airflow 2.9, raw try numbers) and a 2.7-family PostgreSQL DB', db: () => createPostgresAirflowDb('2.7'), fake: {personality: 'v1', version: '2.9.3'}, fixture: '2.10'},
  {name: 'v1 (Airflow 2.10) and a 2.10 SQLite DB', db: () => createSqliteAirflowDb('2.10'), fake: {personality: 'v1', version: '2.10.5'}, fixture: '2.10'},
  {name: 'v2 (Airflow 3.3) and a 3.x SQLite DB', db: () => createSqliteAirflowDb('3.x'), fake: {personality: 'v2', version: '3.3.2'}, fixture: '3.x'},
]

describe.each(PAIRS)('zombies: the API source gives the DB source\'s report: $name', (pair) => {
  let kube: FakeKube
  let db: TestAirflowDb
  let fake: FakeAirflowApi
  let ws: CliWorkspace
  /** The environment of a run on the API: no AIRFLOW_REAP_DB (it would be named as not read). */
  let apiEnv: Record<string, string>

  beforeAll(async () => {
    kube = await startFakeKube()
    db = await pair.db()
    ws = cliWorkspace(kube, {prefix: 'zombies-api', context: 'test', db})
    await seedZombieScenario(db.seed, kube)
    const recorder = fixtureSeeder(pair.fixture)
    await seedZombieScenario(recorder)
    fake = await startFakeAirflowApi({...pair.fake, auth: {kind: 'proxy', token: 'api-t0ken-zz'}, maximumPageLimit: 100}, recorder.fixture)
    const {AIRFLOW_REAP_DB: _db, ...rest} = ws.env
    apiEnv = {...rest, AIRFLOW_REAP_API_TOKEN: 'api-t0ken-zz'}
  })

  afterAll(async () => {
    await kube?.close()
    await db?.drop()
    await fake?.stop()
    ws?.remove()
  })

  it('-A -o json: the same items, summary and warnings; a page of 2 rows makes every list span pages', async () => {
    const fromDb = await runCli(['zombies', '-A', '-o', 'json', '--no-cache'], {env: ws.env})
    expect(fromDb.stderr).toBe('')
    const fromApi = await runCli(['zombies', '-A', '-o', 'json', '--no-cache', '--airflow-url', fake.url, '--airflow-page-size', '2'], {env: apiEnv})
    expect(fromApi.stderr).toBe('')
    expect(fromApi.code).toBe(0)
    const apiReport = reportOf(fromApi.stdout)
    expect(comparable(apiReport)).toEqual(comparable(reportOf(fromDb.stdout)))
    expect(apiReport.items.map((i) => i.name).sort()).toEqual([...Object.keys(EXPECTED_IN_AIRFLOW_NS), 'other-ns-zombie'].sort())
    expect(apiReport.db).toBeUndefined()
    expect(apiReport.source).toEqual({kind: 'api', url: fake.url, api: pair.fake.personality, airflowVersion: pair.fake.version, auth: 'token', requests: expect.any(Number)})
    // Reads only: GETs and the read-only batch list (no token request with a static token), the token never in a query string.
    expect(fake.log.filter((r) => r.method !== 'GET' && !(r.method === 'POST' && r.path.endsWith('/dags/~/dagRuns/~/taskInstances/list')))).toEqual([])
    expect(fake.log.some((r) => r.method === 'POST')).toBe(true)
    expect(JSON.stringify(fake.log)).not.toContain('api-t0ken-zz')
  })

  it('with the DB named too (AIRFLOW_REAP_DB) the URL decides, and the report says the DB was not read', async () => {
    const result = await runCli(['zombies', '-o', 'json', '--no-cache', '--airflow-url', fake.url], {env: {...ws.env, AIRFLOW_REAP_API_TOKEN: 'api-t0ken-zz'}})
    const report = reportOf(result.stdout)
    expect(report.source?.kind).toBe('api')
    expect(report.warnings).toContain('task instances come from the Airflow API: AIRFLOW_REAP_DB not read')
  })

  it('every zombie reported was proved by a point read of its task instance, whose path and answer name its DAG and dag run', async () => {
    fake.log.length = 0
    const result = await runCli(['zombies', '-o', 'json', '--no-cache', '--airflow-url', fake.url], {env: apiEnv})
    const report = reportOf(result.stdout)
    const paths = fake.log.map((r) => r.path)
    for (const item of report.items.filter((i) => i.action === 'none' && i.taskInstance && i.taskInstance.mapIndex >= 0)) {
      const ti = item.taskInstance!
      const base = `/api/${pair.fake.personality}/dags/${encodeURIComponent(ti.dagId)}`
      expect(paths).toContain(`${base}/dagRuns/${encodeURIComponent(ti.runId)}/taskInstances/${ti.taskId}/${ti.mapIndex}`)
    }
    expect(report.items.some((i) => i.name === 'mapped-task-0' && i.action === 'none')).toBe(true)
  })

  it('the table names the source on stderr; history and history show record it', async () => {
    const table = await runCli(['zombies', '--airflow-url', fake.url], {env: apiEnv})
    expect(table.code).toBe(0)
    expect(table.stderr).toMatch(new RegExp(`^API: ${fake.url.replace(/[.]/g, '\\.')} \\(${pair.fake.personality}, Airflow ${pair.fake.version.replace(/[.]/g, '\\.')}, token, \\d+ requests\\)\\n$`))
    const [latest] = (await historyOf(apiEnv)).items
    const shown = await showRun(apiEnv, latest.runId)
    expect(shown.source).toMatchObject({kind: 'api', url: fake.url, api: pair.fake.personality, airflowVersion: pair.fake.version, auth: 'token'})
    expect((shown.source as {requests: number}).requests).toBeGreaterThan(3)
    expect(shown.db).toBeUndefined()
    const text = await runCli(['history', 'show', String(latest.runId)], {env: apiEnv})
    expect(text.stdout).toContain(`API:       ${fake.url} (${pair.fake.personality}, Airflow ${pair.fake.version}, token,`)
  })
})
