// Zombie classification: pure verdicts with reasons (the shape of kubectl's drain filters). The
// pipeline around it (list pods → read DB → classify → re-check → act) lives in src/reap/.
import type {ReportItem, Reason, SkipReason, TaskInstanceRef} from './report.js'
import type {DagRunRow, PodRecord, TaskInstanceRow} from './types.js'
import {POD_CHOSEN_STATES, isActiveState, isKnownState, taskKeyString} from './types.js'
import {KEEP_ANNOTATION, type PodTaskLabels, labelNormaliser, mayBeRewritten, readPodTaskLabels, runLabelKey, taskLabelKey} from './labels.js'

/** Dag runs and task instances indexed by their label form, so pods can be looked up directly. */
export interface AirflowIndex {
  runs: Map<string, DagRunRow>
  /** Active task instances by taskLabelKey. Arrays: two raw values may normalise alike. */
  activeTasks: Map<string, TaskInstanceRow[]>
}

export function buildAirflowIndex(runs: DagRunRow[], activeTis: TaskInstanceRow[]): AirflowIndex {
  const norm = labelNormaliser()
  const runIndex = new Map<string, DagRunRow>()
  for (const run of runs) runIndex.set(runLabelKey(norm(run.dagId), norm(run.runId)), run)
  return withActiveTasks({runs: runIndex, activeTasks: new Map()}, activeTis, norm)
}

/** The same runs with these task instances as the active ones (those in an active state; others are ignored). */
export function withActiveTasks(index: AirflowIndex, tis: TaskInstanceRow[], norm = labelNormaliser()): AirflowIndex {
  const tasks = new Map<string, TaskInstanceRow[]>()
  for (const ti of tis) {
    if (!isActiveState(ti.state)) continue
    const key = taskLabelKey(norm(ti.dagId), norm(ti.taskId), norm(ti.runId), ti.mapIndex)
    const list = tasks.get(key)
    if (list) list.push(ti)
    else tasks.set(key, [ti])
  }
  return {runs: index.runs, activeTasks: tasks}
}

/** A pod looked up in the index: what we know before any verdict. */
export interface PodMatch {
  pod: PodRecord
  labels?: PodTaskLabels
  labelProblem?: string
  run?: DagRunRow
  activeTis: TaskInstanceRow[]
}

/** The same pod looked up again in an index with more task instances (its labels are read once). */
export function rematch(match: PodMatch, index: AirflowIndex): PodMatch {
  if (!match.labels) return match
  const {dagId, taskId, runId, mapIndex} = match.labels
  return {...match, activeTis: index.activeTasks.get(taskLabelKey(dagId, taskId, runId, mapIndex)) ?? []}
}

export function matchPod(pod: PodRecord, index: AirflowIndex): PodMatch {
  const read = readPodTaskLabels(pod.labels)
  if (!read.ok) return {pod, labelProblem: read.problem, activeTis: []}
  const {dagId, taskId, runId, mapIndex} = read.labels
  return {
    pod,
    labels: read.labels,
    run: index.runs.get(runLabelKey(dagId, runId)),
    activeTis: index.activeTasks.get(taskLabelKey(dagId, taskId, runId, mapIndex)) ?? [],
  }
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
 * Task instances by the label form of their key, for describing zombies: the first row of each key
 * (two raw ids may normalise alike). One pass, so describing many pods stays linear.
 */
export function taskInstancesByLabel(tis: TaskInstanceRow[]): Map<string, TaskInstanceRow> {
  const norm = labelNormaliser()
  const byLabel = new Map<string, TaskInstanceRow>()
  for (const ti of tis) {
    const key = taskLabelKey(norm(ti.dagId), norm(ti.taskId), norm(ti.runId), ti.mapIndex)
    if (!byLabel.has(key)) byLabel.set(key, ti)
  }
  return byLabel
}

/** For a no-active-task-instance zombie, the task instance it belonged to (if the DB still has it). */
export function taskInstanceOfPod(labels: PodTaskLabels, byLabel: Map<string, TaskInstanceRow>): TaskInstanceRow | undefined {
  return byLabel.get(taskLabelKey(labels.dagId, labels.taskId, labels.runId, labels.mapIndex))
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
