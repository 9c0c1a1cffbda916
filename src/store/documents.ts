// The `history` documents of the CLI contract (`-o json`; `-o yaml` is the same document). Built
// field by field in a fixed order, so the output is stable and reads like the report documents.
import type {DbOrigin, SourceDescription, Summary} from '../core/report.js'
import type {DryRunMode, RunCommand, RunOutcome, RunSummary, StoredItem, StoredRun} from './types.js'

export const API_VERSION = 'airflow-reap/v1'

/** A run as `history` lists it: its summary fields, nothing more (not argv, not its items). */
export type RunListEntry = RunSummary

export interface RunListDocument {
  apiVersion: typeof API_VERSION
  kind: 'RunList'
  items: RunListEntry[]
}

export interface RunDocument {
  apiVersion: typeof API_VERSION
  kind: 'Run'
  runId: number
  startedAt: string
  finishedAt: string | null
  command: RunCommand
  argv: string[]
  context: string
  server: string
  namespace: string
  dryRun: boolean
  dryRunMode: DryRunMode | null
  /** Only for runs that read the Airflow DB. */
  db?: DbOrigin
  /** Only for runs that read task instances: the DB or the REST API. */
  source?: SourceDescription
  outcome: RunOutcome
  error?: string
  summary: Summary | null
  items: StoredItem[]
}

/** `history`: the runs, as listRuns returned them (newest first). */
export function runListDocument(runs: readonly RunSummary[]): RunListDocument {
  return {apiVersion: API_VERSION, kind: 'RunList', items: runs.map(runListEntry)}
}

/** `history show RUN_ID`: one run with every finding and action. */
export function runDocument({run, items}: StoredRun): RunDocument {
  return {
    apiVersion: API_VERSION,
    kind: 'Run',
    runId: run.runId,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    command: run.command,
    argv: [...run.argv],
    context: run.context,
    server: run.server,
    namespace: run.namespace,
    dryRun: run.dryRun,
    dryRunMode: run.dryRunMode,
    ...(run.db && {db: {source: run.db.source, via: run.db.via}}),
    ...(run.source && {source: {...run.source}}),
    outcome: run.outcome,
    ...(run.error !== undefined && {error: run.error}),
    summary: copySummary(run.summary),
    items: items.map(itemEntry),
  }
}

function runListEntry(run: RunSummary): RunListEntry {
  return {
    runId: run.runId,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    command: run.command,
    context: run.context,
    server: run.server,
    namespace: run.namespace,
    dryRun: run.dryRun,
    outcome: run.outcome,
    summary: copySummary(run.summary),
    ...(run.error !== undefined && {error: run.error}),
  }
}

// The report item's own order (cli-contract.md), then when its action happened.
function itemEntry(item: StoredItem): StoredItem {
  return {
    kind: item.kind,
    namespace: item.namespace,
    name: item.name,
    uid: item.uid,
    ...(item.phase !== undefined && {phase: item.phase}),
    ageSeconds: item.ageSeconds,
    reason: item.reason,
    detail: item.detail,
    taskInstance: item.taskInstance && {...item.taskInstance},
    action: item.action,
    ...(item.skipReason !== undefined && {skipReason: item.skipReason}),
    ...(item.error !== undefined && {error: item.error}),
    actedAt: item.actedAt,
    ...(item.settled && {settled: {...item.settled}}),
  }
}

function copySummary(summary: Summary | null): Summary | null {
  if (!summary) return null
  const {scanned, found, acted, failed, skipped, unknown} = summary
  return {scanned, found, acted, failed, skipped, unknown}
}
