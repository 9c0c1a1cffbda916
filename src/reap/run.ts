// The frame every command run goes through: record the start, do the work, build the contract's
// report, record the end (ok / failed / interrupted). A run that fails part-way still records what
// it did before failing.
import {EXIT_FOUND, EXIT_OK, InterruptedError, ReapError} from '../errors.js'
import type {Report, ReportItem, ReportKind} from '../core/report.js'
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
    throw interrupted ? new InterruptedError('interrupted: the run was stopped; what was done so far is recorded') : error
  }
  const interrupted = frame.signal.aborted
  const failed = draft.stopped ?? draft.failure
  recorder.finish(toReport(frame, draft), interrupted ? 'interrupted' : failed ? 'failed' : 'ok', interrupted ? 'interrupted' : failed)
  // Built after recording, so a store failure while recording shows up among the warnings.
  return {...toReport(frame, draft), stopped: draft.stopped, failure: draft.failure, interrupted}
}

function toReport(frame: RunFrame, draft: ReportDraft): Report {
  return {
    apiVersion: 'airflow-reap/v1',
    kind: frame.kind,
    runId: frame.recorder.id,
    context: frame.meta.context,
    generatedAt: new Date().toISOString(),
    dryRun: draft.dryRun,
    summary: summarize(draft.scanned, draft.items),
    items: draft.items,
    warnings: [...draft.warnings, ...frame.recorder.warnings],
  }
}

function errorText(error: unknown): string {
  if (error instanceof ReapError || error instanceof Error) return error.message
  return String(error)
}

/** A run some of whose actions failed is a runtime error (exit 1), reported after the result. */
export function failureOf(report: Report): string | undefined {
  const failed = report.items.filter((item) => item.action === 'failed')
  if (failed.length === 0) return undefined
  const first = failed[0]
  return `${failed.length} of ${report.items.length} actions failed (first: ${first.kind.toLowerCase()}/${first.namespace}/${first.name}: ${first.error})`
}

/** Exit code of a finished run: 3 with --exit-code when something it would act on was left in place. */
export function exitCodeFor(report: Report, exitCodeFlag: boolean): number {
  if (!exitCodeFlag) return EXIT_OK
  return report.items.some(isLeftInPlace) ? EXIT_FOUND : EXIT_OK
}
