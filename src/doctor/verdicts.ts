// The pure verdicts of doctor's checks that judge numbers: clock skew and the schema's release.
import {OLDEST_SUPPORTED, describeHead, releaseOfRevision} from '../airflow/alembic.js'
import type {SchemaFamily} from '../core/types.js'
import type {CheckResult, CheckStatus} from './report.js'

/** Up to this much skew is noise (the Date header has 1 s resolution). */
export const SKEW_OK_MS = 10_000
/**
 * Beyond this, fail: zombies measures a pod's age on this machine's clock against the creation time
 * the API server stamped, and a minute is a fifth of the default --min-age (5m).
 */
export const SKEW_FAIL_MS = 60_000

export interface ClockOffsets {
  /** API server minus this machine, ms; undefined: not measured. */
  apiServerMs?: number
  /** Airflow's clock (the DB's, or the Airflow API server's Date header) minus this machine, ms. */
  dbMs?: number
  /** Whose clock dbMs is: 'DB' (default) or 'Airflow API'. */
  airflowClock?: string
  /** How far off a measurement can be by itself (round trip, the header's whole seconds). */
  uncertaintyMs: number
}

/** `+1.5s`, `-600s`, `0.0s`. */
function seconds(ms: number): string {
  const s = ms / 1000
  const text = Math.abs(s) < 10 ? s.toFixed(1) : String(Math.round(s))
  if (Number(text) === 0) return '0.0s'
  return `${s > 0 ? '+' : ''}${text}s`
}

function grade(offsetMs: number, uncertaintyMs: number): CheckStatus {
  const beyondNoise = Math.max(0, Math.abs(offsetMs) - uncertaintyMs)
  if (beyondNoise <= SKEW_OK_MS) return 'ok'
  return beyondNoise <= SKEW_FAIL_MS ? 'warn' : 'fail'
}

const WORST: CheckStatus[] = ['ok', 'skip', 'warn', 'fail']

function worst(statuses: CheckStatus[]): CheckStatus {
  return statuses.reduce((a, b) => (WORST.indexOf(b) > WORST.indexOf(a) ? b : a), 'ok' as CheckStatus)
}

/**
 * Judged pairs: this machine vs the API server (pod ages for --min-age) and the API server vs the DB
 * (pod creation times against dag runs). The DB against this machine alone decides nothing (overdue
 * measures on the DB's clock only) and is reported, not judged.
 */
export function clockCheck(offsets: ClockOffsets): CheckResult {
  const {apiServerMs, dbMs, uncertaintyMs} = offsets
  const airflow = offsets.airflowClock ?? 'DB'
  if (apiServerMs === undefined && dbMs === undefined) {
    return {check: 'clock', status: 'skip', message: 'neither the API server nor the DB could be read'}
  }
  const parts: string[] = []
  const statuses: CheckStatus[] = []
  if (apiServerMs !== undefined) {
    parts.push(`API server ${seconds(apiServerMs)} from this machine`)
    statuses.push(grade(apiServerMs, uncertaintyMs))
  }
  if (dbMs !== undefined) parts.push(`${airflow} ${seconds(dbMs)} from this machine`)
  if (apiServerMs !== undefined && dbMs !== undefined) {
    parts.push(`${airflow} ${seconds(dbMs - apiServerMs)} from the API server`)
    statuses.push(grade(dbMs - apiServerMs, uncertaintyMs))
  }
  const status = worst(statuses)
  const result: CheckResult = {check: 'clock', status, message: parts.join('; ')}
  if (status !== 'ok') {
    result.fix =
      'synchronise the clocks (NTP/chrony on this machine, the nodes and the DB host): pod ages are measured ' +
      `across them, and ${status === 'fail' ? 'more than a minute' : 'over 10 s'} of skew shifts --min-age`
  }
  return result
}

/** The release the alembic revision names, checked against the family the columns show. */
export function schemaCheck(input: {family: SchemaFamily; revision?: string; dialect: string}): CheckResult & {airflowVersion?: string} {
  const {family, revision, dialect} = input
  const base = `${dialect}, schema family ${family}`
  if (!revision) {
    return {
      check: 'db-schema',
      status: 'warn',
      message: `${base}; no alembic_version row, so the Airflow release is unknown`,
      fix: 'point --db at the DB Airflow itself uses (`airflow db check` shows it); a copy without alembic_version may be partial',
    }
  }
  const match = releaseOfRevision(revision)
  if (!match.known) {
    return {
      check: 'db-schema',
      status: 'warn',
      message: `${base}; alembic revision ${revision} is no release airflow-reap knows (2.7 … 3.3): a newer Airflow, a development build, or an unfinished \`airflow db migrate\``,
      fix: 'finish the migration (`airflow db migrate`), or use an airflow-reap release that knows this Airflow; the columns read are all there',
    }
  }
  const release = describeHead(match.head)
  if (!match.supported) {
    return {
      check: 'db-schema',
      status: 'fail',
      message: `${base}; alembic revision ${revision} = ${release}, older than ${OLDEST_SUPPORTED}`,
      fix: `airflow-reap reads Airflow ${OLDEST_SUPPORTED} or later: upgrade Airflow`,
      airflowVersion: release,
    }
  }
  if (match.family !== family) {
    return {
      check: 'db-schema',
      status: 'fail',
      message: `${base}; but alembic revision ${revision} = ${release}, whose family is ${match.family}`,
      fix: 'the tables do not match the recorded migration: check that --db names the DB Airflow uses and that `airflow db check-migrations` passes',
      airflowVersion: release,
    }
  }
  return {check: 'db-schema', status: 'ok', message: `${base}; alembic revision ${revision} = ${release}`, airflowVersion: release}
}
