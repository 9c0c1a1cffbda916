// The REST API source gives the port the same answers as the metadata DB on the same data: one
// scenario seeded into a test DB of each family and served by the fake API of the matching release
// (v1 2.9 ↔ DB 2.7 semantics, v1 2.10 ↔ 2.10, v2 3.3 ↔ 3.x), every port method compared.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {credentialSource} from '../../src/airflow-api/auth.js'
import {openAirflowApi} from '../../src/airflow-api/open.js'
import {NotPermittedError} from '../../src/airflow-api/source.js'
import {parseApiUrl} from '../../src/airflow-api/url.js'
import {openAirflowDb} from '../../src/airflow/open.js'
import type {TaskInstanceSource} from '../../src/airflow/types.js'
import {parseDbUrl} from '../../src/airflow/url.js'
import type {ExecutingTaskInstanceRow} from '../../src/core/overdue.js'
import {type TestAirflowDb, createPostgresAirflowDb, createSqliteAirflowDb} from '../support/airflow-db/index.js'
import {sortRows, withoutVersions} from '../support/source-parity.js'
import {type FakeAirflowApi, type FakeFixture, type FakeOptions, startFakeAirflowApi} from '../support/fake-airflow-api/index.js'

const DAG = 'etl'
const RUN = 'manual__2026-01-01T00:00:00+00:00' // `+` and `:` must survive the path
const DONE = 'scheduled__2025-12-31T00:00:00+00:00'
const QUEUED = 'scheduled__2026-01-02T00:00:00+00:00'
const NOW = Date.now()
const at = (minutesAgo: number) => new Date(NOW - minutesAgo * 60_000)

interface ScenarioTi {
  runId: string
  taskId: string
  mapIndex: number
  /** The true (effective) try. */
  tryNumber: number
  state: string | null
  startedMinutesAgo?: number
}

const TIMEOUTS: Record<string, number | null> = {load: 3600, fan: null, wait: 60}
const RUNS = [
  {runId: RUN, state: 'running' as const},
  {runId: DONE, state: 'success' as const, endedMinutesAgo: 30},
  {runId: QUEUED, state: 'queued' as const},
]
const TIS: ScenarioTi[] = [
  {runId: RUN, taskId: 'load', mapIndex: -1, tryNumber: 2, state: 'running', startedMinutesAgo: 90},
  {runId: RUN, taskId: 'fan', mapIndex: 0, tryNumber: 1, state: 'running', startedMinutesAgo: 10},
  {runId: RUN, taskId: 'fan', mapIndex: 1, tryNumber: 2, state: 'up_for_retry', startedMinutesAgo: 10},
  {runId: RUN, taskId: 'fan', mapIndex: 2, tryNumber: 1, state: null},
  {runId: RUN, taskId: 'wait', mapIndex: -1, tryNumber: 1, state: 'deferred', startedMinutesAgo: 5},
  {runId: RUN, taskId: 'review', mapIndex: -1, tryNumber: 1, state: 'awaiting_review', startedMinutesAgo: 5},
  {runId: DONE, taskId: 'load', mapIndex: -1, tryNumber: 1, state: 'success', startedMinutesAgo: 60},
]
const XCOMS = [
  {runId: RUN, taskId: 'load', mapIndex: -1, value: 'etl-load-abc123'},
  {runId: RUN, taskId: 'fan', mapIndex: 0, value: 's3://bucket/xcom/ref'}, // a custom backend's reference: no pod name
]

/** The raw try_number column a DB of this family stores for the true try (FACTS §4.2). */
function rawTry(version: TestAirflowDb['version'], ti: ScenarioTi): number {
  const waiting = ti.state !== 'running' && !['success', 'failed', 'skipped', 'upstream_failed', 'removed'].includes(ti.state ?? '')
  return version === '2.7' && waiting ? ti.tryNumber - 1 : ti.tryNumber
}

async function seedDb(db: TestAirflowDb): Promise<void> {
  const {seed} = db
  const op = (taskId: string) => ({__type: 'operator', __var: {task_id: taskId, ...(TIMEOUTS[taskId] === null ? {} : {execution_timeout: TIMEOUTS[taskId]})}})
  await seed.serializedDag({dagId: DAG, data: {__version: 1, dag: {tasks: Object.keys(TIMEOUTS).map(op)}}})
  for (const run of RUNS) {
    await seed.dagRun({dagId: DAG, runId: run.runId, state: run.state, endDate: run.endedMinutesAgo === undefined ? null : at(run.endedMinutesAgo)})
  }
  for (const ti of TIS) {
    await seed.taskInstance({dagId: DAG, runId: ti.runId, taskId: ti.taskId, mapIndex: ti.mapIndex, state: ti.state, tryNumber: rawTry(db.version, ti), startDate: ti.startedMinutesAgo === undefined ? null : at(ti.startedMinutesAgo)})
  }
  for (const x of XCOMS) await seed.xcom({dagId: DAG, runId: x.runId, taskId: x.taskId, mapIndex: x.mapIndex, key: 'pod_name', value: x.value})
}

function fakeFixture(): FakeFixture {
  const version = '0199a0a0-0000-7000-8000-00000000000a'
  return {
    dags: [{dagId: DAG, latestVersionId: version, tasks: Object.entries(TIMEOUTS).map(([taskId, executionTimeout]) => ({taskId, executionTimeout}))}],
    runs: RUNS.map((run) => ({dagId: DAG, runId: run.runId, state: run.state, endDate: run.endedMinutesAgo === undefined ? null : at(run.endedMinutesAgo).toISOString()})),
    taskInstances: TIS.map((ti) => ({dagId: DAG, ...ti, startDate: ti.startedMinutesAgo === undefined ? null : at(ti.startedMinutesAgo).toISOString(), dagVersionId: version})),
    xcoms: XCOMS.map((x) => ({dagId: DAG, ...x, key: 'pod_name'})),
  }
}

async function openApi(fake: FakeAirflowApi, pageSize: number) {
  return openAirflowApi({base: parseApiUrl(fake.url, 'test'), api: 'auto', credentials: credentialSource(undefined, {}), timeoutMs: 5000, pageSize, maxRequests: 500, concurrency: 2})
}

const PAIRS: Array<{name: string; db: () => Promise<TestAirflowDb>; fake: Pick<FakeOptions, 'personality' | 'version'>}> = [
  {name: 'v1 (Airflow 2.9) and a 2.7-family DB', db: () => createPostgresAirflowDb('2.7'), fake: {personality: 'v1', version: '2.9.3'}},
  {name: 'v1 (Airflow 2.10) and a 2.10 DB', db: () => createSqliteAirflowDb('2.10'), fake: {personality: 'v1', version: '2.10.5'}},
  {name: 'v2 (Airflow 3.3) and a 3.x DB', db: () => createSqliteAirflowDb('3.x'), fake: {personality: 'v2', version: '3.3.2'}},
]


describe.each(PAIRS)('the API source and the DB source agree: $name', (pair) => {
  let db: TestAirflowDb
  let fake: FakeAirflowApi
  let fromDb: TaskInstanceSource
  let fromApi: TaskInstanceSource

  beforeAll(async () => {
    db = await pair.db()
    await seedDb(db)
    fromDb = await openAirflowDb(parseDbUrl(db.url))
    // A page of 2 rows: every list spans pages (and v1 re-reads a longer list whole).
    fake = await startFakeAirflowApi({...pair.fake, maximumPageLimit: 100}, fakeFixture())
    fromApi = (await openApi(fake, 2)).source
  })

  afterAll(async () => {
    await fromDb?.close()
    await db?.drop()
    await fake?.stop()
  })

  it('dagRunsSince', async () => {
    const since = at(60)
    expect(sortRows(await fromApi.dagRunsSince(since))).toEqual(sortRows(await fromDb.dagRunsSince(since)))
  })

  it('taskInstancesOfTasks and taskInstancesOfRuns, any state (an unknown one too), mapped, with the effective try', async () => {
    const tasks = [{dagId: DAG, runId: RUN, taskId: 'fan'}, {dagId: DAG, runId: RUN, taskId: 'review'}, {dagId: DAG, runId: DONE, taskId: 'load'}, {dagId: DAG, runId: 'no_such_run', taskId: 'load'}]
    const api = await fromApi.taskInstancesOfTasks(tasks)
    expect(api).toHaveLength(5)
    expect(sortRows(withoutVersions(api as ExecutingTaskInstanceRow[]))).toEqual(sortRows(await fromDb.taskInstancesOfTasks(tasks)))
    const runs = [{dagId: DAG, runId: RUN}, {dagId: DAG, runId: DONE}]
    expect(sortRows(withoutVersions((await fromApi.taskInstancesOfRuns(runs)) as ExecutingTaskInstanceRow[]))).toEqual(sortRows(await fromDb.taskInstancesOfRuns(runs)))
  })

  it('executingTaskInstances: running and deferred only', async () => {
    const runs = [{dagId: DAG, runId: RUN}]
    const api = withoutVersions(await fromApi.executingTaskInstances(runs))
    expect(api.map((ti) => ti.state).sort()).toEqual(['deferred', 'running', 'running'])
    expect(sortRows(api)).toEqual(sortRows(withoutVersions(await fromDb.executingTaskInstances(runs))))
  })

  it('podNameXComs: a pod name, a reference that is none, and no XCom', async () => {
    const keys = [
      {dagId: DAG, runId: RUN, taskId: 'load', mapIndex: -1},
      {dagId: DAG, runId: RUN, taskId: 'fan', mapIndex: 0},
      {dagId: DAG, runId: RUN, taskId: 'wait', mapIndex: -1},
    ]
    const api = await fromApi.podNameXComs(keys)
    expect([...api.values()]).toEqual(['etl-load-abc123', null])
    expect([...api.entries()].sort()).toEqual([...(await fromDb.podNameXComs(keys)).entries()].sort())
  })

  it('executionTimeouts of the executing task instances', async () => {
    const executing = await fromApi.executingTaskInstances([{dagId: DAG, runId: RUN}])
    const dbExecuting = await fromDb.executingTaskInstances([{dagId: DAG, runId: RUN}])
    const api = await fromApi.executionTimeouts(executing)
    expect([...api.values()]).toContainEqual({kind: 'seconds', seconds: 3600})
    expect([...api.entries()].sort()).toEqual([...(await fromDb.executionTimeouts(dbExecuting)).entries()].sort())
  })

  it('taskInstanceStateCounts', async () => {
    const states = ['running', 'deferred', 'queued', 'up_for_retry']
    expect(await fromApi.taskInstanceStateCounts(states)).toEqual(await fromDb.taskInstanceStateCounts(states))
  })

  it('now() is the server clock', async () => {
    expect(Math.abs((await fromApi.now()).getTime() - Date.now())).toBeLessThan(5000)
  })
})

describe('openAirflowApi: credentials bound to the version found', () => {
  let fake: FakeAirflowApi | undefined
  afterAll(async () => {
    await fake?.stop()
  })

  const open = (server: FakeAirflowApi, env: NodeJS.ProcessEnv, api: 'auto' | 'v1' | 'v2' = 'auto') =>
    openAirflowApi({base: parseApiUrl(server.url, 'test'), api, credentials: credentialSource(undefined, env), timeoutMs: 5000, pageSize: 100, maxRequests: 50, concurrency: 2})

  it('v2: username and password become a token from POST /auth/token; only GETs and that POST are sent, no secret in any URL', async () => {
    fake = await startFakeAirflowApi({personality: 'v2', version: '3.3.2', auth: {kind: 'jwt', username: 'reaper', password: 'pw-s3cret', ttlMs: 60_000}, prefix: '/astro/d1'}, fakeFixture())
    const {source, personality, client} = await open(fake, {AIRFLOW_REAP_API_USERNAME: 'reaper', AIRFLOW_REAP_API_PASSWORD: 'pw-s3cret'})
    expect(personality).toMatchObject({api: 'v2', airflowVersion: '3.3.2'})
    expect(client.authHow).toBe('password')
    expect(await source.taskInstancesOfRuns([{dagId: DAG, runId: RUN}])).toHaveLength(6)
    expect(fake.log.map((r) => `${r.method} ${r.path.split('/').slice(0, 4).join('/')} ${r.authScheme ?? '-'}`)).toEqual([
      'GET /api/v2/version -',
      'POST /auth/token -',
      'GET /api/v2/dags Bearer',
    ])
    expect(JSON.stringify(fake.log)).not.toContain('pw-s3cret')
  })

  it('v2: refused credentials are an auth error naming the variables, not the password', async () => {
    fake = await startFakeAirflowApi({personality: 'v2', version: '3.3.2', auth: {kind: 'jwt', username: 'reaper', password: 'right', ttlMs: 60_000}}, fakeFixture())
    const {source} = await open(fake, {AIRFLOW_REAP_API_USERNAME: 'reaper', AIRFLOW_REAP_API_PASSWORD: 'wrong-s3cret'})
    const error = (await source.taskInstancesOfRuns([{dagId: DAG, runId: RUN}]).catch((e: Error) => e)) as Error
    expect(error.message).toBe('the Airflow API refused AIRFLOW_REAP_API_USERNAME/PASSWORD (POST /auth/token: 401 Invalid credentials)')
    expect(error.message).not.toContain('wrong-s3cret')
  })

  it('v1: basic auth; --airflow-api v2 against a 2.x server is refused', async () => {
    fake = await startFakeAirflowApi({personality: 'v1', version: '2.10.5', auth: {kind: 'basic', username: 'admin', password: 'pw'}}, fakeFixture())
    const {source} = await open(fake, {AIRFLOW_REAP_API_USERNAME: 'admin', AIRFLOW_REAP_API_PASSWORD: 'pw'})
    expect(await source.taskInstancesOfRuns([{dagId: DAG, runId: RUN}])).toHaveLength(6)
    expect(fake.log.at(-1)!.authScheme).toBe('Basic')
    await expect(open(fake, {}, 'v2')).rejects.toThrow(/answers 404 to \/api\/v2\/version/)
  })
})

describe('the API source fails closed', () => {
  let fake: FakeAirflowApi | undefined
  afterAll(async () => {
    await fake?.stop()
  })

  it('v2 3.x: a try that runs an older DAG version than the latest has an unknown timeout, never the latest one', async () => {
    const fixture = fakeFixture()
    fixture.taskInstances = fixture.taskInstances.map((ti) => ({...ti, dagVersionId: '0199a0a0-0000-7000-8000-0000000000ff'}))
    fake = await startFakeAirflowApi({personality: 'v2', version: '3.3.2'}, fixture)
    const {source} = await openApi(fake, 100)
    const answers = await source.executionTimeouts(await source.executingTaskInstances([{dagId: DAG, runId: RUN}]))
    expect(new Set([...answers.values()].map((a) => a.kind))).toEqual(new Set(['unknown']))
    expect([...answers.values()][0]).toMatchObject({reason: expect.stringMatching(/changed since its try started/)})
    await fake.stop()
    fake = undefined
  })

  it('a DAG the credentials may not read: 403 on its reads is NotPermittedError, its timeouts unknown', async () => {
    fake = await startFakeAirflowApi({personality: 'v2', version: '3.3.2', deniedDags: [DAG]}, fakeFixture())
    const {source} = await openApi(fake, 100)
    await expect(source.taskInstancesOfRuns([{dagId: DAG, runId: RUN}])).rejects.toBeInstanceOf(NotPermittedError)
    const ti = (fakeFixture().taskInstances[0]!)
    const answers = await source.executionTimeouts([{...ti, startDate: null, operator: null, dagVersionId: null, runDagVersionId: null, state: 'running'}])
    expect([...answers.values()]).toEqual([{kind: 'unknown', reason: `the credentials may not read DAG ${DAG}`}])
    await fake.stop()
    fake = undefined
  })

  it("v2: the pod_name XCom of this run only, never an earlier run's (Airflow after 3.3.2 falls back unless told not to)", async () => {
    const fixture = fakeFixture()
    fixture.xcoms = [{dagId: DAG, runId: DONE, taskId: 'load', mapIndex: -1, key: 'pod_name', value: 'etl-load-of-yesterday'}]
    fake = await startFakeAirflowApi({personality: 'v2', version: '3.3.2', xcomIncludePriorDatesByDefault: true}, fixture)
    const {source} = await openApi(fake, 100)
    expect(await source.podNameXComs([{dagId: DAG, runId: RUN, taskId: 'load', mapIndex: -1}])).toEqual(new Map())
    expect(fake.log.at(-1)!.query).toContainEqual(['include_prior_dates', 'false'])
    await fake.stop()
    fake = undefined
  })

  it('a JSON-quoted pod name is unquoted once; anything but a pod name is none', async () => {
    const fixture = fakeFixture()
    fixture.xcoms = [
      {dagId: DAG, runId: RUN, taskId: 'load', mapIndex: -1, key: 'pod_name', value: '"etl-load-abc123"'},
      {dagId: DAG, runId: RUN, taskId: 'wait', mapIndex: -1, key: 'pod_name', value: {bucket: 'x'}},
    ]
    fake = await startFakeAirflowApi({personality: 'v2', version: '3.3.2'}, fixture)
    const {source} = await openApi(fake, 100)
    const names = await source.podNameXComs([{dagId: DAG, runId: RUN, taskId: 'load', mapIndex: -1}, {dagId: DAG, runId: RUN, taskId: 'wait', mapIndex: -1}])
    expect([...names.values()]).toEqual(['etl-load-abc123', null])
    await fake.stop()
    fake = undefined
  })

  it('a task instance added between pages shifts the offsets: every row is still read, each once', async () => {
    const before = fakeFixture().taskInstances.filter((ti) => ti.runId === RUN).length
    fake = await startFakeAirflowApi(
      {
        personality: 'v2',
        version: '3.3.2',
        // Before the second page (request 3, after /version and page 1): a new map index that sorts first (map_index -1 < 0) pushes every row one place on.
        mutations: [{before: 3, change: (f) => f.taskInstances.push({dagId: DAG, runId: RUN, taskId: 'aaa', mapIndex: -1, tryNumber: 1, state: 'scheduled'})}],
      },
      fakeFixture(),
    )
    const {source} = await openApi(fake, 2)
    const rows = await source.taskInstancesOfRuns([{dagId: DAG, runId: RUN}])
    const keys = rows.map((ti) => `${ti.taskId}/${ti.mapIndex}`)
    expect(new Set(keys).size).toBe(keys.length)
    expect(keys).toEqual(expect.arrayContaining(fakeFixture().taskInstances.filter((ti) => ti.runId === RUN).map((ti) => `${ti.taskId}/${ti.mapIndex}`)))
    expect(rows.length).toBeGreaterThanOrEqual(before)
    await fake.stop()
    fake = undefined
  })

  it('v1 sends no query parameter 2.x does not define (an unknown one is a 400 there)', async () => {
    fake = await startFakeAirflowApi({personality: 'v1', version: '2.10.5'}, fakeFixture())
    const {source} = await openApi(fake, 100)
    await source.podNameXComs([{dagId: DAG, runId: RUN, taskId: 'load', mapIndex: -1}])
    await source.taskInstancesOfTasks([{dagId: DAG, runId: RUN, taskId: 'load'}])
    await source.dagRunsSince(at(60))
    expect(fake.log.filter((r) => r.path !== '/api/v1/version').every((r) => r.query.every(([key]) => ['map_index', 'state', 'limit', 'offset', 'end_date_gte'].includes(key)))).toBe(true)
    await fake.stop()
    fake = undefined
  })

  it('a 404 on a list of every DAG is an error, never "no rows"', async () => {
    fake = await startFakeAirflowApi({personality: 'v2', version: '3.3.2', faults: [{path: /^\/api\/v2\/dags\/~\/dagRuns$/, fault: {kind: 'status', status: 404, contentType: 'application/json', body: '{"detail":"Not Found"}'}}]}, fakeFixture())
    const {source} = await openApi(fake, 100)
    await expect(source.dagRunsSince(at(60))).rejects.toThrow(/dags\/~\/dagRuns with 404/)
    await fake.stop()
    fake = undefined
  })

  it.each([
    ['an Airflow too old for the API source', {personality: 'v1', version: '2.6.3'} as const, /Airflow 2\.6\.3 through API v1 is not supported/],
    ['a version that is no version', {personality: 'v2', version: 'banana'} as const, /not a version number/],
  ])('%s is refused', async (_name, options, message) => {
    fake = await startFakeAirflowApi(options, fakeFixture())
    await expect(openApi(fake, 100)).rejects.toThrow(message)
    await fake.stop()
    fake = undefined
  })
})
