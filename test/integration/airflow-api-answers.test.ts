// The REST API source refuses answers it cannot trust, through the port's methods, against the fake
// Airflow API: an answer of another object than the one asked for, a list without its list, a list
// shorter than it counts, a count without its count, a 403 on a list of every DAG. Each is an error
// (nothing is decided on it), never "no rows". In process, so that the mutation run reaches source.ts.
import {afterEach, describe, expect, it} from 'vitest'
import {AirflowApiError, NotPermittedError} from '../../src/airflow-api/http.js'
import type {ApiTaskInstanceSource} from '../../src/airflow-api/source.js'
import type {ExecutingTaskInstanceRow} from '../../src/core/overdue.js'
import {type FakeAirflowApi, type FakeFixture, type FakeOptions} from '../support/fake-airflow-api/index.js'
import {apiError, apiSourceOver, jsonAnswer} from '../support/api-source.js'

const DAG = 'etl'
const RUN = 'run_1'
const OTHER_RUN = 'run_2'

function fixture(): FakeFixture {
  return {
    dags: [{dagId: DAG, latestVersionId: 'v-1', tasks: [{taskId: 'load', executionTimeout: 600}, {taskId: 'fan', executionTimeout: null, isMapped: true}]}],
    runs: [
      {dagId: DAG, runId: RUN, state: 'running'},
      {dagId: DAG, runId: OTHER_RUN, state: 'running'},
    ],
    taskInstances: [
      {dagId: DAG, runId: RUN, taskId: 'load', mapIndex: -1, tryNumber: 1, state: 'running', dagVersionId: 'v-1'},
      {dagId: DAG, runId: RUN, taskId: 'fan', mapIndex: 0, tryNumber: 1, state: 'running', dagVersionId: 'v-1'},
      {dagId: DAG, runId: RUN, taskId: 'fan', mapIndex: 1, tryNumber: 1, state: 'success', dagVersionId: 'v-1'},
      {dagId: DAG, runId: OTHER_RUN, taskId: 'load', mapIndex: -1, tryNumber: 1, state: 'running', dagVersionId: 'v-1'},
    ],
    xcoms: [{dagId: DAG, runId: RUN, taskId: 'load', mapIndex: -1, key: 'pod_name', value: 'etl-load-abc'}],
  }
}

const V2: Pick<FakeOptions, 'personality' | 'version'> = {personality: 'v2', version: '3.3.2'}
const V1: Pick<FakeOptions, 'personality' | 'version'> = {personality: 'v1', version: '2.10.5'}

let fake: FakeAirflowApi | undefined
afterEach(async () => {
  await fake?.stop()
  fake = undefined
})

async function sourceOver(options: Pick<FakeOptions, 'personality' | 'version'> & Partial<FakeOptions>, pageSize = 100): Promise<ApiTaskInstanceSource> {
  const opened = await apiSourceOver(options, fixture(), pageSize)
  fake = opened.fake
  return opened.source
}

const answering = (path: RegExp, body: unknown, nth?: number[]) => jsonAnswer(path, 200, body, nth)
const LOAD = {dagId: DAG, runId: RUN, taskId: 'load', mapIndex: -1}
const executing = (ti: Partial<ExecutingTaskInstanceRow>): ExecutingTaskInstanceRow => ({...LOAD, state: 'running', tryNumber: 1, startDate: null, operator: null, dagVersionId: 'v-1', runDagVersionId: null, ...ti})

describe.each([V2, V1])('the API source over $personality: answers it does not trust', (release) => {
  it.each([
    ['another task', {task_id: 'fan'}],
    ['another map index', {map_index: 0}],
    ['another run', {run_id: OTHER_RUN}],
    ['another key', {key: 'return_value'}],
  ])('a pod_name XCom answered for %s is an error', async (_what, change) => {
    const entry = {key: 'pod_name', task_id: 'load', map_index: -1, dag_id: DAG, value: 'etl-load-abc', run_id: RUN, ...change}
    if (release.personality === 'v1' && !('run_id' in change)) delete (entry as {run_id?: string}).run_id
    const source = await sourceOver({...release, faults: [answering(/xcomEntries\/pod_name$/, entry)]})
    expect((await apiError(source.podNameXComs([LOAD]))).message).toMatch(`the Airflow API answered the pod_name XCom of ${DAG}.load with another entry`)
  })

  it('a pod_name XCom entry without run_id (v1 has none) is the one asked for', async () => {
    const source = await sourceOver({...release, faults: [answering(/xcomEntries\/pod_name$/, {key: 'pod_name', task_id: 'load', map_index: -1, dag_id: DAG, value: 'etl-load-abc'})]})
    expect([...(await source.podNameXComs([LOAD])).values()]).toEqual(['etl-load-abc'])
  })

  it('a list answered without its list is an error, never "no rows"', async () => {
    const source = await sourceOver({...release, faults: [answering(/\/taskInstances$/, {total_entries: 0})]})
    expect((await apiError(source.taskInstancesOfRuns([{dagId: DAG, runId: RUN}]))).message).toMatch(`the Airflow API answered dags/${DAG}/dagRuns/${RUN}/taskInstances without a task_instances list`)
  })

  it("a run's list holding another run's rows: only the run's own are kept", async () => {
    await sourceOver(release)
    const other = await (await fetch(`${fake!.url}/api/${release.personality}/dags/${DAG}/dagRuns/${OTHER_RUN}/taskInstances`)).json()
    await fake!.stop()
    const mixed = await sourceOver({...release, faults: [answering(new RegExp(`/dagRuns/${RUN}/taskInstances$`), other)]})
    expect(await mixed.taskInstancesOfRuns([{dagId: DAG, runId: RUN}])).toEqual([])
  })

  it('a count without total_entries is an error', async () => {
    const source = await sourceOver({...release, faults: [answering(/\/taskInstances$/, {task_instances: []})]})
    expect((await apiError(source.taskInstanceStateCounts(['running']))).message).toMatch('the Airflow API answered a task-instance list without total_entries')
  })

  it('counts: a state with none is not counted, one with some is; one the release does not define is never asked for', async () => {
    const source = await sourceOver(release)
    expect(await source.taskInstanceStateCounts(['running', 'deferred', 'success', 'shutdown'])).toEqual(new Map([['running', 3], ['success', 1]]))
    expect(fake!.log.some((r) => r.query.some(([k, v]) => k === 'state' && v === 'shutdown'))).toBe(false)
  })

  it('a dag run without dag_id or dag_run_id is an error', async () => {
    const source = await sourceOver({...release, faults: [answering(/\/dags\/~\/dagRuns$/, {dag_runs: [{dag_id: DAG, state: 'running'}], total_entries: 1})]})
    expect((await apiError(source.dagRunsSince(new Date()))).message).toMatch('the Airflow API returned a dag run without dag_id or dag_run_id')
  })

  it("a dag run's end date is read; one that is no date is none", async () => {
    const source = await sourceOver({
      ...release,
      faults: [answering(/\/dags\/~\/dagRuns$/, {dag_runs: [{dag_id: DAG, dag_run_id: RUN, state: 'success', end_date: '2026-01-01T00:00:00Z'}, {dag_id: DAG, dag_run_id: OTHER_RUN, state: 7, end_date: 'soon'}], total_entries: 2})],
    })
    expect(await source.dagRunsSince(new Date())).toEqual([
      {dagId: DAG, runId: RUN, state: 'success', endDate: new Date('2026-01-01T00:00:00Z')},
      {dagId: DAG, runId: OTHER_RUN, state: null, endDate: null},
    ])
  })

  it('a 403 on a list of every DAG is an error, not a DAG that may not be read', async () => {
    const source = await sourceOver({...release, faults: [{path: /\/dags\/~\/dagRuns$/, fault: {kind: 'status', status: 403, contentType: 'application/json', body: '{"detail":"Forbidden"}'}}]})
    const error = await source.dagRunsSince(new Date()).catch((e: Error) => e)
    expect(error).toBeInstanceOf(AirflowApiError)
    expect(error).not.toBeInstanceOf(NotPermittedError)
    expect((error as Error).message).toBe('the Airflow API answered GET dags/~/dagRuns with 403: Forbidden')
  })

  it("a DAG's tasks answered without a task list is an error; a DAG it does not know has unknown timeouts", async () => {
    let source = await sourceOver({...release, faults: [answering(/\/tasks$/, {total_entries: 0})]})
    expect((await apiError(source.executionTimeouts([executing({})]))).message).toMatch(`the Airflow API answered the tasks of ${DAG} without a task list`)
    await fake!.stop()
    source = await sourceOver(release)
    const unknown = await source.executionTimeouts([executing({dagId: 'gone'})])
    expect([...unknown.values()]).toEqual([{kind: 'unknown', reason: 'the Airflow API knows no DAG gone'}])
  })

  it('timeouts: seconds, none, and a malformed one unknown', async () => {
    const tasks = {tasks: [{task_id: 'load', execution_timeout: {__type: 'TimeDelta', days: 0, seconds: 600, microseconds: 0}}, {task_id: 'fan', execution_timeout: {days: 'x'}}], total_entries: 2}
    const source = await sourceOver({...release, faults: [answering(/\/tasks$/, tasks)]})
    const timeouts = await source.executionTimeouts([executing({}), executing({taskId: 'fan', mapIndex: 0}), executing({taskId: 'gone'})])
    expect([...timeouts.values()]).toEqual([
      {kind: 'seconds', seconds: 600},
      {kind: 'unknown', reason: `the execution_timeout of ${DAG}.fan is not a TimeDelta`},
      {kind: 'none'},
    ])
  })
})

describe('the API source over v2: DAG versions', () => {
  it("a try of the DAG's latest version is judged by its timeout; a DAG with no latest version known judges none by another's", async () => {
    let source = await sourceOver(V2)
    expect([...(await source.executionTimeouts([executing({})])).values()]).toEqual([{kind: 'seconds', seconds: 600}])
    await fake!.stop()
    source = await sourceOver({...V2, faults: [answering(/\/details$/, {dag_id: DAG, latest_dag_version: null})]})
    expect([...(await source.executionTimeouts([executing({})])).values()]).toEqual([{kind: 'unknown', reason: `${DAG} changed since its try started (the API shows only the latest DAG version's tasks)`}])
  })

  it('v1 keeps one serialized DAG: no version is compared', async () => {
    const source = await sourceOver(V1)
    expect([...(await source.executionTimeouts([executing({dagVersionId: null})])).values()]).toEqual([{kind: 'seconds', seconds: 600}])
    expect(fake!.log.some((r) => r.path.endsWith('/details'))).toBe(false)
  })
})

describe('the API source over v1: a list longer than a page', () => {
  it('every row it counts is read; rows it counts but never holds are an error', async () => {
    // Every page answers the first two rows and counts three.
    const firstTwo = {task_instances: [] as unknown[], total_entries: 3}
    let source = await sourceOver(V1, 2)
    const all = (await (await fetch(`${fake!.url}/api/v1/dags/${DAG}/dagRuns/${RUN}/taskInstances`)).json()) as {task_instances: unknown[]}
    firstTwo.task_instances = all.task_instances.slice(0, 2)
    expect(await source.taskInstancesOfRuns([{dagId: DAG, runId: RUN}])).toHaveLength(3)
    await fake!.stop()
    source = await sourceOver({...V1, faults: [answering(/\/taskInstances$/, firstTwo)]}, 2)
    expect((await apiError(source.taskInstancesOfRuns([{dagId: DAG, runId: RUN}]))).message).toMatch(/nothing is decided on a partial list/)
  })
})

describe.each([V2, V1])('the API source over $personality: the port\'s reads', (release) => {
  const tis = (rows: Array<{taskId: string; mapIndex: number; runId: string; state: string | null}>) => rows.map((ti) => `${ti.runId}/${ti.taskId}/${ti.mapIndex} ${ti.state}`).sort()

  it('pages of one row: every row of a run read, each once', async () => {
    const source = await sourceOver(release, 1)
    expect(tis(await source.taskInstancesOfRuns([{dagId: DAG, runId: RUN}, {dagId: DAG, runId: RUN}]))).toEqual(['run_1/fan/0 running', 'run_1/fan/1 success', 'run_1/load/-1 running'])
  })

  it('executing task instances: running and deferred ones of the runs asked for only', async () => {
    const source = await sourceOver(release)
    expect(tis(await source.executingTaskInstances([{dagId: DAG, runId: RUN}]))).toEqual(['run_1/fan/0 running', 'run_1/load/-1 running'])
  })

  it("the task instances of tasks: those tasks' only, every map index", async () => {
    const source = await sourceOver(release)
    expect(tis(await source.taskInstancesOfTasks([{dagId: DAG, runId: RUN, taskId: 'fan'}, {dagId: DAG, runId: OTHER_RUN, taskId: 'load'}]))).toEqual(['run_1/fan/0 running', 'run_1/fan/1 success', 'run_2/load/-1 running'])
  })

  it('dag runs: unfinished ones and those ended since, each once', async () => {
    const source = await sourceOver(release)
    const runs = await source.dagRunsSince(new Date('2020-01-01T00:00:00Z'))
    expect(runs.map((run) => `${run.runId} ${run.state}`).sort()).toEqual(['run_1 running', 'run_2 running'])
    expect(fake!.log.filter((r) => r.path.endsWith('/dags/~/dagRuns')).map((r) => r.query.filter(([k]) => k !== 'limit' && k !== 'offset'))).toEqual([
      [['state', 'queued'], ['state', 'running']],
      [['end_date_gte', '2020-01-01T00:00:00.000Z']],
    ])
  })

  it("the server's clock is its Date header", async () => {
    const source = await sourceOver({...release, clockSkewMs: 3_600_000})
    expect((await source.now()).getTime() - Date.now()).toBeGreaterThan(3_500_000)
  })

  it('a pod_name XCom: the map index asked for; on v2 never an earlier run\'s entry', async () => {
    const source = await sourceOver(release)
    expect([...(await source.podNameXComs([LOAD, {...LOAD, runId: OTHER_RUN}])).entries()]).toEqual([[JSON.stringify([DAG, 'load', RUN, -1]), 'etl-load-abc']])
    const query = fake!.log.find((r) => r.path.includes('xcomEntries'))!.query
    expect(query).toContainEqual(['map_index', '-1'])
    expect(query.some(([k, v]) => k === 'include_prior_dates' && v === 'false')).toBe(release.personality === 'v2')
  })
})
