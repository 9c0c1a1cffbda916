// The local run store: every run of a command, its findings and what was done about them, so "what
// did we delete, when, and why" has an answer. Every failure is a StoreUnavailableError, which the
// command layer turns into one warning: recording must never stop a reap.
import type Database from 'better-sqlite3'
import type {ReportItem, SourceDescription, Summary, TaskInstanceRef} from '../core/report.js'
import {StoreUnavailableError} from './errors.js'
import {migrate} from './migrations.js'
import {DEFAULT_BUSY_TIMEOUT_MS, openDatabase, toStoreError} from './open.js'
import {currentProcess, liveness} from './process-identity.js'
import {redactArgv, redactText} from '../core/redact.js'
import type {
  ActionVerb,
  DryRunMode,
  FinishRunInput,
  RecordableItem,
  RunCommand,
  RunOutcome,
  RunRecord,
  RunSummary,
  RunUpdate,
  Settlement,
  StartRunInput,
  UnsettledAction,
  StoredItem,
  StoredRun,
} from './types.js'

export interface OpenRunStoreOptions {
  busyTimeoutMs?: number
  /** The clock for default timestamps (tests pin it). */
  now?: () => Date
}

export const DEFAULT_LIST_LIMIT = 20

/** Open (creating and migrating if needed) the store at `storePath`. Throws StoreUnavailableError. */
export function openRunStore(storePath: string, options: OpenRunStoreOptions = {}): RunStore {
  const db = openDatabase(storePath, options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS)
  try {
    migrate(db)
    return new RunStore(db, storePath, options.now ?? (() => new Date()))
  } catch (err) {
    db.close()
    throw toStoreError(err, storePath)
  }
}

// Actions that touched (or tried to touch) the cluster, and so have a time worth recording.
const ATTEMPTED_ACTIONS: ReadonlySet<string> = new Set(['deleted', 'patched', 'failed', 'unknown'])

/** How often a running run's process records that it is alive (RunRecorder). */
export const HEARTBEAT_INTERVAL_MS = 30_000
/**
 * A run of another host whose heartbeat is older than this is crashed: ten beats missed, so that a
 * loaded machine, a slow disk or clocks a little apart between two pods never end a live run.
 */
export const HEARTBEAT_STALE_MS = 10 * HEARTBEAT_INTERVAL_MS

/** The error of an action whose request was on its way when its run's process ended. */
export const IN_FLIGHT_AT_CRASH = 'the process ended while this request was in flight: it may have been applied'
/** The same, seen while the run still goes. */
export const IN_FLIGHT = 'in flight: the run is still going'

export class RunStore {
  private readonly statements: ReturnType<typeof prepareStatements>

  constructor(
    private readonly db: Database.Database,
    readonly path: string,
    private readonly now: () => Date,
  ) {
    this.statements = prepareStatements(db)
  }

  /** Record that a run has started; its outcome is `running` until finishRun. Returns the run id. */
  startRun(input: StartRunInput): number {
    return this.guard(() => {
      const owner = input.process ?? currentProcess()
      const result = this.statements.insertRun.run({
        pid: owner.pid,
        host: owner.host,
        process_start: owner.start,
        started_at: iso(input.startedAt ?? this.now()),
        command: input.command,
        argv: JSON.stringify(redactArgv(input.argv)),
        context: redactText(input.context),
        server: redactText(input.server),
        namespace: input.namespace,
        dry_run: input.dryRun ? 1 : 0,
        dry_run_mode: input.dryRun ? (input.dryRunMode ?? 'client') : null,
        ...sourceColumns(input.source),
      })
      return Number(result.lastInsertRowid)
    })
  }

  /** Record that the run's process is still alive (see HEARTBEAT_STALE_MS). */
  heartbeat(runId: number): void {
    this.guard(() => this.statements.heartbeat.run({id: runId, at: iso(this.now())}))
  }

  /** Record what was learnt about a running run: its target once the kubeconfig is read, that it is real once confirmed. */
  updateRun(runId: number, update: RunUpdate): void {
    this.guard(() =>
      this.db
        .transaction(() => {
          this.requireRun(runId)
          const dryRun = update.dryRun === undefined ? null : update.dryRun ? 1 : 0
          this.statements.updateRun.run({
            id: runId,
            context: update.context === undefined ? null : redactText(update.context),
            server: update.server === undefined ? null : redactText(update.server),
            namespace: update.namespace ?? null,
            dry_run: dryRun,
            dry_run_mode: update.dryRun === false ? null : (update.dryRunMode ?? (update.dryRun ? 'client' : null)),
            scanned: update.scanned ?? null,
            ...sourceColumns(update.source),
          })
        })
        .immediate(),
    )
  }

  /**
   * Journal an action before its request is sent: the item is written with its verb in flight, so
   * that a crash before the outcome is recorded leaves it `unknown` (it may have applied), never lost.
   */
  recordIntent(runId: number, item: RecordableItem, verb: ActionVerb): void {
    this.guard(() =>
      this.db
        .transaction(() => {
          this.requireRun(runId)
          const row = itemRow(runId, item, iso(this.now()))
          this.statements.upsertItem.run({...row, acted_at: iso(item.actedAt ?? this.now()), in_flight: verb, verb})
        })
        .immediate(),
    )
  }

  /**
   * Record findings of a run, in one transaction. Can be called as the run goes: an object recorded
   * again (found, then deleted) updates its row and keeps its place.
   */
  recordItems(runId: number, items: readonly RecordableItem[]): void {
    this.guard(() =>
      this.db
        .transaction(() => {
          this.requireRun(runId)
          const recordedAt = iso(this.now())
          for (const item of items) this.statements.upsertItem.run(itemRow(runId, item, recordedAt))
        })
        .immediate(),
    )
  }

  /**
   * Record how a run ended. Returns false, changing nothing, when the run was already finished: the
   * first ending wins, so a late `ok` cannot overwrite the `interrupted` a signal handler wrote.
   */
  finishRun(runId: number, result: FinishRunInput): boolean {
    return this.guard(() =>
      this.db
        .transaction(() => {
          this.requireRun(runId)
          // An action still in flight at the end (its outcome never recorded) may have applied.
          this.statements.settleInFlight.run({run_id: runId, error: IN_FLIGHT_AT_CRASH})
          const {changes} = this.statements.finishRun.run({
            id: runId,
            finished_at: iso(result.finishedAt ?? this.now()),
            outcome: result.outcome,
            error: optionalText(result.error),
            scanned: result.summary.scanned,
            found: result.summary.found,
            acted: result.summary.acted,
            failed: result.summary.failed,
            skipped: result.summary.skipped,
            unknown: result.summary.unknown ?? 0,
          })
          return changes > 0
        })
        .immediate(),
    )
  }

  /** The most recent runs, newest first. Runs whose process died are marked crashed first. */
  listRuns(options: {limit?: number} = {}): RunSummary[] {
    const limit = options.limit ?? DEFAULT_LIST_LIMIT
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`)
    this.settleCrashedRuns()
    return this.guard(() => (this.statements.listRuns.all(limit) as RunRow[]).map(toRunSummary))
  }

  /** How many runs the store holds. */
  countRuns(): number {
    return this.guard(() => (this.statements.countRuns.get() as {n: number}).n)
  }

  /**
   * Marks `crashed` every running run whose process is known to have ended: on this host, its pid is
   * gone (or now belongs to another process); on another host, its heartbeat stopped more than
   * HEARTBEAT_STALE_MS ago. Its in-flight actions become `unknown` and its summary is counted from its
   * items. A run of another host recorded before heartbeats existed cannot be checked and stays `running`.
   */
  settleCrashedRuns(): number[] {
    return this.guard(() => {
      const running = this.statements.runningRuns.all() as RunRow[]
      const now = this.now()
      const crashed = running.flatMap((row) => {
        const cause = crashCause(row, now)
        return cause ? [{row, cause}] : []
      })
      if (crashed.length === 0) return []
      this.db
        .transaction(() => {
          for (const {row, cause} of crashed) {
            this.statements.settleInFlight.run({run_id: row.id, error: IN_FLIGHT_AT_CRASH})
            const counts = this.statements.countItems.get(row.id) as Record<string, number | null>
            this.statements.markCrashed.run({
              id: row.id,
              error: cause,
              scanned: row.scanned ?? counts.listed ?? 0,
              found: counts.found ?? 0,
              acted: counts.acted ?? 0,
              failed: counts.failed ?? 0,
              skipped: counts.skipped ?? 0,
              unknown: counts.unknown ?? 0,
            })
          }
        })
        .immediate()
      return crashed.map(({row}) => row.id)
    })
  }

  /** One run with every finding, in the order they were first recorded; undefined if there is no such run. */
  getRun(runId: number): StoredRun | undefined {
    this.settleCrashedRuns()
    return this.guard(() =>
      // One read transaction, so the run and its items come from the same snapshot.
      this.db.transaction(() => {
        const row = this.statements.getRun.get(runId) as RunRow | undefined
        if (!row) return undefined
        const items = (this.statements.getItems.all(runId) as ItemRow[]).map(toStoredItem)
        return {run: toRunRecord(row), items}
      })(),
    )
  }

  /**
   * Actions recorded `unknown` by finished (or crashed) runs against this API server, not yet
   * settled, newest first. Runs still going are left alone: their outcomes are theirs to record.
   */
  unsettledActions(server: string, limit: number): UnsettledAction[] {
    this.settleCrashedRuns()
    return this.guard(() =>
      (this.statements.unsettled.all({server: redactText(server), limit}) as UnsettledRow[]).map((row) => ({
        itemId: row.id,
        runId: row.run_id,
        command: row.command as RunCommand,
        kind: row.kind,
        namespace: row.namespace,
        name: row.name,
        uid: row.uid,
        verb: verbOf(row),
        actedAt: row.acted_at,
      })),
    )
  }

  /** Record what became of an unknown action; the first settlement stays (a later one changes nothing). */
  recordSettlement(itemId: number, settlement: Settlement): void {
    this.guard(() =>
      this.statements.settle.run({
        id: itemId,
        action: settlement.action,
        at: iso(settlement.at),
        by_run: settlement.byRunId,
        detail: redactText(settlement.detail),
      }),
    )
  }

  close(): void {
    if (this.db.open) this.db.close()
  }

  private requireRun(runId: number): void {
    if (!this.statements.runExists.get(runId))
      throw new StoreUnavailableError(this.path, `has no run ${runId}`, 'was it replaced during the run? pass --no-cache to run without recording')
  }

  private guard<T>(work: () => T): T {
    try {
      return work()
    } catch (err) {
      throw toStoreError(err, this.path)
    }
  }
}

function prepareStatements(db: Database.Database) {
  return {
    insertRun: db.prepare(`
      INSERT INTO runs (started_at, command, argv, context, server, namespace, dry_run, dry_run_mode, db_source, db_via,
                        source_kind, api_url, api_version, airflow_version, api_auth, api_requests, outcome, pid, host, process_start, heartbeat_at)
      VALUES (@started_at, @command, @argv, @context, @server, @namespace, @dry_run, @dry_run_mode, @db_source, @db_via,
              @source_kind, @api_url, @api_version, @airflow_version, @api_auth, @api_requests, 'running', @pid, @host, @process_start, @started_at)`),
    heartbeat: db.prepare("UPDATE runs SET heartbeat_at = @at WHERE id = @id AND outcome = 'running'"),
    updateRun: db.prepare(`
      UPDATE runs SET context = coalesce(@context, context), server = coalesce(@server, server),
                      namespace = coalesce(@namespace, namespace), dry_run = coalesce(@dry_run, dry_run),
                      dry_run_mode = CASE WHEN @dry_run IS NULL THEN dry_run_mode ELSE @dry_run_mode END,
                      scanned = coalesce(@scanned, scanned),
                      db_source = coalesce(@db_source, db_source), db_via = coalesce(@db_via, db_via),
                      source_kind = coalesce(@source_kind, source_kind), api_url = coalesce(@api_url, api_url),
                      api_version = coalesce(@api_version, api_version), airflow_version = coalesce(@airflow_version, airflow_version),
                      api_auth = coalesce(@api_auth, api_auth), api_requests = coalesce(@api_requests, api_requests)
      WHERE id = @id AND outcome = 'running'`),
    runExists: db.prepare('SELECT 1 FROM runs WHERE id = ?'),
    // Re-recording the same action keeps its first time: the moment it happened, not the moment a
    // final full report was written.
    upsertItem: db.prepare(`
      INSERT INTO run_items (run_id, kind, namespace, name, uid, phase, age_seconds, reason, detail,
                             dag_id, task_id, ti_run_id, map_index, try_number, ti_state,
                             action, skip_reason, error, acted_at, in_flight, verb)
      VALUES (@run_id, @kind, @namespace, @name, @uid, @phase, @age_seconds, @reason, @detail,
              @dag_id, @task_id, @ti_run_id, @map_index, @try_number, @ti_state,
              @action, @skip_reason, @error, @acted_at, @in_flight, @verb)
      ON CONFLICT (run_id, kind, namespace, name, uid) DO UPDATE SET
        phase = excluded.phase, age_seconds = excluded.age_seconds, reason = excluded.reason,
        detail = excluded.detail, dag_id = excluded.dag_id, task_id = excluded.task_id,
        ti_run_id = excluded.ti_run_id, map_index = excluded.map_index, try_number = excluded.try_number,
        ti_state = excluded.ti_state, skip_reason = excluded.skip_reason, error = excluded.error,
        acted_at = CASE WHEN excluded.action = run_items.action AND run_items.acted_at IS NOT NULL
                        THEN run_items.acted_at
                        WHEN run_items.in_flight IS NOT NULL AND excluded.in_flight IS NULL
                        THEN run_items.acted_at ELSE excluded.acted_at END,
        action = excluded.action, in_flight = excluded.in_flight, verb = coalesce(excluded.verb, run_items.verb)`),
    settleInFlight: db.prepare(`
      UPDATE run_items SET action = 'unknown', error = @error, in_flight = NULL, skip_reason = NULL
      WHERE run_id = @run_id AND in_flight IS NOT NULL`),
    runningRuns: db.prepare("SELECT * FROM runs WHERE outcome = 'running'"),
    countItems: db.prepare(`
      SELECT sum(action <> 'skipped') AS found, count(*) AS listed,
             sum(action IN ('deleted', 'patched')) AS acted, sum(action = 'failed') AS failed,
             sum(action = 'skipped') AS skipped, sum(action = 'unknown') AS unknown
      FROM run_items WHERE run_id = ?`),
    markCrashed: db.prepare(`
      UPDATE runs SET outcome = 'crashed', error = @error, scanned = @scanned, found = @found, acted = @acted,
                      failed = @failed, skipped = @skipped, unknown = @unknown
      WHERE id = @id AND outcome = 'running'`),
    finishRun: db.prepare(`
      UPDATE runs SET finished_at = @finished_at, outcome = @outcome, error = @error,
                      scanned = @scanned, found = @found, acted = @acted, failed = @failed, skipped = @skipped,
                      unknown = @unknown
      WHERE id = @id AND outcome = 'running'`),
    listRuns: db.prepare('SELECT * FROM runs ORDER BY id DESC LIMIT ?'),
    countRuns: db.prepare('SELECT COUNT(*) AS n FROM runs'),
    getRun: db.prepare('SELECT * FROM runs WHERE id = ?'),
    getItems: db.prepare('SELECT * FROM run_items WHERE run_id = ? ORDER BY id'),
    unsettled: db.prepare(`
      SELECT run_items.id, run_items.run_id, runs.command, kind, run_items.namespace, name, uid, acted_at, verb, detail
      FROM run_items JOIN runs ON runs.id = run_items.run_id
      WHERE run_items.action = 'unknown' AND run_items.in_flight IS NULL AND run_items.settled_action IS NULL
        AND runs.outcome <> 'running' AND runs.server = @server
      ORDER BY run_items.id DESC LIMIT @limit`),
    settle: db.prepare(`
      UPDATE run_items SET settled_action = @action, settled_at = @at, settled_by_run = @by_run, settled_detail = @detail
      WHERE id = @id AND action = 'unknown' AND settled_action IS NULL`),
  }
}

interface RunRow {
  id: number
  started_at: string
  finished_at: string | null
  command: string
  argv: string
  context: string
  server: string
  namespace: string
  dry_run: number
  dry_run_mode: string | null
  db_source: string | null
  db_via: string | null
  source_kind: string | null
  api_url: string | null
  api_version: string | null
  airflow_version: string | null
  api_auth: string | null
  api_requests: number | null
  outcome: string
  error: string | null
  scanned: number | null
  found: number | null
  acted: number | null
  failed: number | null
  skipped: number | null
  unknown: number | null
  pid: number | null
  host: string | null
  process_start: string | null
  heartbeat_at: string | null
}

/** Why a `running` run is known to have ended without recording an outcome; undefined while it may still be going. */
function crashCause(row: RunRow, now: Date): string | undefined {
  const process = `the process (pid ${row.pid} on ${row.host})`
  switch (liveness({pid: row.pid, host: row.host, start: row.process_start})) {
    case 'gone':
      return `${process} ended without recording an outcome`
    case 'unknown':
      if (row.host === null || row.heartbeat_at === null) return undefined
      if (now.getTime() - Date.parse(row.heartbeat_at) <= HEARTBEAT_STALE_MS) return undefined
      return `${process} stopped reporting at ${row.heartbeat_at} without recording an outcome`
    default:
      return undefined
  }
}

interface ItemRow {
  kind: string
  namespace: string
  name: string
  uid: string
  phase: string | null
  age_seconds: number
  reason: string
  detail: string
  dag_id: string | null
  task_id: string | null
  ti_run_id: string | null
  map_index: number | null
  try_number: number | null
  ti_state: string | null
  action: string
  skip_reason: string | null
  error: string | null
  acted_at: string | null
  in_flight: string | null
  settled_action: string | null
  settled_at: string | null
  settled_by_run: number | null
  settled_detail: string | null
}

interface UnsettledRow {
  id: number
  run_id: number
  command: string
  kind: string
  namespace: string
  name: string
  uid: string
  acted_at: string | null
  verb: string | null
  detail: string
}

/** The verb of an unknown action; rows written before 0.3.0 kept none, so it is told by the run's command. */
function verbOf(row: UnsettledRow): ActionVerb {
  if (row.verb === 'delete' || row.verb === 'patch') return row.verb
  return row.command === 'unstick' && !row.detail.startsWith('dependent of ') ? 'patch' : 'delete'
}

// Every free-text field (detail, error; argv, context, server and the run's error above) goes through
// redaction here, whatever the caller did: a caller that forgets must still not leak a password into
// the file. Identifiers (names, uids, dag/task/run ids) are stored exactly, or they would not match.
function itemRow(runId: number, item: RecordableItem, recordedAt: string): Record<string, unknown> {
  const ti = item.taskInstance
  return {
    run_id: runId,
    kind: item.kind,
    namespace: item.namespace,
    name: item.name,
    uid: item.uid,
    phase: item.phase ?? null,
    age_seconds: item.ageSeconds,
    reason: item.reason,
    detail: redactText(item.detail),
    dag_id: ti?.dagId ?? null,
    task_id: ti?.taskId ?? null,
    ti_run_id: ti?.runId ?? null,
    map_index: ti?.mapIndex ?? null,
    try_number: ti?.tryNumber ?? null,
    ti_state: ti?.state ?? null,
    action: item.action,
    skip_reason: item.skipReason ?? null,
    error: optionalText(item.error),
    acted_at: actedAt(item, recordedAt),
    in_flight: null,
    verb: null,
  }
}

function actedAt(item: RecordableItem, recordedAt: string): string | null {
  if (item.actedAt !== undefined) return iso(item.actedAt)
  return ATTEMPTED_ACTIONS.has(item.action) ? recordedAt : null
}

function toRunSummary(row: RunRow): RunSummary {
  return {
    runId: row.id,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    command: row.command as RunCommand,
    context: row.context,
    server: row.server,
    namespace: row.namespace,
    dryRun: row.dry_run === 1,
    outcome: row.outcome as RunOutcome,
    summary: summaryOf(row),
    ...(row.error !== null && {error: row.error}),
  }
}

function toRunRecord(row: RunRow): RunRecord {
  return {
    ...toRunSummary(row),
    argv: JSON.parse(row.argv) as string[],
    dryRunMode: row.dry_run_mode as DryRunMode | null,
    db: row.db_source !== null && row.db_via !== null ? {source: row.db_source, via: row.db_via} : null,
    source: sourceOf(row),
  }
}

/**
 * The source's columns; all NULL when it is not given (an update leaves them as they are). Names and a
 * redacted URL only; redacted again all the same, like every free text.
 */
function sourceColumns(source: SourceDescription | undefined) {
  const db = source?.kind === 'db' ? source : undefined
  const api = source?.kind === 'api' ? source : undefined
  return {
    source_kind: source?.kind ?? null,
    db_source: db ? redactText(db.source) : null,
    db_via: db ? redactText(db.via) : null,
    api_url: api ? redactText(api.url) : null,
    api_version: api?.api ?? null,
    airflow_version: api ? redactText(api.airflowVersion) : null,
    api_auth: api?.auth ?? null,
    api_requests: api?.requests ?? null,
  }
}

/** The source as recorded; a row from before the column (db_source set) read the DB. */
function sourceOf(row: RunRow): SourceDescription | null {
  if (row.source_kind === 'api') {
    return {
      kind: 'api',
      url: row.api_url ?? '',
      api: row.api_version as 'v1' | 'v2',
      airflowVersion: row.airflow_version ?? '',
      auth: (row.api_auth ?? 'none') as Extract<SourceDescription, {kind: 'api'}>['auth'],
      requests: row.api_requests ?? 0,
    }
  }
  if (row.db_source !== null && row.db_via !== null) return {kind: 'db', source: row.db_source, via: row.db_via}
  return null
}

function summaryOf(row: RunRow): Summary | null {
  const {scanned, found, acted, failed, skipped} = row
  if (scanned === null || found === null || acted === null || failed === null || skipped === null) return null
  return {scanned, found, acted, failed, skipped, unknown: row.unknown ?? 0}
}

// Built field by field in the report's order, so the JSON of `history show` reads like `-o json`.
function toStoredItem(row: ItemRow): StoredItem {
  return {
    kind: row.kind,
    namespace: row.namespace,
    name: row.name,
    uid: row.uid,
    ...(row.phase !== null && {phase: row.phase}),
    ageSeconds: row.age_seconds,
    reason: row.reason as ReportItem['reason'],
    detail: row.detail,
    taskInstance: taskInstanceOf(row),
    ...actionOf(row),
    actedAt: row.acted_at,
    ...settlementOf(row),
  }
}

function settlementOf(row: ItemRow): Pick<StoredItem, 'settled'> {
  if (row.settled_action === null || row.settled_at === null) return {}
  return {
    settled: {
      action: row.settled_action as Settlement['action'],
      at: row.settled_at,
      byRunId: row.settled_by_run,
      detail: row.settled_detail ?? '',
    },
  }
}

/** An action in flight (its run still going) is not known yet: shown as unknown, saying so. */
function actionOf(row: ItemRow): Pick<ReportItem, 'action' | 'skipReason' | 'error'> {
  if (row.in_flight !== null) return {action: 'unknown', error: IN_FLIGHT}
  return {
    action: row.action as ReportItem['action'],
    ...(row.skip_reason !== null && {skipReason: row.skip_reason as ReportItem['skipReason']}),
    ...(row.error !== null && {error: row.error}),
  }
}

function taskInstanceOf(row: ItemRow): TaskInstanceRef | null {
  if (row.dag_id === null || row.task_id === null || row.ti_run_id === null) return null
  return {
    dagId: row.dag_id,
    taskId: row.task_id,
    runId: row.ti_run_id,
    mapIndex: row.map_index ?? -1,
    tryNumber: row.try_number ?? 0,
    state: row.ti_state,
  }
}

function optionalText(text: string | undefined): string | null {
  return text === undefined ? null : redactText(text)
}

function iso(time: Date | string): string {
  return (typeof time === 'string' ? new Date(time) : time).toISOString()
}
