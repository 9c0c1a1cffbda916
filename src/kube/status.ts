// Kubernetes Status bodies and failed requests turned into the project's typed errors, each with a
// one-line message: never a raw body, never a header, never a token.

import {STATUS_CODES} from 'node:http'
import {ApiError, ForbiddenError, type ReapError, UnreachableError} from '../errors.js'

/** metav1.Status, the body of every error answer kube-apiserver gives (a 429 may be plain text). */
export interface KubeStatus {
  kind: 'Status'
  apiVersion?: string
  status?: 'Success' | 'Failure'
  message?: string
  reason?: string
  code?: number
  details?: {name?: string; group?: string; kind?: string; uid?: string}
}

export interface FailedRequest {
  method: string
  path: string
  status: number
  body: unknown
  server: string
}

const MAX_MESSAGE = 300

export function asStatus(body: unknown): KubeStatus | undefined {
  const candidate = body as KubeStatus | null
  return typeof candidate === 'object' && candidate !== null && candidate.kind === 'Status' ? candidate : undefined
}

/** Collapses whitespace and caps the length: server messages may be long or span lines. */
export function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > MAX_MESSAGE ? `${flat.slice(0, MAX_MESSAGE - 1)}…` : flat
}

// kube-apiserver's RBAC message (k8s.io/apiserver/pkg/endpoints/handlers/responsewriters: forbiddenMessage).
const RBAC_MESSAGE =
  /User "([^"]*)" cannot ([\w-]+) resource "([^"]+)" in API group "([^"]*)"(?: in the namespace "([^"]+)"| at the cluster scope)/

function verbOfMethod(method: string, path: string): string {
  const named = /\/namespaces\/[^/]+\/[^/]+\/[^/]+$/.test(path)
  const verbs: Record<string, string> = {GET: named ? 'get' : 'list', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete'}
  return verbs[method] ?? method.toLowerCase()
}

function resourceOfPath(path: string): string | undefined {
  const match = /^\/(?:api\/[^/]+|apis\/([^/]+)\/[^/]+)(?:\/namespaces\/[^/]+)?\/([^/]+)/.exec(path)
  if (!match) return undefined
  const [, group, plural] = match
  return group ? `${plural}.${group}` : plural
}

function forbiddenError(request: FailedRequest, status: KubeStatus | undefined): ForbiddenError {
  const message = status?.message ?? ''
  const rbac = RBAC_MESSAGE.exec(message)
  if (rbac) {
    const [, user, verb, plural, group, namespace] = rbac
    const resource = group ? `${plural}.${group}` : plural
    const scope = namespace ? `in namespace "${namespace}"` : 'at cluster scope'
    return new ForbiddenError(`RBAC denied: cannot ${verb} ${resource} ${scope} (user "${user}")`, verb, resource)
  }
  // Not RBAC (an admission webhook, Pod Security): the request itself says what was refused.
  const verb = verbOfMethod(request.method, request.path)
  const resource = resourceOfPath(request.path)
  const why = message ? oneLine(message) : 'HTTP 403 Forbidden'
  return new ForbiddenError(`forbidden: ${why}`, verb, resource)
}

/** The typed error for an answer the caller did not ask to handle itself. */
export function errorForResponse(request: FailedRequest): ReapError {
  const status = asStatus(request.body)
  if (request.status === 401) {
    return new ForbiddenError(`unauthorized: the API server at ${request.server} did not accept the credentials of the current context (HTTP 401)`)
  }
  if (request.status === 403) return forbiddenError(request, status)
  const reason = status?.reason ?? STATUS_CODES[request.status] ?? 'Error'
  const message = status?.message ? `: ${oneLine(status.message)}` : ''
  return new ApiError(`${request.method} ${request.path}: HTTP ${request.status} ${reason}${message}`, request.status, status?.reason)
}

const TLS_HINTS: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's TLS certificate is not signed by the cluster's certificate authority",
  SELF_SIGNED_CERT_IN_CHAIN: "the server's TLS certificate is not signed by the cluster's certificate authority",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's TLS certificate is self-signed and not trusted",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "the server's TLS certificate is not signed by the cluster's certificate authority",
  CERT_HAS_EXPIRED: "the server's TLS certificate has expired",
  ERR_TLS_CERT_ALTNAME_INVALID: "the server's TLS certificate does not name this host",
}

/** Connection refused, DNS failure, TLS failure, timeout: the cluster cannot be reached. */
export function errorForNetwork(error: unknown, server: string): UnreachableError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  const what = code ?? (error instanceof Error ? oneLine(error.message) : String(error))
  const hint = code && TLS_HINTS[code] ? ` (${TLS_HINTS[code]})` : ''
  return new UnreachableError(`cannot reach the Kubernetes API at ${server}: ${what}${hint}`, {cause: error})
}
