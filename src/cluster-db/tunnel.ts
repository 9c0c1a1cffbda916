// A port-forward to one pod port over the API server, as `kubectl port-forward` does, for the DB
// drivers: a listener on 127.0.0.1 with an ephemeral port, and for each accepted connection its own
// WebSocket (`v4.channel.k8s.io`: one TCP connection per WebSocket) through client-node's
// PortForward. The WebSocket carries this run's kubeconfig credentials (KubeClient.applyCredentials).
// A WebSocket that closes while its connection is still in use is a dropped tunnel: `lost` aborts,
// so the run stops before acting on anything else.
import net from 'node:net'
import type {ClientRequest, IncomingMessage} from 'node:http'
import type https from 'node:https'
import {PassThrough, Writable} from 'node:stream'
import type WebSocket from 'ws'
import {bounded} from '../airflow/drivers/bounded.js'
import {ForbiddenError, ReapError, UnreachableError} from '../errors.js'
import type {KubeTarget} from '../kube/config.js'
import {errorForResponse, oneLine} from '../kube/status.js'
import type {PodPort} from './endpoints.js'

/** The port-forward stopped working while the run used it. */
export class TunnelLostError extends ReapError {}

export interface Tunnel {
  /** The local port on 127.0.0.1. */
  readonly port: number
  /** Aborted, with a TunnelLostError, when a connection's WebSocket drops or cannot be opened. */
  readonly lost: AbortSignal
  /**
   * Stops counting drops at once, lets the connections end for up to 2 s, then ends the rest. Call it
   * together with the drivers' close (`Promise.all`), not after: their goodbye ends the connections.
   */
  close(): Promise<void>
}

export interface TunnelOptions {
  target: KubeTarget
  /** Sets the kubeconfig's TLS material and credentials on each WebSocket's handshake request. */
  applyCredentials: (options: https.RequestOptions) => Promise<void>
  pod: PodPort
  /** WebSocket handshake limit (default 30 s). */
  handshakeTimeoutMs?: number
  signal?: AbortSignal
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 30_000
const CLOSE_GRACE_MS = 2_000
const MAX_ERROR_BODY = 4096

type PortForwarder = {
  portForward(namespace: string, pod: string, ports: number[], output: Writable, err: Writable | null, input: NodeJS.ReadableStream): Promise<WebSocket | (() => WebSocket | null)>
}

/** Opens the listener after one WebSocket has been opened and closed: an RBAC denial or a missing pod fails here, in one line. */
export async function openTunnel(options: TunnelOptions): Promise<Tunnel> {
  const forwarder = await portForwarder(options)
  const describe = `pod/${options.pod.pod}:${options.pod.port}`
  const lostController = new AbortController()
  const quiet = {value: false}
  const markLost = (why: string) => {
    if (!quiet.value && !lostController.signal.aborted) lostController.abort(new TunnelLostError(`the port-forward to the DB (${describe}) dropped: ${why}`))
  }
  await probe(forwarder, options)
  const sockets = new Set<net.Socket>()
  const server = net.createServer({pauseOnConnect: true}, (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    connect(forwarder, options, socket, markLost)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  let closing: Promise<void> | undefined
  // Closing starts by no longer counting drops (the DB server ends its connections as the drivers
  // say goodbye), lets the drivers' goodbyes through for a moment, then ends what is left.
  const close = () =>
    (closing ??= (async () => {
      quiet.value = true
      options.signal?.removeEventListener('abort', onAbort)
      const done = new Promise<void>((resolve) => server.close(() => resolve()))
      await waitForSockets(sockets, options.signal?.aborted ? 0 : CLOSE_GRACE_MS)
      for (const socket of sockets) socket.destroy()
      await done
    })())
  const onAbort = () => void close()
  options.signal?.addEventListener('abort', onAbort, {once: true})
  return {port: (server.address() as net.AddressInfo).port, lost: lostController.signal, close}
}

async function waitForSockets(sockets: Set<net.Socket>, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs
  while (sockets.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
}

/** One WebSocket for one accepted connection; its end is the connection's end, and the other way round. */
function connect(forwarder: PortForwarder, options: TunnelOptions, socket: net.Socket, markLost: (why: string) => void): void {
  let endedHere = false
  let errorText = ''
  const errors = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (errorText.length < MAX_ERROR_BODY) errorText += chunk.toString('utf8')
      done()
    },
  })
  socket.on('end', () => (endedHere = true))
  socket.on('error', () => undefined) // 'close' follows
  const {namespace, pod, port} = options.pod
  forwarder.portForward(namespace, pod, [port], socket, errors, socket).then(
    (result) => {
      const ws = typeof result === 'function' ? result() : result
      if (!ws) return
      if (socket.destroyed) {
        ws.close()
        return
      }
      socket.resume()
      socket.on('close', () => {
        endedHere = true
        if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close()
      })
      ws.on('close', () => {
        if (!endedHere && !socket.destroyed) {
          const why = errorText ? oneLine(errorText) : 'the API server closed the connection'
          markLost(why)
        }
        socket.destroy()
      })
      ws.on('error', () => undefined) // 'close' follows
    },
    (error: unknown) => {
      markLost(describeError(error))
      socket.destroy()
    },
  )
}

/** Opens one WebSocket and closes it: the API server, RBAC and the pod answer before anything listens. */
async function probe(forwarder: PortForwarder, options: TunnelOptions): Promise<void> {
  const {namespace, pod, port} = options.pod
  const idle = new PassThrough()
  let ws: WebSocket | null
  try {
    // The handshake is bounded by handshakeTimeoutMs; a signal ends the wait at once.
    const result = await bounded(
      () => forwarder.portForward(namespace, pod, [port], new Writable({write: (_c, _e, done) => done()}), null, idle),
      {timeoutMs: 0, signal: options.signal},
      () => new Error('unreachable: no time limit here'),
      () => idle.destroy(),
    )
    ws = typeof result === 'function' ? result() : result
  } catch (error) {
    if (options.signal?.aborted) throw error // interrupted: the run says so itself
    const what = `cannot port-forward to the DB (pod/${pod}:${port} in namespace ${namespace})`
    const refusal = refusalOf(error)
    if (refusal instanceof ForbiddenError) throw new ForbiddenError(`${what}: ${refusal.message}`, refusal.verb, refusal.resource)
    throw new UnreachableError(`${what}: ${describeError(error)}`, {cause: error})
  }
  ws?.on('error', () => undefined)
  ws?.close()
}

/** client-node's PortForward, with our own WebSocket factory: the kubeconfig's credentials, a handshake limit, and error answers read. */
async function portForwarder(options: TunnelOptions): Promise<PortForwarder> {
  // Deep imports: the package index loads the whole generated API (src/kube/credentials.ts).
  const [{PortForward}, {WebSocketHandler}, {default: WebSocketClass}] = await Promise.all([
    import('@kubernetes/client-node/dist/portforward.js'),
    import('@kubernetes/client-node/dist/web-socket-handler.js'),
    import('ws'),
  ])
  const server = options.target.server.replace(/\/+$/, '')
  const config = {
    getCurrentCluster: () => ({server}),
    applyToHTTPSOptions: (opts: https.RequestOptions) => options.applyCredentials(opts),
  }
  const factory = (uri: string, protocols: string[], opts: WebSocket.ClientOptions): WebSocket => {
    // closeTimeout: ws waits 30 s by default for the peer's close frame, which would keep the process alive after the run.
    const ws = new WebSocketClass(uri, protocols, {
      ...opts,
      handshakeTimeout: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      closeTimeout: CLOSE_GRACE_MS, // in ws 8, not in its typings
    } as WebSocket.ClientOptions)
    ws.on('unexpected-response', (request: ClientRequest, response: IncomingMessage) => refused(ws, uri, server, request, response))
    return ws
  }
  const handler = new WebSocketHandler(config as never, factory as never)
  return new PortForward(config as never, true, handler) as unknown as PortForwarder
}

const refusals = new WeakMap<WebSocket, ReapError>()

/** The upgrade was answered with an error: keep it as a typed error (RBAC names verb and resource), then end the handshake. */
function refused(ws: WebSocket, uri: string, server: string, request: ClientRequest, response: IncomingMessage): void {
  let text = ''
  response.setEncoding('utf8')
  response.on('data', (chunk: string) => {
    if (text.length < MAX_ERROR_BODY) text += chunk
  })
  response.on('end', () => {
    const path = new URL(uri).pathname
    let body: unknown = text
    try {
      if ((response.headers['content-type'] ?? '').includes('json')) body = JSON.parse(text)
    } catch {
      // plain text it is (the kubelet answers some errors that way)
    }
    const error = errorForResponse({method: 'GET', path, status: response.statusCode ?? 0, body, server})
    const plain = typeof body === 'string' && body.trim() ? `: ${oneLine(body)}` : ''
    refusals.set(ws, plain && !(error instanceof ForbiddenError) ? new UnreachableError(`${error.message}${plain}`) : error)
    request.destroy()
    ws.terminate()
  })
}

function refusalOf(error: unknown): ReapError | undefined {
  const target = (error as {target?: WebSocket} | undefined)?.target
  return target ? refusals.get(target) : undefined
}

function describeError(error: unknown): string {
  const refusal = refusalOf(error)
  if (refusal) return refusal.message
  if (error instanceof Error) return oneLine(error.message)
  const message = (error as {message?: unknown} | undefined)?.message
  return typeof message === 'string' ? oneLine(message) : String(error)
}
