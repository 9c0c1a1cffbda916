// Writes Airflow rows the way Airflow stores them, with one API for every dialect and version, so an
// integration test says what it needs ("a deferred TI on try 3") and not how each schema spells it.
import {createHash, randomBytes} from 'node:crypto'
import {deflateSync, gzipSync} from 'node:zlib'

import type {Dialect, TaskKey} from '../../../src/core/types.js'

export type AirflowVersion = '2.7' | '2.10' | '3.x'

export interface DagRunSeed {
  dagId: string
  runId: string
  /** Default 'running'. */
  state?: string | null
  /** Default: now for running/finished runs, null for queued ones. */
  startDate?: Date | null
  /** Default: now for success/failed runs, else null. */
  endDate?: Date | null
  /** Default 'manual'. */
  runType?: string
  /** execution_date (2.x) / logical_date (3.x). Default: a distinct made-up date per run. */
  logicalDate?: Date
}

export interface TaskInstanceSeed extends Partial<Pick<TaskKey, 'mapIndex'>> {
  dagId: string
  taskId: string
  runId: string
  /** null = Airflow's "none". */
  state: string | null
  /** The raw try_number column (not the effective try). */
  tryNumber: number | null
  startDate?: Date | null
  endDate?: Date | null
  /** Default 'KubernetesPodOperator'. */
  operator?: string | null
  customOperatorName?: string | null
  hostname?: string | null
  /** 3.x: the dag_version the try runs. Default: the newest version of the DAG (created if none). */
  dagVersionId?: string
  /** 3.x: the TI's uuid. Default: a fresh uuid7. */
  id?: string
}

export interface XComSeed extends Partial<Pick<TaskKey, 'mapIndex'>> {
  dagId: string
  taskId: string
  runId: string
  key: string
  /** A JS value, stored as Airflow stores it: 2.x UTF-8 JSON bytes, 3.x a JSON document. */
  value?: unknown
  /** 3.x only: 'orm' stores a JSON string holding the JSON text (serialize_value), 'sdk' the document. */
  encoding?: 'sdk' | 'orm'
  /** Stored verbatim instead of `value` (2.x: bytes; 3.x: JSON text). */
  raw?: string | Buffer
}

export interface SerializedDagSeed {
  dagId: string
  data: object
  compressed?: 'zlib' | 'gzip'
  /** 3.x: the dag_version number. Default: one above the newest. */
  versionNumber?: number
}

export interface TaskInstancePatch {
  state?: string | null
  tryNumber?: number | null
  startDate?: Date | null
  endDate?: Date | null
  operator?: string | null
  customOperatorName?: string | null
  hostname?: string | null
  triggerTimeout?: Date | null
  nextMethod?: string | null
}

export interface Seeder {
  readonly dialect: Dialect
  readonly version: AirflowVersion
  /** Insert a dag_run; returns dag_run.id. */
  dagRun(run: DagRunSeed): Promise<number>
  /** Insert a task_instance (and its dag_run in state running if missing). Returns the 3.x id, if any. */
  taskInstance(ti: TaskInstanceSeed): Promise<{id?: string}>
  /** Insert or replace an XCom of an existing task instance. */
  xcom(xcom: XComSeed): Promise<void>
  /** 2.x: insert or replace the DAG's serialized_dag row. 3.x: add a dag_version and its serialized_dag. */
  serializedDag(dag: SerializedDagSeed): Promise<{dagVersionId?: string}>
  setTaskInstance(key: Omit<TaskKey, 'mapIndex'> & Partial<Pick<TaskKey, 'mapIndex'>>, patch: TaskInstancePatch): Promise<void>
  /** Any statement, with `?` placeholders on every dialect (rewritten to $n on PostgreSQL). */
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>
}

/** How the seeder reaches one database; the builders provide it. */
export interface SeedConnection {
  dialect: Dialect
  /** `?` placeholders; returns rows (an empty array for statements without rows). */
  exec(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>
}

const FINISHED_RUN_STATES = new Set(['success', 'failed'])
const PATCH_COLUMNS: Record<keyof TaskInstancePatch, string> = {
  state: 'state',
  tryNumber: 'try_number',
  startDate: 'start_date',
  endDate: 'end_date',
  operator: 'operator',
  customOperatorName: 'custom_operator_name',
  hostname: 'hostname',
  triggerTimeout: 'trigger_timeout',
  nextMethod: 'next_method',
}

export class SqlSeeder implements Seeder {
  readonly dialect: Dialect
  private runCounter = 0

  constructor(
    private readonly db: SeedConnection,
    readonly version: AirflowVersion,
  ) {
    this.dialect = db.dialect
  }

  private get isAirflow3(): boolean {
    return this.version === '3.x'
  }

  async dagRun(run: DagRunSeed): Promise<number> {
    const state = run.state === undefined ? 'running' : run.state
    const now = new Date()
    const startDate = run.startDate !== undefined ? run.startDate : state === 'queued' ? null : now
    const endDate = run.endDate !== undefined ? run.endDate : state && FINISHED_RUN_STATES.has(state) ? now : null
    const logicalDate = run.logicalDate ?? this.nextLogicalDate()
    const common = {
      dag_id: run.dagId,
      run_id: run.runId,
      state,
      run_type: run.runType ?? 'manual',
      start_date: this.ts(startDate),
      end_date: this.ts(endDate),
      queued_at: this.ts(startDate ?? now),
    }
    const versioned = this.isAirflow3
      ? {logical_date: this.ts(logicalDate), run_after: this.ts(logicalDate), triggered_by: 'test'}
      : {execution_date: this.ts(logicalDate), external_trigger: this.dialect === 'postgresql' ? false : 0}
    await this.insert('dag_run', {...common, ...versioned})
    const [row] = await this.db.exec('SELECT id FROM dag_run WHERE dag_id = ? AND run_id = ?', [run.dagId, run.runId])
    return Number(row!.id)
  }

  async taskInstance(ti: TaskInstanceSeed): Promise<{id?: string}> {
    await this.ensureDagRun(ti.dagId, ti.runId)
    const row: Record<string, unknown> = {
      dag_id: ti.dagId,
      task_id: ti.taskId,
      run_id: ti.runId,
      map_index: ti.mapIndex ?? -1,
      state: ti.state,
      try_number: ti.tryNumber,
      max_tries: 0,
      start_date: this.ts(ti.startDate ?? null),
      end_date: this.ts(ti.endDate ?? null),
      hostname: ti.hostname ?? '',
      pool: 'default_pool',
      pool_slots: 1,
      queue: 'default',
      priority_weight: 1,
      operator: ti.operator === undefined ? 'KubernetesPodOperator' : ti.operator,
      custom_operator_name: ti.customOperatorName ?? null,
    }
    if (!this.isAirflow3) {
      await this.insert('task_instance', row)
      return {}
    }
    const id = ti.id ?? uuid7()
    const dagVersionId = ti.dagVersionId ?? (await this.latestDagVersion(ti.dagId))
    await this.insert('task_instance', {...row, id, dag_version_id: dagVersionId})
    return {id}
  }

  async xcom(xcom: XComSeed): Promise<void> {
    const mapIndex = xcom.mapIndex ?? -1
    const where = 'dag_id = ? AND task_id = ? AND run_id = ? AND map_index = ? AND ' + this.quote('key') + ' = ?'
    const keyParams = [xcom.dagId, xcom.taskId, xcom.runId, mapIndex, xcom.key]
    await this.db.exec(`DELETE FROM xcom WHERE ${where}`, keyParams)
    const [run] = await this.db.exec('SELECT id FROM dag_run WHERE dag_id = ? AND run_id = ?', [xcom.dagId, xcom.runId])
    if (!run) throw new Error(`seed xcom: no dag_run ${xcom.dagId}/${xcom.runId}`)
    await this.insert('xcom', {
      dag_run_id: Number(run.id),
      task_id: xcom.taskId,
      map_index: mapIndex,
      key: xcom.key,
      dag_id: xcom.dagId,
      run_id: xcom.runId,
      value: this.encodeXComValue(xcom),
      timestamp: this.ts(new Date()),
    })
  }

  async serializedDag(dag: SerializedDagSeed): Promise<{dagVersionId?: string}> {
    const json = JSON.stringify(dag.data)
    const compressed = dag.compressed === 'zlib' ? deflateSync(json) : dag.compressed === 'gzip' ? gzipSync(json) : null
    const body = {
      dag_id: dag.dagId,
      data: compressed ? null : json,
      data_compressed: compressed,
      last_updated: this.ts(new Date()),
      dag_hash: createHash('md5').update(json).digest('hex'),
    }
    await this.ensureDag(dag.dagId)
    if (!this.isAirflow3) {
      await this.db.exec('DELETE FROM serialized_dag WHERE dag_id = ?', [dag.dagId])
      await this.insert('serialized_dag', {...body, fileloc: `/dags/${dag.dagId}.py`, fileloc_hash: filelocHash(dag.dagId)})
      return {}
    }
    const dagVersionId = this.uuidColumn()
    const versionNumber = dag.versionNumber ?? (await this.nextVersionNumber(dag.dagId))
    const now = this.ts(new Date())
    await this.insert('dag_version', {
      id: dagVersionId,
      version_number: versionNumber,
      dag_id: dag.dagId,
      bundle_name: 'dags-folder',
      created_at: now,
      last_updated: now,
    })
    await this.insert('serialized_dag', {...body, id: this.uuidColumn(), created_at: now, dag_version_id: dagVersionId})
    return {dagVersionId}
  }

  async setTaskInstance(key: Omit<TaskKey, 'mapIndex'> & Partial<Pick<TaskKey, 'mapIndex'>>, patch: TaskInstancePatch): Promise<void> {
    const entries = Object.entries(patch).filter(([, value]) => value !== undefined) as [keyof TaskInstancePatch, unknown][]
    if (entries.length === 0) return
    const sets = entries.map(([field]) => `${PATCH_COLUMNS[field]} = ?`).join(', ')
    const values = entries.map(([, value]) => (value instanceof Date ? this.ts(value) : value))
    await this.db.exec(`UPDATE task_instance SET ${sets} WHERE dag_id = ? AND task_id = ? AND run_id = ? AND map_index = ?`, [
      ...values,
      key.dagId,
      key.taskId,
      key.runId,
      key.mapIndex ?? -1,
    ])
  }

  async sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
    return (await this.db.exec(text, params)) as T[]
  }

  // --- helpers -------------------------------------------------------------------------------------

  private async ensureDagRun(dagId: string, runId: string): Promise<void> {
    const rows = await this.db.exec('SELECT id FROM dag_run WHERE dag_id = ? AND run_id = ?', [dagId, runId])
    if (rows.length === 0) await this.dagRun({dagId, runId})
  }

  private async ensureDag(dagId: string): Promise<void> {
    const rows = await this.db.exec('SELECT dag_id FROM dag WHERE dag_id = ?', [dagId])
    if (rows.length > 0) return
    const row: Record<string, unknown> = {dag_id: dagId, fileloc: `/dags/${dagId}.py`, owners: 'airflow', max_active_tasks: 16, max_active_runs: 16}
    if (this.isAirflow3) row.bundle_name = 'dags-folder'
    await this.insert('dag', row)
  }

  /** 3.x: the newest dag_version of the DAG, creating a minimal serialized DAG when there is none. */
  private async latestDagVersion(dagId: string): Promise<string> {
    const [row] = await this.db.exec('SELECT id FROM dag_version WHERE dag_id = ? ORDER BY version_number DESC LIMIT 1', [dagId])
    if (row) return String(row.id)
    const {dagVersionId} = await this.serializedDag({dagId, data: {__version: 2, dag: {dag_id: dagId, tasks: []}}})
    return dagVersionId!
  }

  private async nextVersionNumber(dagId: string): Promise<number> {
    const [row] = await this.db.exec('SELECT MAX(version_number) AS n FROM dag_version WHERE dag_id = ?', [dagId])
    return Number(row?.n ?? 0) + 1
  }

  private encodeXComValue(xcom: XComSeed): string | Buffer | null {
    if (this.isAirflow3) {
      if (xcom.raw !== undefined) return Buffer.isBuffer(xcom.raw) ? xcom.raw.toString('utf8') : xcom.raw
      if (xcom.value === undefined) return null
      const json = JSON.stringify(xcom.value)
      return xcom.encoding === 'orm' ? JSON.stringify(json) : json
    }
    if (xcom.raw !== undefined) return Buffer.isBuffer(xcom.raw) ? xcom.raw : Buffer.from(xcom.raw, 'utf8')
    return xcom.value === undefined ? null : Buffer.from(JSON.stringify(xcom.value), 'utf8')
  }

  private async insert(table: string, row: Record<string, unknown>): Promise<void> {
    const columns = Object.keys(row)
    const sql = `INSERT INTO ${this.quote(table)} (${columns.map((c) => this.quote(c)).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`
    await this.db.exec(sql, Object.values(row))
  }

  private quote(identifier: string): string {
    return this.dialect === 'mysql' ? `\`${identifier}\`` : `"${identifier}"`
  }

  /** Airflow's UTC timestamps, in the form each dialect stores them. */
  private ts(date: Date | null): string | null {
    if (!date) return null
    if (this.dialect === 'postgresql') return date.toISOString() // the Z is ignored by naive columns: UTC wall clock
    const iso = date.toISOString()
    return `${iso.slice(0, 10)} ${iso.slice(11, 23)}000`
  }

  /** 3.x uuid columns other than task_instance.id: Postgres uuid; 32 hex chars elsewhere (FACTS §3.6). */
  private uuidColumn(): string {
    const id = uuid7()
    return this.dialect === 'postgresql' ? id : id.replace(/-/g, '')
  }

  private nextLogicalDate(): Date {
    this.runCounter += 1
    return new Date(Date.UTC(2025, 0, 1) + this.runCounter * 60_000) // unique per seeder, as (dag_id, date) must be
  }
}

/** RFC 9562 uuid version 7: 48-bit Unix milliseconds, then random bits. */
export function uuid7(now = Date.now()): string {
  const bytes = randomBytes(16)
  bytes.writeUIntBE(now, 0, 6)
  bytes[6] = (bytes[6]! & 0x0f) | 0x70
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

function filelocHash(dagId: string): number {
  // Airflow uses a 64-bit slice of a sha1; any stable number will do for tests.
  return createHash('sha1').update(dagId).digest().readUInt32BE(0)
}
