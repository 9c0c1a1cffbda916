// The task instances of named DAGs, runs and tasks in one list: the batch list `POST /dags/~/dagRuns/~/
// taskInstances/list` (v1 from 2.7.1, every 3.x on v2), whose body names them (`dag_ids`, `dag_run_ids`,
// `task_ids`, `state`: each list OR'd within, the lists AND'd across), paged by `page_offset` and
// `page_limit`. A scan reads the rows of its pods' own tasks with it, a slice of pods at a time, instead
// of every DAG's active task instances (most of which no pod needs) or a list per task or run.
//
// Offset pages are not a snapshot. v2 orders by the task instance's id (the primary key, which SortParam
// appends to any order); a try that starts anew gets a new id on 3.x, so a row can move to the end
// between two pages and shift the next page past a row. 2.x's batch has no ORDER BY at all (2.10.5's
// get_task_instances_batch): the database may return the rows of two pages in two orders, so a v1 list
// longer than its first page is asked again whole, in one request (2.x does not cap page_limit there;
// before 2.10.3 it ignored paging and always answered whole). A row missed all the same only ever makes
// a candidate: the caller reads a task it does not answer by the task's own list, and every pod a
// verdict would act on is re-proved by point reads (proof.ts). Rows are kept only when `keep` wants them,
// as each page arrives: memory follows the rows asked for, not the pages.
import type {ExecutingTaskInstanceRow} from '../core/overdue.js'
import {taskKeyString} from '../core/types.js'
import {AirflowApiError} from './http.js'
import {type Personality, taskInstanceFromApi} from './personality.js'

export const BATCH_LIST = ['dags', '~', 'dagRuns', '~', 'taskInstances', 'list'] as const

/** What a batch list holds: the rows of every combination of these DAGs, runs and tasks (in these states). */
export interface BatchFilter {
  dagIds: readonly string[]
  runIds: readonly string[]
  taskIds?: readonly string[]
  states?: readonly string[]
}

/** One page: its rows and the server's count of the whole list. */
export interface BatchPage {
  rows: unknown[]
  total: number
}

export interface BatchReader {
  readonly personality: Personality
  /** One page of the batch list with this body; `not-permitted` when the server refuses it (v1: 403 if any DAG named may not be read). */
  page(body: Record<string, unknown>): Promise<BatchPage | 'not-permitted'>
}

/** The ids of a listed row, before it is decoded (and before they are known to be of the right types). */
export interface ListedIds {
  dagId: unknown
  runId: unknown
  taskId: unknown
  mapIndex: unknown
}

/**
 * The rows of the batch list that `keep` wants, each key once; `not-permitted` when the server refuses
 * the request (the caller reads the same rows another way). After the first page (which gives
 * total_entries and the page size the server really applies) the other pages are asked together, the
 * client keeping at most API_CONCURRENCY (4) in flight; each advances by the rows the first page
 * received, never by the limit asked for (#73409 would make the batch cap it). A page that comes back
 * short leaves a gap, read after it page by page, and rows added under us (a later total_entries) are
 * read to the end.
 */
export async function readBatchList(
  reader: BatchReader,
  filter: BatchFilter,
  pageSize: number,
  keep: (ids: ListedIds) => boolean,
): Promise<ExecutingTaskInstanceRow[] | 'not-permitted'> {
  const kept = new Map<string, ExecutingTaskInstanceRow>()
  const read = async (offset: number, limit: number): Promise<BatchPage> => {
    const page = await reader.page(batchBody(reader.personality, filter, offset, limit))
    if (page === 'not-permitted') throw new Refused()
    for (const raw of page.rows) {
      const row = raw as {dag_id?: unknown; dag_run_id?: unknown; task_id?: unknown; map_index?: unknown} | null
      if (!keep({dagId: row?.dag_id, runId: row?.dag_run_id, taskId: row?.task_id, mapIndex: row?.map_index})) continue
      const ti = taskInstanceFromApi(reader.personality, raw)
      kept.set(taskKeyString(ti), ti)
    }
    return page
  }
  try {
    const first = await read(0, pageSize)
    const step = first.rows.length
    if (step >= first.total) return [...kept.values()]
    if (step === 0) throw new AirflowApiError(`the Airflow API answered a batch task-instance list with no rows of the ${first.total} it counts`)
    let start = step
    let total = first.total
    if (reader.personality.api === 'v1') {
      const whole = await read(0, first.total)
      start = whole.rows.length
      total = Math.max(total, whole.total)
    }
    await readRest((offset) => read(offset, pageSize), start, step, total)
    return [...kept.values()]
  } catch (error) {
    if (error instanceof Refused) return 'not-permitted'
    throw error
  }
}

/** The request body: only fields every supported release defines (2.x refuses an unknown one with 400, 3.x with 422). */
function batchBody(personality: Personality, filter: BatchFilter, offset: number, limit: number): Record<string, unknown> {
  const body: Record<string, unknown> = {dag_ids: filter.dagIds, dag_run_ids: filter.runIds}
  if (filter.taskIds) body.task_ids = filter.taskIds
  if (filter.states) body.state = filter.states
  body.page_offset = offset
  body.page_limit = limit
  // Said explicitly (3.0–3.3 allow `id`): pages of one list must follow one order.
  if (personality.api === 'v2') body.order_by = 'id'
  return body
}

/** The pages from `start` to `total`, `step` rows apart, asked together; then the gaps short pages left, and rows added under us. */
async function readRest(read: (offset: number) => Promise<BatchPage>, start: number, step: number, total: number): Promise<void> {
  const offsets: number[] = []
  for (let offset = start; offset < total; offset += step) offsets.push(offset)
  // Each page's rows are dropped once filtered: only its size and count are kept.
  const pages = await Promise.all(
    offsets.map(async (offset) => {
      const page = await read(offset)
      return {offset, received: page.rows.length, total: page.total}
    }),
  )
  let latest = pages.reduce((most, page) => Math.max(most, page.total), total)
  for (const {offset, received} of pages) {
    if (received < step) latest = await readOn(read, offset + received, Math.min(offset + step, latest), latest)
  }
  const end = offsets.length > 0 ? offsets[offsets.length - 1]! + step : start
  await readOn(read, end, latest, latest)
}

/**
 * Pages from `offset` until `to` (or an empty page), advanced by the rows received; returns the latest
 * total_entries seen. Bounded by the request budget like every request.
 */
async function readOn(read: (offset: number) => Promise<BatchPage>, offset: number, to: number, total: number): Promise<number> {
  let latest = total
  while (offset < to) {
    const page = await read(offset)
    if (page.rows.length === 0) break
    offset += page.rows.length
    if (page.total > latest) {
      // Rows added under us push the end of the list further: read on to the new end.
      if (to === latest) to = page.total
      latest = page.total
    }
  }
  return latest
}

/** A page the server refused: the whole list is read another way. */
class Refused extends Error {}
