// Zombie classification: pure verdicts with reasons (the shape of kubectl's drain filters). The
// pipeline around it (list pods → read DB → classify → re-check → act) lives in src/reap/.
import type {ReportItem, Reason, SkipReason, TaskInstanceRef} from './report.js'
import type {DagRunRow, PodRecord, TaskInstanceRow} from './types.js'
import {POD_CHOSEN_STATES, isActiveState, isKnownState, taskKeyString} from './types.js'
import {KEEP_ANNOTATION, type PodTaskLabels, labelNormaliser, mayBeRewritten, readPodTaskLabels, runLabelKey, taskLabelKey} from './labels.js'

/** Dag runs and task instances indexed by their label form, so pods can be looked up directly. */
export interface AirflowIndex {
  runs: Map<string, DagRunRow>
  /** Task instances (any state) by taskLabelKey. Arrays: two raw values may normalise alike. */
  tasks: Map<string, TaskInstanceRow[]>
}

export function buildAirflowIndex(runs: DagRunRow[], tis: TaskInstanceRow[]): AirflowIndex {
  const norm = labelNormaliser()
  const runIndex = new Map<string, DagRunRow>()
  for (const run of runs) runIndex.set(runLabelKey(norm(run.dagId), norm(run.runId)), run)
  return withTaskInstances({runs: runIndex, tasks: new Map()}, tis, norm)
}

/** The same runs with these task instances (and no others). */
export function withTaskInstances(index: AirflowIndex, tis: Iterable<TaskInstanceRow>, norm = labelNormaliser()): AirflowIndex {
  const tasks = new Map<string, TaskInstanceRow[]>()
  for (const ti of tis) {
    const key = taskLabelKey(norm(ti.dagId), norm(ti.taskId), norm(ti.runId), ti.mapIndex)
    const list = tasks.get(key)
    if (list) list.push(ti)
    else tasks.set(key, [ti])
  }
  return {runs: index.runs, tasks}
}

/** A pod looked up in the index: what we know before any verdict. */
export interface PodMatch {
  pod: PodRecord
  labels?: PodTaskLabels
  labelProblem?: string
  run?: DagRunRow
  /** The task instances of the pod's label key in an active state: what the verdict rests on. */
  activeTis: TaskInstanceRow[]
  /** The first task instance of its key in any state: what a zombie whose task finished is described by. */
  ownTaskInstance?: TaskInstanceRow
}

export function matchPod(pod: PodRecord, index: AirflowIndex): PodMatch {
  const read = readPodTaskLabels(pod.labels)
  if (!read.ok) return {pod, labelProblem: read.problem, activeTis: []}
  return rematch({pod, labels: read.labels, run: runOfLabels(read.labels, index), activeTis: []}, index)
}

/**
 * The same pod looked up again in an index with other task instances (its labels are read once). One
 * key, one lookup: the active rows judge it, the first row of any state describes it.
 */
export function rematch(match: PodMatch, index: AirflowIndex): PodMatch {
  if (!match.labels) return match
  const {dagId, taskId, runId, mapIndex} = match.labels
  const rows = index.tasks.get(taskLabelKey(dagId, taskId, runId, mapIndex)) ?? []
  return {...match, activeTis: rows.filter((ti) => isActiveState(ti.state)), ownTaskInstance: rows[0]}
}

/** The dag run a pod's labels name, if the index holds it. */
export function runOfPod(pod: PodRecord, index: AirflowIndex): DagRunRow | undefined {
  const read = readPodTaskLabels(pod.labels)
  return read.ok ? runOfLabels(read.labels, index) : undefined
}

function runOfLabels(labels: PodTaskLabels, index: AirflowIndex): DagRunRow | undefined {
  return index.runs.get(runLabelKey(labels.dagId, labels.runId))
}

/**
 * The pods (by position) in slices of at most `size`, each dag run's pods in one slice (a run with
 * more pods is a slice of its own), so a slice's reads never share a run or a task with another's.
 * The runs of one DAG are placed side by side, so a slice names few DAGs: a source that reads a
 * slice as DAGs × runs × tasks (the REST API's batch list) then reads few rows no pod needs.
 * Pods with no dag run in the index need no read and fill slices one by one.
 */
export function podSlicesByRun(pods: readonly PodRecord[], index: AirflowIndex, size: number): number[][] {
  const byDag = new Map<string, Map<DagRunRow, number[]>>()
  const alone: number[] = []
  pods.forEach((pod, at) => {
    const run = runOfPod(pod, index)
    if (!run) return alone.push(at)
    const runs = byDag.get(run.dagId) ?? byDag.set(run.dagId, new Map()).get(run.dagId)!
    if (runs.has(run)) runs.get(run)!.push(at)
    else runs.set(run, [at])
  })
  const byRun = [...byDag.values()].flatMap((runs) => [...runs.values()])
  const slices: number[][] = []
  let slice: number[] = []
  const place = (group: readonly number[]): void => {
    if (slice.length > 0 && slice.length + group.length > size) {
      slices.push(slice)
      slice = []
    }
    for (const at of group) slice.push(at)
  }
  for (const group of byRun) place(group)
  for (const at of alone) place([at])
  if (slice.length > 0) slices.push(slice)
  return slices
}

/**
 * Task instances whose `pod_name` XCom decides whether this pod is a stale try (FACTS §4.4): the
 * pod's try is older than the current one and the current try has already chosen its pod.
 */
export function needsPodNameXCom(match: PodMatch): TaskInstanceRow[] {
  if (!match.labels) return []
  const podTry = match.labels.tryNumber
  return match.activeTis.filter((ti) => podTry < ti.tryNumber && isPodChosen(ti))
}

function isPodChosen(ti: TaskInstanceRow): boolean {
  return (POD_CHOSEN_STATES as readonly string[]).includes(ti.state ?? '')
}

export interface ZombieOptions {
  now: Date
  minAgeSeconds: number
  includeUnknown: boolean
}

/** What the DB says about one pod: not a finding, or a finding with its reason (and maybe why it is left alone). */
export type ZombieVerdict =
  | {finding: false}
  | {finding: true; reason: Reason; detail: string; taskInstance: TaskInstanceRef | null; skipReason?: SkipReason}

/**
 * The verdict for one pod. `podNameXComs` maps taskKeyString → pod_name XCom (null: not a plain name).
 * The first filter that decides wins; guards that protect a pod (keep, too young) come after the DB verdict
 * so the report still says why the pod would have been a zombie.
 */
export function judgeZombie(
  match: PodMatch,
  podNameXComs: Map<string, string | null>,
  options: ZombieOptions,
): ZombieVerdict {
  const verdict = judgeAgainstAirflow(match, podNameXComs, options)
  if (!verdict.finding || verdict.skipReason) return verdict
  const protection = protectingGuard(match.pod, options)
  if (!protection) return verdict
  const detail = protection.note ? `${verdict.detail}; ${protection.note}` : verdict.detail
  return {...verdict, detail, skipReason: protection.skipReason}
}

function judgeAgainstAirflow(
  match: PodMatch,
  podNameXComs: Map<string, string | null>,
  options: ZombieOptions,
): ZombieVerdict {
  const {pod, labels} = match
  if (!labels) {
    return finding('no-active-task-instance', `cannot be matched to a task instance: ${match.labelProblem}`, null, 'missing-labels')
  }
  if (!match.run && !options.includeUnknown) {
    return finding(
      'no-active-task-instance',
      `dag run ${labels.dagId}/${labels.runId} is unknown to this Airflow (another Airflow, or a wrong --db or --airflow-url?)`,
      null,
      'unknown-dag-run',
    )
  }
  const unknownState = match.activeTis.find((ti) => !isKnownState(ti.state))
  if (unknownState) {
    const detail = `task instance is in state "${unknownState.state}", which this version does not know: counted as active (a newer Airflow may be running it), so the pod is left alone`
    return finding('no-active-task-instance', detail, toRef(unknownState), 'unknown-state')
  }
  if (match.activeTis.length === 0) {
    return finding('no-active-task-instance', 'no active task instance matches the pod\'s labels', null)
  }
  // A pod matching any active task instance in its current (or a newer) try is healthy.
  if (match.activeTis.some((ti) => labels.tryNumber >= ti.tryNumber)) return {finding: false}
  const ti = match.activeTis[0]
  const ref = toRef(ti)
  const podTry = labels.tryNumber
  if (!isPodChosen(ti)) {
    return finding('stale-try', `try ${podTry} is older than try ${ti.tryNumber} (${stateName(ti)}), which may still re-attach to it`, ref, 'may-be-reattached')
  }
  const xcom = podNameXComs.get(taskKeyString(ti))
  if (xcom === undefined || xcom === null) {
    const why = xcom === null ? 'its pod_name XCom is not a plain pod name' : 'it has no pod_name XCom yet'
    return finding('stale-try', `try ${podTry} is older than try ${ti.tryNumber} (${stateName(ti)}) but ${why}`, ref, 'may-be-reattached')
  }
  if (xcom === pod.name) {
    return finding('stale-try', `try ${ti.tryNumber} (${stateName(ti)}) re-attached to this pod of try ${podTry}`, ref, 'may-be-reattached')
  }
  if (ti.startDate && pod.creationTimestamp >= ti.startDate) {
    return finding('stale-try', `created after try ${ti.tryNumber} started, so it may belong to it`, ref, 'may-be-reattached')
  }
  return finding('stale-try', `try ${podTry} is older than try ${ti.tryNumber} (${stateName(ti)}), whose pod is ${xcom}`, ref)
}

/** Why a guard protects a pod: the skip reason, and what to add to the item's detail. */
export interface PodProtection {
  skipReason: SkipReason
  note?: string
}

/**
 * Guards every pod-deleting command applies, whatever its verdict: the keep annotation; a controller
 * owning the pod (KubernetesJobOperator's Job pods carry every KPO label, and the Job controller
 * would re-create a deleted pod: the Job is what to act on, not its pods); a deletion under way.
 */
export function podGuard(pod: PodRecord): PodProtection | undefined {
  if (pod.annotations[KEEP_ANNOTATION] === 'true') return {skipReason: 'keep-annotation'}
  const controller = pod.ownerReferences.find((owner) => owner.controller === true)
  if (controller) {
    const note = `owned by its controller ${controller.kind} ${pod.namespace}/${controller.name} (${controller.apiVersion}), which would re-create a deleted pod`
    return {skipReason: 'owned-by-controller', note}
  }
  if (pod.deletionTimestamp) return {skipReason: 'terminating'}
  return undefined
}

function protectingGuard(pod: PodRecord, options: ZombieOptions): PodProtection | undefined {
  const guard = podGuard(pod)
  if (guard) return guard
  if (ageSeconds(pod, options.now) < options.minAgeSeconds) return {skipReason: 'too-young'}
  return undefined
}

function finding(reason: Reason, detail: string, taskInstance: TaskInstanceRef | null, skipReason?: SkipReason): ZombieVerdict {
  return skipReason ? {finding: true, reason, detail, taskInstance, skipReason} : {finding: true, reason, detail, taskInstance}
}

function stateName(ti: TaskInstanceRow): string {
  return ti.state ?? 'none'
}

export function toRef(ti: TaskInstanceRow): TaskInstanceRef {
  return {dagId: ti.dagId, taskId: ti.taskId, runId: ti.runId, mapIndex: ti.mapIndex, tryNumber: ti.tryNumber, state: ti.state}
}

export function ageSeconds(pod: PodRecord, now: Date): number {
  return Math.max(0, Math.floor((now.getTime() - pod.creationTimestamp.getTime()) / 1000))
}

/** The report line for a pod that is a finding. `phase` is added later (reap/kpo-pods readPhases). */
export function zombieItem(match: PodMatch, verdict: Extract<ZombieVerdict, {finding: true}>, now: Date): ReportItem {
  const {pod} = match
  const item: ReportItem = {
    kind: 'Pod',
    namespace: pod.namespace,
    name: pod.name,
    uid: pod.uid,
    ageSeconds: ageSeconds(pod, now),
    reason: verdict.reason,
    detail: verdict.detail,
    taskInstance: verdict.taskInstance,
    action: verdict.skipReason ? 'skipped' : 'none',
  }
  if (verdict.skipReason) item.skipReason = verdict.skipReason
  return item
}

/**
 * Where the task instances that can match a pod are found. A task_id label that was not rewritten is
 * the task's own id, so its rows are read by key; a label that may have been rewritten (a task id over
 * 63 characters, or with characters labels cannot hold) can come from any task of the run, so the
 * whole run is read. dag_id and run_id come from the dag run the pod matched. Nothing to read without one.
 */
export type TaskInstanceSource = {task: {dagId: string; runId: string; taskId: string}} | {run: {dagId: string; runId: string}}

export function taskInstanceSource(match: PodMatch): TaskInstanceSource | undefined {
  if (!match.run || !match.labels) return undefined
  const run = {dagId: match.run.dagId, runId: match.run.runId}
  return mayBeRewritten(match.labels.taskId) ? {run} : {task: {...run, taskId: match.labels.taskId}}
}

/** Pods already Succeeded/Failed have stopped running; by default they are listed but not reaped. */
export const FINISHED_PHASES = ['Succeeded', 'Failed']
