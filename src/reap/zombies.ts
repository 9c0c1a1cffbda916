// The zombies use case: list pods → read the Airflow DB → classify → (re-check → guarded delete).
// The order is the safety argument: pods are listed BEFORE the DB is read, so no pod can be newer
// than the snapshot it is judged by, and every candidate is judged again just before it is deleted.
import type {DagRunRef, ProofRequest, TaskInstanceSource, TaskQuery} from '../airflow/types.js'
import type {ReportItem, SkipReason} from '../core/report.js'
import {mayBeRewritten} from '../core/labels.js'
import type {DagRunRow, PodRecord, TaskInstanceRow} from '../core/types.js'
import {taskKeyString} from '../core/types.js'
import {
  type AirflowIndex,
  FINISHED_PHASES,
  type PodMatch,
  type ZombieOptions,
  type ZombieVerdict,
  buildAirflowIndex,
  judgeZombie,
  matchPod,
  needsPodNameXCom,
  podSlicesByRun,
  rematch,
  taskInstanceSource,
  toRef,
  withTaskInstances,
  zombieItem,
} from '../core/zombies.js'
import type {KubeClient} from '../kube/client.js'
import {type PodDeletion, reapPods} from './guarded-delete.js'
import {dagRunsOwning, listKpoPods, markSkipped, readPhases} from './kpo-pods.js'
import type {Progress} from './progress.js'
import type {ActionJournal} from './recorder.js'

export interface ZombieScanConfig {
  namespace?: string // undefined: all namespaces
  selector?: string
  minAgeSeconds: number
  includeUnknown: boolean
  includeFinished: boolean
  concurrency: number
}

export interface ScanDeps {
  kube: KubeClient
  db: TaskInstanceSource
  progress: Progress
  signal?: AbortSignal
  /** Where each delete is journaled as it happens. */
  journal?: ActionJournal
  now?: () => Date
}

/** One pod judged to be a finding: its report line plus what the re-check needs. */
export interface ZombieFinding {
  match: PodMatch
  verdict: Extract<ZombieVerdict, {finding: true}>
  item: ReportItem
}

export interface ZombieScan {
  scanned: number
  runs: DagRunRow[]
  findings: ZombieFinding[]
}

export async function scanZombies(deps: ScanDeps, config: ZombieScanConfig): Promise<ZombieScan> {
  const {kube, db, progress} = deps
  const now = deps.now ?? (() => new Date())
  progress.update('listing KubernetesPodOperator pods')
  const pods = await listKpoPods(kube, config, deps.signal)
  const scanned = pods.length // the records themselves are needed only until they are judged
  deps.journal?.listed?.(scanned)
  if (scanned === 0) return {scanned: 0, runs: [], findings: []}

  progress.update(`reading Airflow for ${scanned} pods`)
  const runs = await dagRunsOwning(db, pods)
  progress.update(`reading the task instances of ${scanned} pods (${runs.length} dag runs)`)
  const judged = await judgePods(db, pods, runs, config, now())
  const findings = judged.findings.map(({match, verdict}) => ({match, verdict, item: zombieItem(match, verdict, now())}))
  describeFinishedTasks(findings)
  // What a dry run reports as zombies is what `-o name` pipes to kubectl delete: proved as a delete is.
  const provable = findings.filter((f) => !f.verdict.skipReason || f.verdict.skipReason === 'unknown-dag-run')
  progress.update(`re-reading ${provable.length} candidate pods`)
  await proveZombies(deps, runs, provable, config)
  progress.update(`reading ${findings.length} candidate pods`)
  await addPhases(kube, findings, config, deps.signal)
  return {scanned, runs, findings}
}

export type JudgedPod = {match: PodMatch; verdict: Extract<ZombieVerdict, {finding: true}>}

export interface Judgement {
  /** In the order of the pods given. */
  findings: JudgedPod[]
}

/**
 * Reads the DB for these pods and judges each. Used by the scan and by the re-check before deleting.
 * The pods are read and judged in slices of whole dag runs (as many pods as the source asks for at a
 * time), so what a slice reads is garbage once it is judged: memory follows the slice and the
 * findings, not the pods listed.
 */
export async function judgePods(
  db: TaskInstanceSource,
  pods: PodRecord[],
  runs: DagRunRow[],
  config: Pick<ZombieScanConfig, 'minAgeSeconds' | 'includeUnknown'>,
  now: Date,
): Promise<Judgement> {
  const runIndex = buildAirflowIndex(runs, [])
  const options = {now, minAgeSeconds: config.minAgeSeconds, includeUnknown: config.includeUnknown}
  const found: Array<{at: number; judged: JudgedPod}> = []
  for (const slice of podSlicesByRun(pods, runIndex, db.podsPerRead ?? Infinity)) {
    const judged = await judgeSlice(db, slice.map((at) => pods[at]), runIndex, options)
    judged.forEach((finding, i) => {
      if (finding) found.push({at: slice[i], judged: finding})
    })
  }
  return {findings: found.sort((a, b) => a.at - b.at).map((f) => f.judged)}
}

/** One slice's pods judged against their own task instances: for each pod, its finding or undefined. */
async function judgeSlice(db: TaskInstanceSource, pods: PodRecord[], runIndex: AirflowIndex, options: ZombieOptions): Promise<Array<JudgedPod | undefined>> {
  const byRun = pods.map((pod) => matchPod(pod, runIndex))
  const index = withTaskInstances(runIndex, await taskInstancesOfPods(db, byRun))
  const matches = byRun.map((match) => rematch(match, index))
  const xcomKeys = matches.flatMap(needsPodNameXCom) // podNameXComs reads each key once
  const xcoms = xcomKeys.length > 0 ? await db.podNameXComs(xcomKeys) : new Map<string, string | null>()
  return matches.map((match) => {
    const verdict = judgeZombie(match, xcoms, options)
    return verdict.finding ? {match, verdict} : undefined
  })
}

/**
 * The task instances that can match these pods: each pod's own task by key (a row or a few per pod,
 * not every waiting task of its run), and the whole run only for a task_id label that may have been
 * rewritten. Two reads at most.
 */
async function taskInstancesOfPods(db: TaskInstanceSource, matches: PodMatch[]): Promise<TaskInstanceRow[]> {
  const tasks: TaskQuery[] = []
  const runs: DagRunRef[] = []
  for (const match of matches) {
    const source = taskInstanceSource(match)
    // The pod's map index: the API source then needs that task instance's rows only, not the task's other map indexes.
    if (source && 'task' in source) tasks.push({...source.task, mapIndex: match.labels!.mapIndex})
    else if (source) runs.push(source.run)
  }
  const byTask = tasks.length > 0 ? await db.taskInstancesOfTasks(tasks) : []
  const byRun = runs.length > 0 ? await db.taskInstancesOfRuns(runs) : []
  if (byRun.length === 0) return byTask
  // A task read by key may be in a run read whole too: each row once.
  return [...new Map([...byTask, ...byRun].map((ti) => [taskKeyString(ti), ti])).values()]
}

/** A zombie whose task instance finished still has a row (its own key's): say which state and try it ended in. */
function describeFinishedTasks(findings: ZombieFinding[]): void {
  for (const {match, verdict, item} of findings) {
    const ti = match.ownTaskInstance
    if (verdict.reason !== 'no-active-task-instance' || !match.run || !match.labels || !ti) continue
    item.taskInstance = toRef(ti)
    if (!item.skipReason) item.detail = `task instance is ${ti.state ?? 'none'} (try ${ti.tryNumber}); the pod is still here`
  }
}

/** Phase decides whether a pod still runs: finished pods are left alone unless --include-finished. */
async function addPhases(kube: KubeClient, findings: ZombieFinding[], config: ZombieScanConfig, signal?: AbortSignal): Promise<void> {
  // Every finding's phase, skipped ones too: the report shows each pod as it is (a kept pod is Running).
  const items = findings.map((f) => f.item)
  await readPhases(kube, items, config, signal)
  if (config.includeFinished) return
  for (const item of items) {
    if (item.phase && FINISHED_PHASES.includes(item.phase) && item.action === 'none') {
      markSkipped(item, 'finished', `${item.detail}; the pod already ${item.phase === 'Succeeded' ? 'succeeded' : 'failed'} (--include-finished reaps it)`)
    }
  }
}

/**
 * Deletes the scan's candidates: sanity stop → cap → re-check against the DB → guarded delete.
 * Returns the sanity-stop message when it refused (nothing deleted), else undefined.
 */
export async function reapZombies(deps: ScanDeps, scan: ZombieScan, config: ZombieScanConfig, deletion: PodDeletion): Promise<string | undefined> {
  return reapPods(deps, scan, deletion, (chosen) => recheck(deps, scan, chosen, config))
}

/**
 * Judges the candidates again with a fresh read of exactly what their verdicts rest on (all states, so
 * a task instance that became active in the meantime is seen): the source's proof (each task instance
 * read by itself where the source's lists are not snapshots). Candidates that are no longer zombies are
 * skipped, saying why; if the source cannot be read, this throws and nothing is deleted.
 */
async function recheck(deps: ScanDeps, scan: ZombieScan, chosen: ZombieFinding[], config: ZombieScanConfig): Promise<ZombieFinding[]> {
  return proveZombies(deps, scan.runs, chosen, config)
}

/** The proof of zombies, at the end of the scan (what is reported) and again just before deleting. */
async function proveZombies(deps: ScanDeps, runs: DagRunRow[], chosen: ZombieFinding[], config: ZombieScanConfig): Promise<ZombieFinding[]> {
  if (chosen.length === 0) return []
  const now = (deps.now ?? (() => new Date()))()
  const fresh = await judgeProved(deps.db, chosen.map((f) => f.match.pod), runs, config, now)
  const confirmed: ZombieFinding[] = []
  for (const finding of chosen) {
    const verdict = fresh.get(finding.match.pod.uid)
    if (!verdict) {
      markSkipped(finding.item, 'became-active', 'its task instance became active since the scan; left alone')
    } else if (verdict.skipReason) {
      markSkipped(finding.item, verdict.skipReason, verdict.detail)
    } else {
      confirmed.push(finding)
    }
  }
  return confirmed
}

type ProvedVerdict = {skipReason?: SkipReason; detail: string}

/**
 * The verdicts of these pods from the source's proof: their own task instances read again (by key, or
 * the whole run for a rewritten task_id label), the dag runs the scan's list did not hold looked up by
 * the pods' labels, the DAGs the credentials may not read. Findings only, by pod uid.
 */
async function judgeProved(db: TaskInstanceSource, pods: PodRecord[], runs: DagRunRow[], config: Pick<ZombieScanConfig, 'minAgeSeconds' | 'includeUnknown'>, now: Date): Promise<Map<string, ProvedVerdict>> {
  const runIndex = buildAirflowIndex(runs, [])
  const byRun = pods.map((pod) => matchPod(pod, runIndex))
  const proof = await db.proveCandidates(proofRequest(byRun))
  const index = withTaskInstances(runIndex, proof.taskInstances)
  const matches = byRun.map((match) => rematch(match, index))
  const xcomKeys = matches.filter((m) => !proof.notPermitted.has(dagOf(m) ?? '')).flatMap(needsPodNameXCom)
  const xcoms = xcomKeys.length > 0 ? await db.podNameXComs(xcomKeys) : new Map<string, string | null>()
  const found = new Set(proof.foundRuns.map((run) => JSON.stringify([run.dagId, run.runId])))
  const verdicts = new Map<string, ProvedVerdict>()
  for (const match of matches) {
    const dagId = dagOf(match)
    if (dagId !== undefined && proof.notPermitted.has(dagId)) {
      verdicts.set(match.pod.uid, {skipReason: 'not-permitted', detail: `the Airflow API credentials may not read DAG ${dagId}: its task instances are unknown, so the pod is left alone`})
      continue
    }
    const verdict = judgeZombie(match, xcoms, {now, minAgeSeconds: config.minAgeSeconds, includeUnknown: config.includeUnknown})
    if (!verdict.finding) continue
    // --include-unknown judges a pod whose run is unknown: only when its run is proved unknown.
    if (!verdict.skipReason && !match.run && match.labels && found.has(JSON.stringify([match.labels.dagId, match.labels.runId]))) {
      const detail = `dag run ${match.labels.dagId}/${match.labels.runId} is not proved unknown: the run list read did not hold it, but a read of its own finds it or cannot rule it out; left alone`
      verdicts.set(match.pod.uid, {skipReason: 'changed-concurrently', detail})
      continue
    }
    verdicts.set(match.pod.uid, verdict)
  }
  return verdicts
}

/** What a proof reads for these pods: their own tasks by key (or the whole run), the runs the scan did not find by their labels. */
function proofRequest(matches: PodMatch[]): ProofRequest {
  const request: ProofRequest = {tasks: [], runs: [], missingRuns: []}
  for (const match of matches) {
    const source = taskInstanceSource(match)
    if (source && 'task' in source) request.tasks.push({...source.task, mapIndex: match.labels!.mapIndex})
    else if (source) request.runs.push(source.run)
    else if (match.labels) request.missingRuns.push({dagId: match.labels.dagId, runId: match.labels.runId})
  }
  return request
}

/** The DAG a pod belongs to: its dag run's, else its label's when that is the id itself. */
function dagOf(match: PodMatch): string | undefined {
  if (match.run) return match.run.dagId
  return match.labels && !mayBeRewritten(match.labels.dagId) ? match.labels.dagId : undefined
}
