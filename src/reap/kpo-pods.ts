// What the pod-judging commands (zombies, overdue) share around their verdicts: listing the
// KubernetesPodOperator pods, the dag runs that can own them, the phase of the findings, and marking
// a report item skipped. The verdicts themselves stay with each command.
import type {TaskInstanceSource} from '../airflow/types.js'
import {KEEP_ANNOTATION, KPO_LABEL_SELECTOR, POD_TASK_LABELS} from '../core/labels.js'
import type {ReportItem} from '../core/report.js'
import type {DagRunRow, PodRecord} from '../core/types.js'
import type {KubeClient} from '../kube/client.js'
import {podRecordReducer} from '../kube/convert.js'
import {listMetadata, listRecords} from '../kube/list.js'
import {getObject} from '../kube/objects.js'
import {resolveResource} from '../kube/resources.js'
import {forEachLimited} from './pool.js'

/** Dag runs are looked up from a little before the oldest pod, to absorb clock skew between API server and DB. */
const CLOCK_SKEW_MARGIN_MS = 60 * 60 * 1000

/** Up to this many findings, each is read with a GET; above it, by-phase lists cost fewer requests. */
export const PHASE_GETS_MAX = 100
/** Phases other than Running, listed one by one: a finding in none of these lists is Running. */
const NOT_RUNNING_PHASES = ['Pending', 'Succeeded', 'Failed', 'Unknown'] as const

/** Which pods a command looks at: a namespace (undefined: all) and an extra label selector. */
export interface PodScope {
  namespace?: string
  selector?: string
}

export function podSelector(extra?: string): string {
  return extra ? `${KPO_LABEL_SELECTOR},${extra}` : KPO_LABEL_SELECTOR
}

/**
 * The KPO pods, metadata only, each page reduced to compact records (what the verdicts and guards
 * read) as it arrives. Listed BEFORE the DB is read, so no pod is newer than the DB snapshot.
 */
export function listKpoPods(kube: KubeClient, scope: PodScope, signal?: AbortSignal): Promise<PodRecord[]> {
  const options = {resource: resolveResource('pods'), namespace: scope.namespace, labelSelector: podSelector(scope.selector), signal}
  return listRecords(kube, options, podRecordReducer({labels: POD_TASK_LABELS, annotations: [KEEP_ANNOTATION]}))
}

/** The dag runs that can own these pods: unfinished, or ended after the oldest pod was created. */
export function dagRunsOwning(db: TaskInstanceSource, pods: readonly PodRecord[]): Promise<DagRunRow[]> {
  let oldest = Number.POSITIVE_INFINITY
  for (const pod of pods) oldest = Math.min(oldest, pod.creationTimestamp.getTime())
  return db.dagRunsSince(new Date(oldest - CLOCK_SKEW_MARGIN_MS))
}

/**
 * Sets each item's phase (the metadata-only list does not carry it). Up to PHASE_GETS_MAX items: a GET
 * each, which also finds a pod deleted (or replaced) since the list, marked already-gone. Above it
 * (a wrong --db, a cluster-wide outage): one metadata-only list per phase other than Running, with the
 * scan's selectors, instead of thousands of round trips; a pod deleted since the scan then reads as
 * Running, and deleting it is still guarded by its UID.
 */
export async function readPhases(kube: KubeClient, items: ReportItem[], scope: PodScope & {concurrency: number}, signal?: AbortSignal): Promise<void> {
  if (items.length === 0) return
  if (items.length <= PHASE_GETS_MAX) await phasesByGet(kube, items, scope.concurrency)
  else await phasesByList(kube, items, scope, signal)
}

async function phasesByGet(kube: KubeClient, items: ReportItem[], concurrency: number): Promise<void> {
  await forEachLimited(items, concurrency, async (item) => {
    const pod = await getObject(kube, resolveResource('pods'), item.namespace, item.name)
    if (!pod || (pod.metadata as {uid?: string} | undefined)?.uid !== item.uid) {
      // An item skipped already keeps its own reason: that is why it was never to be acted on.
      if (item.action !== 'skipped') markSkipped(item, 'already-gone', `${item.detail}; the pod is gone (or was replaced) since it was listed`)
      return
    }
    item.phase = (pod.status as {phase?: string} | undefined)?.phase ?? 'Unknown'
  })
}

async function phasesByList(kube: KubeClient, items: ReportItem[], scope: PodScope, signal?: AbortSignal): Promise<void> {
  const phaseOf = new Map<string, string>()
  await Promise.all(
    NOT_RUNNING_PHASES.map(async (phase) => {
      const pods = await listMetadata(kube, {
        resource: resolveResource('pods'),
        namespace: scope.namespace,
        labelSelector: podSelector(scope.selector),
        fieldSelector: `status.phase=${phase}`,
        signal,
      })
      for (const pod of pods) phaseOf.set(pod.uid, phase)
    }),
  )
  for (const item of items) item.phase = phaseOf.get(item.uid) ?? 'Running'
}

export function markSkipped(item: ReportItem, skipReason: NonNullable<ReportItem['skipReason']>, detail?: string): void {
  item.action = 'skipped'
  item.skipReason = skipReason
  if (detail) item.detail = detail
}
