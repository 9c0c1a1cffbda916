// What a run leaves in the store, as the rest of the program sees it.
import type {DbOrigin, ReportItem, SourceDescription, Summary} from '../core/report.js'
import type {ProcessIdentity} from './process-identity.js'

export type RunCommand = 'zombies' | 'overdue' | 'unstick'
export type DryRunMode = 'client' | 'server'
/**
 * `running` until finishRun. `crashed`: its process is gone and never recorded an outcome (SIGKILL,
 * OOM kill, power loss); set when the store is next read on the host that ran it.
 */
export type RunOutcome = 'running' | 'ok' | 'failed' | 'interrupted' | 'crashed'
export type FinalOutcome = Exclude<RunOutcome, 'running' | 'crashed'>

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
  /** Where the task instances come from (commands that read them): the DB (and where it was found) or the REST API. */
  source?: SourceDescription
  startedAt?: Date
  /** The process running the run (default: this one), to tell later whether it is still alive. */
  process?: ProcessIdentity
}

/** What is learnt about a run after it started: where it runs (once the kubeconfig is read), and that it is a real run (once confirmed). */
export interface RunUpdate {
  context?: string
  server?: string
  namespace?: string
  dryRun?: boolean
  dryRunMode?: DryRunMode
  /** Objects scanned so far. */
  scanned?: number
  /** Where the task instances come from, once the source is open (again at the end: the API's request count). */
  source?: SourceDescription
}

/** The verb of an action about to be sent: recorded before the request, so a crash leaves it `unknown`. */
export type ActionVerb = 'delete' | 'patch'

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
  /** For an action recorded `unknown`: what a later look at the cluster found became of it. */
  settled?: Settlement
}

/** What became of an action recorded `unknown`, as a later run (or `history`) found it in the cluster. */
export interface Settlement {
  action: 'deleted' | 'patched' | 'failed'
  /** ISO 8601, UTC. */
  at: string
  /** The run that settled it; null when `history` did. */
  byRunId: number | null
  /** What was seen: gone, terminating, still there untouched... */
  detail: string
}

/** An action of an earlier, finished run recorded `unknown` and not yet settled. */
export interface UnsettledAction {
  /** The run_items row, to record the settlement against. */
  itemId: number
  runId: number
  command: RunCommand
  kind: string
  namespace: string
  name: string
  uid: string
  verb: ActionVerb
  /** When its request was sent. */
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
  /** null for runs that read no DB (unstick, the REST API) and runs recorded before 0.3. */
  db: DbOrigin | null
  /** null for runs that read no task instances (unstick) and runs recorded before 0.3. */
  source: SourceDescription | null
}

export interface StoredRun {
  run: RunRecord
  items: StoredItem[]
}
