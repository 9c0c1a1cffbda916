// The one guarded deletion path (zombies and overdue): every DELETE carries the UID seen at listing, so
// a pod re-created under the same name is never touched; 404 means someone else already did the job.
import {ForbiddenError, ReapError} from '../errors.js'
import type {ReportItem} from '../core/report.js'
import type {KubeClient} from '../kube/client.js'
import {type PropagationPolicy, deleteGuarded} from '../kube/objects.js'
import type {ResourceType} from '../kube/resources.js'
import {forEachLimited} from './pool.js'
import type {Progress} from './progress.js'

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
}

/** Deletes each item's object, recording what happened on the item itself. One failure never stops the others. */
export async function deleteItems(kube: KubeClient, items: ReportItem[], options: DeleteOptions): Promise<void> {
  const attempted = new Set<ReportItem>()
  await forEachLimited(
    items,
    options.concurrency,
    async (item) => {
      attempted.add(item)
      await deleteOne(kube, item, options)
      options.progress.update(`deleting ${attempted.size}/${items.length}`)
    },
    options.signal,
  )
  // Whatever was not started before an interrupt is reported as such, never silently dropped.
  for (const item of items) {
    if (!attempted.has(item)) {
      item.action = 'skipped'
      item.skipReason = 'interrupted'
    }
  }
}

async function deleteOne(kube: KubeClient, item: ReportItem, options: DeleteOptions): Promise<void> {
  try {
    const {outcome} = await deleteGuarded(kube, options.resource, item.namespace, item.name, {
      uid: item.uid,
      gracePeriodSeconds: options.gracePeriodSeconds,
      propagationPolicy: options.propagationPolicy,
      dryRun: options.serverDryRun,
      signal: options.signal,
    })
    recordOutcome(item, outcome, options.serverDryRun)
  } catch (error) {
    item.action = 'failed'
    item.error = describeFailure(error)
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

function describeFailure(error: unknown): string {
  if (error instanceof ForbiddenError || error instanceof ReapError) return error.message
  return error instanceof Error ? error.message.split('\n')[0] : String(error)
}
