// The HTTP face of the fake: bearer-token authentication, the request log, test hooks and injected
// answers, authorization (deny rules, and opt-in RBAC grants: rbac.ts), `/version` and
// SelfSubjectAccessReviews, routing of `/api/v1/...` and `/apis/{group}/{version}/...` paths to the
// verbs of FakeApi, content negotiation (full objects or PartialObjectMetadata), and a `Date` header
// that a test can skew.

import {type IncomingMessage, STATUS_CODES, type ServerResponse} from 'node:http'
import type {Duplex} from 'node:stream'
import {setTimeout as sleep} from 'node:timers/promises'
import {checkApplyOptions} from './apply.js'
import type {DeleteOptions, FakeApi, ListQuery, ListResult} from './operations.js'
import {isObject} from './patch.js'
import {FakePortForwarder} from './portforward.js'
import {type FakeResource, apiVersionOf, fakeResourceByPlural, findFakeResource} from './resources.js'
import {type Decision, type FakeRole, type RequestAttributes, attributesOfReview, decide, forbiddenFor} from './rbac.js'
import {ApiStatusError, badRequest, failure, unauthorized} from './status.js'
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
  resource: string // plural: 'pods', 'jobs', or with a subresource: 'pods/portforward'
  group?: string
  /** `portforward`: only requests for this subresource; undefined: only requests for the resource itself. */
  subresource?: string
  /** Only in this namespace (requests across all namespaces are denied too, as RBAC would). */
  namespace?: string
}

export type RequestHook = (request: RecordedRequest) => void | Promise<void>

interface Route {
  resource: FakeResource
  namespace?: string
  name?: string
  /** `portforward` in `/api/v1/namespaces/NS/pods/NAME/portforward`. */
  subresource?: string
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
  if (rest[0] !== 'namespaces' && rest.length === 2) {
    const resource = findFakeResource(group, version, rest[0]) // a cluster-scoped object
    return resource && resource.namespaced === false ? {resource, name: rest[1]} : undefined
  }
  if (rest[0] !== 'namespaces' || rest.length < 3 || rest.length > 5) return undefined
  const resource = findFakeResource(group, version, rest[2])
  return resource && {resource, namespace: rest[1], name: rest[3], subresource: rest[4]}
}

const AUTHORIZATION_API = '/apis/authorization.k8s.io/v1'
const SELF_SUBJECT_ACCESS_REVIEWS = `${AUTHORIZATION_API}/selfsubjectaccessreviews`

/** What GET /version answers (k8s.io/apimachinery/pkg/version.Info). */
export interface VersionInfo {
  major: string
  minor: string
  gitVersion: string
  [field: string]: string
}

export const DEFAULT_VERSION: VersionInfo = {
  major: '1',
  minor: '33',
  gitVersion: 'v1.33.4',
  gitCommit: '74cdb426183c4d1a8c1a4bd2b4c6b7d1e9b1d11e',
  gitTreeState: 'clean',
  buildDate: '2025-08-12T18:32:07Z',
  goVersion: 'go1.24.5',
  compiler: 'gc',
  platform: 'linux/amd64',
}

/** The attributes the authorizer sees (k8s.io/apiserver request.RequestInfo): a list by metadata.name carries the name. */
function attributesOf(verb: string, route: Route, query: Record<string, string>): RequestAttributes {
  let name = route.name
  if ((verb === 'list' || verb === 'watch') && query.fieldSelector) {
    const byName = query.fieldSelector.split(',').find((term) => /^metadata\.name=(?!=)/.test(term.trim()))
    if (byName) name = byName.trim().slice('metadata.name='.length)
  }
  return {
    verb,
    group: route.resource.group,
    resource: route.resource.plural,
    subresource: route.subresource,
    namespace: route.namespace,
    name,
  }
}

/** `/api/v1/namespaces/NAME` → NAME. */
function namedNamespace(path: string): string | undefined {
  const segments = path.split('/').filter(Boolean)
  if (segments.length !== 4 || segments[0] !== 'api' || segments[1] !== 'v1' || segments[2] !== 'namespaces') return undefined
  return decodeURIComponent(segments[3])
}

/** A deny rule names `pods/portforward` either whole or as resource + subresource. */
function denyRuleResource(rule: DenyRule): string {
  return rule.subresource ? `${rule.resource}/${rule.subresource}` : rule.resource
}

function verbOf(method: string, route: Route, query: Record<string, string>): string | undefined {
  const named = route.name !== undefined
  const verbs: Record<string, string | undefined> = {
    GET: named ? 'get' : query.watch === 'true' || query.watch === '1' ? 'watch' : 'list',
    POST: named || (!route.namespace && route.resource.namespaced !== false) ? undefined : 'create',
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
    // kube-apiserver answers an empty metadata-only list with `"items": null` (a full list has `[]`).
    return {kind: PARTIAL_LIST, apiVersion: META_API_VERSION, metadata, items: items.length > 0 ? items : null}
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

/**
 * DeleteOptions come from the body when there is one, else from the query, never both: kube-apiserver
 * ignores the query of a DELETE that has a body (k8s.io/apiserver endpoints/handlers/delete.go), so
 * `?dryRun=All` beside a body deletes for real.
 */
function deleteOptionsOf(query: Record<string, string>, body: unknown): {options: DeleteOptions; dryRun: boolean} {
  if (body !== undefined && !isObject(body)) throw badRequest('the body of the request was not a valid DeleteOptions')
  if (body !== undefined) {
    const fromBody = body as DeleteOptions & {dryRun?: unknown}
    const {gracePeriodSeconds, propagationPolicy, orphanDependents, preconditions} = fromBody
    return {options: {gracePeriodSeconds, propagationPolicy, orphanDependents, preconditions}, dryRun: isDryRun({}, fromBody.dryRun)}
  }
  const orphanDependents = query.orphanDependents === undefined ? undefined : query.orphanDependents === 'true'
  const options: DeleteOptions = {
    gracePeriodSeconds: optionalNumber(query.gracePeriodSeconds, 'gracePeriodSeconds'),
    propagationPolicy: query.propagationPolicy,
    orphanDependents,
  }
  return {options, dryRun: isDryRun(query)}
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

/** An answer to an upgrade request, written on the raw connection (no upgrade happens). */
function writeRaw(socket: Duplex, recorded: RecordedRequest | undefined, answer: Answer): void {
  if (recorded) recorded.status = answer.status
  const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body)
  const type = typeof answer.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json'
  const extra = Object.entries(answer.headers ?? {}).map(([name, value]) => `${name}: ${value}\r\n`).join('')
  socket.end(
    `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ''}\r\nContent-Type: ${type}\r\n${extra}` +
      `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  )
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
  /** RBAC mode: only what these roles grant is allowed. undefined: everything not denied is allowed. */
  roles: FakeRole[] | undefined
  /** Added to this machine's clock in the `Date` header (a server whose clock is off). */
  clockSkewMs = 0
  version: VersionInfo = DEFAULT_VERSION
  /** Namespaces a test created (others exist when built in or when an object lives in them). */
  readonly namespaces = new Set<string>()

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
    // Go's net/http sends Date on every answer; Node does too, unless we set it for a skewed clock.
    if (this.clockSkewMs !== 0) answer.headers = {...answer.headers, date: new Date(Date.now() + this.clockSkewMs).toUTCString()}
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
    // Open to every authenticated user in a real cluster (system:public-info-viewer, system:basic-user).
    if (request.method === 'GET' && request.path === '/version') return {status: 200, body: this.version}
    if (request.path === SELF_SUBJECT_ACCESS_REVIEWS) return this.review(request)
    const namespaceName = namedNamespace(request.path)
    if (namespaceName !== undefined) return this.serveNamespace(request, namespaceName)
    const route = parseRoute(request.path)
    if (!route) throw notServed()
    const verb = verbOf(request.method, route, request.query)
    if (!verb) throw failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {})
    this.authorize(attributesOf(verb, route, request.query))
    // Subresources (portforward) are served elsewhere (upgrades) or not at all.
    if (route.subresource !== undefined) throw notServed()
    return this.serve(verb, route, request)
  }

  /** The authorizer's decision: a deny rule refuses; in RBAC mode only a grant allows. */
  decision(attributes: RequestAttributes): Decision {
    const denied = this.denials.some(
      (rule) =>
        (rule.verb === '*' || rule.verb === attributes.verb) &&
        denyRuleResource(rule) === [attributes.resource, attributes.subresource].filter(Boolean).join('/') &&
        (rule.group === undefined || rule.group === attributes.group) &&
        (rule.namespace === undefined || !attributes.namespace || rule.namespace === attributes.namespace),
    )
    if (denied) return {allowed: false, reason: ''}
    if (this.roles === undefined) return {allowed: true, reason: ''}
    return decide(this.roles, this.user, attributes)
  }

  /** Throws kube-apiserver's 403 when the request is not allowed (also for the port-forward upgrade). */
  authorize(attributes: RequestAttributes): void {
    if (!this.decision(attributes).allowed) throw forbiddenFor(this.user, attributes)
  }

  /** POST selfsubjectaccessreviews: the decision for the attributes asked about, as `kubectl auth can-i` gets it. */
  private review(request: RecordedRequest): Answer {
    if (request.method !== 'POST') throw failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {})
    const body = requireJson(request) as {apiVersion?: string; kind?: string; spec?: unknown} | undefined
    if (!isObject(body) || body.kind !== 'SelfSubjectAccessReview') throw badRequest('the body of the request was not a SelfSubjectAccessReview')
    const attributes = attributesOfReview(body.spec)
    if (!attributes) {
      throw failure(422, 'Invalid', 'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified', {
        group: 'authorization.k8s.io',
        kind: 'SelfSubjectAccessReview',
      })
    }
    const {allowed, reason} = this.decision(attributes)
    const status: Record<string, unknown> = {allowed}
    if (reason) status.reason = reason
    return {
      status: 201,
      body: {kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: {creationTimestamp: null}, spec: body.spec, status},
    }
  }

  /** Namespaces are served for GET by name only (what clients use to check that one exists). */
  private serveNamespace(request: RecordedRequest, name: string): Answer {
    if (request.method !== 'GET') throw failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {})
    // kube-apiserver's request info takes /namespaces/NAME as namespace NAME (RBAC and its message say so).
    this.authorize({verb: 'get', group: '', resource: 'namespaces', namespace: name, name})
    return {status: 200, body: this.api.getNamespace(name, this.namespaces)}
  }

  /**
   * A WebSocket upgrade: only `pods/NAME/portforward` is served (see portforward.ts). Everything the
   * API server checks before proxying to the kubelet is answered here, as plain HTTP.
   */
  async handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, forwarder: FakePortForwarder): Promise<void> {
    socket.on('error', () => undefined)
    let recorded: RecordedRequest | undefined
    try {
      recorded = await this.record(request)
      if (!recorded.authenticated) throw unauthorized()
      for (const hook of [...this.hooks]) await hook(recorded)
      const injected = this.takeInjection(recorded)
      if (injected) return writeRaw(socket, recorded, {status: injected.status, body: injected.body ?? '', headers: injected.headers})
      const match = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/portforward$/.exec(recorded.path)
      if (!match) throw notServed()
      const [namespace, pod] = [decodeURIComponent(match[1]!), decodeURIComponent(match[2]!)]
      // A WebSocket port-forward is a GET (`get`); Kubernetes 1.35 checks `create` as well.
      for (const verb of ['get', 'create']) this.authorize({verb, group: '', resource: 'pods', subresource: 'portforward', namespace, name: pod})
      const stored = this.api.get(fakeResourceByPlural('pods'), namespace, pod)
      if (!(stored.spec as {nodeName?: string} | undefined)?.nodeName) throw badRequest(`pod ${pod} does not have a host assigned`)
      const target = {
        namespace,
        pod,
        query: new URL(request.url ?? '/', 'https://fake-kube').searchParams,
        protocols: (request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter(Boolean),
      }
      // From here on the kubelet answers, in plain text.
      const bad = FakePortForwarder.badRequest(target)
      if (bad) return writeRaw(socket, recorded, {status: 400, body: bad})
      if ((stored.status as {phase?: string} | undefined)?.phase !== 'Running') {
        return writeRaw(socket, recorded, {status: 500, body: `pod not found ("${pod}_${namespace}")`})
      }
      if (!FakePortForwarder.negotiable(target.protocols)) return writeRaw(socket, recorded, {status: 403, body: ''})
      recorded.status = 101
      forwarder.upgrade(request, socket, head, target, stored.metadata.uid)
    } catch (error) {
      writeRaw(socket, recorded, this.errorAnswer(error))
    }
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
        const mediaType = (request.contentType ?? '').split(';')[0].trim().toLowerCase()
        if (checkApplyOptions(mediaType, {fieldManager: query.fieldManager, force: query.force})) {
          const applied = this.api.apply(resource, namespace, name, request.body, {fieldManager: query.fieldManager, force: query.force}, isDryRun(query))
          return {status: applied.created ? 201 : 200, body: applied.object}
        }
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
