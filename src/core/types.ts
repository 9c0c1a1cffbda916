// Domain types shared by core, adapters and renderers. Kubernetes objects and DB rows are converted
// into these once, at the adapter boundary.

/** The slice of a pod (or any object) that a metadata-only list returns. */
export interface ObjectMeta {
  kind: string // 'Pod', 'Job', ...
  namespace: string
  name: string
  uid: string
  resourceVersion: string
  labels: Record<string, string>
  annotations: Record<string, string>
  creationTimestamp: Date
  deletionTimestamp?: Date
  finalizers: string[]
  ownerReferences: OwnerReference[]
}

/**
 * A pod as zombies and overdue keep it from the list to the end of the run: its identity (namespace,
 * name, and the UID every delete is conditioned on), its creation time, and only the labels,
 * annotations and owners the verdicts and guards read (src/kube/convert.ts podRecordReducer). One is
 * kept per listed pod, 150,000 in the largest cluster: bench/README.md states its bytes per pod.
 */
export interface PodRecord {
  kind: string
  namespace: string
  name: string
  uid: string
  creationTimestamp: Date
  deletionTimestamp?: Date
  labels: Readonly<Record<string, string>>
  annotations: Readonly<Record<string, string>>
  ownerReferences: readonly OwnerReference[]
}

export interface OwnerReference {
  apiVersion: string
  kind: string
  name: string
  uid: string
  controller?: boolean
}

/** Identity of a task instance in the Airflow DB (raw, un-normalised values). */
export interface TaskKey {
  dagId: string
  taskId: string
  runId: string
  mapIndex: number // -1 for unmapped tasks
}

/** A dag run as read from the DB. */
export interface DagRunRow {
  dagId: string
  runId: string
  state: string | null
  endDate: Date | null
}

/** A task instance row, with the try number already made "effective" (FACTS §4.2). */
export interface TaskInstanceRow extends TaskKey {
  state: string | null // null = Airflow state "none"
  /** Effective current try E: equals the pod label of the current try while running/deferred. */
  tryNumber: number
  startDate: Date | null
  operator: string | null
}

/** Airflow schema families that change the queries we write. */
export type SchemaFamily = 'airflow-2.7' | 'airflow-2.10' | 'airflow-3'

export type Dialect = 'postgresql' | 'sqlite' | 'mysql'

// Task-instance states (FACTS §4.1; airflow-core utils/state.py State.finished / State.unfinished, the
// same sets in 2.x, where older 2.x releases also list `shutdown` as unfinished, and 3.x adds
// `awaiting_input`, a task parked for human input; checked against the real Airflow by
// test/real/airflow*.test.ts). null is "none".
export const FINISHED_STATES = ['success', 'failed', 'skipped', 'upstream_failed', 'removed'] as const
export const UNFINISHED_STATES = [
  'scheduled',
  'queued',
  'running',
  'restarting',
  'up_for_retry',
  'up_for_reschedule',
  'deferred',
  'awaiting_input',
  'shutdown',
] as const // plus NULL
/** States in which the current try has already chosen (created or adopted) its pod. */
export const POD_CHOSEN_STATES = ['running', 'deferred'] as const

/** A state this version knows: NULL (none), finished or unfinished. */
export function isKnownState(state: string | null): boolean {
  return state === null || (FINISHED_STATES as readonly string[]).includes(state) || (UNFINISHED_STATES as readonly string[]).includes(state)
}

/**
 * Unfinished, or a state this version does not know: a newer Airflow may add states, and a task in
 * one of them must never make its pod look like a zombie (fail closed).
 */
export function isActiveState(state: string | null): boolean {
  return !isKnownState(state) || state === null || (UNFINISHED_STATES as readonly string[]).includes(state)
}

/** Stable string key for maps of task instances (raw values). */
export function taskKeyString(k: TaskKey): string {
  return JSON.stringify([k.dagId, k.taskId, k.runId, k.mapIndex])
}

export function dagRunKeyString(dagId: string, runId: string): string {
  return JSON.stringify([dagId, runId])
}
