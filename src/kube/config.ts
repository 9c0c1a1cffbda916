// Which cluster, credentials and namespace to use, resolved exactly as kubectl does: --kubeconfig,
// else the KUBECONFIG list (merged first-wins), else ~/.kube/config, else the in-cluster service
// account. Never client-node's silent fallback to http://localhost:8080.

import {existsSync, readFileSync, statSync} from 'node:fs'
import {isIPv6} from 'node:net'
import os from 'node:os'
import path from 'node:path'
import type {Cluster, Context, User} from '@kubernetes/client-node'
// client-node's kubeconfig entry parsers, without its index: that one loads the generated API (~0.5 s).
import {newClusters, newContexts, newUsers} from '@kubernetes/client-node/dist/config_types.js'
import yaml from 'js-yaml'
import {ConfigError} from '../errors.js'
import type {CredentialTarget} from './credentials.js'

export interface KubeTarget extends CredentialTarget {
  contextName: string
  server: string
  /** -n, else the context's namespace, else 'default'. */
  namespace: string
  inCluster: boolean
  /** Per API request (--request-timeout); 0 or undefined: no limit. */
  requestTimeoutMs?: number
  /** The kubeconfig files read, or the service account directory. */
  sources: string[]
}

export interface LoadKubeTargetOptions {
  kubeconfig?: string
  context?: string
  namespace?: string
  env?: NodeJS.ProcessEnv
  homeDir?: string
  requestTimeoutMs?: number
  /**
   * Prepended to /var/run/secrets/kubernetes.io/serviceaccount (tests). Else the environment's
   * AIRFLOW_REAP_IN_CLUSTER_ROOT: a root under which the service account files are looked for, so a
   * test can run the release executable as a pod runs it. It only moves where the same files are
   * read from, after every kubeconfig source, as KUBECONFIG moves the kubeconfig.
   */
  inClusterPathPrefix?: string
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'
const IN_CLUSTER = 'in-cluster'

/** A kubeconfig's entries, as client-node parses them. */
interface KubeConfigData {
  clusters: Cluster[]
  users: User[]
  contexts: Context[]
  currentContext?: string
}

interface Resolved {
  kubeConfig: KubeConfigData
  sources: string[]
  inCluster: boolean
}

export function loadKubeTarget(options: LoadKubeTargetOptions = {}): KubeTarget {
  const env = options.env ?? process.env
  const resolved = resolveConfig(options, env)
  const {kubeConfig} = resolved
  const contextName = chooseContext(kubeConfig, options.context, resolved)
  const context = kubeConfig.contexts.find((c) => c.name === contextName)!
  const cluster = contextCluster(kubeConfig, context, resolved)
  return {
    contextName,
    context,
    cluster,
    user: kubeConfig.users.find((u) => u.name === context.user),
    server: cluster.server,
    namespace: options.namespace || context.namespace || 'default',
    inCluster: resolved.inCluster,
    requestTimeoutMs: options.requestTimeoutMs,
    sources: resolved.sources,
  }
}

function resolveConfig(options: LoadKubeTargetOptions, env: NodeJS.ProcessEnv): Resolved {
  if (options.kubeconfig) {
    const file = path.resolve(options.kubeconfig)
    if (!isFile(file)) throw new ConfigError(`kubeconfig ${file} does not exist`)
    return fromFiles([file])
  }
  const candidates = kubeconfigCandidates(env, options.homeDir ?? os.homedir())
  const files = candidates.filter(isFile)
  const fromKubeconfig = files.length > 0 ? fromFiles(files) : undefined
  if (fromKubeconfig && !isEmpty(fromKubeconfig.kubeConfig)) return fromKubeconfig
  const prefix = options.inClusterPathPrefix ?? env.AIRFLOW_REAP_IN_CLUSTER_ROOT?.replace(/\/+$/, '') ?? ''
  const inCluster = fromServiceAccount(env, prefix)
  if (inCluster) return inCluster
  if (fromKubeconfig) return fromKubeconfig // empty files: chooseContext says so
  const lookedIn = [...candidates, `the in-cluster service account (${prefix}${SERVICE_ACCOUNT_DIR})`].join(', ')
  throw new ConfigError(`no kubeconfig found (looked in ${lookedIn}); pass --kubeconfig or set KUBECONFIG`)
}

/** The KUBECONFIG list when set (kubectl then never reads ~/.kube/config), else ~/.kube/config. */
function kubeconfigCandidates(env: NodeJS.ProcessEnv, homeDir: string): string[] {
  const list = (env.KUBECONFIG ?? '').split(path.delimiter).filter((f) => f !== '')
  if (list.length === 0) return [path.join(homeDir, '.kube', 'config')]
  return [...new Set(list.map((f) => path.resolve(f)))]
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile()
  } catch {
    return false
  }
}

function isEmpty(config: KubeConfigData): boolean {
  return config.contexts.length === 0 && config.clusters.length === 0 && !config.currentContext
}

/**
 * One KubeConfig per file (relative paths made absolute against that file's directory), merged the
 * way kubectl merges: for clusters, users and contexts the first file that defines a name wins, and
 * the current context is the first one set. client-node's own merge lets later files win.
 */
function fromFiles(files: string[]): Resolved {
  const clusters = new Map<string, Cluster>()
  const users = new Map<string, User>()
  const contexts = new Map<string, Context>()
  let currentContext: string | undefined
  for (const file of files) {
    const config = loadFile(file)
    for (const cluster of config.clusters) if (!clusters.has(cluster.name)) clusters.set(cluster.name, cluster)
    for (const user of config.users) if (!users.has(user.name)) users.set(user.name, user)
    for (const context of config.contexts) if (!contexts.has(context.name)) contexts.set(context.name, context)
    currentContext ||= config.currentContext || undefined
  }
  const kubeConfig = {clusters: [...clusters.values()], users: [...users.values()], contexts: [...contexts.values()], currentContext}
  return {kubeConfig, sources: files, inCluster: false}
}

/**
 * client-node's loadFromFile (its entry parsers, which reject invalid entries), plus what it leaves
 * out: an empty (or comment-only) file is an empty config for kubectl (client-node crashes on it),
 * and relative `token-file` and exec `command` paths are relative to the kubeconfig's directory, as
 * kubectl resolves them, not to the working directory.
 */
function loadFile(file: string): KubeConfigData {
  try {
    const document = yaml.load(readFileSync(file, 'utf8')) as Record<string, unknown> | null
    if (document === null || typeof document !== 'object') return {clusters: [], users: [], contexts: []}
    const directory = path.dirname(file)
    resolveUserPaths(document as {users?: unknown}, directory)
    const current = document['current-context']
    return makePathsAbsolute(
      {
        clusters: newClusters(document.clusters),
        users: newUsers(document.users),
        contexts: newContexts(document.contexts),
        currentContext: typeof current === 'string' ? current : undefined,
      },
      directory,
    )
  } catch (error) {
    if (error instanceof ConfigError) throw error
    throw new ConfigError(`cannot read kubeconfig ${file}: ${describeLoadError(error)}`)
  }
}

/** certificate-authority, client-certificate and client-key are relative to the kubeconfig's directory. */
function makePathsAbsolute(config: KubeConfigData, directory: string): KubeConfigData {
  const absolute = (file: string | undefined) => (file ? path.resolve(directory, file) : file)
  return {
    ...config,
    clusters: config.clusters.map((cluster) => ({...cluster, caFile: absolute(cluster.caFile)})),
    users: config.users.map((user) => ({...user, certFile: absolute(user.certFile), keyFile: absolute(user.keyFile)})),
  }
}

interface RawUserEntry {
  name?: string
  user?: {token?: unknown; 'token-file'?: unknown; exec?: {command?: unknown}}
}

function resolveUserPaths(document: {users?: unknown}, directory: string): void {
  if (!Array.isArray(document.users)) return
  for (const entry of document.users as RawUserEntry[]) {
    const user = entry?.user
    if (!user) continue
    if (typeof user['token-file'] === 'string' && user['token-file']) {
      readTokenFile(user, path.resolve(directory, user['token-file']), entry.name)
    }
    // Like client-go: a bare command name is looked up on PATH; one with a separator is a path.
    const command = user.exec?.command
    if (typeof command === 'string' && command.includes('/') && !path.isAbsolute(command)) user.exec!.command = path.join(directory, command)
  }
}

/** kubectl trims the file (client-node does not: a trailing newline would make an invalid header). */
function readTokenFile(user: NonNullable<RawUserEntry['user']>, file: string, userName: string | undefined): void {
  delete user['token-file']
  if (user.token) return // an inline token takes precedence, as in client-go
  try {
    user.token = readFileSync(file, 'utf8').trim()
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable'
    throw new ConfigError(`cannot read token-file ${file} of user "${userName ?? ''}": ${code}`)
  }
}

/** One line and never a snippet of the file (js-yaml quotes the offending lines, which may hold a token). */
function describeLoadError(error: unknown): string {
  if (error instanceof yaml.YAMLException) return `invalid YAML: ${error.reason} (line ${error.mark.line + 1})`
  const code = (error as NodeJS.ErrnoException).code
  if (code) return code
  return error instanceof Error ? error.message.split('\n')[0] : String(error)
}

/** client-go's in-cluster config: KUBERNETES_SERVICE_HOST/PORT and the mounted service account token. */
function fromServiceAccount(env: NodeJS.ProcessEnv, prefix: string): Resolved | undefined {
  const host = env.KUBERNETES_SERVICE_HOST
  const port = env.KUBERNETES_SERVICE_PORT
  const dir = `${prefix}${SERVICE_ACCOUNT_DIR}`
  const tokenFile = path.join(dir, 'token')
  if (!host || !port || !isFile(tokenFile)) return undefined
  const caFile = path.join(dir, 'ca.crt')
  const server = `https://${isIPv6(host) ? `[${host}]` : host}:${port}`
  const kubeConfig = {
    clusters: [{name: IN_CLUSTER, server, caFile: existsSync(caFile) ? caFile : undefined, skipTLSVerify: false}],
    // The (rotating, projected) token is re-read every minute, as client-go does (credentials.ts).
    users: [{name: IN_CLUSTER, authProvider: {name: 'tokenFile', config: {tokenFile}}}],
    contexts: [{name: IN_CLUSTER, cluster: IN_CLUSTER, user: IN_CLUSTER, namespace: inClusterNamespace(env, dir)}],
    currentContext: IN_CLUSTER,
  }
  return {kubeConfig, sources: [dir], inCluster: true}
}

function inClusterNamespace(env: NodeJS.ProcessEnv, dir: string): string | undefined {
  if (env.POD_NAMESPACE) return env.POD_NAMESPACE
  try {
    return readFileSync(path.join(dir, 'namespace'), 'utf8').trim() || undefined
  } catch {
    return undefined
  }
}

function chooseContext(config: KubeConfigData, wanted: string | undefined, resolved: Resolved): string {
  const available = config.contexts.map((c) => c.name)
  const where = resolved.inCluster ? 'the in-cluster configuration' : resolved.sources.join(':')
  const listing = available.length > 0 ? `available: ${available.join(', ')}` : 'it defines no context'
  const name = wanted || config.currentContext
  if (!name) throw new ConfigError(`no current context in ${where}; pass --context (${listing})`)
  if (!available.includes(name)) {
    const which = wanted ? `context "${name}"` : `current context "${name}"`
    throw new ConfigError(`${which} not found in ${where} (${listing})`)
  }
  return name
}

function contextCluster(config: KubeConfigData, context: Context, resolved: Resolved): Cluster {
  const cluster = config.clusters.find((c) => c.name === context.cluster)
  const where = resolved.sources.join(':')
  if (!cluster) throw new ConfigError(`context "${context.name}" refers to cluster "${context.cluster}", which is not in ${where}`)
  if (!/^https:\/\//i.test(cluster.server)) {
    // client-node refuses to send credentials over plain http; say so now rather than at the first request.
    throw new ConfigError(`cluster "${cluster.name}" has server ${cluster.server}: only https API servers are supported`)
  }
  return cluster
}
