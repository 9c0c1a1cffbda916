// The scan through the REST API reads the active task instances of every DAG in one list
// (`/dags/~/dagRuns/~/taskInstances?state=…`, REST-API.md §7) when that costs fewer requests than a
// list per task (v2) or per dag run (v1), and only then. Offset pages of that list are not a snapshot:
// a row that leaves the filter between two pages makes the next page skip another. Such a list only
// ever clears a pod: a task it misses is read again by its own list, and nothing is deleted on it.
import {describe, expect, it, vi} from 'vitest'
import type {ReportItem} from '../../src/core/report.js'
import {runCli} from '../support/cli.js'
import {type FakeOptions, type LoggedRequest, startFakeAirflowApi} from '../support/fake-airflow-api/index.js'
import {fixtureSeeder} from '../support/fake-airflow-api/seeder.js'
import {fakeApiWorld} from '../support/fake-airflow-api/world.js'
import {addKpoPod} from '../support/kpo.js'
import {reportOf} from '../support/run-history.js'

vi.setConfig({testTimeout: 60_000})

const DAG = 'etl'
const run = (day: number) => `manual__2026-01-0${day}T00:00:00+00:00`
const TOKEN = 'al-t0ken-0815'
/** Running tasks, one per run, in the order v2 lists them (map_index, then the key). */
const LIVE = [
  {taskId: 'live_a', runId: run(1)},
  {taskId: 'live_b', runId: run(2)},
  {taskId: 'live_c', runId: run(3)},
]

/** Three running tasks in three runs, and two finished ones (runs 1 and 4) whose pods are zombies. */
async function fixture() {
  const seed = fixtureSeeder('3.x')
  for (const live of LIVE) await seed.taskInstance({dagId: DAG, ...live, state: 'running', tryNumber: 1})
  await seed.taskInstance({dagId: DAG, runId: run(1), taskId: 'done_a', state: 'success', tryNumber: 1})
  await seed.taskInstance({dagId: DAG, runId: run(4), taskId: 'done_d', state: 'success', tryNumber: 1})
  return seed.fixture
}

const world = fakeApiWorld('api-active-list', (kube) => {
  for (const live of LIVE) addKpoPod(kube, {name: live.taskId.replace('_', '-'), dagId: DAG, ...live, tryNumber: 1})
  addKpoPod(kube, {name: 'done-a', dagId: DAG, taskId: 'done_a', runId: run(1), tryNumber: 1})
  addKpoPod(kube, {name: 'done-d', dagId: DAG, taskId: 'done_d', runId: run(4), tryNumber: 1})
})

const env = () => ({...world.ws.env, AIRFLOW_REAP_API_TOKEN: TOKEN})
const deletes = () => world.kube.requests.filter((r) => r.method === 'DELETE').map((r) => r.path.split('/').pop()).sort()
const item = (items: ReportItem[], name: string) => items.find((i) => i.name === name)
const isActiveList = (r: LoggedRequest) => r.path.endsWith('/dags/~/dagRuns/~/taskInstances')
const offsetOf = (r: LoggedRequest) => Number(r.query.find(([k]) => k === 'offset')?.[1] ?? 0)
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

  it('reads the active task instances of every DAG, not a list per task or run, when that costs fewer requests', async () => {
    await serve()
    const result = await zombies(['--allow-mass-delete', '--delete', '--yes'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(deletes()).toEqual(['done-a', 'done-d'])
    const pages = world.fake!.log.filter(isActiveList)
    // Every unfinished state (none too), pages of the size asked, advanced by the rows received.
    expect(pages[0]!.query.filter(([k]) => k === 'state').map(([, v]) => v)).toEqual(expect.arrayContaining(['running', 'queued', 'scheduled', 'deferred', 'up_for_retry', 'none']))
    expect(pages.map(offsetOf).sort()).toEqual([0, 1, 2])
    // v2: the running tasks were cleared by the list, none of their own lists read. (v1's own lists are
    // its runs' lists, read for the finished tasks; and its ties come in another order per request.)
    if (api.personality === 'v2') for (const live of LIVE) expect(world.fake!.log.filter(ownListOf('v2', live))).toEqual([])
    // The zombies were proved by reads of their task instances alone (each answer names its DAG and run):
    // no read of the DAG or a dag run by itself, which only a 404 calls for.
    expect(world.fake!.log.filter((r) => /\/dags\/etl(\/dagRuns\/[^/]+)?$/.test(r.path))).toEqual([])
    expect(world.fake!.log.filter((r) => /\/taskInstances\/done_[ad]$/.test(r.path)).length).toBeGreaterThanOrEqual(2)
  })

  it('a row the pages skipped (another left the filter between two pages) is read by its own list: its pod is kept', async () => {
    // Page 0 holds live_a; before page 1, live_a finishes and leaves the filter, so page 1 (offset 1)
    // holds what was at offset 2 and live_b is on no page. (v1's ties come in another order per request:
    // some row is skipped there too.)
    await serve({
      mutations: [{when: (r) => isActiveList(r) && offsetOf(r) === 1, change: (f) => (f.taskInstances.find((t) => t.taskId === 'live_a')!.state = 'success')}],
    })
    const result = await zombies(['--allow-mass-delete', '--delete', '--yes'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const report = reportOf(result.stdout)
    // live_a was seen running on page 0: the list clears its pod this time (the next run judges it).
    expect(deletes()).toEqual(['done-a', 'done-d'])
    if (api.personality === 'v2') {
      // The skipped row is read again by its own list, which finds it running: not even a candidate.
      expect(world.fake!.log.filter(ownListOf('v2', LIVE[1]!)).length).toBeGreaterThan(0)
      expect(item(report.items, 'live-b')).toBeUndefined()
    }
    for (const live of LIVE) expect(item(report.items, live.taskId.replace('_', '-'))?.action ?? 'not a finding').not.toBe('deleted')
  })

  it('a scan of few pods on a busy Airflow reads their own lists: the active list stops after its first page', async () => {
    const busy = await fixture()
    for (let i = 0; i < 40; i++) busy.taskInstances.push({dagId: 'busy', runId: run(5), taskId: `t${String(i).padStart(2, '0')}`, mapIndex: -1, tryNumber: 1, state: 'running'})
    busy.runs.push({dagId: 'busy', runId: run(5), state: 'running', endDate: null})
    busy.dags.push({dagId: 'busy', tasks: []})
    world.fake = await startFakeAirflowApi({...api, auth: {kind: 'proxy', token: TOKEN}}, busy)
    const result = await zombies([])
    expect(result.code, result.stderr).toBe(0)
    expect(item(reportOf(result.stdout).items, 'done-d')).toMatchObject({reason: 'no-active-task-instance', action: 'none'})
    expect(world.fake.log.filter(isActiveList).length).toBe(1)
    expect(world.fake.log.filter(ownListOf(api.personality, LIVE[0]!)).length).toBeGreaterThan(0)
  })
})
