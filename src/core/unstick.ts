// Finalizer analysis for objects stuck Terminating (pure). Only the garbage collector's own finalizers
// are ours to remove: another finalizer means another controller is responsible for the object.
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
  | {stuck: false}
  | {stuck: true; remove: string[]; keep: string[]; terminatingSeconds: number; skipReason?: SkipReason; detail: string}

/** Is this object stuck terminating, and which finalizers may be removed? */
export function judgeStuck(obj: ObjectMeta, options: StuckOptions): StuckVerdict {
  if (!obj.deletionTimestamp || obj.finalizers.length === 0) return {stuck: false}
  const removable = new Set<string>([...GC_FINALIZERS, ...options.extraFinalizers])
  const remove = obj.finalizers.filter((f) => removable.has(f))
  const keep = obj.finalizers.filter((f) => !removable.has(f))
  const terminatingSeconds = Math.max(0, Math.floor((options.now.getTime() - obj.deletionTimestamp.getTime()) / 1000))
  const since = `terminating for ${terminatingSeconds}s with finalizers [${obj.finalizers.join(', ')}]`
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

/** What will become of the dependents once the finalizer is gone. */
export function dependentsAdvice(finalizers: string[], dependents: string[]): string | undefined {
  if (dependents.length === 0) return undefined
  const names = dependents.slice(0, 5).join(', ') + (dependents.length > 5 ? `, … (${dependents.length} in all)` : '')
  if (finalizers.includes('foregroundDeletion')) {
    return `dependents ${names} would have been deleted by the garbage collector first; they will stay (--delete-dependents deletes them)`
  }
  return `dependents ${names} stay, orphaned (as the orphan propagation asked)`
}

export interface JobSpecFacts {
  name: string
  ttlSecondsAfterFinished?: number
}

/** Advice for a Job whose spec will keep producing stuck Jobs and 409s on re-creation. */
export function jobAdvisories(job: JobSpecFacts): string[] {
  const advice: string[] = []
  if (job.ttlSecondsAfterFinished === undefined) {
    advice.push('no ttlSecondsAfterFinished: finished Jobs pile up until someone deletes them (set it so the TTL controller deletes them with background propagation)')
  }
  if (!hasPerRunSuffix(job.name)) {
    advice.push(`the name "${job.name}" looks fixed: re-creating it while an old one is Terminating fails with 409 AlreadyExists (give each run a unique name)`)
  }
  return advice
}

/** Generated names end in a random or run-derived suffix (e.g. -x7k2p, -28374650, -2024-05-01t0000). */
export function hasPerRunSuffix(name: string): boolean {
  const last = name.split(/[-.]/).pop() ?? ''
  return last.length >= 5 && /\d/.test(last)
}

export function stuckItem(obj: ObjectMeta, verdict: Extract<StuckVerdict, {stuck: true}>, now: Date): ReportItem {
  const item: ReportItem = {
    kind: obj.kind,
    namespace: obj.namespace,
    name: obj.name,
    uid: obj.uid,
    ageSeconds: Math.max(0, Math.floor((now.getTime() - obj.creationTimestamp.getTime()) / 1000)),
    reason: 'stuck-terminating',
    detail: verdict.detail,
    taskInstance: null,
    action: verdict.skipReason ? 'skipped' : 'none',
  }
  if (verdict.skipReason) item.skipReason = verdict.skipReason
  return item
}
