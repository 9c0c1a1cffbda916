// The zombies use case: list pods → read the Airflow DB → classify → (re-check → guarded delete).
// The order is the safety argument: pods are listed BEFORE the DB is read, so no pod can be newer
// than the snapshot it is judged by, and every candidate is judged again just before it is deleted.
import type {AirflowDb, DagRunRef} from '../airflow/types.js'
import {KPO_LABEL_SELECTOR} from '../core/labels.js'
import type {ReportItem} from '../core/report.js'
import type {DagRunRow, ObjectMeta, TaskInstanceRow} from '../core/types.js'
import {isActiveState, taskKeyString} from '../core/types.js'
import {
  FINISHED_PHASES,
  type PodMatch,
  type ZombieVerdict,
  buildAirflowIndex,
  finishedTaskFor,
  judgeZombie,
  matchPod,
  needsPodNameXCom,
  toRef,
  zombieItem,
} from '../core/zombies.js'
import type {KubeClient} from '../kube/client.js'
import {listMetadata} from '../kube/list.js'
import {getObject} from '../kube/objects.js'
import {resolveResource} from '../kube/resources.js'
import {reapCandidates} from './guarded-delete.js'
import {forEachLimited} from './pool.js'
import type {Progress} from './progress.js'

/** Dag runs are looked up from a little before the oldest pod, to absorb clock skew between API server and DB. */
const CLOCK_SKEW_MARGIN_MS = 60 * 60 * 1000

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
  db: AirflowDb
  progress: Progress
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

export function podSelector(extra?: string): string {
  return extra ? `${KPO_LABEL_SELECTOR},${extra}` : KPO_LABEL_SELECTOR
}

export async function scanZombies(deps: ScanDeps, config: ZombieScanConfig): Promise<ZombieScan> {
  const {kube, db, progress} = deps
  const now = deps.now ?? (() => new Date())
  progress.update('listing KubernetesPodOperator pods')
  const pods = await listMetadata(kube, {
    resource: resolveResource('pods'),
    namespace: config.namespace,
    labelSelector: podSelector(config.selector),
  })
  if (pods.length === 0) return {scanned: 0, runs: [], findings: []}

  progress.update(`reading the Airflow DB for ${pods.length} pods`)
  const runs = await db.dagRunsSince(oldestCreation(pods, CLOCK_SKEW_MARGIN_MS))
  const judged = await judgePods(db, pods, runs, config, now())
  const findings = judged.map(({match, verdict}) => ({match, verdict, item: zombieItem(match, verdict, now())}))
  await describeFinishedTasks(db, findings)
  progress.update(`reading ${findings.length} candidate pods`)
  await addPhases(kube, findings, config)
  return {scanned: pods.length, runs, findings}
}

/** Reads the DB for these pods and returns the pods that are findings. Used by the scan and the re-check. */
export async function judgePods(
  db: AirflowDb,
  pods: ObjectMeta[],
  runs: DagRunRow[],
  config: Pick<ZombieScanConfig, 'minAgeSeconds' | 'includeUnknown'>,
  now: Date,
  readTis: (refs: DagRunRef[]) => Promise<TaskInstanceRow[]> = (refs) => db.activeTaskInstances(refs),
): Promise<Array<{match: PodMatch; verdict: Extract<ZombieVerdict, {finding: true}>}>> {
  const runIndex = buildAirflowIndex(runs, [])
  const podRuns = uniqueRuns(pods.map((pod) => matchPod(pod, runIndex).run))
  const tis = podRuns.length > 0 ? await readTis(podRuns) : []
  const index = buildAirflowIndex(runs, tis.filter((ti) => isActiveState(ti.state)))
  const matches = pods.map((pod) => matchPod(pod, index))
  const xcomKeys = uniqueTasks(matches.flatMap(needsPodNameXCom))
  const xcoms = xcomKeys.length > 0 ? await db.podNameXComs(xcomKeys) : new Map<string, string | null>()
  const options = {now, minAgeSeconds: config.minAgeSeconds, includeUnknown: config.includeUnknown}
  const results = []
  for (const match of matches) {
    const verdict = judgeZombie(match, xcoms, options)
    if (verdict.finding) results.push({match, verdict})
  }
  return results
}

/** A zombie whose task instance finished still has a row: say which state and try it ended in. */
async function describeFinishedTasks(db: AirflowDb, findings: ZombieFinding[]): Promise<void> {
  const orphans = findings.filter((f) => f.verdict.reason === 'no-active-task-instance' && f.match.run && f.match.labels)
  if (orphans.length === 0) return
  const tis = await db.taskInstancesOfRuns(uniqueRuns(orphans.map((f) => f.match.run)))
  for (const finding of orphans) {
    const ti = finishedTaskFor(finding.match.labels!, tis)
    if (!ti) continue
    finding.item.taskInstance = toRef(ti)
    if (!finding.item.skipReason) finding.item.detail = `task instance is ${ti.state ?? 'none'} (try ${ti.tryNumber}); the pod is still here`
  }
}

/** Full objects only for the findings: phase decides whether a pod still runs. */
async function addPhases(kube: KubeClient, findings: ZombieFinding[], config: ZombieScanConfig): Promise<void> {
  const judged = findings.filter((f) => f.item.skipReason !== 'unknown-dag-run' && f.item.skipReason !== 'missing-labels')
  await forEachLimited(judged, config.concurrency, async ({item}) => {
    const pod = await getObject(kube, resolveResource('pods'), item.namespace, item.name)
    if (!pod || (pod.metadata as {uid?: string} | undefined)?.uid !== item.uid) {
      markSkipped(item, 'already-gone', 'the pod is gone (or was replaced) since it was listed')
      return
    }
    item.phase = (pod.status as {phase?: string} | undefined)?.phase ?? 'Unknown'
    if (!config.includeFinished && FINISHED_PHASES.includes(item.phase) && item.action === 'none') {
      markSkipped(item, 'finished', `${item.detail}; the pod already ${item.phase === 'Succeeded' ? 'succeeded' : 'failed'} (--include-finished reaps it)`)
    }
  })
}

export function markSkipped(item: ReportItem, skipReason: NonNullable<ReportItem['skipReason']>, detail?: string): void {
  item.action = 'skipped'
  item.skipReason = skipReason
  if (detail) item.detail = detail
}

function oldestCreation(pods: ObjectMeta[], marginMs: number): Date {
  let oldest = Number.POSITIVE_INFINITY
  for (const pod of pods) oldest = Math.min(oldest, pod.creationTimestamp.getTime())
  return new Date(oldest - marginMs)
}

function uniqueRuns(runs: Array<DagRunRow | undefined>): DagRunRef[] {
  const seen = new Map<string, DagRunRef>()
  for (const run of runs) if (run) seen.set(JSON.stringify([run.dagId, run.runId]), {dagId: run.dagId, runId: run.runId})
  return [...seen.values()]
}

function uniqueTasks(tis: TaskInstanceRow[]): TaskInstanceRow[] {
  return [...new Map(tis.map((ti) => [taskKeyString(ti), ti])).values()]
}

export interface ReapConfig extends ZombieScanConfig {
  serverDryRun: boolean
  gracePeriodSeconds?: number
  maxDeletes: number
  allowMassDelete: boolean
}

export interface ReapDeps extends ScanDeps {
  signal?: AbortSignal
}

/**
 * Deletes the scan's candidates: sanity stop → cap → re-check against the DB → guarded delete.
 * Returns the sanity-stop message when it refused (nothing deleted), else undefined.
 */
export async function reapZombies(deps: ReapDeps, scan: ZombieScan, config: ReapConfig): Promise<string | undefined> {
  return reapCandidates(deps.kube, scan.findings, {
    scanned: scan.scanned,
    maxDeletes: config.maxDeletes,
    allowMassDelete: config.allowMassDelete,
    recheck: (chosen) => recheck(deps, scan, chosen, config),
    delete: {
      resource: resolveResource('pods'),
      serverDryRun: config.serverDryRun,
      gracePeriodSeconds: config.gracePeriodSeconds,
      concurrency: config.concurrency,
      signal: deps.signal,
      progress: deps.progress,
    },
  })
}

/**
 * Judges the candidates again with a fresh read of exactly their dag runs (all states, so a task
 * instance that became active in the meantime is seen). Candidates that are no longer zombies are
 * skipped; if the DB cannot be read, this throws and nothing is deleted.
 */
async function recheck(deps: ReapDeps, scan: ZombieScan, chosen: ZombieFinding[], config: ReapConfig): Promise<ZombieFinding[]> {
  if (chosen.length === 0) return []
  const now = (deps.now ?? (() => new Date()))()
  const fresh = await judgePods(deps.db, chosen.map((f) => f.match.pod), scan.runs, config, now, (refs) =>
    deps.db.taskInstancesOfRuns(refs),
  )
  const stillZombies = new Map(fresh.map((f) => [f.match.pod.uid, f.verdict]))
  const confirmed: ZombieFinding[] = []
  for (const finding of chosen) {
    const verdict = stillZombies.get(finding.match.pod.uid)
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
