// Which source a run reads task instances from (the metadata DB or the REST API), from the typed
// options the commands parse out of their flags and from the environment. Every refusal of the
// contract ("Task-instance source: the REST API") is a usage error (exit 2), raised here, before
// anything is opened. The CLI parses flags into these options; src/task-source/open.ts opens the choice.
import {type CredentialSource, credentialSource} from '../airflow-api/auth.js'
import {type ApiBaseUrl, parseApiUrl} from '../airflow-api/url.js'
import {UsageError} from '../errors.js'

export const API_URL_ENV = 'AIRFLOW_REAP_API_URL'
export const TASK_SOURCES = ['auto', 'db', 'api'] as const
export const API_VERSIONS = ['auto', 'v1', 'v2'] as const

/** Where the DB is and how to reach it, from the CLI's dbFlags group (what src/cluster-db takes). */
export interface DbOptions {
  db?: string
  airflowNamespace?: string
  dbSecret?: string
  portForward: 'auto' | 'always' | 'never'
  /** --db-timeout in seconds (0: none). */
  timeoutSeconds?: number
}

/** The REST API's typed options, from the CLI's airflowApiFlags group. */
export interface AirflowApiOptions {
  /** --airflow-url as given (the environment is read when the source is chosen). */
  url?: string
  api: (typeof API_VERSIONS)[number]
  tokenCmd?: string
  /** --airflow-timeout in seconds (0: none). */
  timeoutSeconds: number
  pageSize: number
  maxRequests: number
}

/** Everything that says where task instances come from: the choice, the DB's options, the API's. */
export interface TaskSourceOptions {
  taskSource: (typeof TASK_SOURCES)[number]
  db: DbOptions
  api: AirflowApiOptions
}

/** The source a run reads task instances from, once flags and environment are weighed. */
export type TaskSourceChoice =
  | {kind: 'db'; db: DbOptions}
  | {kind: 'api'; api: AirflowApiOptions; base: ApiBaseUrl; credentials: CredentialSource; ignored: string[]}

/** Environment variables that name a metadata DB: not read when the API is the source (the report says so). */
const DB_ENV_VARIABLES = ['AIRFLOW_REAP_DB', 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN', 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD', 'AIRFLOW__CORE__SQL_ALCHEMY_CONN']

/**
 * Which source, from the flags and the environment; every refusal of the contract is a usage error
 * (exit 2), raised before anything is opened. Pure but for `env`. `--task-source auto` takes the API
 * when a URL is given, by flag or by AIRFLOW_REAP_API_URL, unless --db is given as a flag (a flag
 * outweighs the environment).
 */
export function chooseTaskSource(options: TaskSourceOptions, env: NodeJS.ProcessEnv = process.env): TaskSourceChoice {
  const flagUrl = options.api.url
  const envUrl = env[API_URL_ENV]?.trim() ? env[API_URL_ENV] : undefined
  if (flagUrl !== undefined && options.db.db !== undefined) throw new UsageError('--db and --airflow-url cannot be used together: choose the DB or the REST API')
  if (flagUrl !== undefined && options.taskSource === 'db') throw new UsageError('--task-source db and --airflow-url cannot be used together')
  const url = flagUrl ?? envUrl
  if (options.taskSource === 'api' && url === undefined) throw new UsageError(`--task-source api needs the API's URL: --airflow-url or ${API_URL_ENV}`)
  const useApi = options.taskSource === 'api' || (options.taskSource === 'auto' && url !== undefined && (flagUrl !== undefined || options.db.db === undefined))
  if (!useApi) return {kind: 'db', db: options.db}
  const base = parseApiUrl(url!, flagUrl !== undefined ? '--airflow-url' : API_URL_ENV)
  const credentials = credentialSource(options.api.tokenCmd, env)
  if (base.plainHttpRemote && credentials.kind !== 'none') {
    throw new UsageError(`refusing to send Airflow API credentials over plain http:// to ${new URL(base.base).host}: use https:// (plain http is allowed to loopback only)`)
  }
  return {kind: 'api', api: options.api, base, credentials, ignored: ignoredDbSettings(options.db, env)}
}

/** DB settings a run on the API does not read, named so the report can say so. */
function ignoredDbSettings(db: DbOptions, env: NodeJS.ProcessEnv): string[] {
  const ignored = DB_ENV_VARIABLES.filter((name) => env[name]?.trim())
  if (db.dbSecret !== undefined) ignored.push('--db-secret')
  if (db.airflowNamespace !== undefined) ignored.push('--airflow-namespace')
  return ignored
}

