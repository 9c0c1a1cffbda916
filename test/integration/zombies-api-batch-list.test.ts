// The scan through the REST API reads its pods' own task instances with the batch list (`POST /dags/~/
// dagRuns/~/taskInstances/list`, naming their DAGs, runs and tasks), not the active task instances of
// every DAG. Offset pages of it are not a snapshot: a row that leaves the list between two pages makes
// the next page skip another. Such a list only ever clears a pod: a task it misses is read again by its
// own list, a pod it does not clear is a candidate that point reads prove, and nothing is deleted on it.
import {describe, expect, it, vi} from 'vitest'
import type {ReportItem} from '../../src/core/report.js'
import {runCli} from '../support/cli.js'
import {type FakeFixture, type FakeOptions, type LoggedRequest, startFakeAirflowApi} from '../support/fake-airflow-api/index.js'
import {fixtureSeeder} from '../support/fake-airflow-api/seeder.js'
import {fakeApiWorld} from '../support/fake-airflow-api/world.js'
import {addKpoPod} from '../support/kpo.js'
import {reportOf} from '../support/run-history.js'

vi.setConfig({testTimeout: 60_000})

const DAG = 'etl'
const run = (day: number) => `manual__2026-01-0${day}T00:00:00+00:00`
const TOKEN = 'bl-t0ken-0815'
/** Running tasks, one per run. */
const LIVE = [
  {taskId: 'live_a', runId: run(1)},
  {taskId: 'live_b', runId: run(2)},
  {taskId: 'live_c', runId: run(3)},
]

/** Three running tasks in three runs, two finished ones (runs 1 and 4) whose pods are zombies, and a waiting task no pod needs. */
async function fixture() {
  const seed = fixtureSeeder('3.x')
  for (const live of LIVE) await seed.taskInstance({dagId: DAG, ...live, state: 'running', tryNumber: 1})
  await seed.taskInstance({dagId: DAG, runId: run(1), taskId: 'done_a', state: 'success', tryNumber: 1})
  await seed.taskInstance({dagId: DAG, runId: run(4), taskId: 'done_d', state: 'success', tryNumber: 1})
  await seed.taskInstance({dagId: DAG, runId: run(1), taskId: 'downstream', state: null, tryNumber: 0})
  return seed.fixture
}

const world = fakeApiWorld('api-batch-list', (kube) => {
  for (const live of LIVE) addKpoPod(kube, {name: live.taskId.replace('_', '-'), dagId: DAG, ...live, tryNumber: 1})
  addKpoPod(kube, {name: 'done-a', dagId: DAG, taskId: 'done_a', runId: run(1), tryNumber: 1})
  addKpoPod(kube, {name: 'done-d', dagId: DAG, taskId: 'done_d', runId: run(4), tryNumber: 1})
})

const env = () => ({...world.ws.env, AIRFLOW_REAP_API_TOKEN: TOKEN})
const deletes = () => world.kube.requests.filter((r) => r.method === 'DELETE').map((r) => r.path.split('/').pop()).sort()
const item = (items: ReportItem[], name: string) => items.find((i) => i.name === name)
const isBatch = (r: LoggedRequest) => r.method === 'POST' && r.path.endsWith('/dags/~/dagRuns/~/taskInstances/list')
const offsetOf = (r: LoggedRequest) => (r.body as {page_offset: number}).page_offset
/** A task's own list: v2 filters its run's list by task_id; v1 reads the run's whole list. */
const ownListOf = (personality: string, live: {taskId: string; runId: string}) => (r: LoggedRequest) =>
  r.path === `/api/${personality}/dags/${DAG}/dagRuns/${encodeURIComponent(live.runId)}/taskInstances` &&
  (personality === 'v1' || r.query.some(([k, v]) => k === 'task_id' && v === live.taskId))

describe.each<Pick<FakeOptions, 'personality' | 'version'>>([
  {personality: 'v1', version: '2.10.5'},
  {personality: 'v2', version: '3.3.2'},
])('through API $personality (Airflow $version)', (api) => {
  const serve = async (options: Partial<FakeOptions> = {}) => {
    world.fake = await startFakeAirflowApi({...api, auth: {kind: 'proxy', token: TOKEN}, ...options}, await fixture())
    return world.fake
  }
  const zombies = (extra: string[]) => runCli(['zombies', '--airflow-url', world.fake!.url, '-o', 'json', '--airflow-page-size', '1', ...extra], {env: env()})

  it("reads the pods' own task instances with the batch list: their DAG, runs and tasks, no list of every DAG's", async () => {
    await serve()
    const result = await zombies(['--allow-mass-delete', '--delete', '--yes'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(deletes()).toEqual(['done-a', 'done-d'])
    const pages = world.fake!.log.filter(isBatch)
    const body = pages[0]!.body as {dag_run_ids: string[]; task_ids: string[]}
    expect(body).toMatchObject({dag_ids: [DAG], page_offset: 0, page_limit: 1})
    expect([...body.dag_run_ids].sort()).toEqual([run(1), run(2), run(3), run(4)])
    expect([...body.task_ids].sort()).toEqual(['done_a', 'done_d', 'live_a', 'live_b', 'live_c'])
    // v2: pages of the size asked, advanced by the rows received. v1 (no ORDER BY): the list asked again whole.
    if (api.personality === 'v2') expect(pages.map(offsetOf).sort()).toEqual([0, 1, 2, 3, 4])
    else expect(pages.map((r) => r.body)).toEqual([expect.objectContaining({page_offset: 0, page_limit: 1}), expect.objectContaining({page_offset: 0, page_limit: 5})])
    expect(world.fake!.log.filter((r) => r.path.endsWith('/dags/~/dagRuns/~/taskInstances'))).toEqual([])
    // Every pod's task answered by the list: no task's or run's own list read.
    for (const live of LIVE) expect(world.fake!.log.filter(ownListOf(api.personality, live))).toEqual([])
    // The zombies were proved by reads of their task instances alone (each answer names its DAG and run):
    // no read of the DAG or a dag run by itself, which only a 404 calls for.
    expect(world.fake!.log.filter((r) => /\/dags\/etl(\/dagRuns\/[^/]+)?$/.test(r.path))).toEqual([])
    expect(world.fake!.log.filter((r) => /\/taskInstances\/done_[ad]$/.test(r.path)).length).toBeGreaterThanOrEqual(2)
  })

  it('a row missing from the list and from its own list, but there when read by itself, keeps its pod: nothing is decided on a list', async () => {
    let hidden: FakeFixture['taskInstances'][number] | undefined
    await serve({
      mutations: [
        {when: isBatch, change: (f) => (hidden = f.taskInstances.splice(f.taskInstances.findIndex((t) => t.taskId === 'live_b'), 1)[0])},
        {when: (r) => r.path.endsWith('/taskInstances/live_b'), change: (f) => void f.taskInstances.push(hidden!)},
      ],
    })
    const result = await zombies(['--allow-mass-delete', '--delete', '--yes'])
    expect(result.code, result.stderr).toBe(0)
    expect(deletes()).toEqual(['done-a', 'done-d'])
    // A candidate, read again by itself before anything is done: running, so left alone.
    expect(item(reportOf(result.stdout).items, 'live-b')).toMatchObject({action: 'skipped', skipReason: 'became-active'})
  })
})

describe('through API v2 (Airflow 3.3.2): a page that changed under us', () => {
  it('a row that left the list between two pages shifts the next page past another: that one is read by its own list, its pod kept', async () => {
    // By id the rows are done_a, downstream(no pod: not asked), live_a, live_b, ... Before page 1 (offset
    // 1), done_a leaves the list (its row deleted): page 1 then holds what was at offset 2, and live_a is on no page.
    world.fake = await startFakeAirflowApi(
      {
        personality: 'v2',
        version: '3.3.2',
        auth: {kind: 'proxy', token: TOKEN},
        mutations: [{when: (r) => isBatch(r) && offsetOf(r) === 1, change: (f) => void f.taskInstances.splice(f.taskInstances.findIndex((t) => t.taskId === 'done_a'), 1)}],
      },
      await fixture(),
    )
    const result = await runCli(['zombies', '--airflow-url', world.fake.url, '-o', 'json', '--airflow-page-size', '1', '--allow-mass-delete', '--delete', '--yes'], {env: env()})
    expect(result.code, result.stderr).toBe(0)
    expect(world.fake.log.filter(ownListOf('v2', LIVE[0]!)).length).toBeGreaterThan(0)
    const report = reportOf(result.stdout)
    expect(item(report.items, 'live-a')).toBeUndefined()
    for (const live of LIVE) expect(deletes()).not.toContain(live.taskId.replace('_', '-'))
    // done_a's row is gone (it was on page 0 and read then): its pod is proved by a read of its own, and reaped.
    expect(deletes()).toEqual(['done-a', 'done-d'])
  })
})
