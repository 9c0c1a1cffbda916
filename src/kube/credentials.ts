// TLS material and credentials from the kubeconfig, applied to each request. The common forms (a CA,
// a client certificate, a bearer token, basic auth, the in-cluster token file) are applied here, the
// way client-node applies them. Exec plugins, auth providers and proxies go through client-node's
// KubeConfig, imported only for them: importing it loads the whole generated API, about 0.5 s and
// 80 MB, which every run would otherwise pay (bench/README.md).

import {readFileSync} from 'node:fs'
import type https from 'node:https'
import type {Cluster, Context, KubeConfig, User} from '@kubernetes/client-node'
import {ExecPluginGuard} from './exec-plugin.js'

/** client-go and client-node re-read a rotating service account token at most once a minute. */
const TOKEN_FILE_MAX_AGE_MS = 60_000

export interface CredentialTarget {
  contextName: string
  context: Context
  cluster: Cluster
  /** undefined: the context names no user (or one the kubeconfig lacks): anonymous, as kubectl. */
  user?: User
  /**
   * How long an exec credential plugin may run (0 or undefined: no limit): the request timeout, as in
   * kubectl, whose http.Client timeout covers the plugin run by its round tripper.
   */
  requestTimeoutMs?: number
}

export interface Credentials {
  /** Sets TLS options and headers on the request; may run an exec plugin (killed when `signal` aborts). */
  apply(options: https.RequestOptions, signal?: AbortSignal): Promise<void>
  /** A proxy needs client-node's own agent; otherwise the caller's keep-alive agent is used. */
  readonly usesProxy: boolean
}

export function credentialsFor(target: CredentialTarget): Credentials {
  return needsClientNode(target) ? viaClientNode(target) : direct(target)
}

function needsClientNode({cluster, user}: CredentialTarget): boolean {
  if (cluster.proxyUrl) return true
  if (user?.exec) return true
  return Boolean(user?.authProvider && !tokenFileOf(user))
}

/** The in-cluster form (and client-node's `tokenFile` auth provider). */
function tokenFileOf(user: User): string | undefined {
  const file = (user.authProvider?.config as {tokenFile?: unknown} | undefined)?.tokenFile
  return typeof file === 'string' && file ? file : undefined
}

function direct({cluster, user}: CredentialTarget): Credentials {
  const tokenFile = user ? tokenFileOf(user) : undefined
  let cached: {token: string; readAt: number} | undefined
  const fileToken = (): string => {
    if (!cached || Date.now() - cached.readAt > TOKEN_FILE_MAX_AGE_MS) {
      cached = {token: readFileSync(tokenFile!, 'utf8').trim(), readAt: Date.now()}
    }
    return cached.token
  }
  // Read once per run, as kubectl does (not once per request: a reap sends thousands); a failed read
  // is tried again by the next request.
  let material: {ca?: Buffer; cert?: Buffer; key?: Buffer} | undefined
  const tlsMaterial = () =>
    (material ??= {
      ca: fileOrBase64(cluster.caFile, cluster.caData),
      cert: user ? fileOrBase64(user.certFile, user.certData) : undefined,
      key: user ? fileOrBase64(user.keyFile, user.keyData) : undefined,
    })
  return {
    usesProxy: false,
    async apply(options) {
      if (cluster.skipTLSVerify) options.rejectUnauthorized = false
      if (cluster.tlsServerName) options.servername = cluster.tlsServerName
      const {ca, cert, key} = tlsMaterial()
      if (ca) options.ca = ca
      if (!user) return
      if (cert) options.cert = cert
      if (key) options.key = key
      const headers = (options.headers ??= {}) as Record<string, string>
      if (user.impersonateUser) headers['Impersonate-User'] = user.impersonateUser
      if (tokenFile) headers.Authorization = `Bearer ${fileToken()}`
      if (user.token) headers.Authorization = `Bearer ${user.token}`
      if (user.username) options.auth = `${user.username}:${user.password ?? ''}`
    },
  }
}

/** As client-node: a file path wins over inline base64 data. */
function fileOrBase64(file: string | undefined, data: string | undefined): Buffer | undefined {
  if (file) return readFileSync(file)
  if (data) return Buffer.from(data, 'base64')
  return undefined
}

function viaClientNode(target: CredentialTarget): Credentials {
  // One KubeConfig for the whole run, so an exec plugin's token is cached between requests.
  let config: Promise<KubeConfig> | undefined
  const guard = new ExecPluginGuard(target.requestTimeoutMs ?? 0, target.user?.name ?? '')
  return {
    usesProxy: Boolean(target.cluster.proxyUrl),
    async apply(options, signal) {
      config ??= clientNodeConfig(target, guard)
      const ready = await config
      await guard.during(() => ready.applyToHTTPSOptions(options), signal)
    },
  }
}

async function clientNodeConfig({contextName, context, cluster, user}: CredentialTarget, guard: ExecPluginGuard): Promise<KubeConfig> {
  const [{KubeConfig}, {ExecAuth}] = await Promise.all([import('@kubernetes/client-node'), import('@kubernetes/client-node/dist/exec_auth.js')])
  const config = new KubeConfig()
  config.loadFromOptions({clusters: [cluster], users: user ? [user] : [], contexts: [context], currentContext: contextName})
  // client-node's ExecAuth runs the plugin through its `execFn` (child_process.spawn): ours bounds it.
  // Checked at every run, so that a client-node release that renames it fails loudly, not unbounded.
  const execAuth = (config as unknown as {authenticators?: unknown[]}).authenticators?.find((a) => a instanceof ExecAuth) as
    | {execFn?: unknown}
    | undefined
  if (!execAuth || typeof execAuth.execFn !== 'function') {
    throw new Error('this @kubernetes/client-node has no ExecAuth.execFn to bound exec credential plugins with')
  }
  execAuth.execFn = guard.spawn
  return config
}
