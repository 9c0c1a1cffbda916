// Finalizer analysis for objects stuck Terminating (pure). Only the garbage collector's own finalizers
// are ours to remove: another finalizer means another controller is responsible for the object.
import {formatAge} from './duration.js'
import type {ReportItem, SkipReason} from './report.js'
import type {ObjectMeta} from './types.js'

export const GC_FINALIZERS = ['orphan', 'foregroundDeletion'] as const

export interface StuckOptions {
  now: Date
  olderThanSeconds: number
  /** Finalizers the user named with --finalizer: removable too. */
  extraFinalizers: string[]
}

export type StuckVerdict =
  | {stuck: false; detail: string}
  | {stuck: true; remove: string[]; keep: string[]; terminatingSeconds: number; skipReason?: SkipReason; detail: string}

export type Stuck = Extract<StuckVerdict, {stuck: true}>

/**
 * Is this object stuck terminating, and which finalizers may be removed? Stuck: being deleted and
 * held by a garbage-collector finalizer (or one the user named). An object held only by other
 * controllers' finalizers is their business, not a finding.
 */
export function judgeStuck(obj: ObjectMeta, options: StuckOptions): StuckVerdict {
  if (!obj.deletionTimestamp) return {stuck: false, detail: 'not being deleted'}
  if (obj.finalizers.length === 0) return {stuck: false, detail: 'being deleted, no finalizer holds it'}
  const removable = new Set<string>([...GC_FINALIZERS, ...options.extraFinalizers])
  const remove = obj.finalizers.filter((f) => removable.has(f))
  const keep = obj.finalizers.filter((f) => !removable.has(f))
  if (remove.length === 0) {
    return {stuck: false, detail: `held by other controllers' finalizers [${keep.join(', ')}], no garbage-collector finalizer (name one with --finalizer to remove it)`}
  }
  const terminatingSeconds = Math.max(0, Math.floor((options.now.getTime() - obj.deletionTimestamp.getTime()) / 1000))
  const since = `terminating for ${formatAge(terminatingSeconds)} with finalizers [${obj.finalizers.join(', ')}]`
  if (keep.length > 0) {
    return {stuck: true, remove: [], keep, terminatingSeconds, skipReason: 'foreign-finalizer', detail: `${since}; ${keep.join(', ')} belongs to another controller (name it with --finalizer to remove it)`}
  }
  if (terminatingSeconds < options.olderThanSeconds) {
    return {stuck: true, remove, keep, terminatingSeconds, skipReason: 'too-young', detail: `${since}; the garbage collector may still act (--older-than)`}
  }
  return {stuck: true, remove, keep, terminatingSeconds, detail: `${since}; the garbage collector has not removed ${remove.join(', ')}`}
}

/** The finalizer list left after removing ours, in the original order. */
export function remainingFinalizers(current: string[], remove: string[]): string[] {
  return current.filter((f) => !remove.includes(f))
}

/** `job/airflow/export`: how objects are named in advice lines and `-o name`. */
export function objectRef(obj: Pick<ObjectMeta, 'kind' | 'namespace' | 'name'>): string {
  return `${obj.kind.toLowerCase()}/${obj.namespace}/${obj.name}`
}

/** Kind and API group of each dependent type (for RBAC rules); a dependent type missing here does not compile. */
export const DEPENDENT_RESOURCES = {
  pods: {kind: 'Pod', group: ''},
  jobs: {kind: 'Job', group: 'batch'},
  replicasets: {kind: 'ReplicaSet', group: 'apps'},
} as const

/** The resource types (plural) whose objects the garbage collector deletes with an owner of this kind. */
export const DEPENDENT_TYPES: Readonly<Record<string, readonly (keyof typeof DEPENDENT_RESOURCES)[]>> = {
  Job: ['pods'],
  CronJob: ['jobs'],
  Deployment: ['replicasets'],
  ReplicaSet: ['pods'],
  StatefulSet: ['pods'],
}

/** The objects among `candidates` that name `owner` (by UID) in their ownerReferences. */
export function dependentsOf(owner: Pick<ObjectMeta, 'uid' | 'namespace'>, candidates: readonly ObjectMeta[]): ObjectMeta[] {
  return candidates.filter((c) => c.namespace === owner.namespace && c.ownerReferences.some((r) => r.uid === owner.uid))
}

function shortList(names: string[]): string {
  return names.slice(0, 5).join(', ') + (names.length > 5 ? `, … (${names.length} in all)` : '')
}

/**
 * What will become of the dependents once the finalizer is gone. They keep their ownerReference to
 * the deleted owner (the garbage collector would have removed it for orphan, or deleted them for
 * foreground), so a garbage collector that works again later deletes them as dangling.
 */
export function dependentsAdvice(finalizers: string[], dependents: string[], deleteDependents = false): string | undefined {
  if (dependents.length === 0) return undefined
  const names = shortList(dependents)
  if (finalizers.includes('foregroundDeletion')) {
    if (deleteDependents) return `dependents ${names} would have been deleted by the garbage collector first; --delete-dependents deletes them before removing the finalizer`
    return `dependents ${names} would have been deleted by the garbage collector first; removing the finalizer leaves them in place (--delete-dependents deletes them)`
  }
  return `dependents ${names} stay, as the orphan propagation asked; they still name the deleted owner, so a garbage collector that runs again later deletes them`
}

/** Does removing these finalizers skip a foreground deletion (whose dependents --delete-dependents takes over)? */
export function isForeground(finalizers: readonly string[]): boolean {
  return finalizers.includes('foregroundDeletion')
}

export interface JobSpecFacts {
  name: string
  /** undefined: not set; null: unknown (the spec could not be read). */
  ttlSecondsAfterFinished?: number | null
  /** The Job's finalizers: `orphan` says how it was deleted. */
  finalizers?: readonly string[]
  /** The Job belongs to a CronJob, whose Job names carry a per-run suffix anyway. */
  ownedByCronJob?: boolean
}

/** Advice for a Job whose spec (or the way it is deleted) will keep producing stuck Jobs and 409s on re-creation. */
export function jobAdvisories(job: JobSpecFacts): string[] {
  const advice: string[] = []
  if (job.ttlSecondsAfterFinished === undefined) {
    advice.push('no ttlSecondsAfterFinished: finished Jobs pile up until someone deletes them (set it so the TTL controller deletes them with background propagation)')
  }
  if (!job.ownedByCronJob && !hasPerRunSuffix(job.name)) {
    advice.push(`the name "${job.name}" looks fixed: re-creating it while an old one is Terminating fails with 409 AlreadyExists (give each run a unique name)`)
  }
  if (job.finalizers?.includes('orphan')) {
    advice.push('deleted with propagation Orphan (the batch/v1 default when none is given): delete Jobs with propagationPolicy Background')
  }
  return advice
}

/** Generated names end in a random or run-derived suffix (e.g. -x7k2p, -28374650, -2024-05-01t0000). */
export function hasPerRunSuffix(name: string): boolean {
  const last = name.split(/[-.]/).pop() ?? ''
  return last.length >= 5 && /\d/.test(last)
}

function ageSeconds(obj: ObjectMeta, now: Date): number {
  return Math.max(0, Math.floor((now.getTime() - obj.creationTimestamp.getTime()) / 1000))
}

export function stuckItem(obj: ObjectMeta, verdict: Stuck, now: Date): ReportItem {
  const item: ReportItem = {
    kind: obj.kind,
    namespace: obj.namespace,
    name: obj.name,
    uid: obj.uid,
    ageSeconds: ageSeconds(obj, now),
    reason: 'stuck-terminating',
    detail: verdict.detail,
    taskInstance: null,
    action: verdict.skipReason ? 'skipped' : 'none',
  }
  if (verdict.skipReason) item.skipReason = verdict.skipReason
  return item
}

/**
 * A dependent of a stuck foreground deletion, as its own report line: `--delete-dependents` does the
 * garbage collector's part (delete it), and the line records how that went.
 */
export function dependentItem(dependent: ObjectMeta, owner: ObjectMeta, now: Date): ReportItem {
  return {
    kind: dependent.kind,
    namespace: dependent.namespace,
    name: dependent.name,
    uid: dependent.uid,
    ageSeconds: ageSeconds(dependent, now),
    reason: 'stuck-terminating',
    detail: `dependent of ${owner.kind.toLowerCase()}/${owner.name}, which is stuck in a foreground deletion: the garbage collector would have deleted it first`,
    taskInstance: null,
    action: 'none',
  }
}

export type FinalizerPatchResult = 'patched' | 'gone' | 'changed-concurrently' | 'not-found'

/** Records a finalizer patch's outcome on the stuck object's report line. */
export function recordPatch(item: ReportItem, removed: readonly string[], outcome: FinalizerPatchResult, serverDryRun: boolean): void {
  const what = `[${removed.join(', ')}]`
  switch (outcome) {
    case 'changed-concurrently':
      item.action = 'skipped'
      item.skipReason = 'changed-concurrently'
      item.detail = `${item.detail}; its finalizers or resourceVersion changed since they were read, so the guarded patch was refused and nothing was changed (run again to judge it afresh)`
      return
    case 'not-found':
      item.action = 'skipped'
      item.skipReason = 'already-gone'
      item.detail = `${item.detail}; already gone when we came to patch it`
      return
    default:
      if (serverDryRun) {
        item.detail = `${item.detail}; server dry run: the API server would accept removing ${what}`
        return
      }
      item.action = 'patched'
      item.detail = `${item.detail}; removed ${what}${outcome === 'gone' ? ', and the API server deleted it' : ''}`
  }
}
