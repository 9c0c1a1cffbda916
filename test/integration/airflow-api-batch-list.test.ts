// The REST API source reads the task instances of a scan's pods with the batch list (`POST /dags/~/
// dagRuns/~/taskInstances/list`), a slice of pods at a time: one list naming the slice's DAGs, runs and
// tasks, paged by the rows received (a server may send fewer than asked), a longer v1 list asked again
// whole (2.x's batch has no ORDER BY), a refused batch read another way, a release without the batch's
// filters (2.7.0) read by the tasks' own lists. Against the fake API of each personality.
import {afterEach, describe, expect, it} from 'vitest'
import {credentialSource} from '../../src/airflow-api/auth.js'
import {openAirflowApi} from '../../src/airflow-api/open.js'
import {ApiTaskInstanceSource, NotPermittedError} from '../../src/airflow-api/source.js'
import {parseApiUrl} from '../../src/airflow-api/url.js'
import {makeSafeLabelValue} from '../../src/core/labels.js'
import type {DagRunRow, ObjectMeta} from '../../src/core/types.js'
import {judgePods} from '../../src/reap/zombies.js'
import {type FakeAirflowApi, type FakeFixture, type FakeOptions, type LoggedRequest, startFakeAirflowApi} from '../support/fake-airflow-api/index.js'

const DAGS = ['a', 'b', 'c']
// Run ids shared by the DAGs, as scheduled runs of one schedule are.
const RUNS = ['scheduled__2026-01-01T00:00:00+00:00', 'scheduled__2026-01-01T01:00:00+00:00']
const NOW = new Date()

/** Each DAG's two runs: `extract` running and `load` finished (both with a pod), and five waiting tasks no pod needs. */
function fixture(): FakeFixture {
  const f: FakeFixture = {dags: DAGS.map((dagId) => ({dagId, tasks: []})), runs: [], taskInstances: [], xcoms: []}
  for (const dagId of DAGS) {
    for (const runId of RUNS) {
      f.runs.push({dagId, runId, state: 'running'})
      f.taskInstances.push({dagId, runId, taskId: 'extract', mapIndex: -1, tryNumber: 1, state: 'running'})
      f.taskInstances.push({dagId, runId, taskId: 'load', mapIndex: -1, tryNumber: 1, state: 'success'})
      for (let i = 0; i < 5; i++) f.taskInstances.push({dagId, runId, taskId: `waiting_${i}`, mapIndex: -1, tryNumber: 0, state: null})
    }
  }
  return f
}

const RUN_ROWS: DagRunRow[] = DAGS.flatMap((dagId) => RUNS.map((runId) => ({dagId, runId, state: 'running', endDate: null})))

function pod(dagId: string, runId: string, taskId: string): ObjectMeta {
  const name = `${dagId}-${taskId}-${RUNS.indexOf(runId)}`
  return {
    kind: 'Pod', namespace: 'airflow', name, uid: `uid-${name}`, resourceVersion: '1', annotations: {}, finalizers: [], ownerReferences: [],
    labels: {kubernetes_pod_operator: 'True', dag_id: dagId, task_id: taskId, run_id: makeSafeLabelValue(runId), try_number: '1'},
    creationTimestamp: new Date(NOW.getTime() - 3_600_000),
  }
}

// Pods listed DAG by DAG interleaved (a's, b's, c's runs mixed), as a namespace's pods come.
const PODS = RUNS.flatMap((runId) => DAGS.flatMap((dagId) => ['extract', 'load'].map((taskId) => pod(dagId, runId, taskId))))
const TASKS = PODS.map((p) => ({dagId: p.labels!.dag_id!, runId: RUNS.find((r) => makeSafeLabelValue(r) === p.labels!.run_id)!, taskId: p.labels!.task_id!, mapIndex: -1}))

const RELEASES: Array<Pick<FakeOptions, 'personality' | 'version'>> = [
  {personality: 'v1', version: '2.10.5'},
  {personality: 'v2', version: '3.3.2'},
]

const isBatch = (r: LoggedRequest) => r.method === 'POST' && /\/dags\/~\/dagRuns\/~\/taskInstances\/list$/.test(r.path)
const isOwnList = (r: LoggedRequest) => r.method === 'GET' && /\/dags\/[^~/][^/]*\/dagRuns\/[^/]+\/taskInstances$/.test(r.path)
const bodyOf = (r: LoggedRequest) => r.body as {dag_ids: string[]; dag_run_ids: string[]; task_ids?: string[]; page_offset: number; page_limit: number; order_by?: string}

let fake: FakeAirflowApi | undefined
afterEach(async () => {
  await fake?.stop()
  fake = undefined
})

async function sourceOver(options: FakeOptions, pageSize: number, podsPerRead?: number, f = fixture()): Promise<ApiTaskInstanceSource> {
  fake = await startFakeAirflowApi(options, f)
  const opened = await openAirflowApi({base: parseApiUrl(fake.url, 'test'), api: 'auto', credentials: credentialSource(undefined, {}), timeoutMs: 5000, pageSize, maxRequests: 500, concurrency: 4})
  return new ApiTaskInstanceSource(opened.client, opened.personality, pageSize, podsPerRead)
}

const keysOf = (rows: Array<{dagId: string; runId: string; taskId: string}>) => rows.map((r) => `${r.dagId} ${RUNS.indexOf(r.runId)} ${r.taskId}`).sort()
const EXPECTED = keysOf(TASKS)

describe.each(RELEASES)('the batch list through API $personality (Airflow $version)', (release) => {
  it('a scan reads each slice of pods with one batch list naming its DAGs, runs and tasks; the runs of one DAG are in one slice', async () => {
    const source = await sourceOver(release, 100, 4)
    const judged = await judgePods(source, PODS, RUN_ROWS, {minAgeSeconds: 0, includeUnknown: false}, NOW)
    expect(judged.findings.map((f) => f.match.pod.name).sort()).toEqual(PODS.filter((p) => p.labels!.task_id === 'load').map((p) => p.name).sort())
    const batches = fake!.log.filter(isBatch)
    // 12 pods, 4 a slice, a DAG's 4 pods side by side: a slice per DAG, each naming that DAG alone.
    expect(batches.map((r) => bodyOf(r).dag_ids)).toEqual([['a'], ['b'], ['c']])
    for (const r of batches) {
      expect(bodyOf(r)).toMatchObject({dag_run_ids: RUNS, task_ids: ['extract', 'load'], page_offset: 0, page_limit: 100})
      expect(bodyOf(r).order_by).toBe(release.personality === 'v2' ? 'id' : undefined)
    }
    // Every pod's task answered by the batch: no task's or run's own list read, no list of every DAG.
    expect(fake!.log.filter((r) => isOwnList(r) || r.path.endsWith('/dags/~/dagRuns/~/taskInstances'))).toEqual([])
  })

  it('pages advance by the rows received when the server sends fewer than asked; every row is read, each once', async () => {
    const source = await sourceOver({...release, batchPageCap: 2}, 5)
    const rows = await source.taskInstancesOfTasks(TASKS)
    expect(keysOf(rows)).toEqual(EXPECTED)
    const pages = fake!.log.filter(isBatch).map(bodyOf)
    if (release.personality === 'v2') {
      // 12 rows, 2 a page: offsets 2 apart, each page asking for 5.
      expect(pages.map((b) => b.page_offset).sort((x, y) => x - y)).toEqual([0, 2, 4, 6, 8, 10])
      expect(pages.every((b) => b.page_limit === 5)).toBe(true)
      expect(fake!.log.filter(isOwnList)).toEqual([])
    } else {
      // No ORDER BY on 2.x: the list is asked again whole (12 rows), then, capped, paged on from the rows received.
      expect(pages[1]).toMatchObject({page_offset: 0, page_limit: 12})
      expect(pages.slice(2).map((b) => b.page_offset)).toEqual(expect.arrayContaining([2, 4, 6, 8, 10]))
    }
  })

  it('the rows no pod needs (other tasks of the runs) are not kept; a task the list does not answer is read by its own list', async () => {
    const f = fixture()
    f.taskInstances = f.taskInstances.filter((ti) => !(ti.dagId === 'b' && ti.taskId === 'load' && ti.runId === RUNS[0]))
    const source = await sourceOver(release, 100, undefined, f)
    const rows = await source.taskInstancesOfTasks(TASKS)
    expect(keysOf(rows)).toEqual(EXPECTED.filter((k) => k !== 'b 0 load'))
    expect(rows.every((r) => r.taskId === 'extract' || r.taskId === 'load')).toBe(true)
    // The missing row was looked for once more, by its own list (v2: the task's; v1: the run's).
    const own = fake!.log.filter(isOwnList)
    expect(own.map((r) => decodeURIComponent(r.path.split('/')[6]!))).toEqual([RUNS[0]])
    expect(own[0]!.path).toContain('/dags/b/')
  })

  it('a batch the server refuses (403) is read by the tasks\' own lists instead', async () => {
    const refusal = release.personality === 'v1'
      ? '{"detail":"User not allowed to access some of these DAGs: [\'a\']","status":403,"title":"Forbidden","type":"x"}'
      : '{"detail":"Forbidden"}'
    const source = await sourceOver({...release, faults: [{path: /\/taskInstances\/list$/, fault: {kind: 'status', status: 403, contentType: 'application/json', body: refusal}}]}, 100)
    const rows = await source.taskInstancesOfTasks(TASKS)
    expect(keysOf(rows)).toEqual(EXPECTED)
    expect(fake!.log.filter(isBatch)).toHaveLength(1)
    expect(fake!.log.filter(isOwnList).length).toBeGreaterThan(0)
  })

  it('a DAG the credentials may not read: its tasks read by their own lists name it (NotPermittedError)', async () => {
    const source = await sourceOver({...release, deniedDags: ['b']}, 100)
    // v1 refuses the whole batch (403), v2 leaves b's rows out silently: either way b's tasks are read by their own lists.
    const error = await source.taskInstancesOfTasks(TASKS).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NotPermittedError)
    expect(error).toMatchObject({dagId: 'b'})
  })

  it('executingTaskInstances: one batch list of the runs, running and deferred only', async () => {
    const source = await sourceOver(release, 100)
    const rows = await source.executingTaskInstances(RUN_ROWS)
    expect(keysOf(rows)).toEqual(EXPECTED.filter((k) => k.endsWith('extract')))
    const [batch] = fake!.log.filter(isBatch)
    expect(bodyOf(batch!)).toMatchObject({dag_ids: DAGS, dag_run_ids: RUNS, state: ['running', 'deferred']})
    expect(fake!.log.filter(isBatch)).toHaveLength(1)
  })
})

describe('the batch list is a read: retried like a GET', () => {
  it.each([429, 502, 503, 504])('a %i is retried (Retry-After honoured); the rows are those of one answer', async (status) => {
    const source = await sourceOver({personality: 'v2', version: '3.3.2', faults: [{path: /\/taskInstances\/list$/, nth: [1], fault: {kind: 'status', status, headers: {'retry-after': '0'}}}]}, 100)
    expect(keysOf(await source.taskInstancesOfTasks(TASKS))).toEqual(EXPECTED)
    expect(fake!.log.filter(isBatch)).toHaveLength(2)
    expect(fake!.log.filter(isOwnList)).toEqual([])
  })

  it('a 500 is not retried: an error, nothing decided', async () => {
    const source = await sourceOver({personality: 'v2', version: '3.3.2', faults: [{path: /\/taskInstances\/list$/, fault: {kind: 'status', status: 500, contentType: 'application/json', body: '{"detail":"boom"}'}}]}, 100)
    await expect(source.taskInstancesOfTasks(TASKS)).rejects.toThrow(/POST .*taskInstances\/list with 500/)
    expect(fake!.log.filter(isBatch)).toHaveLength(1)
  })
})

describe('a release without the batch list\'s filters', () => {
  it('2.7.0 (no dag_run_ids or task_ids: a 400 there) reads the tasks\' own lists, no batch list', async () => {
    const source = await sourceOver({personality: 'v1', version: '2.7.0'}, 100)
    expect(keysOf(await source.taskInstancesOfTasks(TASKS))).toEqual(EXPECTED)
    expect(fake!.log.filter(isBatch)).toEqual([])
  })

  it('before 2.10.3 the batch ignores paging and answers every row at once: one request', async () => {
    const source = await sourceOver({personality: 'v1', version: '2.9.3'}, 2)
    expect(keysOf(await source.taskInstancesOfTasks(TASKS))).toEqual(EXPECTED)
    expect(fake!.log.filter(isBatch)).toHaveLength(1)
  })
})
