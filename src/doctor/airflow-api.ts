// doctor's checks of the Airflow REST API, when the task instances come from it (--airflow-url): the
// server answers as an Airflow API of a supported release, the credentials are accepted, the reads
// the commands make are allowed (a task-instance list, an XCom entry), how many rows a page really
// holds (3.2+ clamps `limit` silently to [api] maximum_page_limit), and the server's clock (its Date
// header). Each check runs once, in that order; a check whose input failed is skipped. Nothing here
// throws for a failed check; only an interrupt ends it early.
import {type AirflowApiClient, AirflowAuthError, RequestBudgetError} from '../airflow-api/http.js'
import {type OpenAirflowApiOptions, type OpenedAirflowApi, openAirflowApi} from '../airflow-api/open.js'
import {type ApiTaskInstanceSource, NotPermittedError, POD_NAME_XCOM_KEY} from '../airflow-api/source.js'
import {requestUrl} from '../airflow-api/url.js'
import {InterruptedError, ReapError} from '../errors.js'
import {errorLine} from './error-line.js'
import type {CheckResult} from './report.js'

/** The page asked for to see the server's own page limit: the contract's largest --airflow-page-size. */
export const PROBE_PAGE_SIZE = 1000

export interface AirflowApiFacts {
  /** The base URL (it never carries credentials). */
  url: string
  api: 'v1' | 'v2' | null
  airflowVersion: string | null
  /** How the credentials were obtained: token-cmd, token, password, none. */
  auth: string
  /** Rows a page holds when PROBE_PAGE_SIZE are asked for; null when it could not be told. */
  effectivePageSize: number | null
}

export interface AirflowApiDoctorResult {
  checks: CheckResult[]
  facts: AirflowApiFacts
  /** The server's Date header and when it was asked, for the clock check. */
  clock?: {serverTime: Date; sentAt: Date; receivedAt: Date}
  /** The task-instance source, once the credentials were accepted (the workload line counts through it). */
  source?: ApiTaskInstanceSource
}

export async function checkAirflowApi(options: OpenAirflowApiOptions, signal: AbortSignal): Promise<AirflowApiDoctorResult> {
  const checks: CheckResult[] = []
  const facts: AirflowApiFacts = {url: options.base.redacted, api: null, airflowVersion: null, auth: options.credentials.kind, effectivePageSize: null}
  const result: AirflowApiDoctorResult = {checks, facts}
  const skip = (check: CheckResult['check'], why: string) => checks.push({check, status: 'skip', message: `not checked: ${why}`})

  let opened: OpenedAirflowApi
  try {
    opened = await openAirflowApi({...options, signal})
  } catch (error) {
    if (interrupted(error, signal)) return result
    checks.push({check: 'airflow-api', status: 'fail', message: errorLine(error), fix: 'check --airflow-url (the server\'s base URL, with its path prefix, without /api/vN) and that it is reachable from here: `curl URL/api/v2/version` (v1 on Airflow 2)'})
    for (const check of ['airflow-api-auth', 'airflow-api-reads', 'airflow-api-page-size'] as const) skip(check, 'the Airflow API could not be read')
    return result
  }
  const {client, personality, source} = opened
  facts.api = personality.api
  facts.airflowVersion = personality.airflowVersion
  facts.auth = client.authHow
  checks.push({check: 'airflow-api', status: 'ok', message: `Airflow ${personality.airflowVersion}, REST API ${personality.api}, at ${options.base.redacted}`})

  const probe = new Probe(client, personality.api)
  const sentAt = new Date()
  let first: ProbedRow | undefined
  try {
    first = await probe.firstTaskInstance()
    const receivedAt = new Date()
    if (probe.date) result.clock = {serverTime: probe.date, sentAt, receivedAt}
    checks.push({check: 'airflow-api-auth', status: 'ok', message: `credentials accepted (${authWords(client.authHow)})`})
    result.source = source
  } catch (error) {
    if (interrupted(error, signal)) return result
    checks.push(authFailure(error, client.authHow))
    skip('airflow-api-reads', 'the credentials were not accepted')
    skip('airflow-api-page-size', 'the credentials were not accepted')
    return result
  }

  try {
    checks.push(await readsCheck(probe, first))
  } catch (error) {
    if (interrupted(error, signal)) return result
    checks.push({check: 'airflow-api-reads', status: 'fail', message: errorLine(error), fix: readFix(error)})
  }

  try {
    const {check, effective} = await pageSizeCheck(probe, options.pageSize)
    facts.effectivePageSize = effective
    checks.push(check)
  } catch (error) {
    if (interrupted(error, signal)) return result
    checks.push({check: 'airflow-api-page-size', status: 'fail', message: errorLine(error), fix: readFix(error)})
  }
  return result
}

interface ProbedRow {
  dagId: string
  runId: string
  taskId: string
  mapIndex: number
}

/** The few raw reads doctor makes, below /api/vN, through the run's own client (its bounds, its auth). */
class Probe {
  /** The Date header of the first authenticated answer. */
  date?: Date

  constructor(
    private readonly client: AirflowApiClient,
    private readonly api: 'v1' | 'v2',
  ) {}

  /** One task instance of any DAG the credentials may read (a `~` list, limit 1), or undefined when there is none. */
  async firstTaskInstance(): Promise<ProbedRow | undefined> {
    const {rows} = await this.taskInstances(1)
    const row = rows[0] as {dag_id?: unknown; dag_run_id?: unknown; task_id?: unknown; map_index?: unknown} | undefined
    if (!row) return undefined
    if (typeof row.dag_id !== 'string' || typeof row.dag_run_id !== 'string' || typeof row.task_id !== 'string' || typeof row.map_index !== 'number') {
      throw new ReapError('the Airflow API listed a task instance without dag_id, dag_run_id, task_id or map_index')
    }
    return {dagId: row.dag_id, runId: row.dag_run_id, taskId: row.task_id, mapIndex: row.map_index}
  }

  async taskInstances(limit: number): Promise<{rows: unknown[]; total?: number}> {
    const answer = await this.client.get(requestUrl(this.client.base, ['api', this.api, 'dags', '~', 'dagRuns', '~', 'taskInstances'], {limit}))
    this.date ??= answer.date
    const body = answer.body as {task_instances?: unknown; total_entries?: unknown} | undefined
    if (answer.status !== 200 || !Array.isArray(body?.task_instances)) {
      throw new ReapError(`the Airflow API answered the task-instance list with ${answer.status}${detail(answer.body)}`)
    }
    return {rows: body.task_instances, total: typeof body.total_entries === 'number' ? body.total_entries : undefined}
  }

  /** The status of the pod_name XCom entry read: 200 and 404 (no such entry) both show the read is allowed. */
  async xcomStatus(ti: ProbedRow): Promise<number> {
    const query: Record<string, string | number | boolean> = {map_index: ti.mapIndex}
    if (this.api === 'v2') Object.assign(query, {deserialize: false, stringify: false})
    const segments = ['api', this.api, 'dags', ti.dagId, 'dagRuns', ti.runId, 'taskInstances', ti.taskId, 'xcomEntries', POD_NAME_XCOM_KEY]
    const answer = await this.client.get(requestUrl(this.client.base, segments, query))
    if (answer.status === 403) throw new NotPermittedError(ti.dagId)
    if (answer.status !== 200 && answer.status !== 404) throw new ReapError(`the Airflow API answered an XCom entry read with ${answer.status}${detail(answer.body)}`)
    return answer.status
  }
}

async function readsCheck(probe: Probe, first: ProbedRow | undefined): Promise<CheckResult> {
  if (!first) {
    return {
      check: 'airflow-api-reads',
      status: 'warn',
      message: 'task instances: readable, but none is visible, so XCom entries could not be tried',
      fix: 'with no task instance visible every pod would be judged without one: check that the credentials may read the DAGs (a role with "can read" on DAGs and on task instances)',
    }
  }
  const status = await probe.xcomStatus(first)
  const xcom = status === 200 ? 'an XCom entry: readable' : 'XCom entries: readable (the one tried does not exist)'
  return {check: 'airflow-api-reads', status: 'ok', message: `task instances: readable; ${xcom} (${first.dagId}.${first.taskId})`}
}

async function pageSizeCheck(probe: Probe, asked: number): Promise<{check: CheckResult; effective: number | null}> {
  const {rows, total} = await probe.taskInstances(PROBE_PAGE_SIZE)
  const visible = total ?? rows.length
  if (rows.length < Math.min(visible, PROBE_PAGE_SIZE)) {
    const effective = rows.length
    const status = effective < asked ? 'warn' : 'ok'
    const check: CheckResult = {
      check: 'airflow-api-page-size',
      status,
      message: `the server holds a page to ${effective} rows (asked ${PROBE_PAGE_SIZE}; [api] maximum_page_limit)${status === 'warn' ? `, fewer than --airflow-page-size ${asked}` : ''}`,
    }
    if (status === 'warn') check.fix = `a run reads ${effective} rows a request: lower --airflow-page-size to ${effective}, or raise --airflow-max-requests for large installations (or [api] maximum_page_limit on the server)`
    return {check, effective}
  }
  if (visible < 2) return {check: {check: 'airflow-api-page-size', status: 'ok', message: `cannot be told with ${visible} task instance${visible === 1 ? '' : 's'} visible; pages advance by the rows received`}, effective: null}
  return {check: {check: 'airflow-api-page-size', status: 'ok', message: `a page of ${PROBE_PAGE_SIZE} asked held all ${rows.length} rows visible (no smaller server limit seen)`}, effective: rows.length}
}

function authFailure(error: unknown, how: string): CheckResult {
  if (error instanceof AirflowAuthError) {
    return {
      check: 'airflow-api-auth',
      status: 'fail',
      message: errorLine(error),
      fix: how === 'none'
        ? 'give credentials: --airflow-token-cmd CMD, AIRFLOW_REAP_API_TOKEN, or AIRFLOW_REAP_API_USERNAME and AIRFLOW_REAP_API_PASSWORD'
        : `the ${authWords(how)} were refused: check them (and, on Airflow 2, that [api] auth_backends includes airflow.api.auth.backend.basic_auth for a password)`,
    }
  }
  return {check: 'airflow-api-auth', status: 'fail', message: errorLine(error), fix: readFix(error)}
}

function readFix(error: unknown): string {
  if (error instanceof NotPermittedError) return 'the credentials may not read that DAG: give the user a role that reads every DAG whose pods are judged (Viewer or more)'
  if (error instanceof RequestBudgetError) return 'raise --airflow-max-requests'
  return 'check that --airflow-url is the API server itself and nothing in front of it rewrites the answers'
}

function authWords(how: string): string {
  return {'token-cmd': 'token from --airflow-token-cmd', token: 'token from AIRFLOW_REAP_API_TOKEN', password: 'AIRFLOW_REAP_API_USERNAME/PASSWORD', none: 'no credentials'}[how] ?? how
}

function detail(body: unknown): string {
  const text = (body as {detail?: unknown; title?: unknown} | undefined)?.detail ?? (body as {title?: unknown} | undefined)?.title
  return typeof text === 'string' ? `: ${text.slice(0, 200)}` : ''
}

function interrupted(error: unknown, signal: AbortSignal): boolean {
  return signal.aborted || error instanceof InterruptedError
}
