// The task-instance source over Airflow's REST API (v2 for 3.x, v1 for 2.7–2.10): the port's reads
// as run-scoped lists and point reads. Every list is paged by the rows received (never by the limit
// asked for: 3.2+ clamps it silently), and every answer is checked for the shape it must have.
import type {ExecutingTaskInstanceRow} from '../core/overdue.js'
import type {DagRunRow, TaskInstanceRow, TaskKey} from '../core/types.js'
import {POD_CHOSEN_STATES, dagRunKeyString, taskKeyString} from '../core/types.js'
import {uniqueRuns, uniqueTaskKeys, uniqueTaskRefs} from '../airflow/queries/dedupe.js'
import {UNFINISHED_RUN_STATES} from '../airflow/queries/states.js'
import type {DagRunRef, ExecutionTimeout, Proof, ProofRequest, TaskInstanceSource, TaskQuery, TaskRef} from '../airflow/types.js'
import {type AirflowApiClient, AirflowApiError, type ApiAnswer, NotPermittedError, detailOf} from './http.js'
import {BATCH_LIST, type BatchFilter, type BatchPage, type ListedIds, readBatchList} from './batch-list.js'
import {proveByPointReads} from './proof.js'
import {type Personality, hasBatchList, listsState, podNameFromApi, taskInstanceFromApi, timeDeltaSeconds} from './personality.js'
import {type QueryValue, requestUrl} from './url.js'

export const POD_NAME_XCOM_KEY = 'pod_name'

export {NotPermittedError} from './http.js'

/**
 * Pods a scan judges at a time (TaskInstanceSource.podsPerRead): one batch list per slice, its body
 * naming the slice's DAGs, runs and tasks (a few kB), its answer their rows (about 1,000 of ~2 kB in
 * pages of --airflow-page-size), garbage once the slice is judged.
 */
export const PODS_PER_BATCH = 1000

/** Dag runs one batch list of `executingTaskInstances` names. */
export const RUNS_PER_BATCH = 200

export class ApiTaskInstanceSource implements TaskInstanceSource {
  constructor(
    private readonly client: AirflowApiClient,
    readonly personality: Personality,
    /** Rows asked per page (--airflow-page-size). */
    private readonly pageSize: number,
    readonly podsPerRead = PODS_PER_BATCH,
  ) {}

  /** The server's clock, from the Date header of an unauthenticated read. */
  async now(): Promise<Date> {
    const answer = await this.client.get(this.url(['version']))
    if (!answer.date) throw new AirflowApiError('the Airflow API sent no Date header: its clock is unknown')
    return answer.date
  }

  /**
   * Unfinished runs (queued, running) and those that ended at or after `since`: two filtered lists of
   * `~`. Runs of DAGs the credentials may not read are left out by the server.
   */
  async dagRunsSince(since: Date): Promise<DagRunRow[]> {
    const path = ['dags', '~', 'dagRuns']
    const unfinished = await this.pages(path, 'dag_runs', {state: [...UNFINISHED_RUN_STATES]})
    const ended = await this.pages(path, 'dag_runs', {end_date_gte: since.toISOString()})
    const runs = new Map<string, DagRunRow>()
    for (const raw of [...unfinished, ...ended]) {
      const run = dagRunFromApi(raw)
      runs.set(JSON.stringify([run.dagId, run.runId]), run)
    }
    return [...runs.values()]
  }

  /** Every run of one DAG: its own list, no filter (the proof of a run_id label that was rewritten). */
  async dagRunsOfDag(dagId: string): Promise<DagRunRef[]> {
    return (await this.pages(['dags', dagId, 'dagRuns'], 'dag_runs', {}, dagId)).map(dagRunFromApi)
  }

  /**
   * Every task instance (any state) of these tasks (of a query's map index at least): one batch list of
   * their DAGs × runs × tasks (batch-list.ts), keeping only the rows asked for, then the tasks' own lists
   * for the queries it does not answer: a map index with no row (never created, or missed by pages that
   * shifted), and a task asked for whole that is mapped (its pages may have missed a map index). A
   * release without the batch's filters (2.7.0), or a batch the server refuses (v1: 403 when a DAG named
   * may not be read), reads each task's own list, which names a DAG it may not read.
   */
  async taskInstancesOfTasks(tasks: TaskQuery[]): Promise<TaskInstanceRow[]> {
    const unique = uniqueTaskRefs(tasks)
    const keys = new Set(tasks.flatMap((query) => (query.mapIndex === undefined ? [] : [taskKeyString({...query, mapIndex: query.mapIndex})])))
    const whole = new Set(tasks.filter((query) => query.mapIndex === undefined).map(taskRefString))
    const filter = {...idsOf(unique), taskIds: [...new Set(unique.map((task) => task.taskId))]}
    const listed = await this.batchList(filter, (ids) => keys.has(taskKeyString(ids as TaskKey)) || whole.has(taskRefString(ids)))
    if (!listed) return this.ownListsOfTasks(unique)
    const listedKeys = new Set(listed.map(taskKeyString))
    const unmapped = new Set(listed.filter((ti) => ti.mapIndex < 0).map(taskRefString))
    const answered = (query: TaskQuery) =>
      query.mapIndex === undefined ? unmapped.has(taskRefString(query)) : listedKeys.has(taskKeyString({...query, mapIndex: query.mapIndex}))
    const rest = await this.ownListsOfTasks(tasks.filter((query) => !answered(query)))
    // A task read by its own list is answered by that list alone (it is the later read).
    const reread = new Set(rest.map(taskRefString))
    return [...listed.filter((ti) => !reread.has(taskRefString(ti))), ...rest]
  }

  /** Each task's own list: v2 filters a run's list by task_id; v1 has no such filter, so it reads the run's list and keeps the tasks asked for. */
  async ownListsOfTasks(tasks: TaskRef[]): Promise<TaskInstanceRow[]> {
    const unique = uniqueTaskRefs(tasks)
    if (this.personality.api === 'v1') {
      const wanted = new Set(unique.map(taskRefString))
      return (await this.taskInstancesOfRuns(unique)).filter((ti) => wanted.has(taskRefString(ti)))
    }
    return concat(unique, (task) => this.runTaskInstances(task, {task_id: task.taskId}))
  }

  async taskInstancesOfRuns(runs: DagRunRef[]): Promise<TaskInstanceRow[]> {
    return concat(uniqueRuns(runs), (run) => this.runTaskInstances(run))
  }

  /**
   * The running and deferred task instances of these runs: batch lists of RUNS_PER_BATCH runs each
   * (their DAGs × runs, in those states), or, where there is no batch list or it is refused, a list per run.
   */
  async executingTaskInstances(runs: DagRunRef[]): Promise<ExecutingTaskInstanceRow[]> {
    const rows: ExecutingTaskInstanceRow[] = []
    const unique = uniqueRuns(runs)
    for (let at = 0; at < unique.length; at += RUNS_PER_BATCH) {
      const chunk = unique.slice(at, at + RUNS_PER_BATCH)
      const wanted = new Set(chunk.map((run) => dagRunKeyString(run.dagId, run.runId)))
      // dagRunKeyString's form, of ids not yet known to be strings.
      const listed = await this.batchList({...idsOf(chunk), states: POD_CHOSEN_STATES}, (ids) => wanted.has(JSON.stringify([ids.dagId, ids.runId])))
      rows.push(...(listed ?? (await concat(chunk, (run) => this.runTaskInstances(run, {state: [...POD_CHOSEN_STATES]})))))
    }
    return rows
  }

  /** One XCom entry read per task instance; 404: no XCom. The answer must be the entry asked for. */
  async podNameXComs(keys: TaskKey[]): Promise<Map<string, string | null>> {
    const names = new Map<string, string | null>()
    const read = async (key: TaskKey) => {
      const query: Record<string, QueryValue> = {map_index: key.mapIndex}
      // v2 after 3.3.2 falls back to an earlier run's XCom unless told not to (REST-API.md §2); releases
      // without the parameter ignore it, as FastAPI ignores unknown query parameters.
      // v1 rejects any parameter it does not define.
      if (this.personality.api === 'v2') Object.assign(query, {deserialize: false, stringify: false, include_prior_dates: false})
      const answer = await this.read(['dags', key.dagId, 'dagRuns', key.runId, 'taskInstances', key.taskId, 'xcomEntries', POD_NAME_XCOM_KEY], query, key.dagId)
      if (answer.status === 404) return
      const entry = answer.body as {key?: unknown; task_id?: unknown; map_index?: unknown; run_id?: unknown; value?: unknown}
      const same = entry.key === POD_NAME_XCOM_KEY && entry.task_id === key.taskId && entry.map_index === key.mapIndex && (entry.run_id === undefined || entry.run_id === key.runId)
      if (!same) throw new AirflowApiError(`the Airflow API answered the pod_name XCom of ${key.dagId}.${key.taskId} with another entry`)
      names.set(taskKeyString(key), podNameFromApi(entry.value))
    }
    await Promise.all(uniqueTaskKeys(keys).map(read))
    return names
  }

  /**
   * From each DAG's task list (one read per DAG). The API shows only the latest DAG version's tasks: on
   * v2 a try that runs an older version (ti.dag_version) is unknown, never judged by another version's
   * timeout. v1 (2.x) keeps one serialized DAG, as the DB does. The server applies its own
   * [core] default_task_execution_timeout when it loads the DAG, so `defaultSeconds` is not applied again.
   */
  async executionTimeouts(tis: ExecutingTaskInstanceRow[]): Promise<Map<string, ExecutionTimeout>> {
    const dagIds = [...new Set(tis.map((ti) => ti.dagId))]
    const byDag = new Map(await Promise.all(dagIds.map(async (dagId) => [dagId, await this.dagTimeouts(dagId)] as const)))
    return new Map(tis.map((ti) => [taskKeyString(ti), timeoutOf(byDag.get(ti.dagId)!, ti)]))
  }

  /** Point reads of each candidate's DAG, run and task instance (proof.ts): a list only ever clears a pod. */
  proveCandidates(request: ProofRequest): Promise<Proof> {
    return proveByPointReads(this, request)
  }

  /**
   * One `~` list per state, limit 1: the count is total_entries. DAGs the credentials may not read are
   * not counted; a state this release does not define (it would refuse the list) has none.
   */
  async taskInstanceStateCounts(states: readonly string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>()
    for (const state of states.filter((s) => listsState(this.personality, s))) {
      const answer = await this.read(['dags', '~', 'dagRuns', '~', 'taskInstances'], {state, limit: 1})
      const total = (answer.body as {total_entries?: unknown}).total_entries
      if (typeof total !== 'number') throw new AirflowApiError('the Airflow API answered a task-instance list without total_entries')
      if (total > 0) counts.set(state, total)
    }
    return counts
  }

  /** The rows of a batch list that `keep` wants; undefined when this release has none or the server refuses it (the caller reads them another way). */
  private async batchList(filter: BatchFilter, keep: (ids: ListedIds) => boolean): Promise<ExecutingTaskInstanceRow[] | undefined> {
    if (!hasBatchList(this.personality)) return undefined
    const reader = {personality: this.personality, page: (body: Record<string, unknown>) => this.batchPage(body)}
    const listed = await readBatchList(reader, filter, this.pageSize, keep)
    return listed === 'not-permitted' ? undefined : listed
  }

  /** One page of the batch list: a 403 that is not about the credentials themselves (http.ts) refuses a DAG it names. */
  private async batchPage(body: Record<string, unknown>): Promise<BatchPage | 'not-permitted'> {
    const answer = await this.client.list(this.url([...BATCH_LIST]), body)
    if (answer.status === 403) return 'not-permitted'
    if (answer.status >= 300) throw new AirflowApiError(`the Airflow API answered POST ${BATCH_LIST.join('/')} with ${answer.status}: ${detailOf(answer)}`, answer.status)
    const {task_instances: rows, total_entries: total} = answer.body as {task_instances?: unknown; total_entries?: unknown}
    if (!Array.isArray(rows) || typeof total !== 'number') throw new AirflowApiError(`the Airflow API answered POST ${BATCH_LIST.join('/')} without a task_instances list and its total_entries`)
    return {rows, total}
  }

  async close(): Promise<void> {
    // fetch's connection pool closes idle sockets itself; nothing is held open per source.
  }

  private async runTaskInstances(run: DagRunRef, query: Record<string, QueryValue> = {}): Promise<ExecutingTaskInstanceRow[]> {
    const path = ['dags', run.dagId, 'dagRuns', run.runId, 'taskInstances']
    const rows = await this.pages(path, 'task_instances', query, run.dagId)
    return rows.map((raw) => taskInstanceFromApi(this.personality, raw)).filter((ti) => ti.dagId === run.dagId && ti.runId === run.runId)
  }

  private async dagTimeouts(dagId: string): Promise<DagTimeouts> {
    const tasks = await this.read(['dags', dagId, 'tasks'], {}, dagId).catch(unknownOn403)
    if ('unknown' in tasks) return tasks
    if (tasks.status === 404) return {unknown: `the Airflow API knows no DAG ${dagId}`}
    const list = (tasks.body as {tasks?: unknown}).tasks
    if (!Array.isArray(list)) throw new AirflowApiError(`the Airflow API answered the tasks of ${dagId} without a task list`)
    const timeouts = new Map<string, number | undefined | 'malformed'>()
    for (const task of list as Array<{task_id?: unknown; execution_timeout?: unknown}>) {
      if (typeof task.task_id === 'string') timeouts.set(task.task_id, timeDeltaSeconds(task.execution_timeout))
    }
    if (this.personality.api === 'v1') return {timeouts}
    const details = await this.read(['dags', dagId, 'details'], {}, dagId)
    const latest = (details.body as {latest_dag_version?: {id?: unknown} | null}).latest_dag_version?.id
    return {timeouts, latestVersionId: typeof latest === 'string' ? latest : null}
  }

  /**
   * All rows of a list, page after page, advanced by the rows received, until an empty page or the
   * total_entries of the latest page; a row seen twice (rows added under us shift the offsets) is kept
   * once. v1 orders its task-instance lists by map_index with no tiebreaker, so offset pages of one
   * list may skip or repeat rows: a longer v1 list is read again whole, in one request, and must then
   * hold every row it counts.
   */
  private async pages(path: string[], field: string, query: Record<string, QueryValue>, dagId?: string): Promise<unknown[]> {
    const rows = new Map<string, unknown>()
    for (let offset = 0; ; ) {
      const page = await this.page(path, field, {...query, limit: this.pageSize, offset}, dagId)
      if (!page) return []
      const {total} = page
      if (offset === 0 && this.personality.api === 'v1' && total !== undefined && total > page.rows.length) return this.wholeV1List(path, field, query, total, dagId)
      if (page.rows.length === 0) break
      for (const row of page.rows) rows.set(rowKey(row), row)
      offset += page.rows.length
      // The latest count, not the first: rows added under us push the end of the list further.
      if (total !== undefined && offset >= total) break
    }
    return [...rows.values()]
  }

  private async wholeV1List(path: string[], field: string, query: Record<string, QueryValue>, total: number, dagId?: string): Promise<unknown[]> {
    const page = await this.page(path, field, {...query, limit: total, offset: 0}, dagId)
    const rows = new Map((page?.rows ?? []).map((row) => [rowKey(row), row]))
    if (rows.size < total) {
      throw new AirflowApiError(`the Airflow API listed ${rows.size} of the ${total} rows of ${path.join('/')} it counts (a page limit on the server?): nothing is decided on a partial list`)
    }
    return [...rows.values()]
  }

  /**
   * One page; undefined when the list's own DAG or run does not exist (404). A `~` list names nothing
   * that can be missing: a 404 there is a server that is not the API we think, never "no rows".
   */
  private async page(path: string[], field: string, query: Record<string, QueryValue>, dagId?: string): Promise<{rows: unknown[]; total?: number} | undefined> {
    const answer = await this.read(path, query, dagId)
    if (answer.status === 404 && dagId !== undefined) return undefined
    if (answer.status === 404) throw new AirflowApiError(`the Airflow API answered GET ${path.join('/')} with 404: ${detailOf(answer)}`, 404)
    const body = answer.body as Record<string, unknown>
    const rows = body[field]
    if (!Array.isArray(rows)) throw new AirflowApiError(`the Airflow API answered ${path.join('/')} without a ${field} list`)
    return {rows, total: typeof body.total_entries === 'number' ? body.total_entries : undefined}
  }

  /** A GET below /api/vN: 2xx and 404 are answers; 403 on a DAG's own path is NotPermittedError; anything else an error. */
  async read(segments: string[], query: Record<string, QueryValue>, dagId?: string): Promise<ApiAnswer> {
    const answer = await this.client.get(this.url(segments, query))
    if (answer.status < 300 || answer.status === 404) return answer
    if (answer.status === 403 && dagId !== undefined) throw new NotPermittedError(dagId)
    throw new AirflowApiError(`the Airflow API answered GET ${segments.join('/')} with ${answer.status}: ${detailOf(answer)}`, answer.status)
  }

  private url(segments: string[], query: Record<string, QueryValue> = {}): string {
    return requestUrl(this.client.base, ['api', this.personality.api, ...segments], query)
  }
}

type DagTimeouts = {timeouts: Map<string, number | undefined | 'malformed'>; latestVersionId?: string | null} | {unknown: string}

/**
 * The rows of every item's reads, in the items' order. The reads are started together: the client
 * keeps at most API_CONCURRENCY (4) of them in flight.
 */
async function concat<T, U>(items: T[], read: (item: T) => Promise<U[]>): Promise<U[]> {
  return (await Promise.all(items.map(read))).flat()
}

function timeoutOf(dag: DagTimeouts, ti: ExecutingTaskInstanceRow): ExecutionTimeout {
  if ('unknown' in dag) return {kind: 'unknown', reason: dag.unknown}
  if (dag.latestVersionId !== undefined && ti.dagVersionId !== dag.latestVersionId) {
    return {kind: 'unknown', reason: `${ti.dagId} changed since its try started (the API shows only the latest DAG version's tasks)`}
  }
  const seconds = dag.timeouts.get(ti.taskId)
  if (seconds === 'malformed') return {kind: 'unknown', reason: `the execution_timeout of ${ti.dagId}.${ti.taskId} is not a TimeDelta`}
  return seconds === undefined ? {kind: 'none'} : {kind: 'seconds', seconds}
}

function unknownOn403(error: unknown): {unknown: string} {
  if (error instanceof NotPermittedError) return {unknown: `the credentials may not read DAG ${error.dagId}`}
  throw error
}

/** What a batch list names for these runs (or tasks): their DAGs and run ids, each once. */
function idsOf(runs: readonly DagRunRef[]): {dagIds: string[]; runIds: string[]} {
  return {dagIds: [...new Set(runs.map((run) => run.dagId))], runIds: [...new Set(runs.map((run) => run.runId))]}
}

/** A task of a dag run (every map index of it), as a map key; of a listed row's ids too, before they are checked. */
function taskRefString(task: {dagId: unknown; runId: unknown; taskId: unknown}): string {
  return JSON.stringify([task.dagId, task.runId, task.taskId])
}

/** The identity of a listed task instance or dag run, to keep each once. */
function rowKey(row: unknown): string {
  const r = row as {dag_id?: unknown; dag_run_id?: unknown; task_id?: unknown; map_index?: unknown}
  return JSON.stringify([r.dag_id, r.dag_run_id, r.task_id ?? null, r.map_index ?? null])
}

function dagRunFromApi(raw: unknown): DagRunRow {
  const run = raw as {dag_id?: unknown; dag_run_id?: unknown; state?: unknown; end_date?: unknown}
  if (typeof run?.dag_id !== 'string' || typeof run.dag_run_id !== 'string') throw new AirflowApiError('the Airflow API returned a dag run without dag_id or dag_run_id')
  const end = typeof run.end_date === 'string' ? new Date(run.end_date) : null
  return {dagId: run.dag_id, runId: run.dag_run_id, state: typeof run.state === 'string' ? run.state : null, endDate: end && !Number.isNaN(end.getTime()) ? end : null}
}
