// How this machine reaches the DB a URL names: directly, or, when the host is a Service of the
// cluster that does not resolve here (`auto`) or always (`always`), through a port-forward to a
// ready pod behind that Service. The URL handed to the drivers then names 127.0.0.1 and the
// tunnel's port; user, password, database and parameters are kept.
import {lookup} from 'node:dns/promises'
import type {DbUrl} from '../airflow/types.js'
import {UsageError} from '../errors.js'
import type {KubeClient} from '../kube/client.js'
import type {KubeTarget} from '../kube/config.js'
import {podBehindService} from './endpoints.js'
import type {LocatedDb} from './locate.js'
import {type ServiceRef, serviceOfHost} from './service-host.js'
import type {DbVia} from './source.js'
import {openTunnel} from './tunnel.js'

export type PortForwardMode = 'auto' | 'always' | 'never'
export const PORT_FORWARD_MODES: readonly PortForwardMode[] = ['auto', 'always', 'never']

export interface ReachOptions {
  portForward: PortForwardMode
  /** How long a DNS lookup of the host may take in `auto` (default 2 s). */
  dnsTimeoutMs?: number
}

/** What reachDb needs of the cluster. */
export interface ClusterConnection {
  client: KubeClient
  target: KubeTarget
}

export interface ReachedDb {
  /** The URL to connect to: rewritten to 127.0.0.1:PORT when tunnelled. */
  url: DbUrl
  via: DbVia
  /** Aborted, with a TunnelLostError as its reason, when the port-forward drops; never for a direct connection. */
  lost: AbortSignal
  /** Ends the tunnel. Call it together with the DB's close (`Promise.all`): see Tunnel.close. */
  close(): Promise<void>
}

const DEFAULT_PORTS = {postgresql: 5432, mysql: 3306} as const
const DEFAULT_DNS_TIMEOUT_MS = 2_000

export async function reachDb(located: LocatedDb, kube: ClusterConnection, options: ReachOptions, signal?: AbortSignal): Promise<ReachedDb> {
  const {url} = located
  const direct = directReach(url)
  if (options.portForward === 'never' || url.dialect === 'sqlite') return direct
  const service = serviceOfHost(url.host, located.namespace)
  if (!service) {
    if (options.portForward === 'always') {
      throw new UsageError(`--port-forward always: the DB host "${url.host ?? ''}" does not name a Service (NAME, NAME.NS, NAME.NS.svc[.cluster.local])`)
    }
    return direct
  }
  if (options.portForward === 'auto' && (await resolvesHere(url.host!, options.dnsTimeoutMs ?? DEFAULT_DNS_TIMEOUT_MS))) return direct
  return tunnelled(url, service, kube, signal)
}

async function tunnelled(url: DbUrl, service: ServiceRef, kube: ClusterConnection, signal?: AbortSignal): Promise<ReachedDb> {
  const servicePort = url.port ?? DEFAULT_PORTS[url.dialect as 'postgresql' | 'mysql']
  const pod = await podBehindService(kube.client, service, servicePort, url.host!, signal)
  const tunnel = await openTunnel({
    target: kube.target,
    // The run's own client: one token cache, one exec plugin run, failures worded without its output.
    applyCredentials: (options) => kube.client.applyCredentials(options, signal),
    pod,
    handshakeTimeoutMs: kube.target.requestTimeoutMs,
    signal,
  })
  return {
    url: throughTunnel(url, tunnel.port),
    via: {kind: 'port-forward', namespace: pod.namespace, pod: pod.pod, port: pod.port},
    lost: tunnel.lost,
    close: () => tunnel.close(),
  }
}

/** The DB connected to as the URL says: no tunnel to lose or close. */
export function directReach(url: DbUrl): ReachedDb {
  return {url, via: {kind: 'direct'}, lost: new AbortController().signal, close: async () => undefined}
}

/** The same URL, to 127.0.0.1:PORT. `redacted` keeps the Service's name: messages should name what the user knows. */
function throughTunnel(url: DbUrl, port: number): DbUrl {
  return {...url, host: '127.0.0.1', port}
}

/** Whether this machine can resolve the host (a laptop usually cannot resolve cluster DNS names). */
async function resolvesHere(host: string, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs)
  })
  try {
    return await Promise.race([lookup(host).then(() => true, () => false), timeout])
  } finally {
    clearTimeout(timer)
  }
}
