// The overdue use case: list pods → read the Airflow DB (its clock, the pods' runs, their running and
// deferred task instances, the serialized DAGs of those tries) → judge → (re-check → guarded delete).
// As in zombies, pods are listed BEFORE the DB is read, and each candidate is checked again against a
// fresh read just before it is deleted. Matching and deletion are the zombies command's own code.
import type {TaskInstanceSource} from '../airflow/types.js'
import {
  type ExecutingTaskInstanceRow,
  currentTryTasks,
  afterDeleteNote,
  judgeTask,
  notPermittedItem,
  overdueItem,
  reattachCandidates,
  taskOfPod,
} from '../core/overdue.js'
import type {ReportItem} from '../core/report.js'
import type {DagRunRow, PodRecord, TaskInstanceRow} from '../core/types.js'
import {POD_CHOSEN_STATES, taskKeyString} from '../core/types.js'
import {FINISHED_PHASES, type PodMatch, buildAirflowIndex, matchPod} from '../core/zombies.js'
import type {KubeClient} from '../kube/client.js'
import {type PodDeletion, reapPods} from './guarded-delete.js'
import {dagRunsOwning, listKpoPods, markSkipped, readPhases} from './kpo-pods.js'
import type {Progress} from './progress.js'
import type {ActionJournal} from './recorder.js'

export interface OverdueScanConfig {
  namespace?: string // undefined: all namespaces
  selector?: string
  /** Extra time past execution_timeout before a try counts as overdue. */
  graceSeconds: number
  concurrency: number
  /**
   * Airflow 2.x's `[core] default_task_execution_timeout` (seconds), for tasks serialized without the
   * field. Not applied to Airflow 3, whose task SDK does not apply that option.
   */
  defaultTimeoutSeconds?: number
}

export interface OverdueDeps {
  kube: KubeClient
  db: TaskInstanceSource
  progress: Progress
  signal?: AbortSignal
  /** Where each delete is journaled as it happens. */
  journal?: ActionJournal
}

/** One overdue pod: its report line plus the task instance the re-check compares with (none when its DAG may not be read). */
export interface OverdueFinding {
  pod: PodRecord
  ti: TaskInstanceRow | null
  item: ReportItem
}

export interface OverdueScan {
  scanned: number
  findings: OverdueFinding[]
  /** DAGs whose serialized form is missing or unreadable (their tasks were not judged). */
  warnings: string[]
}

export async function scanOverdue(deps: OverdueDeps, config: OverdueScanConfig): Promise<OverdueScan> {
  const {kube, db, progress} = deps
  progress.update('listing KubernetesPodOperator pods')
  const pods = await listKpoPods(kube, config, deps.signal)
  deps.journal?.listed?.(pods.length)
  if (pods.length === 0) return {scanned: 0, findings: [], warnings: []}

  progress.update(`reading Airflow for ${pods.length} pods`)
  // Every verdict is measured on the DB's clock, which also wrote start_date: the laptop's clock never counts.
  const dbNow = await db.now()
  const runs = await dagRunsOwning(db, pods)
  const tasks = await tasksOfPods(db, pods, runs)
  progress.update(`reading the serialized DAGs of ${tasks.length} running or deferred tasks`)
  const {timeouts, warnings} = await readExecutionTimeouts(
    db,
    tasks.map((t) => t.ti),
    config.defaultTimeoutSeconds,
  )
  for (const warning of warnings) progress.warn(warning)

  const options = {dbNow, graceSeconds: config.graceSeconds}
  const findings: OverdueFinding[] = []
  for (const task of tasks) {
    const key = taskKeyString(task.ti)
    if (!timeouts.has(key)) continue // its DAG could not be read: not judged (a warning says so)
    const verdict = judgeTask(task.ti, timeouts.get(key), options)
    if (!verdict.overdue) continue
    findings.push({pod: task.match.pod, ti: task.ti, item: overdueItem(task.match, task, verdict, options)})
  }
  findings.push(...(await podsOfUnreadableDags(db, pods, runs, dbNow)))
  // What a dry run reports as overdue is what `-o name` pipes to kubectl delete: proved as a delete is.
  progress.update(`re-reading ${findings.length} overdue task instances`)
  await recheck(db, findings)
  progress.update(`reading ${findings.length} overdue pods`)
  await addPhases(kube, findings, config, deps.signal)
  return {scanned: pods.length, findings, warnings}
}

interface PodTask {
  match: PodMatch
  ti: ExecutingTaskInstanceRow
  reattached: boolean
}

/**
 * Matches pods to the running/deferred task instance of their own try, through the same index and
 * label normalisation as zombies. A pod of an older try counts only when the current try re-attached
 * to it (its pod_name XCom names the pod); anything else about older tries is the zombies command's.
 */
async function tasksOfPods(db: TaskInstanceSource, pods: PodRecord[], runs: DagRunRow[]): Promise<PodTask[]> {
  const runIndex = buildAirflowIndex(runs, [])
  const podRuns = pods.flatMap((pod) => matchPod(pod, runIndex).run ?? []) // the DB reads each run once
  if (podRuns.length === 0) return []
  const tis = await db.executingTaskInstances(podRuns)
  const byKey = new Map(tis.map((ti) => [taskKeyString(ti), ti]))
  const index = buildAirflowIndex(runs, tis)
  const matches = pods.map((pod) => matchPod(pod, index))
  const xcomKeys = matches.filter((m) => currentTryTasks(m, byKey).length === 0).flatMap((m) => reattachCandidates(m, byKey))
  const xcoms = xcomKeys.length > 0 ? await db.podNameXComs(xcomKeys) : new Map<string, string | null>()
  const tasks: PodTask[] = []
  for (const match of matches) {
    const task = taskOfPod(match, byKey, xcoms)
    if (task) tasks.push({match, ...task})
  }
  return tasks
}

/**
 * Pods whose dag run the run list did not hold, of DAGs the credentials may not read: the API's `~`
 * lists leave such DAGs out without a word, so their pods would go unseen. The proof reads each such
 * DAG by its id (403: not permitted); they are reported skipped not-permitted, as zombies does. The DB
 * reads every DAG: none, and no statement is sent.
 */
async function podsOfUnreadableDags(db: TaskInstanceSource, pods: PodRecord[], runs: DagRunRow[], dbNow: Date): Promise<OverdueFinding[]> {
  const runIndex = buildAirflowIndex(runs, [])
  const unmatched = pods.map((pod) => matchPod(pod, runIndex)).filter((match) => match.labels && !match.run)
  if (unmatched.length === 0) return []
  const missingRuns = unmatched.map((match) => ({dagId: match.labels!.dagId, runId: match.labels!.runId}))
  const {notPermitted} = await db.proveCandidates({tasks: [], runs: [], missingRuns})
  return unmatched
    .filter((match) => notPermitted.has(match.labels!.dagId))
    .map((match) => ({pod: match.pod, ti: null, item: notPermittedItem(match.pod, match.labels!.dagId, dbNow)}))
}

/**
 * execution_timeout per task instance (keyed by taskKeyString; undefined: none). A task whose timeout
 * is unknown (its DAG could not be read) has no entry and is not judged; a warning per reason says so.
 */
export async function readExecutionTimeouts(
  db: TaskInstanceSource,
  tis: ExecutingTaskInstanceRow[],
  defaultSeconds?: number,
): Promise<{timeouts: Map<string, number | undefined>; warnings: string[]}> {
  const timeouts = new Map<string, number | undefined>()
  const warnings = new Set<string>()
  for (const [key, answer] of await db.executionTimeouts(tis, defaultSeconds)) {
    if (answer.kind === 'unknown') warnings.add(`${answer.reason}: its tasks are not judged`)
    else timeouts.set(key, answer.kind === 'seconds' ? answer.seconds : undefined)
  }
  return {timeouts, warnings: [...warnings]}
}

/** The phase of each finding: a pod that already finished is left to Airflow. */
async function addPhases(kube: KubeClient, findings: OverdueFinding[], config: OverdueScanConfig, signal?: AbortSignal): Promise<void> {
  const items = findings.map((f) => f.item)
  await readPhases(kube, items, config, signal)
  for (const item of items) {
    if (item.phase && FINISHED_PHASES.includes(item.phase) && item.action === 'none') {
      const how = item.phase === 'Succeeded' ? 'succeeded' : 'failed'
      markSkipped(item, 'finished', `${item.detail}; the pod already ${how}, Airflow will pick up its result`)
    }
  }
}

/**
 * Deletes the overdue pods through the shared sequence (sanity stop → cap → re-check → guarded delete).
 * Returns the sanity-stop message when it refused (nothing deleted), else undefined.
 */
export async function reapOverdue(deps: OverdueDeps, scan: OverdueScan, deletion: PodDeletion): Promise<string | undefined> {
  const stop = await reapPods(deps, scan, deletion, (chosen) => recheck(deps.db, chosen))
  for (const {item} of scan.findings) {
    if (item.action === 'deleted') item.detail = `${item.detail}; ${afterDeleteNote(item.taskInstance)}`
  }
  return stop
}

/**
 * Reads the candidates' task instances again (all states; the source's proof: each read by itself
 * where its lists are not snapshots) and keeps only those still running or deferred in the same try,
 * started at the same instant: anything else means Airflow moved on (the task finished, failed or was
 * retried), and the pod is left alone, as is one whose DAG the credentials may not read. A failed read
 * throws: nothing is deleted.
 */
async function recheck(db: TaskInstanceSource, chosen: OverdueFinding[]): Promise<OverdueFinding[]> {
  const pending = chosen.filter((f): f is OverdueFinding & {ti: TaskInstanceRow} => f.item.action !== 'skipped' && f.ti !== null)
  if (pending.length === 0) return []
  const proof = await db.proveCandidates({tasks: pending.map((f) => f.ti), runs: [], missingRuns: []})
  const now = new Map(proof.taskInstances.map((ti) => [taskKeyString(ti), ti]))
  const confirmed: OverdueFinding[] = []
  for (const finding of pending) {
    if (proof.notPermitted.has(finding.ti.dagId)) {
      markSkipped(finding.item, 'not-permitted', `the Airflow API credentials may not read DAG ${finding.ti.dagId}: the task instance cannot be re-read, so the pod is left alone`)
      continue
    }
    const ti = now.get(taskKeyString(finding.ti))
    if (ti && sameTry(finding.ti, ti)) {
      confirmed.push(finding)
      continue
    }
    const state = ti ? `now ${ti.state ?? 'none'} in try ${ti.tryNumber}` : 'its task instance is gone'
    markSkipped(finding.item, 'changed-concurrently', `the task instance changed since the scan (${state}); left alone`)
  }
  return confirmed
}

function sameTry(before: TaskInstanceRow, after: TaskInstanceRow): boolean {
  return (
    (POD_CHOSEN_STATES as readonly string[]).includes(after.state ?? '') &&
    after.tryNumber === before.tryNumber &&
    (after.startDate?.getTime() ?? null) === (before.startDate?.getTime() ?? null)
  )
}

