// The report document of the CLI contract (`-o json`), shared by every command, the renderers and
// the run store.

export type Reason =
  | 'no-active-task-instance'
  | 'stale-try'
  | 'execution-timeout-exceeded'
  | 'stuck-terminating'

/** `unknown`: the request may have applied and its outcome could not be read back (a timeout, a reset, an interrupt). */
export type Action = 'none' | 'deleted' | 'patched' | 'skipped' | 'failed' | 'unknown'

export type SkipReason =
  | 'too-young'
  | 'keep-annotation'
  | 'missing-labels'
  | 'may-be-reattached'
  | 'unknown-dag-run'
  | 'became-active'
  | 'replaced'
  | 'foreign-finalizer'
  | 'finished'
  | 'terminating'
  | 'already-gone'
  | 'changed-concurrently'
  | 'max-deletes'
  | 'interrupted'
  | 'owned-by-controller'
  | 'unknown-state'
  | 'not-permitted'

export interface TaskInstanceRef {
  dagId: string
  taskId: string
  runId: string
  mapIndex: number
  tryNumber: number
  state: string | null
}

export interface ReportItem {
  kind: string // 'Pod', 'Job', ...
  namespace: string
  name: string
  uid: string
  phase?: string
  ageSeconds: number
  reason: Reason
  detail: string
  taskInstance: TaskInstanceRef | null
  action: Action
  skipReason?: SkipReason
  /** Why, when the action is failed or unknown. */
  error?: string
}

export type ReportKind = 'ZombieReport' | 'OverdueReport' | 'UnstickReport'

export interface Summary {
  scanned: number
  found: number
  acted: number
  failed: number
  skipped: number
  /** Actions whose outcome could not be known: neither acted nor failed. */
  unknown: number
}

/** Where the Airflow DB URL came from and how it was reached (`flag`, `secret NS/NAME:KEY`; `direct`, `port-forward pod/NAME:PORT`). */
export interface DbOrigin {
  source: string
  via: string
}

/**
 * Where a run's verdicts about task instances came from (`source` in reports and history): the
 * metadata DB (where its URL was found, how it was reached) or the REST API (its redacted URL, the API
 * and Airflow versions, how the credentials were obtained, requests made so far). Never a secret.
 */
export type SourceDescription =
  | {kind: 'db'; source: string; via: string}
  | {kind: 'api'; url: string; api: 'v1' | 'v2'; airflowVersion: string; auth: 'token-cmd' | 'token' | 'password' | 'none'; requests: number}

export interface Report {
  apiVersion: 'airflow-reap/v1'
  kind: ReportKind
  runId: number | null
  context: string
  generatedAt: string
  dryRun: boolean
  /** The commands that read the Airflow DB (zombies, overdue). */
  db?: DbOrigin
  /** The commands that read task instances (zombies, overdue): which source the verdicts came from. */
  source?: SourceDescription
  summary: Summary
  items: ReportItem[]
  /** Non-fatal notes for the user (store unavailable, unparsable DAG, ...). Not part of the contract's required fields. */
  warnings?: string[]
}

/**
 * The summary counts. `found` is the contract's one definition, used by the text, JSON and history
 * alike: the items acted on or to act on (isActionable); skipped items are counted apart, never found.
 */
export function summarize(scanned: number, items: ReportItem[]): Summary {
  return {
    scanned,
    found: items.filter(isActionable).length,
    acted: items.filter((i) => i.action === 'deleted' || i.action === 'patched').length,
    failed: items.filter((i) => i.action === 'failed').length,
    skipped: items.filter((i) => i.action === 'skipped').length,
    unknown: items.filter((i) => i.action === 'unknown').length,
  }
}

/**
 * An item the command acts on or would act on (what `-o name` prints): never a skipped one, so a pipe
 * into `kubectl delete` cannot touch a kept, young, re-attachable or foreign object.
 */
export function isActionable(item: ReportItem): boolean {
  return item.action !== 'skipped'
}

/**
 * A finding left in place that `--exit-code` reports (exit 3): one the command would act on, failed
 * to act on, or whose outcome is unknown. The same items `-o name` prints: a skipped item never counts,
 * whatever the skip (kept, too young, another Airflow's, held back by --max-deletes, changed while
 * being acted on), as the contract says, so a monitor goes green once only skipped findings remain.
 * A monitor runs as a dry run, where --max-deletes holds nothing back.
 */
export function isLeftInPlace(item: ReportItem): boolean {
  if (!isActionable(item)) return false
  // `unknown`: the request may not have applied, so the object may well still be there.
  return item.action === 'none' || item.action === 'failed' || item.action === 'unknown'
}
