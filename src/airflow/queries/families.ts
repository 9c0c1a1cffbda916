import {FINISHED_STATES} from '../../core/types.js'
// What differs between Airflow schema families once rows are read: the meaning of the try_number
// column (FACTS §4.2) and how the `pod_name` XCom is stored (FACTS §3.7, §4.4).
import type {SchemaFamily} from '../../core/types.js'

export interface FamilyRules {
  /** The effective current try E of FACTS §4.2, from the raw column and the TI state. */
  effectiveTryNumber(column: number | null, state: string | null): number
  /** The pod name in an XCom value as read from the DB, or null when it is not a plain pod name. */
  decodePodName(raw: unknown): string | null
}

/**
 * < 2.10: the column counts tries that have started running; the public try_number is the column
 * while running and column + 1 otherwise (it is decremented on deferral/reschedule). A NULL column
 * is read as 0, Airflow's default. A finished task instance is reported with the try it ended in
 * (the column): "+1" would name a try that never ran.
 */
const FINISHED = new Set<string>(FINISHED_STATES)
const rules27: FamilyRules = {
  effectiveTryNumber: (column, state) => (column ?? 0) + (state === 'running' || FINISHED.has(state ?? '') ? 0 : 1),
  decodePodName: (raw) => podNameFromJsonText(bytesAsText(raw), false),
}

/** 2.10+: the column is the truth (the scheduler increments it for a new try). */
const rules210: FamilyRules = {
  effectiveTryNumber: (column) => column ?? 0,
  decodePodName: (raw) => podNameFromJsonText(bytesAsText(raw), false),
}

/** 3.x: same try semantics as 2.10; XCom is a JSON column whose string may hold JSON text again. */
const rules3: FamilyRules = {
  effectiveTryNumber: (column) => column ?? 0,
  decodePodName: (raw) => podNameFromJsonText(bytesAsText(raw), true),
}

export const FAMILY_RULES: Readonly<Record<SchemaFamily, FamilyRules>> = {
  'airflow-2.7': rules27,
  'airflow-2.10': rules210,
  'airflow-3': rules3,
}

const utf8 = new TextDecoder('utf-8', {fatal: true})

/** 2.x bytea/BLOB holds UTF-8 JSON text; a pickled value (enable_xcom_pickling) is not UTF-8 → null. */
function bytesAsText(raw: unknown): string | null {
  if (typeof raw === 'string') return raw
  if (raw instanceof Uint8Array) {
    try {
      return utf8.decode(raw)
    } catch {
      return null
    }
  }
  return null
}

/**
 * Parse the stored JSON text and keep it only if it is a string that can be a pod name. In 3.x a
 * value written through the ORM is a JSON string containing JSON text, so a string that parses as
 * JSON is decoded once more; if that yields anything but a string, the XCom was not a pod name.
 */
export function podNameFromJsonText(text: string | null, mayBeDoubleEncoded: boolean): string | null {
  let value = parseJson(text)
  if (mayBeDoubleEncoded && typeof value === 'string') {
    const inner = parseJson(value)
    if (inner !== undefined) value = inner
  }
  return typeof value === 'string' && isPodName(value) ? value : null
}

function parseJson(text: string | null): unknown {
  if (text === null) return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

/**
 * Pod names are DNS-1123 subdomains. Anything else (an S3 URL from a custom XCom backend, a
 * sentence) cannot name a pod; treating it as "unknown" keeps the stale-try rule from deleting a pod
 * on the strength of a reference that merely differs from the pod's name.
 */
export function isPodName(value: string): boolean {
  return value.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(value)
}
