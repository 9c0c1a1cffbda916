// What a run leaves in the store, as the rest of the program sees it.
import type {DbOrigin, ReportItem, Summary} from '../core/report.js'

export type RunCommand = 'zombies' | 'overdue' | 'unstick'
export type DryRunMode = 'client' | 'server'
/** `running` until finishRun: a crashed process leaves a run that says so instead of vanishing. */
export type RunOutcome = 'running' | 'ok' | 'failed' | 'interrupted'
export type FinalOutcome = Exclude<RunOutcome, 'running'>

/** The namespace scope recorded for `--all-namespaces`. */
export const ALL_NAMESPACES = '*'

export interface StartRunInput {
  command: RunCommand
  /** The command line as typed; the store redacts it again whatever the caller did. */
  argv: readonly string[]
  context: string
  /** The cluster's API server URL. */
  server: string
  /** One namespace, or ALL_NAMESPACES. */
  namespace: string
  dryRun: boolean
  /** How the dry run was made; ignored when dryRun is false, `client` when omitted. */
  dryRunMode?: DryRunMode
  /** Where the Airflow DB came from and how it was reached (commands that read it). */
  db?: DbOrigin
  startedAt?: Date
}

export interface FinishRunInput {
  outcome: FinalOutcome
  summary: Summary
  /** Why the run failed (one line; redacted by the store). */
  error?: string
  finishedAt?: Date
}

/**
 * A finding to record. `actedAt` is when its action was carried out; when omitted, an item whose
 * action was attempted (deleted, patched, failed) is stamped with the time it is recorded, so record
 * items as their actions complete for exact times.
 */
export type RecordableItem = ReportItem & {actedAt?: Date | string}

/** A finding as stored: the ReportItem plus when its action happened (null when nothing was done). */
export interface StoredItem extends ReportItem {
  actedAt: string | null
}

export interface RunSummary {
  runId: number
  /** ISO 8601, UTC. */
  startedAt: string
  /** null while running, or when the process died before finishing. */
  finishedAt: string | null
  command: RunCommand
  context: string
  server: string
  namespace: string
  dryRun: boolean
  outcome: RunOutcome
  /** null until the run is finished. */
  summary: Summary | null
  error?: string
}

export interface RunRecord extends RunSummary {
  argv: string[]
  dryRunMode: DryRunMode | null
  /** null for runs that read no DB (unstick) and runs recorded before 0.3. */
  db: DbOrigin | null
}

export interface StoredRun {
  run: RunRecord
  items: StoredItem[]
}
