// A fake Airflow API server on 127.0.0.1, both personalities from one fixture (REST-API.md §9):
// v2 (Airflow 3.x: FastAPI shapes, {"detail": ...}, default limit 50, silent clamp to
// maximum_page_limit from 3.2) and v1 (Airflow 2.7–2.10: problem JSON, 400 on any unknown query
// parameter, default limit 100, raw try_number below 2.10). Auth as each release does it, faults per
// route and per Nth request, and a request log that never holds a secret. Its answers are checked
// against the real OpenAPI documents in test/integration/airflow-api-openapi.test.ts.
import {randomBytes} from 'node:crypto'
import http from 'node:http'
import type {AddressInfo, Socket} from 'node:net'

export interface FakeTask {
  taskId: string
  /** execution_timeout in seconds; null: none. */
  executionTimeout: number | null
  isMapped?: boolean
}

export interface FakeDag {
  dagId: string
  tasks: FakeTask[]
  /** v2: the id of the DAG's latest version (what /tasks answers from). */
  latestVersionId?: string
}

export interface FakeRun {
  dagId: string
  runId: string
  state: 'queued' | 'running' | 'success' | 'failed'
  endDate?: string | null
}

export interface FakeTaskInstance {
  dagId: string
  runId: string
  taskId: string
  mapIndex: number
  /** The true try number (the fake stores the raw column below 2.10 itself). */
  tryNumber: number
  state: string | null
  startDate?: string | null
  dagVersionId?: string
}

export interface FakeXCom {
  dagId: string
  runId: string
  taskId: string
  mapIndex: number
  key: string
  value: unknown
}

export interface FakeFixture {
  dags: FakeDag[]
  runs: FakeRun[]
  taskInstances: FakeTaskInstance[]
  xcoms: FakeXCom[]
}

export type Personality = 'v1' | 'v2'

export type AuthMode =
  | {kind: 'none'}
  /** v2: JWTs from POST /auth/token (and /auth/token/cli), valid ttlMs. */
  | {kind: 'jwt'; username: string; password: string; ttlMs: number; manager?: 'simple' | 'fab'}
  /** v1: [api] auth_backends = basic_auth. */
  | {kind: 'basic'; username: string; password: string}
  /** A proxy in front (Composer, Astro): one static bearer token; refusals are HTML. */
  | {kind: 'proxy'; token: string}

export type Fault =
  | {kind: 'status'; status: number; headers?: Record<string, string>; body?: string; contentType?: string}
  | {kind: 'reset'}
  | {kind: 'black-hole'}
  | {kind: 'trickle'; intervalMs: number}
  | {kind: 'truncated-json'}
  | {kind: 'redirect'; location: string}

export interface FaultRule {
  /** Matched against the path (after the /api/vN prefix is kept), e.g. /taskInstances$/ */
  path: RegExp
  /** Which matching requests fail: 1-based; undefined: all of them. */
  nth?: number[]
  fault: Fault
}

export interface FakeOptions {
  personality: Personality
  /** What /version answers: 2.7.3, 2.9.3, 2.10.5 (v1); 3.0.6, 3.1.8, 3.2.1, 3.3.2 (v2). */
  version: string
  auth?: AuthMode
  /** v2 from 3.2: the silent clamp of `limit` to [api] maximum_page_limit. */
  maximumPageLimit?: number
  /**
   * A cap on the batch list's page_limit, which no release applies yet (2.10.5 and 3.3.2 honour any
   * page_limit; apache/airflow#73409 asks for maximum_page_limit there): a server that sends fewer rows
   * than asked.
   */
  batchPageCap?: number
  /** Path prefix the server is mounted under (Astronomer's deployment URLs carry one). */
  prefix?: string
  /** DAGs the credentials may not read: 403 on their own paths, silently left out of `~` lists. */
  deniedDags?: string[]
  /** Added to the Date header. */
  clockSkewMs?: number
  faults?: FaultRule[]
  /**
   * Scripted change of the data before the Nth request is answered (1-based), or before the first
   * request `when` picks (`before` then ignored): a TI finishes, a run is added.
   */
  mutations?: Array<{before?: number; when?: (request: LoggedRequest) => boolean; change: (fixture: FakeFixture) => void}>
  /**
   * v2 after 3.3.2 (apache/airflow main; 3.3.2's document has no such parameter): the XCom entry route
   * falls back to an earlier run's entry unless include_prior_dates=false.
   */
  xcomIncludePriorDatesByDefault?: boolean
}

export interface LoggedRequest {
  method: string
  path: string
  query: Array<[string, string]>
  body?: unknown
  /** The scheme of the Authorization header only (Bearer, Basic), never its value. */
  authScheme?: string
}

const V2_STATES = ['removed', 'scheduled', 'queued', 'running', 'success', 'restarting', 'failed', 'up_for_retry', 'up_for_reschedule', 'upstream_failed', 'skipped', 'deferred', 'awaiting_input']
const FINISHED = ['success', 'failed', 'skipped', 'upstream_failed', 'removed']
const V1_STATES = ['success', 'running', 'failed', 'upstream_failed', 'skipped', 'up_for_retry', 'up_for_reschedule', 'queued', 'none', 'scheduled', 'deferred', 'removed', 'restarting']

const V1_DAG_RUN_LIST_PARAMS = new Set([
  'limit', 'offset', 'execution_date_gte', 'execution_date_lte', 'start_date_gte', 'start_date_lte', 'end_date_gte', 'end_date_lte',
  'updated_at_gte', 'updated_at_lte', 'state', 'order_by', 'fields',
])

/** The query parameters each v1 route defines (strict_validation: anything else is a 400). */
const V1_TI_LIST_PARAMS = new Set([
  'execution_date_gte', 'execution_date_lte', 'start_date_gte', 'start_date_lte', 'end_date_gte', 'end_date_lte',
  'updated_at_gte', 'updated_at_lte', 'duration_gte', 'duration_lte', 'state', 'pool', 'queue', 'executor', 'limit', 'offset',
])

/** The fields of 2.10.5's TaskInstanceBatchFormSchema (marshmallow refuses any other). */
const V1_BATCH_FIELDS = [
  'page_offset', 'page_limit', 'dag_ids', 'dag_run_ids', 'task_ids', 'execution_date_gte', 'execution_date_lte', 'start_date_gte',
  'start_date_lte', 'end_date_gte', 'end_date_lte', 'duration_gte', 'duration_lte', 'state', 'pool', 'queue', 'executor',
]

/** The fields of 3.3.2's TaskInstancesBatchBody (extra="forbid"). */
const V2_BATCH_FIELDS = [
  'dag_ids', 'dag_run_ids', 'task_ids', 'state', 'pool', 'queue', 'executor', 'page_offset', 'page_limit', 'order_by',
  ...['run_after', 'logical_date', 'start_date', 'end_date', 'duration'].flatMap((field) => ['gte', 'gt', 'lte', 'lt'].map((bound) => `${field}_${bound}`)),
]

export class FakeAirflowApi {
  readonly log: LoggedRequest[] = []
  /** TCP connections accepted: keep-alive shows as fewer connections than requests. */
  connections = 0
  fixture: FakeFixture
  private server?: http.Server
  private readonly sockets = new Set<Socket>()
  private readonly tokens = new Map<string, number>() // issued JWT → expiry (ms)
  private readonly faultCounts = new Map<FaultRule, number>()
  /** Task instances by dag and run (the bench serves a million): rebuilt when the list is replaced or grows. */
  private byRun?: {list: FakeTaskInstance[]; length: number; index: Map<string, FakeTaskInstance[]>}
  private readonly applied = new Set<object>()
  /** Bumped by every scripted mutation: what a cached list was read from may have changed. */
  private generation = 0
  private listCache?: {key: string; list: {rows: FakeTaskInstance[]; groups: FakeTaskInstance[][]}}

  constructor(
    readonly options: FakeOptions,
    fixture: FakeFixture,
  ) {
    this.fixture = structuredClone(fixture)
  }

  get url(): string {
    const {port} = this.server!.address() as AddressInfo
    return `http://127.0.0.1:${port}${this.options.prefix ?? ''}`
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res))
    this.server.on('connection', (socket) => {
      this.connections++
      this.sockets.add(socket)
      socket.on('close', () => this.sockets.delete(socket))
    })
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve))
    return this
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
  }

  /** Makes every token issued so far expire now (401 "Token Expired" from then on). */
  expireTokens(): void {
    for (const token of this.tokens.keys()) this.tokens.set(token, 0)
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake')
    const prefix = this.options.prefix ?? ''
    // Mounted under the prefix only (an Astronomer deployment URL): anything else is not this server's.
    if (!url.pathname.startsWith(`${prefix}/`)) {
      this.send(res, {status: 404, html: '<html><body>404 page not found</body></html>'})
      return
    }
    const path = url.pathname.slice(prefix.length)
    const body = await readBody(req)
    const authorization = req.headers.authorization
    // The body of a token request holds the password: the log keeps only that there was one.
    const logged = path.startsWith('/auth/token') ? '(credentials)' : body
    this.log.push({method: req.method ?? 'GET', path, query: [...url.searchParams.entries()], body: logged, authScheme: authorization?.split(' ')[0]})
    const request = this.log[this.log.length - 1]
    for (const mutation of this.options.mutations ?? []) {
      if (this.applied.has(mutation)) continue
      if (mutation.when ? mutation.when(request) : mutation.before === this.log.length) {
        this.applied.add(mutation)
        this.generation++
        mutation.change(this.fixture)
      }
    }
    if (this.applyFault(path, res)) return
    const answer = this.route(req.method ?? 'GET', path, url.searchParams, body, authorization)
    this.send(res, answer)
  }

  private applyFault(path: string, res: http.ServerResponse): boolean {
    for (const rule of this.options.faults ?? []) {
      if (!rule.path.test(path)) continue
      const n = (this.faultCounts.get(rule) ?? 0) + 1
      this.faultCounts.set(rule, n)
      if (rule.nth && !rule.nth.includes(n)) continue
      const {fault} = rule
      switch (fault.kind) {
        case 'status':
          res.writeHead(fault.status, {'content-type': fault.contentType ?? 'text/html', ...fault.headers})
          res.end(fault.body ?? `<html><body>${fault.status}</body></html>`)
          return true
        case 'reset':
          res.socket?.resetAndDestroy()
          return true
        case 'black-hole':
          return true
        case 'trickle': {
          res.writeHead(200, {'content-type': 'application/json'})
          const timer = setInterval(() => res.write(' '), fault.intervalMs)
          res.on('close', () => clearInterval(timer))
          return true
        }
        case 'truncated-json':
          res.writeHead(200, {'content-type': 'application/json'})
          res.end('{"task_instances": [{"task_id": ')
          return true
        case 'redirect':
          res.writeHead(302, {location: fault.location})
          res.end()
          return true
      }
    }
    return false
  }

  private send(res: http.ServerResponse, answer: Answer): void {
    const date = new Date(Date.now() + (this.options.clockSkewMs ?? 0)).toUTCString()
    const html = answer.html !== undefined
    res.writeHead(answer.status, {
      'content-type': html ? 'text/html; charset=utf-8' : this.options.personality === 'v1' && answer.status >= 400 ? 'application/problem+json' : 'application/json',
      date,
      ...answer.headers,
    })
    res.end(html ? answer.html : JSON.stringify(answer.body))
  }

  // ---- routing --------------------------------------------------------------------------------

  private route(method: string, path: string, query: URLSearchParams, body: unknown, authorization: string | undefined): Answer {
    const api = this.options.personality === 'v2' ? '/api/v2' : '/api/v1'
    if (this.options.personality === 'v2' && method === 'POST' && (path === '/auth/token' || path === '/auth/token/cli')) return this.issueToken(body)
    if (!path.startsWith(`${api}/`)) return this.error(404, 'Not Found')
    const rest = path.slice(api.length).split('/').slice(1).map(decodeURIComponent)
    if (method === 'GET' && rest.length === 1 && rest[0] === 'version') {
      return {status: 200, body: {version: this.options.version, git_version: null}}
    }
    const refused = this.authenticate(authorization)
    if (refused) return refused
    if (method === 'POST' && rest.length === 6 && rest[0] === 'dags' && rest[2] === 'dagRuns' && rest[4] === 'taskInstances' && rest[5] === 'list') {
      return this.batchList(rest[1]!, rest[3]!, body)
    }
    if (method !== 'GET') return this.error(405, 'Method Not Allowed')
    return this.read(rest, query)
  }

  private read(rest: string[], query: URLSearchParams): Answer {
    const [dags, dagId, second, runId, tis, taskId, mapOrXcom, ...tail] = rest
    if (dags !== 'dags' || dagId === undefined) return this.error(404, 'Not Found')
    if (dagId !== '~') {
      const dag = this.fixture.dags.find((d) => d.dagId === dagId)
      if (this.options.deniedDags?.includes(dagId)) return this.error(403, 'Forbidden')
      if (!dag) return this.personality === 'v1' ? this.error(404, `The DAG with dag_id: ${dagId} was not found`, 'DAG not found') : this.error(404, `The Dag with ID: \`${dagId}\` was not found`)
      if (second === undefined) return {status: 200, body: this.dagBody(dag)}
      if (second === 'details' && runId === undefined && this.options.personality === 'v2') return {status: 200, body: this.dagDetailsBody(dag)}
      if (second === 'tasks' && runId === undefined) return {status: 200, body: {tasks: dag.tasks.map((t) => this.taskBody(t)), total_entries: dag.tasks.length}}
    }
    if (second === 'dagRuns' && runId === undefined) return this.listDagRuns(query, dagId)
    if (second !== 'dagRuns' || runId === undefined) return this.error(404, 'Not Found')
    if (tis === undefined) {
      const run = this.fixture.runs.find((r) => r.dagId === dagId && r.runId === runId)
      if (run) return {status: 200, body: this.runBody(run)}
      return this.personality === 'v1'
        ? this.error(404, `DAGRun with DAG ID: '${dagId}' and DagRun ID: '${runId}' not found`, 'DAGRun not found')
        : this.error(404, `The DagRun with dag_id: \`${dagId}\` and run_id: \`${runId}\` was not found`)
    }
    if (tis !== 'taskInstances') return this.error(404, 'Not Found')
    if (taskId === undefined) return this.listTaskInstances(dagId, runId, query)
    if (mapOrXcom === 'xcomEntries') return this.xcom(dagId, runId, taskId, tail[0] ?? '', query)
    return this.oneTaskInstance(dagId, runId, taskId, mapOrXcom === undefined ? undefined : Number(mapOrXcom))
  }

  private listTaskInstances(dagId: string, runId: string, query: URLSearchParams): Answer {
    const v1 = this.options.personality === 'v1'
    if (v1) {
      const unknown = [...query.keys()].find((key) => !V1_TI_LIST_PARAMS.has(key))
      if (unknown) return this.error(400, `Extra query parameter(s) ${unknown} not in spec`)
    }
    const states = query.getAll('state')
    const known = v1 ? V1_STATES : [...V2_STATES, 'none', 'no_status']
    const bad = states.find((s) => !known.includes(s))
    // 2.10.5 fails on an unknown state with a 500 HTML page; 3.3.2 answers 422 with a string detail.
    if (bad) return v1 ? {status: 500, html: INTERNAL_SERVER_ERROR_HTML} : this.error(422, `Invalid value for state. Valid values are ${V2_STATES.join(', ')}`)
    const limitText = query.get('limit')
    const offset = Number(query.get('offset') ?? 0)
    let limit = limitText === null ? (v1 ? 100 : 50) : Number(limitText)
    // 3.3.2 refuses a negative limit (422); 2.10.5 passes it to the DB, and SQLite's LIMIT -1 is no limit.
    if (!v1 && (limit < 0 || offset < 0)) {
      const [name, value] = limit < 0 ? ['limit', limitText] : ['offset', query.get('offset')]
      return this.validation({loc: ['query', name], msg: 'Input should be greater than or equal to 0', type: 'greater_than_equal', input: value, ctx: {ge: 0}})
    }
    if (v1 && limit < 0) limit = Number.POSITIVE_INFINITY
    if (!v1 && this.options.maximumPageLimit !== undefined) limit = Math.min(limit, this.options.maximumPageLimit)
    // 3.3.2 looks the run up by dag_id and run_id (404); 2.10.5 does not look it up at all (no rows).
    if (!v1 && runId !== '~' && !this.fixture.runs.some((r) => r.dagId === dagId && r.runId === runId)) {
      return this.error(404, `DagRun with dag_id: \`${dagId}\` and run_id: \`${runId}\` was not found`)
    }
    const {rows, groups} = this.orderedList(dagId, runId, states, query.get('task_id'))
    // v2 orders by map_index with the primary key as tiebreaker; v1 has no tiebreaker (the fake rotates ties per request).
    const page = v1 ? rotatedSlice(groups, this.log.length, offset, limit) : rows.slice(offset, offset + limit)
    return {status: 200, body: {task_instances: page.map((ti) => this.taskInstanceBody(ti)), total_entries: rows.length, ...this.cursorFields()}}
  }

  /**
   * The batch list, `POST /dags/~/dagRuns/~/taskInstances/list`, as each release answers it. v2 (3.x,
   * TaskInstancesBatchBody, extra="forbid"): path ids must be `~` (422), unknown fields 422, DAGs the
   * credentials may not read left out silently, ordered by `order_by` (default and tiebreak: the id),
   * page_limit not clamped. v1 (2.10.5's get_task_instances_batch): unknown fields 400 (marshmallow),
   * 403 for the whole request when a DAG named may not be read, no ORDER BY (the fake rotates the list
   * per request), paging applied from 2.10.3 only (earlier releases answer every row), no cap; 2.7.0's
   * form has no dag_run_ids or task_ids. The filters: each list OR'd within, AND'd across.
   */
  private batchList(dagId: string, runId: string, body: unknown): Answer {
    const v1 = this.personality === 'v1'
    const form = (body ?? {}) as Record<string, unknown>
    if (!v1 && (dagId !== '~' || runId !== '~')) {
      const [name, value] = dagId !== '~' ? ['dag_id', dagId] : ['dag_run_id', runId]
      return this.validation({loc: ['path', name], msg: "Input should be '~'", type: 'literal_error', input: value, ctx: {expected: "'~'"}})
    }
    if (v1 && (dagId !== '~' || runId !== '~')) return this.error(405, 'Method Not Allowed')
    const fields = v1 ? (this.options.version.startsWith('2.7.0') ? V1_BATCH_FIELDS.filter((f) => f !== 'dag_run_ids' && f !== 'task_ids') : V1_BATCH_FIELDS) : V2_BATCH_FIELDS
    const unknown = Object.keys(form).filter((key) => !fields.includes(key))
    if (unknown.length > 0 && v1) return this.error(400, `{${unknown.map((key) => `'${key}': ['Unknown field.']`).join(', ')}}`, 'Bad Request')
    if (unknown.length > 0) return {status: 422, body: {detail: unknown.map((key) => ({type: 'extra_forbidden', loc: ['body', key], msg: 'Extra inputs are not permitted', input: form[key]}))}}
    const list = (name: string) => (Array.isArray(form[name]) ? (form[name] as unknown[]) : undefined)
    const states = list('state')
    const known = v1 ? V1_STATES : V2_STATES
    const bad = states?.findIndex((state) => state !== null && !known.includes(state as string)) ?? -1
    if (bad >= 0 && !v1) {
      const expected = V2_STATES.map((state) => `'${state}'`).join(', ')
      return this.validation({loc: ['body', 'state', String(bad)], msg: `Input should be ${expected}`, type: 'enum', input: states![bad], ctx: {expected}})
    }
    // 2.10.5 converts a state it does not know with TaskInstanceState(s): a ValueError, a 500.
    if (bad >= 0) return {status: 500, html: INTERNAL_SERVER_ERROR_HTML}
    const orderBy = typeof form.order_by === 'string' ? form.order_by : 'id'
    if (!v1 && !['id', 'state', 'duration', 'start_date', 'end_date', 'map_index'].includes(orderBy.replace(/^-/, ''))) {
      return this.error(400, `Ordering with '${orderBy.replace(/^-/, '')}' is disallowed or the attribute does not exist on the model`)
    }
    const dagIds = list('dag_ids')
    const denied = dagIds?.filter((id) => this.options.deniedDags?.includes(id as string)) ?? []
    if (v1 && denied.length > 0) return this.error(403, `User not allowed to access some of these DAGs: [${dagIds!.map((id) => `'${id}'`).join(', ')}]`, 'Forbidden')
    const runIds = list('dag_run_ids')
    const taskIds = list('task_ids')
    const wantedStates = states?.map((state) => (state === 'none' ? null : state))
    const pairs = dagIds && runIds ? dagIds.flatMap((d) => runIds.map((r) => this.taskInstancesOf(d as string, r as string))).flat() : this.fixture.taskInstances
    const rows = pairs.filter(
      (ti) =>
        !this.options.deniedDags?.includes(ti.dagId) &&
        (!dagIds || dagIds.includes(ti.dagId)) &&
        (!runIds || runIds.includes(ti.runId)) &&
        (!taskIds || taskIds.includes(ti.taskId)) &&
        (!wantedStates || wantedStates.includes(ti.state)),
    )
    const offset = Number(form.page_offset ?? 0)
    let limit = Number(form.page_limit ?? 100)
    if (!v1 && (offset < 0 || limit < 0)) {
      const [name, value] = limit < 0 ? ['page_limit', form.page_limit] : ['page_offset', form.page_offset]
      return this.validation({loc: ['body', name], msg: 'Input should be greater than or equal to 0', type: 'greater_than_equal', input: value, ctx: {ge: 0}})
    }
    if (this.options.batchPageCap !== undefined) limit = Math.min(limit, this.options.batchPageCap)
    let ordered: FakeTaskInstance[]
    if (v1) {
      const turn = rows.length > 0 ? this.log.length % rows.length : 0
      ordered = [...rows.slice(turn), ...rows.slice(0, turn)]
    } else {
      const column = orderBy.replace(/^-/, '')
      const value = (ti: FakeTaskInstance): string | number => (column === 'map_index' ? ti.mapIndex : column === 'state' ? (ti.state ?? '') : column === 'start_date' ? (ti.startDate ?? '') : '')
      const sign = orderBy.startsWith('-') ? -1 : 1
      // The id breaks ties (SortParam appends the primary key); the fake's ids are not unique, its keys are.
      const keyed = rows.map((ti) => ({ti, by: value(ti), id: `${uuidOf(keyOf(ti))} ${keyOf(ti)}`}))
      keyed.sort((a, b) => sign * (a.by < b.by ? -1 : a.by > b.by ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      ordered = keyed.map(({ti}) => ti)
    }
    const paged = v1 && !pagesBatch(this.options.version) ? ordered : ordered.slice(offset, offset + limit)
    return {status: 200, body: {task_instances: paged.map((ti) => this.taskInstanceBody(ti)), total_entries: rows.length, ...this.cursorFields()}}
  }

  /**
   * The rows of a list in order (v2: map_index, then the key; v1: groups of equal map_index, each by
   * key). A `~` list is kept until the fixture changes (the bench pages through 90k active rows of a
   * million: filtering and sorting them per page would measure the fake, not the client).
   */
  private orderedList(dagId: string, runId: string, states: string[], taskId: string | null): {rows: FakeTaskInstance[]; groups: FakeTaskInstance[][]} {
    const everyRun = dagId === '~' || runId === '~'
    const key = JSON.stringify([this.generation, this.fixture.taskInstances.length, dagId, runId, states, taskId, this.options.deniedDags ?? []])
    if (everyRun && this.listCache?.key === key) return this.listCache.list
    const wanted = states.map((s) => (s === 'none' || s === 'no_status' ? null : s))
    const rows = this.taskInstancesOf(dagId, runId).filter(
      (ti) =>
        (dagId === '~' ? !this.options.deniedDags?.includes(ti.dagId) : ti.dagId === dagId) &&
        (runId === '~' || ti.runId === runId) &&
        (states.length === 0 || wanted.includes(ti.state)) &&
        (taskId === null || ti.taskId === taskId),
    )
    const keyed = rows.map((ti) => ({ti, key: keyOf(ti)})).sort((a, b) => a.ti.mapIndex - b.ti.mapIndex || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    const ordered = keyed.map(({ti}) => ti)
    const groups: FakeTaskInstance[][] = []
    for (const ti of ordered) {
      const last = groups[groups.length - 1]
      if (last && last[0]!.mapIndex === ti.mapIndex) last.push(ti)
      else groups.push([ti])
    }
    const list = {rows: ordered, groups}
    if (everyRun) this.listCache = {key, list}
    return list
  }

  /** The task instances a path names: one run's, or every one for `~`. */
  private taskInstancesOf(dagId: string, runId: string): FakeTaskInstance[] {
    const list = this.fixture.taskInstances
    if (dagId === '~' || runId === '~') return list
    if (this.byRun?.list !== list || this.byRun.length !== list.length) {
      const index = new Map<string, FakeTaskInstance[]>()
      for (const ti of list) {
        const key = `${ti.dagId}\n${ti.runId}`
        const group = index.get(key)
        if (group) group.push(ti)
        else index.set(key, [ti])
      }
      this.byRun = {list, length: list.length, index}
    }
    return this.byRun.index.get(`${dagId}\n${runId}`) ?? []
  }

  private listDagRuns(query: URLSearchParams, dagId = '~'): Answer {
    const v1 = this.options.personality === 'v1'
    const allowed = v1 ? V1_DAG_RUN_LIST_PARAMS : undefined
    const unknown = allowed && [...query.keys()].find((key) => !allowed.has(key))
    if (unknown) return this.error(400, `Extra query parameter(s) ${unknown} not in spec`)
    const states = query.getAll('state')
    const endGte = query.get('end_date_gte')
    const runs = this.fixture.runs.filter(
      (run) =>
        !this.options.deniedDags?.includes(run.dagId) &&
        (dagId === '~' || run.dagId === dagId) &&
        (states.length === 0 || states.includes(run.state)) &&
        (endGte === null || (run.endDate != null && Date.parse(run.endDate) >= Date.parse(endGte))),
    )
    const {limit, offset} = this.window(query)
    return {status: 200, body: {dag_runs: runs.slice(offset, offset + limit).map((run) => this.runBody(run)), total_entries: runs.length, ...this.cursorFields()}}
  }

  private window(query: URLSearchParams): {limit: number; offset: number} {
    const v1 = this.options.personality === 'v1'
    let limit = query.get('limit') === null ? (v1 ? 100 : 50) : Number(query.get('limit'))
    if (!v1 && this.options.maximumPageLimit !== undefined) limit = Math.min(limit, this.options.maximumPageLimit)
    return {limit, offset: Number(query.get('offset') ?? 0)}
  }

  private oneTaskInstance(dagId: string, runId: string, taskId: string, mapIndex: number | undefined): Answer {
    const matching = this.taskInstancesOf(dagId, runId).filter((ti) => ti.taskId === taskId)
    const notFound = this.error(404, `The Task Instance with dag_id: \`${dagId}\`, run_id: \`${runId}\`, task_id: \`${taskId}\` and map_index: \`${mapIndex ?? -1}\` was not found`)
    if (mapIndex === undefined) {
      if (matching.some((ti) => ti.mapIndex >= 0)) return this.error(404, 'Task instance is mapped, add the map_index value to the URL', 'Task instance not found')
      const one = matching.find((ti) => ti.mapIndex === -1)
      return one ? {status: 200, body: this.taskInstanceBody(one)} : notFound
    }
    const one = matching.find((ti) => ti.mapIndex === mapIndex)
    return one ? {status: 200, body: this.taskInstanceBody(one)} : notFound
  }

  private xcom(dagId: string, runId: string, taskId: string, key: string, query: URLSearchParams): Answer {
    if (this.options.personality === 'v1') {
      const unknown = [...query.keys()].find((name) => !['map_index', 'deserialize', 'stringify'].includes(name))
      if (unknown) return this.error(400, `Extra query parameter(s) ${unknown} not in spec`)
    }
    const mapIndex = Number(query.get('map_index') ?? -1)
    const priorDates = (query.get('include_prior_dates') ?? String(this.options.xcomIncludePriorDatesByDefault ?? false)) === 'true'
    const sameTask = (x: FakeXCom) => x.dagId === dagId && x.taskId === taskId && x.mapIndex === mapIndex && x.key === key
    const found = this.fixture.xcoms.find((x) => sameTask(x) && x.runId === runId) ?? (priorDates ? this.fixture.xcoms.find((x) => sameTask(x)) : undefined)
    if (!found) return this.personality === 'v1' ? this.error(404, null, 'XCom entry not found') : this.error(404, `XCom entry with key: \`${key}\` not found`)
    const common = {key, timestamp: ISO_EPOCH, map_index: mapIndex, task_id: taskId, dag_id: dagId, value: found.value}
    if (this.options.personality === 'v1') return {status: 200, body: {...common, execution_date: ISO_EPOCH}}
    return {status: 200, body: {...common, run_id: found.runId, logical_date: ISO_EPOCH, run_after: ISO_EPOCH, dag_display_name: dagId, task_display_name: taskId}}
  }

  // ---- auth -----------------------------------------------------------------------------------

  private issueToken(body: unknown): Answer {
    const auth = this.options.auth
    if (auth?.kind !== 'jwt') return this.error(404, 'Not Found')
    const {username, password} = (body ?? {}) as {username?: unknown; password?: unknown}
    if (typeof username !== 'string' || typeof password !== 'string') {
      // 3.3.2's simple auth manager validates the body itself: a 422 whose detail is pydantic's text.
      if (auth.manager !== 'fab') return this.error(422, '1 validation error for LoginBody\npassword\n  Field required [type=missing]')
      return this.validation({loc: ['body', 'username'], msg: 'Field required', type: 'missing', input: body ?? null})
    }
    if (auth.manager !== 'fab' && (!username || !password)) return this.error(400, 'Username and password must be provided')
    if (username !== auth.username) return this.error(401, auth.manager === 'fab' ? 'Invalid username' : 'Invalid credentials')
    if (password !== auth.password) return this.error(401, auth.manager === 'fab' ? 'Invalid password' : 'Invalid credentials')
    const token = `eyJ${randomBytes(24).toString('base64url')}`
    this.tokens.set(token, Date.now() + auth.ttlMs)
    return {status: 201, body: {access_token: token}}
  }

  private authenticate(authorization: string | undefined): Answer | undefined {
    const auth = this.options.auth ?? {kind: 'none'}
    switch (auth.kind) {
      case 'none':
        return undefined
      case 'jwt': {
        if (!authorization?.startsWith('Bearer ')) return {...this.error(401, 'Not authenticated'), headers: {'www-authenticate': 'Bearer'}}
        const expiry = this.tokens.get(authorization.slice('Bearer '.length))
        if (expiry === undefined) return this.error(403, 'Invalid JWT token')
        if (expiry <= Date.now()) return this.error(401, 'Token Expired')
        return undefined
      }
      case 'basic': {
        const expected = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`
        return authorization === expected ? undefined : this.error(401, null, 'Unauthorized', 'Unauthenticated')
      }
      case 'proxy':
        if (authorization === `Bearer ${auth.token}`) return undefined
        return {status: authorization ? 403 : 401, html: '<html><head><title>Sign in</title></head><body>Sign in to continue</body></html>'}
    }
  }

  // ---- shapes ---------------------------------------------------------------------------------

  /**
   * v2: `{"detail"}`. v1: problem JSON as 2.10.5 writes it: a title per case (null for a request the
   * spec refuses), a detail that may be null, the type's section named by the status.
   */
  private error(status: number, detail: string | null, title?: string | null, section?: string): Answer {
    if (this.options.personality === 'v2') return {status, body: {detail}}
    const name = {400: 'BadRequest', 401: 'Unauthenticated', 403: 'PermissionDenied', 404: 'NotFound', 405: 'MethodNotAllowed'}[status] ?? 'Unknown'
    const defaultTitle = {401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed'}[status] ?? null
    const type = `https://airflow.apache.org/docs/apache-airflow/${this.options.version}/stable-rest-api-ref.html#section/Errors/${section ?? name}`
    return {status, body: {detail, status, title: title === undefined ? defaultTitle : title, type}}
  }

  private get personality(): Personality {
    return this.options.personality
  }

  /** 3.3.2's list answers carry cursor fields (null for offset paging); earlier documents have none. */
  private cursorFields(): Record<string, null> {
    const [major, minor] = this.options.version.split('.').map(Number)
    return this.personality === 'v2' && (major > 3 || (major === 3 && minor >= 3)) ? {total_entries_limit: null, next_cursor: null, previous_cursor: null} : {}
  }

  /** FastAPI's 422: pydantic's error, with the input refused and (for a bound) its context, as 3.3.2 sends them. */
  private validation(error: {loc: string[]; msg: string; type: string; input: unknown; ctx?: Record<string, unknown>}): Answer {
    return {status: 422, body: {detail: [error]}}
  }

  /**
   * The raw try_number column below 2.10 (FACTS §4.2): one lower than the truth while the next try
   * waits (not running, not finished); a running or finished try reads as itself.
   */
  private reportedTry(ti: FakeTaskInstance): number {
    const below210 = this.options.personality === 'v1' && /^2\.[0-9]\./.test(this.options.version)
    const waiting = ti.state !== 'running' && !FINISHED.includes(ti.state ?? '')
    return below210 && waiting ? ti.tryNumber - 1 : ti.tryNumber
  }

  private taskInstanceBody(ti: FakeTaskInstance): Record<string, unknown> {
    const common = {
      task_id: ti.taskId, task_display_name: ti.taskId, dag_id: ti.dagId, dag_run_id: ti.runId, map_index: ti.mapIndex,
      start_date: ti.startDate ?? null, end_date: null, duration: null, state: ti.state, try_number: this.reportedTry(ti), max_tries: 3,
      hostname: '', unixname: 'airflow', pool: 'default_pool', pool_slots: 1, queue: 'default', priority_weight: 1,
      operator: 'KubernetesPodOperator', queued_when: null, pid: null, executor: null, executor_config: '{}', note: null,
      rendered_map_index: null, trigger: null, triggerer_job: null,
    }
    if (this.options.personality === 'v1') return {...common, execution_date: ISO_EPOCH, sla_miss: null, rendered_fields: {}}
    return {
      ...common, id: uuidOf(keyOf(ti)), logical_date: ISO_EPOCH, run_after: ISO_EPOCH, dag_display_name: ti.dagId,
      operator_name: 'KubernetesPodOperator', scheduled_when: null, rendered_fields: {},
      dag_version: ti.dagVersionId ? {id: ti.dagVersionId, version_number: 1, dag_id: ti.dagId, bundle_name: 'dags-folder', bundle_version: null, created_at: ISO_EPOCH, dag_display_name: ti.dagId, bundle_url: null} : null,
    }
  }

  private dagBody(dag: FakeDag): Record<string, unknown> {
    const common = {dag_id: dag.dagId, dag_display_name: dag.dagId, is_paused: false, fileloc: `/dags/${dag.dagId}.py`, file_token: 'x', owners: ['airflow'], description: null, tags: [], max_active_tasks: 16, max_active_runs: 16, max_consecutive_failed_dag_runs: 0, has_task_concurrency_limits: false, has_import_errors: false, last_parsed_time: ISO_EPOCH, last_expired: null, timetable_description: null}
    if (this.options.personality === 'v1') {
      return {...common, root_dag_id: null, is_active: true, is_subdag: false, last_pickled: null, scheduler_lock: null, pickle_id: null, default_view: 'grid', schedule_interval: null, next_dagrun: null, next_dagrun_data_interval_start: null, next_dagrun_data_interval_end: null, next_dagrun_create_after: null}
    }
    return {
      ...common, is_stale: false, last_parse_duration: 0.1, bundle_name: 'dags-folder', bundle_version: null, relative_fileloc: `${dag.dagId}.py`,
      timetable_summary: null, timetable_partitioned: false, timetable_periodic: false, next_dagrun_logical_date: null, next_dagrun_data_interval_start: null,
      next_dagrun_data_interval_end: null, next_dagrun_run_after: null, allowed_run_types: null, is_backfillable: false,
    }
  }

  private dagDetailsBody(dag: FakeDag): Record<string, unknown> {
    const version = dag.latestVersionId
    // The fields DAGDetailsResponse adds to DAGResponse in 3.3.2 (checked against the real api-server by
    // test/support/real-airflow/fake-api-shapes.ts).
    const details = {
      catchup: false, dag_run_timeout: null, asset_expression: null, doc_md: null, start_date: ISO_EPOCH, end_date: null, is_paused_upon_creation: null,
      params: {}, render_template_as_native_obj: false, template_search_path: null, timezone: 'UTC', last_parsed: ISO_EPOCH, default_args: {},
      rerun_with_latest_version: null, owner_links: null, is_favorite: false, active_runs_count: 0, concurrency: 16,
    }
    return {...this.dagBody(dag), ...details, latest_dag_version: version ? {id: version, version_number: 1, dag_id: dag.dagId, bundle_name: 'dags-folder', bundle_version: null, created_at: ISO_EPOCH, dag_display_name: dag.dagId, bundle_url: null} : null}
  }

  private taskBody(task: FakeTask): Record<string, unknown> {
    const common = {
      task_id: task.taskId, task_display_name: task.taskId, owner: 'airflow', start_date: null, end_date: null, trigger_rule: 'all_success',
      depends_on_past: false, wait_for_downstream: false, retries: 0, queue: 'default', pool: 'default_pool', pool_slots: 1,
      execution_timeout: task.executionTimeout === null ? null : timeDelta(task.executionTimeout), retry_delay: timeDelta(300),
      retry_exponential_backoff: this.options.personality === 'v1' ? false : 0, priority_weight: 1, weight_rule: 'downstream', ui_color: '#fff', ui_fgcolor: '#000',
      template_fields: [], downstream_task_ids: [], doc_md: null, is_mapped: task.isMapped ?? false, extra_links: [],
      class_ref: {module_path: 'airflow.providers.cncf.kubernetes.operators.pod', class_name: 'KubernetesPodOperator'},
    }
    return {...common, operator_name: 'KubernetesPodOperator', params: {}}
  }

  private runBody(run: FakeRun): Record<string, unknown> {
    const common = {dag_run_id: run.runId, dag_id: run.dagId, state: run.state, logical_date: ISO_EPOCH, start_date: ISO_EPOCH, end_date: run.endDate ?? null, data_interval_start: ISO_EPOCH, data_interval_end: ISO_EPOCH, last_scheduling_decision: null, run_type: 'scheduled', conf: {}, note: null}
    if (this.options.personality === 'v1') return {...common, execution_date: ISO_EPOCH, external_trigger: false}
    return {
      ...common, run_after: ISO_EPOCH, queued_at: ISO_EPOCH, duration: null, triggered_by: 'timetable', triggering_user_name: null,
      dag_versions: [], bundle_version: null, dag_display_name: run.dagId, partition_key: null, partition_date: null,
    }
  }
}

interface Answer {
  status: number
  body?: unknown
  html?: string
  headers?: Record<string, string>
}

const ISO_EPOCH = '2026-01-01T00:00:00Z'

const INTERNAL_SERVER_ERROR_HTML = '<html>\n  <head>\n    <title>Internal Server Error</title>\n  </head>\n  <body>\n    <h1><p>Internal Server Error</p></h1>\n  </body>\n</html>\n'

function timeDelta(seconds: number): Record<string, unknown> {
  return {__type: 'TimeDelta', days: Math.floor(seconds / 86400), seconds: Math.floor(seconds % 86400), microseconds: Math.round((seconds % 1) * 1e6)}
}

function keyOf(ti: FakeTaskInstance): string {
  return `${ti.dagId}/${ti.runId}/${ti.taskId}/${ti.mapIndex}`
}

/** Whether this 2.x release applies the batch list's page_offset and page_limit (from 2.10.3, apache/airflow#43479; before, every row in one answer). */
function pagesBatch(version: string): boolean {
  const [major, minor, patch] = version.split(/[.+]/).map(Number)
  return major! > 2 || minor! > 10 || (minor === 10 && patch! >= 3)
}

/** A stable UUID-shaped id per task-instance key. */
function uuidOf(key: string): string {
  const hex = Buffer.from(key).toString('hex').padEnd(32, '0').slice(0, 32)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

/**
 * v1 orders by map_index with no tiebreaker: rows with equal keys may come back in any order (2.10.5's
 * `~` list has no ORDER BY at all). The fake rotates each group of ties by one more place per request,
 * so consecutive pages never agree on it; this is rows offset..offset+limit of that order.
 */
function rotatedSlice(groups: FakeTaskInstance[][], turn: number, offset: number, limit: number): FakeTaskInstance[] {
  const page: FakeTaskInstance[] = []
  let start = 0
  for (const group of groups) {
    const end = start + group.length
    const shift = turn % group.length
    for (let i = Math.max(offset, start); i < Math.min(end, offset + limit); i++) page.push(group[(i - start + shift) % group.length]!)
    start = end
    if (start >= offset + limit) break
  }
  return page
}

async function readBody(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  if (chunks.length === 0) return undefined
  const text = Buffer.concat(chunks).toString('utf8')
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

export async function startFakeAirflowApi(options: FakeOptions, fixture: FakeFixture): Promise<FakeAirflowApi> {
  return new FakeAirflowApi(options, fixture).start()
}
