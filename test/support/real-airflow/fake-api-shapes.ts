// The fake Airflow API (test/support/fake-airflow-api) held against the real one: the same reads sent
// to the real server (2.10.5's webserver, 3.3.2's api-server, over a suite world) and to a fake serving
// the same objects, and their answers compared by status, media type, key sets and value types, so
// that a fake drifting from the real server fails a test. Values are data and are not compared; a
// null on one side and a value on the other is data too (a task that has not started has no
// start_date). Free-form objects (a run's conf, rendered fields, an XCom value) are compared by type only.
import {type FakeFixture, type FakeTaskInstance, startFakeAirflowApi} from '../fake-airflow-api/index.js'
import type {WorldPod} from './airflow.js'
import type {RealAirflowApi} from './api-server.js'
import type {AirflowLine} from './venv.js'

/** Fields whose contents are user data of any shape: compared as "an object" or "an array" only. */
const FREE_FORM = new Set(['conf', 'rendered_fields', 'params', 'value', 'extra_links', 'template_fields', 'tags', 'owners', 'dag_versions', 'downstream_task_ids'])

export interface Answer {
  status: number
  /** The media type of Content-Type, without parameters. */
  type: string
  body: unknown
}

export interface Read {
  name: string
  /** Below /api/vN, with its query. */
  path: string
  /** A POST with this JSON body (the batch list); a GET without. */
  body?: unknown
}

/** Sends one read below /api/vN. */
export type Reader = (path: string, body?: unknown) => Promise<Answer>

/** The reads compared: those airflow-reap makes (and their error answers), for this world. */
export function readsFor(line: AirflowLine, pods: WorldPod[]): Read[] {
  const plain = pods.find((pod) => pod.map_index === -1 && pod.podNameXCom !== null)
  const mapped = pods.find((pod) => pod.map_index >= 0)
  if (!plain || !mapped) throw new Error('the world has no pod of an unmapped task with a pod_name XCom, or none of a mapped task')
  const e = encodeURIComponent
  const run = (pod: WorldPod) => `dags/${e(pod.dagId)}/dagRuns/${e(pod.runId)}`
  const ti = (pod: WorldPod) => `${run(pod)}/taskInstances/${e(pod.task_id)}`
  const xcomQuery = (pod: WorldPod) => (line === '3' ? `map_index=${pod.map_index}&deserialize=false&stringify=false&include_prior_dates=false` : `map_index=${pod.map_index}`)
  const reads: Read[] = [
    {name: 'version', path: 'version'},
    {name: 'a DAG', path: `dags/${e(plain.dagId)}`},
    {name: "a DAG's tasks", path: `dags/${e(plain.dagId)}/tasks`},
    {name: "a DAG's run list", path: `dags/${e(plain.dagId)}/dagRuns?limit=2&offset=0`},
    {name: 'the run list of every DAG', path: 'dags/~/dagRuns?limit=2&offset=0&state=queued&state=running'},
    {name: 'a dag run', path: run(plain)},
    {name: "a run's task-instance list", path: `${run(plain)}/taskInstances?limit=2&offset=0`},
    {name: 'the task-instance list of every run, one state', path: 'dags/~/dagRuns/~/taskInstances?state=success&limit=1'},
    {name: 'a task instance', path: ti(plain)},
    {name: 'a mapped task instance', path: `${ti(mapped)}/${mapped.map_index}`},
    {name: 'a pod_name XCom entry', path: `${ti(plain)}/xcomEntries/pod_name?${xcomQuery(plain)}`},
    {name: 'a DAG that does not exist (404)', path: 'dags/no_such_dag'},
    {name: 'a dag run that does not exist (404)', path: `dags/${e(plain.dagId)}/dagRuns/no_such_run`},
    {name: 'a task instance that does not exist (404)', path: `${run(plain)}/taskInstances/no_such_task`},
    {name: 'a mapped task instance without its map index (404)', path: ti(mapped)},
    {name: 'an XCom entry that does not exist (404)', path: `${ti(plain)}/xcomEntries/no_such_key?${xcomQuery(plain)}`},
  ]
  // The batch list as airflow-reap sends it (batch-list.ts), and its refusals.
  const batch = 'dags/~/dagRuns/~/taskInstances/list'
  const tasks = {dag_ids: [plain.dagId], dag_run_ids: [plain.runId], task_ids: [plain.task_id, mapped.task_id], page_offset: 0, page_limit: 2}
  reads.push(
    {name: 'the batch task-instance list', path: batch, body: line === '3' ? {...tasks, order_by: 'id'} : tasks},
    {name: 'the batch list, running and deferred', path: batch, body: {dag_ids: [plain.dagId], dag_run_ids: [plain.runId], state: ['running', 'deferred'], page_offset: 0, page_limit: 100}},
    {name: `the batch list with a field the release does not define (${line === '3' ? 422 : 400})`, path: batch, body: {dag_ids: [plain.dagId], no_such_field: 1}},
    {name: 'the batch list below a DAG, not ~', path: `dags/${e(plain.dagId)}/dagRuns/~/taskInstances/list`, body: tasks},
  )
  if (line === '3') {
    reads.push(
      {name: 'the batch list ordered by a column it does not allow (400)', path: batch, body: {...tasks, order_by: 'task_id'}},
      {name: "a DAG's details (its latest version)", path: `dags/${e(plain.dagId)}/details`},
      {name: 'a negative limit (422)', path: `${run(plain)}/taskInstances?limit=-1`},
      {name: 'a state the release does not know (422)', path: `${run(plain)}/taskInstances?state=no_such_state`},
    )
  } else {
    reads.push({name: 'a query parameter the release does not define (400)', path: `${run(plain)}/taskInstances?task_id=x`})
  }
  return reads
}

/** Reads below /api/vN with the credentials the real server was given (v2: a token from POST /auth/token; v1: basic auth). */
export async function realReader(api: RealAirflowApi, line: AirflowLine): Promise<Reader> {
  const {AIRFLOW_REAP_API_USERNAME: username, AIRFLOW_REAP_API_PASSWORD: password} = api.credentialsEnv
  let authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`
  if (line === '3') {
    const token = await fetch(`${api.url}/auth/token`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({username, password})})
    authorization = `Bearer ${((await token.json()) as {access_token: string}).access_token}`
  }
  return (path, body) => send(`${api.url}/api/${line === '3' ? 'v2' : 'v1'}/${path}`, body, authorization)
}

async function send(url: string, sent: unknown, authorization?: string): Promise<Answer> {
  const headers: Record<string, string> = {accept: 'application/json', ...(authorization ? {authorization} : {})}
  const post = sent === undefined ? {} : {method: 'POST', body: JSON.stringify(sent)}
  if (sent !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(url, {headers, ...post, redirect: 'manual', signal: AbortSignal.timeout(60_000)})
  const text = await response.text()
  const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim()
  let body: unknown = text
  if (/json/.test(type)) body = JSON.parse(text)
  return {status: response.status, type, body}
}

/**
 * A fake of this line's release serving the objects the real server answered with (the DAG, its
 * tasks and latest version, its runs, the task instances of those runs, the pod_name XCom entry).
 */
export async function fakeReaderLike(line: AirflowLine, version: string, real: Reader, pods: WorldPod[]) {
  const fixture: FakeFixture = {dags: [], runs: [], taskInstances: [], xcoms: []}
  const e = encodeURIComponent
  for (const dagId of [...new Set(pods.map((pod) => pod.dagId))]) {
    const tasks = (await real(`dags/${e(dagId)}/tasks`)).body as {tasks: Array<{task_id: string; is_mapped: boolean; execution_timeout: {days: number; seconds: number; microseconds: number} | null}>}
    const latest = line === '3' ? ((await real(`dags/${e(dagId)}/details`)).body as {latest_dag_version?: {id: string} | null}).latest_dag_version?.id : undefined
    fixture.dags.push({
      dagId,
      latestVersionId: latest,
      tasks: tasks.tasks.map((task) => ({taskId: task.task_id, isMapped: task.is_mapped, executionTimeout: task.execution_timeout && task.execution_timeout.days * 86400 + task.execution_timeout.seconds})),
    })
    const runs = (await real(`dags/${e(dagId)}/dagRuns?limit=1000`)).body as {dag_runs: Array<{dag_run_id: string; state: 'queued' | 'running' | 'success' | 'failed'; end_date: string | null}>}
    for (const run of runs.dag_runs) {
      fixture.runs.push({dagId, runId: run.dag_run_id, state: run.state, endDate: run.end_date})
      const tis = (await real(`dags/${e(dagId)}/dagRuns/${e(run.dag_run_id)}/taskInstances?limit=1000`)).body as {task_instances: Array<Record<string, any>>}
      fixture.taskInstances.push(...tis.task_instances.map((ti): FakeTaskInstance => ({
        dagId, runId: run.dag_run_id, taskId: ti.task_id, mapIndex: ti.map_index, tryNumber: ti.try_number, state: ti.state, startDate: ti.start_date, dagVersionId: ti.dag_version?.id,
      })))
    }
  }
  for (const pod of pods.filter((p) => p.podNameXCom !== null)) {
    fixture.xcoms.push({dagId: pod.dagId, runId: pod.runId, taskId: pod.task_id, mapIndex: pod.map_index, key: 'pod_name', value: pod.podNameXCom})
  }
  const fake = await startFakeAirflowApi({personality: line === '3' ? 'v2' : 'v1', version}, fixture)
  return {read: ((path, body) => send(`${fake.url}/api/${line === '3' ? 'v2' : 'v1'}/${path}`, body)) as Reader, stop: () => fake.stop()}
}

/** How two answers differ in shape, one line per difference; empty when they agree. */
export function shapeDifferences(real: Answer, fake: Answer): string[] {
  const differences: string[] = []
  if (real.status !== fake.status) differences.push(`status: real ${real.status}, fake ${fake.status}`)
  if (real.type !== fake.type) differences.push(`content type: real ${real.type}, fake ${fake.type}`)
  compare(real.body, fake.body, '$', differences)
  return differences
}

function kind(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}

function compare(real: unknown, fake: unknown, at: string, out: string[]): void {
  const [r, f] = [kind(real), kind(fake)]
  if (r === 'null' || f === 'null') return // data: a value on one side, none on the other
  if (r !== f) {
    out.push(`${at}: real ${r}, fake ${f}`)
    return
  }
  const field = at.slice(at.lastIndexOf('.') + 1)
  if (FREE_FORM.has(field)) return
  if (r === 'array') {
    const [a, b] = [real as unknown[], fake as unknown[]]
    if (a.length > 0 && b.length > 0) compare(a[0], b[0], `${at}[]`, out)
    return
  }
  if (r !== 'object') return
  const [a, b] = [real as Record<string, unknown>, fake as Record<string, unknown>]
  for (const key of Object.keys(a)) if (!(key in b)) out.push(`${at}.${key}: only in the real answer`)
  for (const key of Object.keys(b)) if (!(key in a)) out.push(`${at}.${key}: only in the fake's`)
  for (const key of Object.keys(a)) if (key in b) compare(a[key], b[key], `${at}.${key}`, out)
}
