// What differs between the two REST APIs (REST-API.md §2, §3): the path prefix, the query parameters
// each release accepts (v1 validates strictly: an unknown parameter is a 400), and how a task
// instance reads (the raw try_number column below 2.10, `none` for no state, v2's dag_version).
import type {ExecutingTaskInstanceRow} from '../core/overdue.js'
import {FAMILY_RULES} from '../airflow/queries/families.js'
import {podNameFromJsonText} from '../airflow/queries/families.js'
import type {SchemaFamily} from '../core/types.js'
import {AirflowApiError} from './http.js'

export type ApiVersion = 'v1' | 'v2'

export interface Personality {
  api: ApiVersion
  /** Airflow's version as /version reported it. */
  airflowVersion: string
  /** The DB family whose try-number semantics this release's API reports (FACTS §4.2). */
  family: SchemaFamily
}

/** `major.minor` of a version string such as 2.10.5, 3.3.2, 2.10.5+composer; undefined when unparseable. */
export function parseVersion(version: string): {major: number; minor: number} | undefined {
  const match = /^(\d+)\.(\d+)/.exec(version)
  return match ? {major: Number(match[1]), minor: Number(match[2])} : undefined
}

/** The personality of a server that answered /api/{api}/version with `version`; throws when it is not one we support. */
export function personalityFor(api: ApiVersion, version: string): Personality {
  const parsed = parseVersion(version)
  if (!parsed) throw new AirflowApiError(`the Airflow API reports version "${version.slice(0, 40)}", which is not a version number`)
  const {major, minor} = parsed
  if (api === 'v2' && major === 3) return {api, airflowVersion: version, family: 'airflow-3'}
  if (api === 'v1' && major === 2 && minor >= 7) return {api, airflowVersion: version, family: minor >= 10 ? 'airflow-2.10' : 'airflow-2.7'}
  throw new AirflowApiError(`Airflow ${version} through API ${api} is not supported (2.7–2.10 through v1, 3.x through v2)`)
}

/**
 * Whether this release's task-instance list accepts `state=<state>`: v1 (2.7–2.10) knows no
 * `shutdown` (older 2.x) nor `awaiting_input`; v2 knows `awaiting_input` from 3.3 (3.3.2's 422 lists
 * it; 3.2.1's document does not). A state the release does not know holds none of its task instances.
 */
export function listsState(personality: Personality, state: string): boolean {
  if (state === 'shutdown') return false
  if (state !== 'awaiting_input') return true
  const version = parseVersion(personality.airflowVersion)
  return personality.api === 'v2' && version !== undefined && (version.major > 3 || version.minor >= 3)
}

/**
 * Whether this release's batch list (`POST …/taskInstances/list`) filters by run and task: every 3.x
 * (TaskInstancesBatchBody since 3.0.0), and 2.x from 2.7.1 (`dag_run_ids` and `task_ids` are "New in
 * version 2.7.1" in v1.yaml; 2.7.0's form refuses them as unknown fields, 400).
 */
export function hasBatchList(personality: Personality): boolean {
  return personality.api === 'v2' || !/^2\.7\.0(?!\d)/.test(personality.airflowVersion)
}

/** One task instance as the API returned it, checked: a shape we do not know is an error, never a guess. */
export function taskInstanceFromApi(personality: Personality, raw: unknown): ExecutingTaskInstanceRow {
  const ti = raw as Record<string, unknown>
  const ok =
    typeof ti === 'object' && ti !== null &&
    typeof ti.dag_id === 'string' && typeof ti.task_id === 'string' && typeof ti.dag_run_id === 'string' &&
    Number.isInteger(ti.map_index) && (ti.try_number === null || Number.isInteger(ti.try_number)) &&
    (ti.state === null || typeof ti.state === 'string')
  if (!ok) throw new AirflowApiError('the Airflow API returned a task instance without dag_id, dag_run_id, task_id, map_index, try_number or state')
  // v1 may still say "none" (deprecated in 2.7 for null): the same "no state" the DB holds as NULL.
  const state = ti.state === 'none' ? null : (ti.state as string | null)
  const version = (ti.dag_version as {id?: unknown} | null | undefined)?.id
  return {
    dagId: ti.dag_id as string,
    taskId: ti.task_id as string,
    runId: ti.dag_run_id as string,
    mapIndex: ti.map_index as number,
    state,
    tryNumber: FAMILY_RULES[personality.family].effectiveTryNumber(ti.try_number as number | null, state),
    startDate: dateOrNull(ti.start_date),
    operator: typeof ti.operator === 'string' ? ti.operator : null,
    dagVersionId: typeof version === 'string' ? version : null,
    runDagVersionId: null, // the API does not expose dag_run.created_dag_version_id
  }
}

/**
 * The pod name in a `pod_name` XCom entry, or null when it is not one (a custom backend's reference).
 * A string may come back JSON-quoted (apache/airflow#64573): one level is unquoted.
 */
export function podNameFromApi(value: unknown): string | null {
  if (typeof value !== 'string') return null
  return podNameFromJsonText(JSON.stringify(value), true)
}

/** execution_timeout from a TaskResponse's TimeDelta: seconds, or undefined for none. */
export function timeDeltaSeconds(value: unknown): number | undefined | 'malformed' {
  if (value === null || value === undefined) return undefined
  const delta = value as {days?: unknown; seconds?: unknown; microseconds?: unknown}
  if (typeof delta.days !== 'number' || typeof delta.seconds !== 'number' || typeof delta.microseconds !== 'number') return 'malformed'
  return delta.days * 86400 + delta.seconds + delta.microseconds / 1e6
}

function dateOrNull(value: unknown): Date | null {
  if (typeof value !== 'string') return null
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? null : date
}
