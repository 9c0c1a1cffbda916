// The one guarded deletion path (zombies and overdue): every DELETE carries the UID seen at listing, so
// a pod re-created under the same name is never touched; 404 means someone else already did the job.
// Each DELETE is journaled before it is sent and again with its outcome; a DELETE whose answer was
// lost (a timeout, a reset, a 5xx, an interrupt while in flight) is settled by reading the object.
import type {ReportItem} from '../core/report.js'
import {checkSanity} from '../core/sanity.js'
import type {KubeClient} from '../kube/client.js'
import {type PropagationPolicy, deleteGuarded} from '../kube/objects.js'
import {type ResourceType, resolveResource} from '../kube/resources.js'
import {failureText, mayHaveApplied, mayStillApply, readBack, settleAfterInterrupt, wasAnswered} from './ambiguous.js'
import {forEachUntilDenied} from './rbac-stop.js'
import type {Progress} from './progress.js'
import type {ActionJournal} from './recorder.js'

export interface DeleteOptions {
  resource: ResourceType
  /** `--dry-run=server`: send the requests with dryRun=All; nothing changes. */
  serverDryRun: boolean
  gracePeriodSeconds?: number
  /** Jobs need Background: without it a batch/v1 Job is deleted with Orphan and sticks Terminating. */
  propagationPolicy?: PropagationPolicy
  concurrency: number
  signal?: AbortSignal
  progress: Progress
  journal?: ActionJournal
}

/** How pods are deleted: the flags shared by every pod-deleting command (zombies, overdue). */
export interface PodDeletion {
  serverDryRun: boolean
  gracePeriodSeconds?: number
  maxDeletes: number
  allowMassDelete: boolean
  concurrency: number
}

export interface PodReapDeps {
  kube: KubeClient
  progress: Progress
  signal?: AbortSignal
  journal?: ActionJournal
}

/** reapCandidates for pods, from the shared deletion flags. */
export function reapPods<T extends {item: ReportItem}>(
  deps: PodReapDeps,
  scan: {scanned: number; findings: readonly T[]},
  deletion: PodDeletion,
  recheck: (chosen: T[]) => Promise<T[]>,
): Promise<string | undefined> {
  return reapCandidates(deps.kube, scan.findings, {
    scanned: scan.scanned,
    maxDeletes: deletion.maxDeletes,
    allowMassDelete: deletion.allowMassDelete,
    recheck,
    delete: {
      resource: resolveResource('pods'),
      serverDryRun: deletion.serverDryRun,
      gracePeriodSeconds: deletion.gracePeriodSeconds,
      concurrency: deletion.concurrency,
      signal: deps.signal,
      progress: deps.progress,
      journal: deps.journal,
    },
  })
}

export interface ReapCandidatesOptions<T extends {item: ReportItem}> {
  /** Objects scanned: the sanity stop refuses when more than half of them would go. */
  scanned: number
  maxDeletes: number
  allowMassDelete: boolean
  /**
   * Judges the chosen candidates again from a fresh read, just before deleting. Returns those still to
   * delete; it marks the others skipped itself (saying why). Throwing stops the run with nothing deleted.
   */
  recheck: (chosen: T[]) => Promise<T[]>
  delete: DeleteOptions
}

/**
 * The order every destructive command follows: sanity stop → cap (--max-deletes) → re-check → guarded
 * delete. Candidates are the findings whose item has action 'none'. Returns the sanity-stop message
 * when it refused (nothing deleted), else undefined.
 */
export async function reapCandidates<T extends {item: ReportItem}>(
  kube: KubeClient,
  findings: readonly T[],
  options: ReapCandidatesOptions<T>,
): Promise<string | undefined> {
  const candidates = findings.filter((f) => f.item.action === 'none')
  const sanity = checkSanity({
    scanned: options.scanned,
    candidates: candidates.length,
    maxDeletes: options.maxDeletes,
    allowMassDelete: options.allowMassDelete,
  })
  if (!sanity.ok) return sanity.message
  for (const {item} of candidates.slice(sanity.allowed)) {
    item.action = 'skipped'
    item.skipReason = 'max-deletes'
    item.detail = `${item.detail}; held back by --max-deletes ${options.maxDeletes}`
  }
  const chosen = candidates.slice(0, sanity.allowed)
  if (chosen.length === 0) return undefined
  options.delete.progress.update(`re-checking ${chosen.length} candidates against Airflow`)
  const confirmed = await options.recheck(chosen)
  await deleteItems(
    kube,
    confirmed.map((f) => f.item),
    options.delete,
  )
  return undefined
}

/**
 * Deletes each item's object, recording what happened on the item itself. One failure never stops the
 * others. Once the run is interrupted no new DELETE starts; those in flight get a short grace to be
 * answered, then are settled by reading the object back.
 */
export async function deleteItems(kube: KubeClient, items: ReportItem[], options: DeleteOptions): Promise<void> {
  const attempted = new Set<ReportItem>()
  const inFlight = settleAfterInterrupt(options.signal)
  const send = async (item: ReportItem) => {
    attempted.add(item)
    const refusal = await deleteOne(kube, item, options, inFlight.signal)
    options.progress.update(`deleting ${attempted.size}/${items.length}`)
    return refusal
  }
  try {
    await forEachUntilDenied(items, {concurrency: options.concurrency, signal: options.signal, itemOf: (item) => item}, send)
  } finally {
    inFlight.dispose()
  }
  // Whatever was not started before an interrupt is reported as such, never silently dropped.
  for (const item of items) {
    if (!attempted.has(item) && item.skipReason !== 'not-permitted') {
      item.action = 'skipped'
      item.skipReason = 'interrupted'
    }
  }
}

/** Deletes one item, recording the outcome on it; returns the error of a refused request. */
async function deleteOne(kube: KubeClient, item: ReportItem, options: DeleteOptions, signal: AbortSignal | undefined): Promise<unknown> {
  let refusal: unknown
  // A server dry run changes nothing, so there is no intent to journal: only its outcome.
  if (!options.serverDryRun) options.journal?.intent(item, 'delete')
  try {
    const {outcome} = await deleteGuarded(kube, options.resource, item.namespace, item.name, {
      uid: item.uid,
      gracePeriodSeconds: options.gracePeriodSeconds,
      propagationPolicy: options.propagationPolicy,
      dryRun: options.serverDryRun,
      signal,
    })
    recordOutcome(item, outcome, options.serverDryRun)
  } catch (error) {
    if (!options.serverDryRun && mayHaveApplied(error)) await settleDelete(kube, item, options.resource, error)
    else {
      item.action = 'failed'
      item.error = failureText(error)
      refusal = error
    }
  }
  options.journal?.outcome(item)
  return refusal
}

/**
 * The DELETE may have applied but its answer was lost: read the object. Gone (or another object under
 * the name), or ours with a deletionTimestamp ⇒ deleted; ours without one ⇒ failed when the server
 * answered (a 5xx), unknown when it never did (the request may still be queued in the server, and is
 * settled by a later run); unreadable ⇒ unknown.
 */
async function settleDelete(kube: KubeClient, item: ReportItem, resource: ResourceType, error: unknown): Promise<void> {
  const why = failureText(error)
  const what = item.kind.toLowerCase()
  const state = await readBack(kube, resource, item)
  switch (state.kind) {
    case 'gone':
      item.action = 'deleted'
      item.detail = `${item.detail}; the DELETE got no clear answer (${why}), and the ${what} is gone`
      return
    case 'present':
      if (state.object.metadata?.deletionTimestamp) {
        item.action = 'deleted'
        item.detail = `${item.detail}; the DELETE got no clear answer (${why}), and the ${what} is terminating`
        return
      }
      if (wasAnswered(error)) {
        item.action = 'failed'
        item.error = `${why}; the ${what} is still there and not being deleted`
        return
      }
      item.action = 'unknown'
      item.error = `${why}; ${mayStillApply(error)} (the ${what} is still there, not yet being deleted; a later run settles it)`
      return
    case 'unreadable':
      item.action = 'unknown'
      item.error = `${why}; the DELETE may have been applied, and reading the ${what} back failed too (${state.error})`
  }
}
function recordOutcome(item: ReportItem, outcome: string, serverDryRun: boolean): void {
  switch (outcome) {
    case 'not-found':
      item.action = 'skipped'
      item.skipReason = 'already-gone'
      item.detail = `${item.detail}; already gone when we came to delete it`
      return
    case 'uid-mismatch':
      item.action = 'skipped'
      item.skipReason = 'replaced'
      item.detail = `${item.detail}; a new ${item.kind.toLowerCase()} with the same name exists (different UID), left alone`
      return
    default:
      if (serverDryRun) {
        item.detail = `${item.detail}; server dry run: the API server would accept the delete`
        return
      }
      item.action = 'deleted'
  }
}
