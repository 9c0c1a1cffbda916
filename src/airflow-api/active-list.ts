// The unfinished task instances of every DAG in one list (REST-API.md §7): `/dags/~/dagRuns/~/
// taskInstances?state=…`, instead of one list per dag run or task owning a pod. It scales with the
// active task instances, not with the pods' runs, so a scan of many pods stays within the request
// budget; a scan of a few pods on a busy Airflow is cheaper with the per-task lists, and the caller
// asks this list only when it costs fewer requests (`cheaperThan`).
//
// Offset pages are not a snapshot: a row that leaves the filter between two pages shifts the next
// page past a row, and Airflow 2.10's list has no ORDER BY at all (any row may land on any page), so a
// row may be missed or seen twice. Such a list only ever clears a pod: a task it does not show active
// is read again by its own list, and a pod it does not clear is a candidate the proof settles by
// point reads (proof.ts). Rows are kept only when `keep` wants them, as each page arrives: memory
// follows the pods, not the active task instances.
import type {ExecutingTaskInstanceRow} from '../core/overdue.js'
import {taskKeyString} from '../core/types.js'
import {type Personality, taskInstanceFromApi} from './personality.js'
import type {QueryValue} from './url.js'

export const EVERY_RUN = ['dags', '~', 'dagRuns', '~', 'taskInstances'] as const

/** One page of a list: its rows and the server's count of the whole list (undefined when it sent none). */
export interface ListPage {
  rows: unknown[]
  total?: number
}

export interface ActiveListReader {
  readonly personality: Personality
  /** One page of EVERY_RUN with this query (limit and offset included). */
  page(query: Record<string, QueryValue>): Promise<ListPage>
}

export interface ActiveListRequest {
  /** The `state` filter: the states the list holds. */
  states: readonly string[]
  /** Rows asked per page (--airflow-page-size); the server may send fewer (3.2+ clamps silently). */
  pageSize: number
  /**
   * Requests the caller's other way would take: the list is read on only when its pages are fewer
   * (known from the first page's total_entries); otherwise undefined after that one page.
   */
  cheaperThan: number
  /**
   * Which rows to keep (the pods' tasks or runs), by the row's ids as listed, before the row is read
   * further: the others (most of the list) are never decoded. A kept row must have the shape of a task
   * instance (taskInstanceFromApi), else the list is an error.
   */
  keep: (ids: {dagId: unknown; runId: unknown; taskId: unknown}) => boolean
}

/**
 * The rows of the list that `keep` wants, each key once; undefined when the list would cost as many
 * requests as the caller's other way (or the server sends no count to tell). After the first page
 * (which gives total_entries and the page size the server really applies) the other pages are asked
 * together, the client keeping at most API_CONCURRENCY (4) in flight; each advances by the rows the
 * first page received, never by the limit asked for. A page that comes back short leaves a gap, read
 * after it page by page, and rows added under us (a later total_entries) are read to the end.
 */
export async function readActiveList(reader: ActiveListReader, request: ActiveListRequest): Promise<ExecutingTaskInstanceRow[] | undefined> {
  if (request.cheaperThan <= 1) return undefined
  const kept = new Map<string, ExecutingTaskInstanceRow>()
  const read = async (offset: number): Promise<ListPage> => {
    const page = await reader.page({state: [...request.states], limit: request.pageSize, offset})
    for (const raw of page.rows) {
      const row = raw as {dag_id?: unknown; dag_run_id?: unknown; task_id?: unknown} | null
      if (!request.keep({dagId: row?.dag_id, runId: row?.dag_run_id, taskId: row?.task_id})) continue
      const ti = taskInstanceFromApi(reader.personality, raw)
      kept.set(taskKeyString(ti), ti)
    }
    return page
  }
  const first = await read(0)
  const step = first.rows.length
  if (first.total === undefined) return undefined
  if (step === 0) return first.total === 0 ? [] : undefined
  if (Math.ceil(first.total / step) >= request.cheaperThan) return undefined
  const offsets: number[] = []
  for (let offset = step; offset < first.total; offset += step) offsets.push(offset)
  // Each page's rows are dropped once filtered: only its size and count are kept.
  const pages = await Promise.all(
    offsets.map(async (offset) => {
      const page = await read(offset)
      return {offset, received: page.rows.length, total: page.total ?? 0}
    }),
  )
  let total = pages.reduce((latest, page) => Math.max(latest, page.total), first.total)
  for (const {offset, received} of pages) {
    if (received < step) total = await readOn(read, offset + received, Math.min(offset + step, total), total)
  }
  const end = offsets.length > 0 ? offsets[offsets.length - 1]! + step : step
  await readOn(read, end, total, total)
  return [...kept.values()]
}

/**
 * Pages from `offset` until `to` (or an empty page), advanced by the rows received; returns the latest
 * total_entries seen. Bounded by the request budget like every request.
 */
async function readOn(read: (offset: number) => Promise<ListPage>, offset: number, to: number, total: number): Promise<number> {
  let latest = total
  while (offset < to) {
    const page = await read(offset)
    if (page.rows.length === 0) break
    offset += page.rows.length
    if (page.total !== undefined && page.total > latest) {
      // Rows added under us push the end of the list further: read on to the new end.
      if (to === latest) to = page.total
      latest = page.total
    }
  }
  return latest
}

