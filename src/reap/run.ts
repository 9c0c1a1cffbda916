// The frame every command run goes through: record the start (before the kubeconfig, the DB or
// anything else can fail), do the work, build the contract's report, record the end (ok / failed /
// interrupted). A run that fails part-way still records what it did before failing, and a run with
// any failed or unknown action is failed, never ok.
import {EXIT_FOUND, EXIT_OK, ReapError} from '../errors.js'
import type {Report, ReportItem, ReportKind, SourceDescription} from '../core/report.js'
import {isLeftInPlace, summarize} from '../core/report.js'
import type {Progress} from './progress.js'
import type {RunMeta, RunRecorder} from './recorder.js'

/** What the work fills in while it runs. */
export interface ReportDraft {
  scanned: number
  items: ReportItem[]
  dryRun: boolean
  warnings: string[]
  /** A sanity stop refused to act: the report is still printed, then the command fails. */
  stopped?: string
  /** The work ran to its end but part of it failed (a write refused, a wait timed out): recorded as failed. */
  failure?: string
}

export interface RunFrame {
  kind: ReportKind
  recorder: RunRecorder
  progress: Progress
  meta: RunMeta
  signal: AbortSignal
  work: (draft: ReportDraft) => Promise<void>
  /**
   * Tells the cluster what was done (Kubernetes Events), once the outcome of every action is known:
   * after the work, also when it failed or was interrupted. Returns warnings; never throws.
   */
  announce?: (items: readonly ReportItem[]) => Promise<string[]>
}

export type FinishedReport = Report & {stopped?: string; failure?: string; interrupted?: boolean}

export async function runReport(frame: RunFrame): Promise<FinishedReport> {
  const {recorder, meta} = frame
  recorder.start(meta)
  const draft: ReportDraft = {scanned: 0, items: [], dryRun: meta.dryRun, warnings: []}
  try {
    await frame.work(draft)
  } catch (error) {
    const interrupted = frame.signal.aborted
    recorder.finish(toReport(frame, draft), interrupted ? 'interrupted' : 'failed', errorText(error))
    await announce(frame, draft, interrupted)
    if (!interrupted) throw error
    // A signal: the caller prints what was done before it (the report) and exits 130 or 143.
    return {...toReport(frame, draft), interrupted: true}
  }
  const interrupted = frame.signal.aborted
  const failure = draft.failure ?? failureOf(draft.items)
  const failed = draft.stopped ?? failure
  // Recorded before the Events are posted: a signal's deadline must find the outcome written.
  recorder.finish(toReport(frame, draft), interrupted ? 'interrupted' : failed ? 'failed' : 'ok', interrupted ? 'interrupted' : failed)
  await announce(frame, draft, interrupted)
  // Built after recording, so a store failure while recording shows up among the warnings.
  return {...toReport(frame, draft), stopped: draft.stopped, failure, interrupted}
}

/**
 * Posts the Events of what was done. Not after a signal: the few seconds a signal leaves go to
 * settling the writes in flight, recording the run and printing its report.
 */
async function announce(frame: RunFrame, draft: ReportDraft, interrupted: boolean): Promise<void> {
  if (!frame.announce || draft.dryRun) return
  if (!interrupted) {
    draft.warnings.push(...(await frame.announce(draft.items)))
    return
  }
  const acted = draft.items.filter((item) => item.action === 'deleted' || item.action === 'patched').length
  if (acted > 0) draft.warnings.push(`no Kubernetes Events posted for the ${acted} actions taken: the run was interrupted`)
}

function toReport(frame: RunFrame, draft: ReportDraft): Report {
  return {
    apiVersion: 'airflow-reap/v1',
    kind: frame.kind,
    runId: frame.recorder.id,
    context: frame.recorder.meta.context,
    generatedAt: new Date().toISOString(),
    dryRun: draft.dryRun,
    ...dbAndSource(frame.recorder.meta.source),
    summary: summarize(draft.scanned, draft.items),
    items: draft.items,
    warnings: [...draft.warnings, ...frame.recorder.warnings],
  }
}

/** The report's `source`, and for the DB its `db` too (where the URL came from, as before 0.3). */
function dbAndSource(source: SourceDescription | undefined): Pick<Report, 'db' | 'source'> {
  if (!source) return {}
  return source.kind === 'db' ? {db: {source: source.source, via: source.via}, source} : {source}
}

function errorText(error: unknown): string {
  if (error instanceof ReapError || error instanceof Error) return error.message
  return String(error)
}

/**
 * A run some of whose actions failed, or may or may not have applied (unknown), is a runtime error
 * (exit 1) recorded as failed, reported after the result.
 */
export function failureOf(items: readonly ReportItem[]): string | undefined {
  const failed = items.filter((item) => item.action === 'failed')
  const unknown = items.filter((item) => item.action === 'unknown')
  if (failed.length === 0 && unknown.length === 0) return undefined
  const attempted = items.filter((item) => ['deleted', 'patched', 'failed', 'unknown'].includes(item.action)).length
  const parts = [
    ...(failed.length > 0 ? [`${failed.length} of ${attempted} actions failed`] : []),
    ...(unknown.length > 0 ? [`${unknown.length} of ${attempted} actions have an unknown outcome (they may have been applied)`] : []),
  ]
  const first = failed[0] ?? unknown[0]
  return `${parts.join(', ')} (first: ${first.kind.toLowerCase()}/${first.namespace}/${first.name}: ${first.error})${notSentNote(items)}`
}

/**
 * After an RBAC denial the rest were not sent (rbac-stop.ts): says how many, the missing permission
 * being in the first failure's error. Empty when all were sent.
 */
export function notSentNote(items: readonly ReportItem[]): string {
  const notSent = items.filter((item) => item.action === 'skipped' && item.skipReason === 'not-permitted').length
  return notSent > 0 ? `; ${notSent} more not sent: grant that permission and run again` : ''
}

/** Exit code of a finished run: 3 with --exit-code when something it would act on was left in place. */
export function exitCodeFor(report: Report, exitCodeFlag: boolean): number {
  if (!exitCodeFlag) return EXIT_OK
  return report.items.some(isLeftInPlace) ? EXIT_FOUND : EXIT_OK
}
