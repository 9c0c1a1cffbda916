// overdue through the REST API source, end to end with the built CLI: one scenario seeded into a test
// Airflow DB and into the fake Airflow API gives the same report (but for the source block), v1 and v2;
// a candidate whose DAG the credentials may no longer read when it is re-read is kept (not-permitted).
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Seeder} from '../support/airflow-db/seeder.js'
import {type TestAirflowDb, createPostgresAirflowDb, createSqliteAirflowDb} from '../support/airflow-db/index.js'
import {type CliWorkspace, cliWorkspace, runCli} from '../support/cli.js'
import {type FakeAirflowApi, type FakeFixture, type FakeOptions, startFakeAirflowApi} from '../support/fake-airflow-api/index.js'
import {fixtureSeeder} from '../support/fake-airflow-api/seeder.js'
import {type FakeKube, startFakeKube} from '../support/fake-kube/index.js'
import {addKpoPod, kpoOperator, serializedDag} from '../support/kpo.js'
import {comparable, reportOf} from '../support/run-history.js'

const DAG = 'etl_overdue'
const RUN = 'scheduled__2026-11-23T00:00:00+00:00'

/** Tasks (execution_timeout in seconds, null: none) and their task instances, started `minutes` ago. */
const TIMEOUTS: Record<string, number | null> = {deferred_overdue: 1800, running_overdue: 600, deferred_within: 1800, no_timeout: null, mapped_task: 1800, retried_task: 1800}
const TIS = [
  {taskId: 'deferred_overdue', state: 'deferred', minutes: 120, pod: 'deferred-overdue'},
  {taskId: 'running_overdue', state: 'running', minutes: 60, pod: 'running-overdue'},
  {taskId: 'deferred_within', state: 'deferred', minutes: 10, pod: 'deferred-within'},
  {taskId: 'no_timeout', state: 'deferred', minutes: 300, pod: 'no-timeout'},
  {taskId: 'mapped_task', mapIndex: 0, state: 'deferred', minutes: 120, pod: 'mapped-task-0'},
  {taskId: 'mapped_task', mapIndex: 1, state: 'deferred', minutes: 5, pod: 'mapped-task-1'},
  {taskId: 'retried_task', state: 'deferred', tryNumber: 2, minutes: 120, pod: 'retried-try2'},
]

/** The same task instances into a test DB (its serialized DAG) or the fake API's fixture (its task list). */
async function seedOverdue(seed: Pick<Seeder, 'version' | 'taskInstance'>, dagVersionId?: string): Promise<void> {
  // Start dates at a whole second: the API source's clock is the Date header, which has no fraction, so
  // a start at .7 s read at .9 s would be 0.8 s short of the minute the DB's clock reports.
  const now = Math.floor(Date.now() / 1000) * 1000
  for (const ti of TIS) {
    const effective = ti.tryNumber ?? 1
    // Below 2.10 the column reads one lower while the try is not running (deferred: FACTS §4.2).
    const tryNumber = seed.version === '2.7' && ti.state !== 'running' ? effective - 1 : effective
    await seed.taskInstance({dagId: DAG, runId: RUN, taskId: ti.taskId, mapIndex: ti.mapIndex, state: ti.state, tryNumber, startDate: new Date(now - ti.minutes * 60_000), dagVersionId})
  }
}

function addPods(kube: FakeKube): void {
  for (const ti of TIS) addKpoPod(kube, {name: ti.pod, dagId: DAG, taskId: ti.taskId, runId: RUN, mapIndex: ti.mapIndex, tryNumber: ti.tryNumber ?? 1, ageMinutes: ti.minutes + 1})
  addKpoPod(kube, {name: 'retried-try1', dagId: DAG, taskId: 'retried_task', runId: RUN, tryNumber: 1, ageMinutes: 200})
}

async function fixtureFor(version: '2.10' | '3.x', dagVersionId: string | undefined): Promise<FakeFixture> {
  const recorder = fixtureSeeder(version, dagVersionId)
  await recorder.dagRun({dagId: DAG, runId: RUN, state: 'running'})
  await seedOverdue(recorder, dagVersionId)
  recorder.fixture.dags[0].tasks = Object.entries(TIMEOUTS).map(([taskId, executionTimeout]) => ({taskId, executionTimeout, isMapped: taskId === 'mapped_task'}))
  return recorder.fixture
}

const PAIRS: Array<{name: string; db: () => Promise<TestAirflowDb>; fixture: '2.10' | '3.x'; fake: Pick<FakeOptions, 'personality' | 'version'>}> = [
  {name: 'v1 (Airflow 2.9, raw try numbers) and a 2.7-family PostgreSQL DB', db: () => createPostgresAirflowDb('2.7'), fixture: '2.10', fake: {personality: 'v1', version: '2.9.3'}},
  {name: 'v1 (Airflow 2.10) and a 2.10 SQLite DB', db: () => createSqliteAirflowDb('2.10'), fixture: '2.10', fake: {personality: 'v1', version: '2.10.5'}},
  {name: 'v2 (Airflow 3.1) and a 3.x SQLite DB', db: () => createSqliteAirflowDb('3.x'), fixture: '3.x', fake: {personality: 'v2', version: '3.1.8'}},
]

describe.each(PAIRS)('overdue: the API source gives the DB source\'s report: $name', (pair) => {
  let kube: FakeKube
  let db: TestAirflowDb
  let fake: FakeAirflowApi
  let ws: CliWorkspace
  let fixture: FakeFixture

  beforeAll(async () => {
    kube = await startFakeKube()
    db = await pair.db()
    ws = cliWorkspace(kube, {prefix: 'overdue-api', context: 'test', db})
    const ops = Object.entries(TIMEOUTS).map(([taskId, seconds]) => kpoOperator(taskId, seconds === null ? {} : {execution_timeout: seconds}))
    const {dagVersionId} = await db.seed.dagRun({dagId: DAG, runId: RUN, state: 'running'}).then(() => db.seed.serializedDag({dagId: DAG, data: serializedDag(db.version, DAG, ops)}))
    await seedOverdue(db.seed, dagVersionId)
    addPods(kube)
    fixture = await fixtureFor(pair.fixture, dagVersionId)
    fake = await startFakeAirflowApi({...pair.fake, maximumPageLimit: 100}, fixture)
  })

  afterAll(async () => {
    await kube?.close()
    await db?.drop()
    await fake?.stop()
    ws?.remove()
  })

  const apiEnv = () => {
    const {AIRFLOW_REAP_DB: _db, ...rest} = ws.env
    return rest
  }

  it('-o json: the same items, summary and warnings', async () => {
    const fromDb = await runCli(['overdue', '-o', 'json', '--no-cache'], {env: ws.env})
    expect(fromDb.stderr).toBe('')
    const fromApi = await runCli(['overdue', '-o', 'json', '--no-cache', '--airflow-url', fake.url, '--airflow-page-size', '2'], {env: apiEnv()})
    expect(fromApi.stderr).toBe('')
    const report = reportOf(fromApi.stdout)
    expect(comparable(report)).toEqual(comparable(reportOf(fromDb.stdout)))
    expect(report.items.map((i) => i.name).sort()).toEqual(['deferred-overdue', 'mapped-task-0', 'retried-try2', 'running-overdue'])
    expect(report.source).toMatchObject({kind: 'api', api: pair.fake.personality, auth: 'none'})
  })

  it('a DAG the credentials can never read: its pods are reported skipped not-permitted, not left unseen', async () => {
    // The `~` run list leaves the DAG out without a word: its pods match no run. The DAG's own read says why (403).
    const strict = await startFakeAirflowApi({...pair.fake, deniedDags: [DAG]}, fixture)
    try {
      const result = await runCli(['overdue', '-o', 'json', '--no-cache', '--airflow-url', strict.url, '--delete', '--yes', '--allow-mass-delete'], {env: apiEnv()})
      expect(result.code, result.stderr).toBe(0)
      const report = reportOf(result.stdout)
      expect(report.items.map((i) => i.name).sort()).toEqual([...TIS.map((ti) => ti.pod), 'retried-try1'].sort())
      for (const item of report.items) {
        expect(item).toMatchObject({action: 'skipped', skipReason: 'not-permitted', taskInstance: null})
        expect(item.detail).toContain(`may not read DAG ${DAG}`)
      }
      expect(kube.requests.filter((r) => r.method === 'DELETE')).toEqual([])
    } finally {
      await strict.stop()
    }
  })

  it('--delete --yes: a candidate whose DAG the credentials may no longer read when it is re-read is kept (not-permitted)', async () => {
    const denied: string[] = []
    const strict = await startFakeAirflowApi(
      {...pair.fake, deniedDags: denied, mutations: [{when: (r) => /\/taskInstances\/(?!list$)[^/]+(\/\d+)?$/.test(r.path), change: () => denied.push(DAG)}]},
      fixture,
    )
    try {
      const result = await runCli(['overdue', '-o', 'json', '--airflow-url', strict.url, '--delete', '--yes', '--allow-mass-delete'], {env: apiEnv()})
      expect(result.code).toBe(0)
      const report = reportOf(result.stdout)
      expect(report.items.length).toBe(4)
      for (const item of report.items) expect(item).toMatchObject({action: 'skipped', skipReason: 'not-permitted'})
      expect(kube.requests.filter((r) => r.method === 'DELETE')).toEqual([])
    } finally {
      await strict.stop()
    }
  })
})
