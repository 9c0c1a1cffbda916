// The DoctorReport document (`doctor -o json`, docs/schemas/doctor-report.schema.json): one line per
// check, and the facts the checks found, for scripts.
import type {ApiRule} from '../core/permissions.js'
import type {AirflowApiFacts} from './airflow-api.js'

/** skip: not checked, because a check it depends on failed (that one says why). */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip'

export const CHECK_NAMES = [
  'kubeconfig',
  'context',
  'api-server',
  'rbac',
  'db-source',
  'db-connection',
  'db-schema',
  'airflow-api',
  'airflow-api-auth',
  'airflow-api-reads',
  'airflow-api-page-size',
  'clock',
  'workload',
  'run-store',
] as const
export type CheckName = (typeof CHECK_NAMES)[number]

export interface CheckResult {
  check: CheckName
  /** What the line is about beyond the check's name (`zombies, overdue` for an RBAC line). */
  subject?: string
  status: CheckStatus
  message: string
  /** What to do about it (warn, fail). */
  fix?: string
}

/** One permission and whether the API server says the current credentials have it. */
export interface PermissionResult extends Omit<ApiRule, 'purpose'> {
  purposes: string[]
  /** null: not asked (the API server could not be reached). */
  allowed: boolean | null
  /** The command lines that use it (`zombies`, `zombies --delete --yes`, ...). */
  neededBy: string[]
}

export interface DoctorFacts {
  context: string | null
  server: string | null
  /** The scope the commands would scan: a namespace, or `*` for all. */
  namespace: string | null
  serverVersion: string | null
  permissions: PermissionResult[]
  db: {
    source: string | null
    via: string | null
    dialect: string | null
    schemaFamily: string | null
    alembicRevision: string | null
    airflowVersion: string | null
  }
  /** The Airflow REST API, when the task instances come from it (--airflow-url); else null. */
  airflowApi: AirflowApiFacts | null
  clock: {
    /** API server minus this machine, seconds (positive: the server is ahead). */
    apiServerOffsetSeconds: number | null
    /** DB minus this machine, seconds. */
    dbOffsetSeconds: number | null
    /** The Airflow API server (its Date header) minus this machine, seconds. */
    airflowApiOffsetSeconds: number | null
  }
  workload: {
    kpoPods: number | null
    /** Task instances per unfinished state. */
    taskInstances: Record<string, number> | null
  }
  store: {path: string | null; sizeBytes: number | null; runs: number | null}
}

export interface DoctorReport extends DoctorFacts {
  apiVersion: 'airflow-reap/v1'
  kind: 'DoctorReport'
  generatedAt: string
  summary: Record<CheckStatus, number>
  checks: CheckResult[]
}

export function emptyFacts(): DoctorFacts {
  return {
    context: null,
    server: null,
    namespace: null,
    serverVersion: null,
    permissions: [],
    db: {source: null, via: null, dialect: null, schemaFamily: null, alembicRevision: null, airflowVersion: null},
    airflowApi: null,
    clock: {apiServerOffsetSeconds: null, dbOffsetSeconds: null, airflowApiOffsetSeconds: null},
    workload: {kpoPods: null, taskInstances: null},
    store: {path: null, sizeBytes: null, runs: null},
  }
}

export function doctorReport(facts: DoctorFacts, checks: CheckResult[], generatedAt: Date): DoctorReport {
  const order = (c: CheckResult) => CHECK_NAMES.indexOf(c.check)
  const sorted = checks.map((c, i) => ({c, i})).sort((a, b) => order(a.c) - order(b.c) || a.i - b.i).map(({c}) => c)
  const summary: Record<CheckStatus, number> = {ok: 0, warn: 0, fail: 0, skip: 0}
  for (const check of sorted) summary[check.status]++
  return {apiVersion: 'airflow-reap/v1', kind: 'DoctorReport', generatedAt: generatedAt.toISOString(), summary, checks: sorted, ...facts}
}

/** Exit 1 when any check failed. */
export function doctorFailed(report: DoctorReport): boolean {
  return report.summary.fail > 0
}
