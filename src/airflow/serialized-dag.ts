// Reading execution_timeout out of the serialized_dag rows of Airflow's metadata DB (FACTS §5.1): the
// storage format is the DB adapter's business; the REST API answers with the task's timeout itself.
import {gunzipSync, inflateSync} from 'node:zlib'

/** Decodes `serialized_dag.data` / `data_compressed` (zlib, or gzip after a 3.1.x downgrade) into JSON. */
export function decodeSerializedDag(data: unknown, compressed: Uint8Array | null | undefined): unknown {
  if (data !== null && data !== undefined) return typeof data === 'string' ? JSON.parse(data) : data
  if (!compressed || compressed.length === 0) throw new Error('serialized DAG has neither data nor data_compressed')
  const bytes = Buffer.from(compressed)
  const isGzip = bytes[0] === 0x1f && bytes[1] === 0x8b
  const text = (isGzip ? gunzipSync(bytes) : inflateSync(bytes)).toString('utf8')
  return JSON.parse(text)
}

/**
 * execution_timeout in seconds per task_id (undefined: the task has none). Throws on a shape we cannot
 * read. `defaultSeconds` is Airflow 2.x's `[core] default_task_execution_timeout`: 2.x leaves a field
 * equal to its constructor default out of the serialized task, so a task that uses that default has
 * no execution_timeout field at all. An explicit 0 stays 0 (no timeout, as Airflow reads it).
 */
export function executionTimeouts(serialized: unknown, defaultSeconds?: number): Map<string, number | undefined> {
  const root = asObject(serialized, 'serialized DAG')
  const dag = asObject(root.dag, 'serialized DAG "dag"')
  if (!Array.isArray(dag.tasks)) throw new Error('serialized DAG has no task list')
  const clientDefault = seconds(asOptionalObject(asOptionalObject(root.client_defaults)?.tasks)?.execution_timeout)
  const timeouts = new Map<string, number | undefined>()
  for (const entry of dag.tasks) {
    const fields = taskFields(entry)
    const taskId = fields.task_id
    if (typeof taskId !== 'string') throw new Error('serialized task without task_id')
    const partial = asOptionalObject(fields.partial_kwargs)
    timeouts.set(taskId, seconds(fields.execution_timeout) ?? seconds(partial?.execution_timeout) ?? clientDefault ?? defaultSeconds)
  }
  return timeouts
}

/** 2.10 and 3.x wrap each task as {"__type": "operator", "__var": {...}}; older 2.x stored the fields directly. */
function taskFields(entry: unknown): Record<string, unknown> {
  const object = asObject(entry, 'serialized task')
  if (object.__type !== undefined && object.__var !== undefined) return asObject(object.__var, 'serialized task fields')
  return object
}

/** A bare number of seconds, or the encoded form {"__type": "timedelta", "__var": secs} kept in partial_kwargs. */
function seconds(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value
  const object = asOptionalObject(value)
  if (object && object.__type === 'timedelta' && typeof object.__var === 'number') return object.__var
  return undefined
}

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${what} is not an object`)
  return value as Record<string, unknown>
}

function asOptionalObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
}
