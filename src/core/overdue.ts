// Overdue classification, pure: which serialized DAG a try runs (FACTS §5.2), which pod is the
// try's own, and the verdict "this try has run longer than execution_timeout + grace" measured on
// the database's clock. The pipeline around it lives in src/reap/overdue.ts.
import type {ReportItem, TaskInstanceRef} from './report.js'
import {judgeOverdue} from './serialized-dag.js'
import type {PodRecord, TaskInstanceRow} from './types.js'
import {POD_CHOSEN_STATES, taskKeyString} from './types.js'
import {type PodMatch, ageSeconds, podGuard, toRef} from './zombies.js'

/** A running or deferred task instance, with what locates the serialized DAG its try was built from. */
export interface ExecutingTaskInstanceRow extends TaskInstanceRow {
  /** 3.x: task_instance.dag_version_id (the exact version of this try); null on 2.x or when unset. */
  dagVersionId: string | null
  /** 3.x: dag_run.created_dag_version_id (the version the run was created with); null on 2.x or when unset. */
  runDagVersionId: string | null
}

/** One serialized_dag row as stored: not decoded yet (that happens once per row, in the pipeline). */
export interface SerializedDagRow {
  dagId: string
  /** 3.x: dag_version.id; null on 2.x (one row per DAG). */
  versionId: string | null
  /** 3.x: dag_version.version_number, for messages. */
  versionNumber: number | null
  /** `data` as JSON text; null when the DAG is stored compressed. */
  data: string | null
  /** `data_compressed` (zlib, or gzip after a 3.1.x downgrade). */
  dataCompressed: Uint8Array | null
}

/** Where to look for a try's serialized DAG: an exact dag_version, or the DAG's latest row. */
export type DagSource = {kind: 'version'; versionId: string; dagId: string} | {kind: 'latest'; dagId: string}

export function dagSourceKey(source: DagSource): string {
  return source.kind === 'version' ? `version:${source.versionId}` : `latest:${source.dagId}`
}

/**
 * The sources to try, in order (FACTS §5.2). 3.x: the try's own dag_version, then the version the
 * dag run was created with, then the DAG's latest version. 2.x keeps one row per DAG (the latest
 * parse), so that is all there is.
 */
export function dagSourcesFor(ti: ExecutingTaskInstanceRow): DagSource[] {
  const sources: DagSource[] = []
  for (const versionId of [ti.dagVersionId, ti.runDagVersionId]) {
    if (versionId && !sources.some((s) => s.kind === 'version' && s.versionId === versionId)) {
      sources.push({kind: 'version', versionId, dagId: ti.dagId})
    }
  }
  sources.push({kind: 'latest', dagId: ti.dagId})
  return sources
}

function isExecuting(ti: TaskInstanceRow): boolean {
  return (POD_CHOSEN_STATES as readonly string[]).includes(ti.state ?? '')
}

/** The pod's own try among the matched task instances: running or deferred in the try its label names. */
export function currentTryTasks<T extends TaskInstanceRow>(match: PodMatch, tis: ReadonlyMap<string, T>): T[] {
  if (!match.labels) return []
  const podTry = match.labels.tryNumber
  const found: T[] = []
  for (const ti of match.activeTis) {
    const row = tis.get(taskKeyString(ti))
    if (row && isExecuting(row) && row.tryNumber === podTry) found.push(row)
  }
  return found
}

/**
 * With reattach_on_restart (the default) a new try adopts the running pod of the previous one, which
 * keeps its old try_number label (FACTS §1.1, §4.4). Such a pod is the current try's own when the
 * try's `pod_name` XCom names it: these are the task instances whose XCom decides that.
 */
export function reattachCandidates<T extends TaskInstanceRow>(match: PodMatch, tis: ReadonlyMap<string, T>): T[] {
  if (!match.labels) return []
  const podTry = match.labels.tryNumber
  const found: T[] = []
  for (const ti of match.activeTis) {
    const row = tis.get(taskKeyString(ti))
    if (row && isExecuting(row) && podTry < row.tryNumber) found.push(row)
  }
  return found
}

/** The current try's task instance for this pod: its own try, or a later try that re-attached to it. */
export function taskOfPod<T extends TaskInstanceRow>(
  match: PodMatch,
  tis: ReadonlyMap<string, T>,
  podNameXComs: ReadonlyMap<string, string | null>,
): {ti: T; reattached: boolean} | undefined {
  const own = currentTryTasks(match, tis)
  // Two raw keys that normalise alike are ambiguous: never act on a guess.
  if (own.length === 1) return {ti: own[0], reattached: false}
  if (own.length > 1) return undefined
  const adopters = reattachCandidates(match, tis).filter((ti) => podNameXComs.get(taskKeyString(ti)) === match.pod.name)
  return adopters.length === 1 ? {ti: adopters[0], reattached: true} : undefined
}

export interface OverdueOptions {
  /** The database's clock: never the laptop's. */
  dbNow: Date
  graceSeconds: number
}

export type TaskVerdict =
  | {overdue: false; why: 'no-timeout' | 'no-start-date' | 'within-timeout'}
  | {overdue: true; runningSeconds: number; overBySeconds: number; timeoutSeconds: number}

/**
 * Tasks without execution_timeout are never overdue, and a timeout of 0 is none (Airflow itself tests
 * `if task.execution_timeout:`, and timedelta(0) is false); nor is a try whose start is unknown.
 */
export function judgeTask(ti: TaskInstanceRow, timeoutSeconds: number | undefined, options: OverdueOptions): TaskVerdict {
  if (timeoutSeconds === undefined || timeoutSeconds === 0) return {overdue: false, why: 'no-timeout'}
  if (!ti.startDate) return {overdue: false, why: 'no-start-date'}
  const verdict = judgeOverdue(ti.startDate, timeoutSeconds, options.graceSeconds, options.dbNow)
  if (!verdict.overdue) return {overdue: false, why: 'within-timeout'}
  return {overdue: true, runningSeconds: verdict.runningSeconds, overBySeconds: verdict.overBySeconds, timeoutSeconds}
}

/** The report line of an overdue pod; guards that protect the pod turn it into a skip that says why. */
export function overdueItem(
  match: PodMatch,
  task: {ti: TaskInstanceRow; reattached: boolean},
  verdict: Extract<TaskVerdict, {overdue: true}>,
  options: OverdueOptions,
): ReportItem {
  const {pod} = match
  const {ti} = task
  const item: ReportItem = {
    kind: 'Pod',
    namespace: pod.namespace,
    name: pod.name,
    uid: pod.uid,
    ageSeconds: ageSeconds(pod, options.dbNow),
    reason: 'execution-timeout-exceeded',
    detail: overdueDetail(ti, task.reattached, verdict, options.graceSeconds),
    taskInstance: toRef(ti),
    action: 'none',
  }
  const guard = podGuard(match.pod)
  if (guard) {
    item.action = 'skipped'
    item.skipReason = guard.skipReason
    if (guard.note) item.detail = `${item.detail}; ${guard.note}`
  }
  return item
}

/**
 * A pod of a DAG the API's credentials may not read: whether its task ran past its timeout cannot be
 * known, so it is reported and left alone (not-permitted), never silently unseen.
 */
export function notPermittedItem(pod: PodRecord, dagId: string, dbNow: Date): ReportItem {
  return {
    kind: 'Pod',
    namespace: pod.namespace,
    name: pod.name,
    uid: pod.uid,
    ageSeconds: ageSeconds(pod, dbNow),
    reason: 'execution-timeout-exceeded',
    detail: `the Airflow API credentials may not read DAG ${dagId}: whether its task ran past its execution_timeout is unknown, so the pod is left alone`,
    taskInstance: null,
    action: 'skipped',
    skipReason: 'not-permitted',
  }
}

export function overdueDetail(
  ti: TaskInstanceRow,
  reattached: boolean,
  verdict: Extract<TaskVerdict, {overdue: true}>,
  graceSeconds: number,
): string {
  const adopted = reattached ? ', re-attached to this pod of an earlier try' : ''
  return (
    `try ${ti.tryNumber} (${ti.state ?? 'none'}${adopted}) running ${formatSpan(verdict.runningSeconds)}, ` +
    `execution_timeout ${formatSpan(verdict.timeoutSeconds)}, over by ${formatSpan(verdict.overBySeconds)} ` +
    `(+${formatSpan(graceSeconds)} grace)`
  )
}

/** What Airflow does once the pod is gone (FACTS §5.4), appended to a deleted item. */
export function afterDeleteNote(ti: TaskInstanceRef | null): string {
  const which = ti ? `try ${ti.tryNumber} of ${ti.dagId}.${ti.taskId}` : 'the try'
  return `Airflow will fail ${which} when it finds the pod gone (the trigger or the operator reports it missing); retries follow the task's retry policy`
}

/** A span as people read it: 45s, 1m30s, 30m, 2h0m, 1h30m (seconds only under 10 minutes, as kubectl's ages). */
export function formatSpan(totalSeconds: number): string {
  const seconds = Math.max(0, Math.round(totalSeconds))
  if (seconds < 60) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`
  if (minutes < 60) return `${minutes}m`
  return `${Math.floor(minutes / 60)}h${minutes % 60}m`
}
