// Where the Airflow metadata DB URL came from and how it is reached: small domain types rendered the
// same way in reports, the run store, `history show`, the table header and `doctor`. Never a URL,
// never a password: only names.
import type {DbOrigin} from '../core/report.js'

/** Where the URL was read. */
export type DbSource =
  | {kind: 'flag'}
  /** An environment variable of this process (AIRFLOW_REAP_DB, AIRFLOW__DATABASE__SQL_ALCHEMY_CONN, a `_CMD` one...). */
  | {kind: 'env'; variable: string}
  /** A key of a Secret in the cluster (--db-secret, the scheduler's secretKeyRef, or `<release>-airflow-metadata`). */
  | {kind: 'secret'; namespace: string; name: string; key: string}
  /** A literal `value` of an environment variable in a workload's pod template. */
  | {kind: 'pod-template'; namespace: string; workload: string; variable: string}

/** How the run reaches the DB. */
export type DbVia =
  | {kind: 'direct'}
  /** Through the API server to `pod` (in `namespace`), port `port` of that pod. */
  | {kind: 'port-forward'; namespace: string; pod: string; port: number}

/** `flag`, `env AIRFLOW_REAP_DB`, `secret airflow/airflow-airflow-metadata:connection`, `deployment/airflow-scheduler airflow env VAR`. */
export function describeSource(source: DbSource): string {
  switch (source.kind) {
    case 'flag':
      return 'flag'
    case 'env':
      return `env ${source.variable}`
    case 'secret':
      return `secret ${source.namespace}/${source.name}:${source.key}`
    case 'pod-template':
      return `${source.workload} ${source.namespace} env ${source.variable}`
  }
}

/** `direct` or `port-forward pod/NAME:PORT`. */
export function describeVia(via: DbVia): string {
  return via.kind === 'direct' ? 'direct' : `port-forward pod/${via.pod}:${via.port}`
}

/** What reports and the run store carry (`db` in the JSON documents). */
export type {DbOrigin} from "../core/report.js"

export function dbOrigin(source: DbSource, via: DbVia): DbOrigin {
  return {source: describeSource(source), via: describeVia(via)}
}

/** The header line of the table output, on stderr: `DB: secret airflow/x:connection via direct`. */
export function originLine(origin: DbOrigin): string {
  return `DB: ${origin.source} via ${origin.via}`
}
