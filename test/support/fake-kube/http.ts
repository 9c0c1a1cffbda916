// The HTTP face of the fake: bearer-token authentication, the request log, test hooks and injected
// answers, RBAC denials, routing of `/api/v1/...` and `/apis/{group}/{version}/...` paths to the
// verbs of FakeApi, and content negotiation (full objects or PartialObjectMetadata).

import type {IncomingMessage, ServerResponse} from 'node:http'
import {setTimeout as sleep} from 'node:timers/promises'
import type {DeleteOptions, FakeApi, ListQuery, ListResult} from './operations.js'
import {isObject} from './patch.js'
import {type FakeResource, apiVersionOf, findFakeResource} from './resources.js'
import {ApiStatusError, badRequest, failure, forbidden, unauthorized} from './status.js'
import type {FakeObject} from './store.js'

export interface RecordedRequest {
  method: string
  path: string
  query: Record<string, string>
  accept?: string
  contentType?: string
  /** Parsed JSON when the body is JSON, else the raw text; undefined when there is none. */
  body?: unknown
  authenticated: boolean
  /** The status code the fake answered with (set once answered). */
  status?: number
  /** DELETE: the grace period the deletion used (a pod's own when the request gave none). */
  gracePeriodSeconds?: number
}

export interface Injection {
  method?: string
  pathIncludes?: string
  match?: (request: RecordedRequest) => boolean
  status: number
  headers?: Record<string, string>
  /** A string is sent as text/plain (like API Priority and Fairness' 429), an object as JSON. */
  body?: string | object
  /** How many matching requests get this answer (default 1; Infinity for all). */
  times?: number
  /**
   * Serve the request for real first (the write is applied), then answer with this injection instead:
   * a write whose answer is lost, as when a proxy or the connection fails after the API server acted.
   */
  apply?: boolean
  /** Hold the answer this long (after applying, with `apply`): a server that acts, then answers late. */
  delayMs?: number
  /** Instead of answering, reset the connection (status is then ignored). */
  reset?: boolean
}

export interface DenyRule {
  verb: string // 'delete', 'patch', 'list', ... or '*'
  resource: string // plural: 'pods', 'jobs'
  group?: string
  /** Only in this namespace (requests across all namespaces are denied too, as RBAC would). */
  namespace?: string
}

export type RequestHook = (request: RecordedRequest) => void | Promise<void>

interface Route {
  resource: FakeResource
  namespace?: string
  name?: string
}

interface Answer {
  status: number
  body: unknown
  headers?: Record<string, string>
  delayMs?: number
  reset?: boolean
}

const PARTIAL_LIST = 'PartialObjectMetadataList'
const PARTIAL_ITEM = 'PartialObjectMetadata'
const META_API_VERSION = 'meta.k8s.io/v1'

function notServed(): ApiStatusError {
  return failure(404, 'NotFound', 'the server could not find the requested resource', {})
}

function parseRoute(path: string): Route | undefined {
  const segments = path.split('/').filter(Boolean).map((s) => decodeURIComponent(s))
  let group = ''
  let version: string
  let rest: string[]
  if (segments[0] === 'api') [version, ...rest] = segments.slice(1)
  else if (segments[0] === 'apis') [group, version, ...rest] = segments.slice(1)
  else return undefined
  if (rest.length === 1) {
    const resource = findFakeResource(group, version, rest[0]) // cluster-wide list
    return resource && {resource}
  }
  if (rest[0] !== 'namespaces' || rest.length < 3 || rest.length > 4) return undefined
  const resource = findFakeResource(group, version, rest[2])
  return resource && {resource, namespace: rest[1], name: rest[3]}
}

function verbOf(method: string, route: Route, query: Record<string, string>): string | undefined {
  const named = route.name !== undefined
  const verbs: Record<string, string | undefined> = {
    GET: named ? 'get' : query.watch === 'true' || query.watch === '1' ? 'watch' : 'list',
    POST: named || !route.namespace ? undefined : 'create',
    PUT: named ? 'update' : undefined,
    PATCH: named ? 'patch' : undefined,
    DELETE: named ? 'delete' : route.namespace ? 'deletecollection' : undefined,
  }
  return verbs[method]
}

/** Which representation the Accept header asks for: the first media type the fake can serve wins. */
function negotiate(accept: string | undefined, list: boolean): 'full' | 'partial' {
  if (!accept || !accept.trim()) return 'full'
  for (const mediaType of accept.split(',')) {
    const [type, ...rawParams] = mediaType.split(';').map((p) => p.trim())
    if (!['application/json', 'application/*', '*/*'].includes(type.toLowerCase())) continue
    const params = Object.fromEntries(rawParams.map((p) => p.split('=').map((x) => x.trim())))
    if (params.as === undefined) return 'full'
    const wanted = list ? PARTIAL_LIST : PARTIAL_ITEM
    if (params.as === wanted && params.g === 'meta.k8s.io' && ['v1', 'v1beta1'].includes(params.v)) return 'partial'
  }
  throw failure(406, 'NotAcceptable', 'only the following media types are accepted: application/json, ' +
    `application/json;as=${list ? PARTIAL_LIST : PARTIAL_ITEM};g=meta.k8s.io;v=v1`)
}

function listBody(resource: FakeResource, result: ListResult, representation: 'full' | 'partial'): object {
  const metadata: Record<string, unknown> = {resourceVersion: result.resourceVersion}
  if (result.continue) metadata.continue = result.continue
  if (result.remainingItemCount !== undefined) metadata.remainingItemCount = result.remainingItemCount
  if (representation === 'partial') {
    const items = result.items.map((o) => ({kind: PARTIAL_ITEM, apiVersion: META_API_VERSION, metadata: o.metadata}))
    return {kind: PARTIAL_LIST, apiVersion: META_API_VERSION, metadata, items}
  }
  // Items of a typed list carry no kind/apiVersion of their own, as in the real API's JSON.
  const items = result.items.map(({kind: _kind, apiVersion: _apiVersion, ...rest}) => rest)
  return {kind: `${resource.kind}List`, apiVersion: apiVersionOf(resource), metadata, items}
}

function itemBody(object: FakeObject, representation: 'full' | 'partial'): object {
  return representation === 'partial' ? {kind: PARTIAL_ITEM, apiVersion: META_API_VERSION, metadata: object.metadata} : object
}

function optionalNumber(text: string | undefined, name: string): number | undefined {
  if (text === undefined || text === '') return undefined
  const value = Number(text)
  if (!Number.isInteger(value)) throw badRequest(`invalid value for ${name}: ${JSON.stringify(text)}`)
  return value
}

function isDryRun(query: Record<string, string>, bodyDryRun?: unknown): boolean {
  const values = [query.dryRun, ...(Array.isArray(bodyDryRun) ? bodyDryRun : [])].filter((v) => v !== undefined && v !== '')
  for (const value of values) {
    if (value !== 'All') throw failure(400, 'BadRequest', `Unsupported value: "${String(value)}": supported values: "All"`)
  }
  return values.length > 0
}

function deleteOptionsOf(query: Record<string, string>, body: unknown): {options: DeleteOptions; dryRun: boolean} {
  if (body !== undefined && !isObject(body)) throw badRequest('the body of the request was not a valid DeleteOptions')
  const fromBody = (body ?? {}) as DeleteOptions & {dryRun?: unknown}
  const orphanQuery = query.orphanDependents === undefined ? undefined : query.orphanDependents === 'true'
  const options: DeleteOptions = {
    gracePeriodSeconds: fromBody.gracePeriodSeconds ?? optionalNumber(query.gracePeriodSeconds, 'gracePeriodSeconds'),
    propagationPolicy: fromBody.propagationPolicy ?? query.propagationPolicy,
    orphanDependents: fromBody.orphanDependents ?? orphanQuery,
    preconditions: fromBody.preconditions,
  }
  return {options, dryRun: isDryRun(query, fromBody.dryRun)}
}

function requireJson(request: RecordedRequest): unknown {
  if (typeof request.body === 'string') throw badRequest(`couldn't get version/kind; json parse error: invalid JSON`)
  return request.body
}

function send(response: ServerResponse, answer: Answer): void {
  const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body)
  const headers: Record<string, string | number> = {
    'content-type': typeof answer.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
  }
  for (const [name, value] of Object.entries(answer.headers ?? {})) headers[name.toLowerCase()] = value
  headers['content-length'] = Buffer.byteLength(text)
  response.writeHead(answer.status, headers)
  response.end(text)
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function parseBody(text: string, contentType: string | undefined): unknown {
  if (text === '') return undefined
  if (!(contentType ?? 'application/json').includes('json')) return text
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

export class FakeKubeHandler {
  readonly requests: RecordedRequest[] = []
  readonly injections: Injection[] = []
  readonly denials: DenyRule[] = []
  readonly hooks: RequestHook[] = []

  constructor(
    private readonly api: FakeApi,
    private readonly token: string,
    private readonly user: string,
    private readonly latencyMs: number,
  ) {}

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let recorded: RecordedRequest | undefined
    let answer: Answer
    try {
      recorded = await this.record(request)
      answer = await this.answer(recorded)
    } catch (error) {
      answer = this.errorAnswer(error)
    }
    if (recorded) recorded.status = answer.reset ? 0 : answer.status
    if (this.latencyMs > 0) await sleep(this.latencyMs)
    if (answer.delayMs) await sleep(answer.delayMs)
    if (answer.reset) {
      response.socket?.destroy() // the client sees "socket hang up" (ECONNRESET)
      return
    }
    send(response, answer)
  }

  private async record(request: IncomingMessage): Promise<RecordedRequest> {
    const url = new URL(request.url ?? '/', 'https://fake-kube')
    const contentType = request.headers['content-type']
    const recorded: RecordedRequest = {
      method: request.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      accept: request.headers.accept,
      contentType,
      body: parseBody(await readBody(request), contentType),
      authenticated: request.headers.authorization === `Bearer ${this.token}`,
    }
    this.requests.push(recorded)
    return recorded
  }

  private async answer(request: RecordedRequest): Promise<Answer> {
    if (!request.authenticated) throw unauthorized()
    for (const hook of [...this.hooks]) await hook(request)
    const injected = this.takeInjection(request)
    if (injected?.apply) {
      try {
        this.serveRoute(request)
      } catch {
        // what the real answer would have been no longer matters: the injected one replaces it
      }
    }
    if (injected) return {status: injected.status, body: injected.body ?? '', headers: injected.headers, delayMs: injected.delayMs, reset: injected.reset}
    return this.serveRoute(request)
  }

  private serveRoute(request: RecordedRequest): Answer {
    const route = parseRoute(request.path)
    if (!route) throw notServed()
    const verb = verbOf(request.method, route, request.query)
    if (!verb) throw failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {})
    this.checkAllowed(verb, route)
    return this.serve(verb, route, request)
  }

  private takeInjection(request: RecordedRequest): Injection | undefined {
    const index = this.injections.findIndex(
      (i) =>
        (i.method === undefined || i.method.toUpperCase() === request.method) &&
        (i.pathIncludes === undefined || request.path.includes(i.pathIncludes)) &&
        (i.match === undefined || i.match(request)),
    )
    if (index < 0) return undefined
    const injection = this.injections[index]
    injection.times = (injection.times ?? 1) - 1
    if (injection.times <= 0) this.injections.splice(index, 1)
    return injection
  }

  private checkAllowed(verb: string, route: Route): void {
    const {resource, namespace, name} = route
    const denied = this.denials.some(
      (rule) =>
        (rule.verb === '*' || rule.verb === verb) &&
        rule.resource === resource.plural &&
        (rule.group === undefined || rule.group === resource.group) &&
        (rule.namespace === undefined || namespace === undefined || rule.namespace === namespace),
    )
    if (denied) throw forbidden(this.user, verb, resource, namespace, name)
  }

  private serve(verb: string, route: Route, request: RecordedRequest): Answer {
    const {resource, namespace = '', name = ''} = route
    const query = request.query
    switch (verb) {
      case 'list': {
        const representation = negotiate(request.accept, true)
        const result = this.api.list(resource, this.listQuery(route, query))
        return {status: 200, body: listBody(resource, result, representation)}
      }
      case 'get': {
        const representation = negotiate(request.accept, false)
        return {status: 200, body: itemBody(this.api.get(resource, namespace, name), representation)}
      }
      case 'create':
        return {status: 201, body: this.api.create(resource, namespace, requireJson(request), isDryRun(query))}
      case 'update':
        return {status: 200, body: this.api.update(resource, namespace, name, requireJson(request), isDryRun(query))}
      case 'patch': {
        const body = this.api.patch(resource, namespace, name, request.contentType, requireJson(request), isDryRun(query))
        return {status: 200, body}
      }
      case 'delete': {
        const {options, dryRun} = deleteOptionsOf(query, requireJson(request))
        const result = this.api.delete(resource, namespace, name, options, dryRun)
        request.gracePeriodSeconds = result.gracePeriodSeconds
        return {status: 200, body: result.body}
      }
      case 'deletecollection': {
        const {options, dryRun} = deleteOptionsOf(query, requireJson(request))
        const items = this.api.deleteCollection(resource, this.listQuery(route, query), options, dryRun)
        const body = {kind: `${resource.kind}List`, apiVersion: apiVersionOf(resource), metadata: {}, items}
        return {status: 200, body}
      }
      default:
        throw badRequest(`fake-kube does not support ${verb}`)
    }
  }

  private listQuery(route: Route, query: Record<string, string>): ListQuery {
    return {
      namespace: route.namespace,
      labelSelector: query.labelSelector,
      fieldSelector: query.fieldSelector,
      limit: optionalNumber(query.limit, 'limit'),
      continueToken: query.continue || undefined,
    }
  }

  private errorAnswer(error: unknown): Answer {
    if (error instanceof ApiStatusError) return {status: error.code, body: error.body}
    const message = `Internal error occurred: ${error instanceof Error ? error.message : String(error)}`
    return {status: 500, body: failure(500, 'InternalError', message, {}).body}
  }
}
