// The unstick use case: find objects stuck Terminating behind garbage-collector finalizers (list, or
// GET the named ones) → judge → list their dependents → (delete foreground dependents → guarded
// finalizer patch → wait until the name is free). Every write is guarded: the patch tests the exact
// finalizer list and resourceVersion it was computed from, a dependent's DELETE carries its UID.
import type {ReportItem} from '../core/report.js'
import type {ObjectMeta} from '../core/types.js'
import {
  DEPENDENT_TYPES,
  type Stuck,
  dependentItem,
  dependentsAdvice,
  dependentsOf,
  isForeground,
  jobAdvisories,
  judgeStuck,
  objectRef,
  recordPatch,
  stuckItem,
} from '../core/unstick.js'
import {formatAge} from '../core/duration.js'
import {ForbiddenError} from '../errors.js'
import type {KubeClient} from '../kube/client.js'
import {listMetadata} from '../kube/list.js'
import {type KubeObject, getObject, objectMetaOf, patchFinalizersGuarded, waitUntilGone} from '../kube/objects.js'
import {type ResourceType, resolveResource} from '../kube/resources.js'
import {deleteItems} from './guarded-delete.js'
import {forEachLimited} from './pool.js'
import {forEachUntilDenied} from './rbac-stop.js'
import type {Progress} from './progress.js'
import type {ActionJournal} from './recorder.js'
import {failureText, mayHaveApplied, mayStillApply, readBack, settleAfterInterrupt, wasAnswered} from './ambiguous.js'

/** What to look at: every object of a type (scan), or one named object. */
export interface UnstickTarget {
  resource: ResourceType
  name?: string
}

export interface UnstickConfig {
  /** undefined: all namespaces (never with named targets). */
  namespace?: string
  selector?: string
  targets: UnstickTarget[]
  olderThanSeconds: number
  /** --finalizer: removable besides the garbage collector's own. */
  extraFinalizers: string[]
  deleteDependents: boolean
  /** --dry-run=server: writes are sent with dryRun=All. */
  serverDryRun: boolean
  concurrency: number
}

export interface UnstickDeps {
  kube: KubeClient
  progress: Progress
  signal?: AbortSignal
  now?: () => Date
  /** Where each patch and delete is journaled as it happens. */
  journal?: ActionJournal
}

export interface Dependent {
  resource: ResourceType
  object: ObjectMeta
  /** Its own report line: only when --delete-dependents takes over a foreground deletion. */
  item?: ReportItem
}

/** One stuck object: its report line, what the patch needs, and what to tell the user. */
export interface StuckFinding {
  resource: ResourceType
  object: ObjectMeta
  verdict: Stuck
  item: ReportItem
  dependents: Dependent[]
  /** Lines for stderr (`advice: ...`): dependents and Job spec advisories; also in the item's detail. */
  advice: string[]
}

export interface UnstickScan {
  scanned: number
  findings: StuckFinding[]
  /** Named objects that are missing or not stuck, and reads that failed without stopping the run. */
  warnings: string[]
}

interface Candidate {
  resource: ResourceType
  object: ObjectMeta
  /** The full object when it was read by name (named targets). */
  full?: KubeObject
  named: boolean
}

/** The report's lines in order: each stuck object followed by the dependents that got lines of their own. */
export function reportItems(scan: UnstickScan): ReportItem[] {
  return scan.findings.flatMap((f) => [f.item, ...f.dependents.flatMap((d) => (d.item ? [d.item] : []))])
}

export async function scanStuck(deps: UnstickDeps, config: UnstickConfig): Promise<UnstickScan> {
  const now = (deps.now ?? (() => new Date()))()
  const warnings: string[] = []
  const {candidates, scanned} = await readCandidates(deps, config, warnings)
  const findings: StuckFinding[] = []
  for (const candidate of candidates) {
    const verdict = judgeStuck(candidate.object, {now, olderThanSeconds: config.olderThanSeconds, extraFinalizers: config.extraFinalizers})
    if (verdict.stuck) {
      findings.push({...candidate, verdict, item: stuckItem(candidate.object, verdict, now), dependents: [], advice: []})
    } else if (candidate.named) {
      warnings.push(`${objectRef(candidate.object)}: ${verdict.detail}; nothing to do`)
    }
  }
  deps.progress.update(`reading ${findings.length} stuck objects`)
  await adviseJobs(deps, config, findings, candidates, warnings)
  await findDependents(deps, config, findings, now)
  return {scanned, findings, warnings}
}

/** Scanned types are listed (metadata only) and filtered to objects being deleted; named objects are read with GET. */
async function readCandidates(deps: UnstickDeps, config: UnstickConfig, warnings: string[]): Promise<{candidates: Candidate[]; scanned: number}> {
  const candidates: Candidate[] = []
  const seen = new Set<string>()
  let scanned = 0
  const add = (candidate: Candidate) => {
    if (seen.has(candidate.object.uid)) return
    seen.add(candidate.object.uid)
    candidates.push(candidate)
  }
  for (const target of config.targets.filter((t) => t.name === undefined)) {
    deps.progress.update(`listing ${target.resource.plural}`)
    const objects = await listMetadata(deps.kube, {
      resource: target.resource,
      namespace: config.namespace,
      labelSelector: config.selector,
      signal: deps.signal,
      onPage: (n) => deps.progress.update(`listing ${target.resource.plural}: ${n}`),
    })
    scanned += objects.length
    // As soon as listed: a run interrupted later still says how many objects it scanned.
    deps.journal?.listed?.(scanned)
    for (const object of objects) if (object.deletionTimestamp) add({resource: target.resource, object, named: false})
  }
  for (const target of config.targets.filter((t) => t.name !== undefined)) {
    const namespace = config.namespace ?? ''
    const full = await getObject(deps.kube, target.resource, namespace, target.name!, {signal: deps.signal})
    if (!full) {
      warnings.push(`${target.resource.singular}/${namespace}/${target.name}: not found; the name is free`)
      continue
    }
    scanned++
    deps.journal?.listed?.(scanned)
    add({resource: target.resource, object: objectMetaOf(target.resource, full), full, named: true})
  }
  return {candidates, scanned}
}

/**
 * Jobs whose spec keeps producing stuck Jobs get advisories: one GET per stuck Job (the list was
 * metadata only). A Job gone since it was listed is skipped; a denied GET only costs the advice.
 */
async function adviseJobs(deps: UnstickDeps, config: UnstickConfig, findings: StuckFinding[], candidates: Candidate[], warnings: string[]): Promise<void> {
  const fullByUid = new Map(candidates.filter((c) => c.full).map((c) => [c.object.uid, c.full!]))
  const jobs = findings.filter((f) => f.resource.kind === 'Job')
  let denied: string | undefined
  await forEachLimited(
    jobs,
    config.concurrency,
    async (finding) => {
      let full = fullByUid.get(finding.object.uid)
      if (!full && !denied) {
        try {
          full = (await getObject(deps.kube, finding.resource, finding.object.namespace, finding.object.name, {signal: deps.signal})) ?? undefined
          if (!full || full.metadata?.uid !== finding.object.uid) {
            markGone(finding.item, 'gone (or replaced) since it was listed')
            return
          }
        } catch (error) {
          if (!(error instanceof ForbiddenError)) throw error
          denied = error.message
        }
      }
      const spec = (full?.spec ?? {}) as {ttlSecondsAfterFinished?: unknown}
      const advice = jobAdvisories({
        name: finding.object.name,
        ttlSecondsAfterFinished: !full ? null : typeof spec.ttlSecondsAfterFinished === 'number' ? spec.ttlSecondsAfterFinished : undefined,
        finalizers: finding.object.finalizers,
        ownedByCronJob: finding.object.ownerReferences.some((r) => r.kind === 'CronJob'),
      })
      addAdvice(finding, advice)
    },
    deps.signal,
  )
  if (denied) warnings.push(`Job specs not read, so no advice on ttlSecondsAfterFinished: ${denied}`)
}

/** Dependents (by ownerReference UID) of the objects about to be unstuck, listed once per type and namespace. */
async function findDependents(deps: UnstickDeps, config: UnstickConfig, findings: StuckFinding[], now: Date): Promise<void> {
  const lists = new Map<string, Promise<ObjectMeta[]>>()
  const listOf = (resource: ResourceType, namespace: string) => {
    const key = `${resource.plural}\u0000${namespace}`
    if (!lists.has(key)) lists.set(key, listMetadata(deps.kube, {resource, namespace, signal: deps.signal}))
    return lists.get(key)!
  }
  const findingUids = new Set(findings.map((f) => f.object.uid))
  for (const finding of findings.filter((f) => f.item.action === 'none')) {
    const types = (DEPENDENT_TYPES[finding.resource.kind] ?? []).map((plural) => resolveResource(plural))
    for (const resource of types) {
      deps.progress.update(`listing ${resource.plural} owned by ${objectRef(finding.object)}`)
      for (const object of dependentsOf(finding.object, await listOf(resource, finding.object.namespace))) {
        finding.dependents.push({resource, object})
      }
    }
    const takeOver = config.deleteDependents && isForeground(finding.object.finalizers)
    const names = finding.dependents.map((d) => `${d.object.kind.toLowerCase()}/${d.object.name}`)
    const advice = dependentsAdvice(finding.object.finalizers, names, takeOver)
    if (advice) addAdvice(finding, [advice])
    if (!takeOver) continue
    for (const dependent of finding.dependents) {
      // A dependent that is itself stuck already has its own line.
      if (!findingUids.has(dependent.object.uid)) dependent.item = dependentItem(dependent.object, finding.object, now)
    }
  }
}

function addAdvice(finding: StuckFinding, advice: string[]): void {
  if (advice.length === 0) return
  finding.advice.push(...advice)
  finding.item.detail = `${finding.item.detail}; ${advice.join('; ')}`
}

function markGone(item: ReportItem, why: string): void {
  item.action = 'skipped'
  item.skipReason = 'already-gone'
  item.detail = `${item.detail}; ${why}`
}

/**
 * Unsticks every finding still to act on: its foreground dependents first (with --delete-dependents,
 * as the garbage collector would have), then the guarded finalizer patch. One failure never stops
 * the others; whatever an interrupt leaves unstarted is reported as such.
 */
export async function unstick(deps: UnstickDeps, scan: UnstickScan, config: UnstickConfig): Promise<void> {
  const actionable = scan.findings.filter((f) => f.item.action === 'none')
  const started = new Set<StuckFinding>()
  const patching = new Set<StuckFinding>()
  const inFlight = settleAfterInterrupt(deps.signal)
  const send = async (finding: StuckFinding) => {
    started.add(finding)
    deps.progress.update(`unsticking ${started.size}/${actionable.length}`)
    await deleteDependents(deps, finding, config)
    // Its dependents' deletes were cut short by an interrupt: the patch is not started.
    if (deps.signal?.aborted) return undefined
    patching.add(finding)
    return patchOne(deps, finding, config, inFlight.signal)
  }
  try {
    // After RBAC refuses the patch of a kind in a namespace, the rest there are not sent (not-permitted).
    await forEachUntilDenied(actionable, {concurrency: config.concurrency, signal: deps.signal, itemOf: (finding) => finding.item}, send)
  } finally {
    inFlight.dispose()
  }
  for (const finding of actionable) {
    if (patching.has(finding) || finding.item.skipReason === 'not-permitted') continue
    // Started but cut short after its dependents: only its own patch was abandoned.
    const items = started.has(finding) ? [finding.item] : [finding.item, ...finding.dependents.flatMap((d) => (d.item ? [d.item] : []))]
    for (const item of items) {
      item.action = 'skipped'
      item.skipReason = 'interrupted'
    }
  }
}

async function deleteDependents(deps: UnstickDeps, finding: StuckFinding, config: UnstickConfig): Promise<void> {
  const byResource = new Map<ResourceType, ReportItem[]>()
  for (const dependent of finding.dependents) {
    if (!dependent.item) continue
    byResource.set(dependent.resource, [...(byResource.get(dependent.resource) ?? []), dependent.item])
  }
  for (const [resource, items] of byResource) {
    await deleteItems(deps.kube, items, {
      resource,
      serverDryRun: config.serverDryRun,
      // A dependent Job deleted without it would get the orphan finalizer and stick in turn.
      propagationPolicy: 'Background',
      concurrency: config.concurrency,
      signal: deps.signal,
      progress: deps.progress,
      journal: deps.journal,
    })
  }
}

/** Patches one finding's finalizers, recording the outcome on its item; returns the error of a refused request. */
async function patchOne(deps: UnstickDeps, finding: StuckFinding, config: UnstickConfig, signal: AbortSignal | undefined): Promise<unknown> {
  const {object, verdict, item} = finding
  let refusal: unknown
  if (!config.serverDryRun) deps.journal?.intent(item, 'patch')
  try {
    const {outcome} = await patchFinalizersGuarded(deps.kube, finding.resource, object.namespace, object.name, {
      expected: object.finalizers,
      remove: verdict.remove,
      resourceVersion: object.resourceVersion,
      uid: object.uid,
      dryRun: config.serverDryRun,
      signal,
    })
    recordPatch(item, verdict.remove, outcome, config.serverDryRun)
  } catch (error) {
    if (!config.serverDryRun && mayHaveApplied(error)) await settlePatch(deps.kube, finding, error)
    else {
      item.action = 'failed'
      item.error = failureText(error)
      refusal = error
    }
  }
  deps.journal?.outcome(item)
  return refusal
}

/**
 * The patch may have applied but its answer was lost: read the object. Gone, or none of the
 * finalizers to remove left on it ⇒ patched; still holding one ⇒ failed when the server answered (a
 * 5xx), unknown when it never did; unreadable ⇒ unknown.
 */
async function settlePatch(kube: KubeClient, finding: StuckFinding, error: unknown): Promise<void> {
  const {item, verdict} = finding
  const why = failureText(error)
  const state = await readBack(kube, finding.resource, item)
  if (state.kind === 'unreadable') {
    item.action = 'unknown'
    item.error = `${why}; the patch may have been applied, and reading the object back failed too (${state.error})`
    return
  }
  const left = state.kind === 'present' ? (state.object.metadata?.finalizers ?? []).filter((f) => verdict.remove.includes(f)) : []
  if (left.length > 0) {
    // Unanswered, the patch may still be queued in the server: only a later run can tell.
    item.action = wasAnswered(error) ? 'failed' : 'unknown'
    item.error = wasAnswered(error) ? `${why}; it still holds ${left.join(', ')}` : `${why}; ${mayStillApply(error)} (it still holds ${left.join(', ')}; a later run settles it)`
    return
  }
  recordPatch(item, verdict.remove, state.kind === 'gone' ? 'gone' : 'patched', false)
  item.detail = `${item.detail} (the patch got no clear answer: ${why}; read back afterwards)`
}

export interface WaitResult {
  /** `job/NS/NAME` of the objects now gone: their names are free. */
  freed: string[]
  /** Patched but still there at the deadline. */
  stillThere: string[]
  /** Objects whose wait failed (a denied GET, an unreachable API server), with the error. */
  failed: string[]
  interrupted: boolean
}

/** --wait: after patching, poll until GET answers 404 (or another UID holds the name), all against one deadline. */
export async function waitUntilFreed(deps: UnstickDeps, scan: UnstickScan, timeoutSeconds: number, concurrency: number): Promise<WaitResult> {
  const patched = scan.findings.filter((f) => f.item.action === 'patched')
  const result: WaitResult = {freed: [], stillThere: [], failed: [], interrupted: false}
  const deadline = Date.now() + timeoutSeconds * 1000
  deps.progress.update(`waiting for ${patched.length} objects to disappear`)
  await forEachLimited(patched, concurrency, async ({resource, object, item}) => {
    const ref = objectRef(object)
    try {
      const gone = await waitUntilGone(deps.kube, resource, object.namespace, object.name, {
        uid: object.uid,
        timeoutMs: Math.max(0, deadline - Date.now()),
        signal: deps.signal,
      })
      if (gone) {
        result.freed.push(ref)
        item.detail = `${item.detail}; gone: the name is free`
      } else {
        result.stillThere.push(ref)
        item.detail = `${item.detail}; still there ${formatAge(timeoutSeconds)} after the patch (--wait-timeout)`
      }
    } catch (error) {
      if (deps.signal?.aborted) {
        result.interrupted = true
        item.detail = `${item.detail}; the wait for it was interrupted`
        return
      }
      const message = failureText(error)
      result.failed.push(`${ref}: ${message}`)
      item.detail = `${item.detail}; could not wait for it: ${message}`
    }
  })
  return result
}
