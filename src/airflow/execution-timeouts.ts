// execution_timeout per task instance from the metadata DB: which serialized_dag row a try was built
// from (FACTS §5.2, the rule is core's dagSourcesFor), read in as few rounds as the fallbacks allow,
// each row decoded and parsed once however many task instances use it.
import {type DagSource, type ExecutingTaskInstanceRow, type SerializedDagRow, dagSourceKey, dagSourcesFor} from '../core/overdue.js'
import {taskKeyString} from '../core/types.js'
import {decodeSerializedDag, executionTimeouts} from './serialized-dag.js'
import type {ExecutionTimeout} from './types.js'

/** Which serialized DAG rows to read. */
export interface SerializedDagRequest {
  /** 3.x: dag_version ids (as the DB returned them). Ignored on 2.x, which has no versions. */
  versionIds: string[]
  /** DAGs whose latest row is wanted: 2.x their one serialized_dag row, 3.x the row of their newest dag_version. */
  latestOf: string[]
}

export interface SerializedDagRows {
  /** By dag_version id; a requested id without a row is absent. */
  byVersion: Map<string, SerializedDagRow>
  /** By dag_id; a requested DAG without a row is absent. */
  latest: Map<string, SerializedDagRow>
}

export type ReadSerializedDags = (request: SerializedDagRequest) => Promise<SerializedDagRows>

/**
 * The answer for every task instance given. A DAG without a readable row makes its tasks `unknown`
 * with the reason; a task its row does not list has none. At most three rounds of reads (3.x: the
 * try's version, then the run's, then the latest), usually one.
 */
export async function resolveExecutionTimeouts(
  read: ReadSerializedDags,
  tis: ExecutingTaskInstanceRow[],
  defaultSeconds?: number,
): Promise<Map<string, ExecutionTimeout>> {
  const rows = await readRowsOfTries(read, tis)
  const parsed = new Map<string, Map<string, number | undefined> | string>() // per row, parsed once; a string: why not
  const answers = new Map<string, ExecutionTimeout>()
  for (const ti of tis) {
    const row = rows.of(ti)
    if (!row) {
      answers.set(taskKeyString(ti), {kind: 'unknown', reason: `no serialized DAG of ${ti.dagId} in the Airflow DB`})
      continue
    }
    const rowKey = row.versionId ? `version:${row.versionId}` : `dag:${row.dagId}`
    if (!parsed.has(rowKey)) parsed.set(rowKey, parseRow(row, defaultSeconds))
    const byTask = parsed.get(rowKey)!
    if (typeof byTask === 'string') {
      answers.set(taskKeyString(ti), {kind: 'unknown', reason: byTask})
      continue
    }
    const seconds = byTask.get(ti.taskId)
    answers.set(taskKeyString(ti), seconds === undefined ? {kind: 'none'} : {kind: 'seconds', seconds})
  }
  return answers
}

/** The row each try runs: its sources are tried in order, each round reading only what is still missing. */
async function readRowsOfTries(read: ReadSerializedDags, tis: ExecutingTaskInstanceRow[]) {
  const rows = new Map<string, SerializedDagRow | null>() // dagSourceKey → row, null: no such row
  const sourcesOf = new Map(tis.map((ti) => [taskKeyString(ti), dagSourcesFor(ti)]))
  const resolve = (ti: ExecutingTaskInstanceRow): DagSource | undefined =>
    sourcesOf.get(taskKeyString(ti))!.find((source) => rows.get(dagSourceKey(source)) !== null)
  for (;;) {
    const wanted = new Map<string, DagSource>()
    for (const ti of tis) {
      const source = resolve(ti)
      if (source && !rows.has(dagSourceKey(source))) wanted.set(dagSourceKey(source), source)
    }
    if (wanted.size === 0) break
    const sources = [...wanted.values()]
    const found = await read({
      versionIds: sources.flatMap((s) => (s.kind === 'version' ? [s.versionId] : [])),
      latestOf: sources.flatMap((s) => (s.kind === 'latest' ? [s.dagId] : [])),
    })
    for (const source of sources) {
      const row = source.kind === 'version' ? found.byVersion.get(source.versionId) : found.latest.get(source.dagId)
      rows.set(dagSourceKey(source), row ?? null)
    }
  }
  return {
    of(ti: ExecutingTaskInstanceRow): SerializedDagRow | undefined {
      const source = resolve(ti)
      return (source && rows.get(dagSourceKey(source))) ?? undefined
    },
  }
}

/** Timeouts by task_id, or why the row cannot be read. */
function parseRow(row: SerializedDagRow, defaultSeconds?: number): Map<string, number | undefined> | string {
  try {
    return executionTimeouts(decodeSerializedDag(row.data, row.dataCompressed), defaultSeconds)
  } catch (error) {
    const version = row.versionNumber === null ? '' : ` (version ${row.versionNumber})`
    return `the serialized DAG of ${row.dagId}${version} cannot be read (${firstLine(error)})`
  }
}

/** Decoding and parsing throw plain errors (zlib, JSON.parse, the shape checks): their first line says why. */
function firstLine(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0] : String(error)
}
