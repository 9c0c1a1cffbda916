// `GET /api/v1/namespaces/NS/pods/NAME/portforward?ports=P` upgraded to a WebSocket, as the API server
// proxies it to the kubelet's CRI streaming server. Written from the sources (and
// ../shared/k8s-api-observed/README.md):
// - k8s.io/kubelet pkg/kubelet/cri/streaming/portforward/websocket.go: the `ports` query parameter
//   (comma-separated or repeated, each 1-65535), two channels per port (data 2i read-write, error
//   2i+1 write-only), the port number as an unsigned 16-bit little-endian integer written first on
//   each of them, `error forwarding port P to pod ID, uid U: ERR` on the error channel when the
//   forward fails, and the connection closed once every port's forward has ended;
// - apimachinery pkg/util/httpstream/wsstream/conn.go: the subprotocols `v4.channel.k8s.io` (binary
//   frames) and `v4.base64.channel.k8s.io` (text frames: channel as an ASCII digit, data in base64),
//   or none (binary); the first one the client offers that is supported wins; nothing supported
//   offered is a 403 with an empty body (golang.org/x/net/websocket's handshake failure); client
//   frames start with their channel byte; frames for an unknown or write-only channel are ignored;
// - the API server's pod registry (PortForwardLocation): the pod must exist (404 Status) and be
//   scheduled (400 `pod NAME does not have a host assigned`); authorization is `get` on
//   pods/portforward, and since Kubernetes 1.35 `create` too for a WebSocket upgrade.
// The "container runtime" here connects to a real local TCP port that a test maps per pod and port;
// a port with no mapping, or a mapped port where nothing listens, is "connection refused".

import type {IncomingMessage} from 'node:http'
import net from 'node:net'
import type {Duplex} from 'node:stream'
import {WebSocket, WebSocketServer} from 'ws'

const BINARY = 'v4.channel.k8s.io'
const BASE64 = 'v4.base64.channel.k8s.io'
const SUPPORTED = [BINARY, BASE64]

export interface PortForwardRequest {
  namespace: string
  pod: string
  query: URLSearchParams
  /** `Sec-WebSocket-Protocol` offers, in the client's order. */
  protocols: string[]
}

/** What the API server decided before upgrading: go ahead, or answer with this status and body. */
export type PortForwardVerdict = {ok: true; podUid: string} | {ok: false; status: number; body: string | object}

export class FakePortForwarder {
  /** `NS/POD:PORT` → the local TCP port that plays the pod's port. */
  private readonly targets = new Map<string, number>()
  private readonly sessions = new Set<WebSocket>()
  private readonly wss = new WebSocketServer({noServer: true, handleProtocols: (offered) => choose([...offered]) || false})
  /** Connections opened since the start, for tests that count them. */
  opened = 0

  map(namespace: string, pod: string, port: number, localPort: number): void {
    this.targets.set(`${namespace}/${pod}:${port}`, localPort)
  }

  /** Ends every open port-forward abruptly, as when the API server or the kubelet goes away. */
  dropAll(): number {
    const count = this.sessions.size
    for (const ws of this.sessions) ws.terminate()
    return count
  }

  get active(): number {
    return this.sessions.size
  }

  /** Parses what the kubelet would refuse before any upgrade; undefined when the request is fine. */
  static badRequest(request: PortForwardRequest): string | undefined {
    const values = request.query.getAll('ports')
    if (values.length === 0) return 'query parameter "ports" is required'
    for (const value of values) {
      if (value === '') return 'query parameter "ports" cannot be empty'
      for (const text of value.split(',')) {
        if (!/^\d+$/.test(text) || Number(text) > 65535) return `unable to parse "${value}" as a port: strconv.ParseUint: parsing "${text}": invalid syntax`
        if (Number(text) < 1) return `port "${value}" must be > 0`
      }
    }
    return undefined
  }

  /** Whether the client offers something the server speaks (nothing offered is fine: binary). */
  static negotiable(protocols: string[]): boolean {
    return protocols.length === 0 || choose(protocols) !== undefined
  }

  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, target: PortForwardRequest, podUid: string): void {
    this.wss.handleUpgrade(request, socket, head, (ws) => this.serve(ws, target, podUid))
  }

  close(): void {
    this.dropAll()
    this.wss.close()
  }

  private serve(ws: WebSocket, target: PortForwardRequest, podUid: string): void {
    this.opened++
    this.sessions.add(ws)
    ws.on('close', () => this.sessions.delete(ws))
    ws.on('error', () => undefined)
    const base64 = ws.protocol === BASE64
    const ports = target.query.getAll('ports').flatMap((v) => v.split(',').map(Number))
    const send = (channel: number, data: Buffer) => {
      if (ws.readyState !== WebSocket.OPEN) return
      if (base64) ws.send(String.fromCharCode(48 + channel) + data.toString('base64'))
      else ws.send(Buffer.concat([Buffer.from([channel]), data]))
    }
    const connections: Array<net.Socket | undefined> = []
    let running = ports.length
    const done = () => {
      if (--running === 0) ws.close()
    }
    ports.forEach((port, i) => {
      const portBytes = Buffer.alloc(2)
      portBytes.writeUInt16LE(port)
      send(2 * i, portBytes)
      send(2 * i + 1, portBytes)
      const sandbox = `${target.pod}_${target.namespace}`
      const local = this.targets.get(`${target.namespace}/${target.pod}:${port}`)
      const fail = (why: string) => {
        send(2 * i + 1, Buffer.from(`error forwarding port ${port} to pod ${sandbox}, uid ${podUid}: ${why}`))
        done()
      }
      const refused = `failed to connect to localhost:${port} inside namespace "${sandbox}", IPv4: dial tcp4 127.0.0.1:${port}: connect: connection refused IPv6 dial tcp6 [::1]:${port}: connect: connection refused `
      if (local === undefined) {
        fail(refused)
        return
      }
      const tcp = net.connect(local, '127.0.0.1')
      connections[i] = tcp
      let connected = false
      tcp.on('connect', () => (connected = true))
      tcp.on('data', (chunk: Buffer) => send(2 * i, chunk))
      tcp.on('error', (error: NodeJS.ErrnoException) => {
        if (!connected) fail(error.code === 'ECONNREFUSED' ? refused : error.message)
      })
      tcp.on('close', () => {
        connections[i] = undefined
        if (connected) done()
      })
    })
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      let frame = data
      if (frame.length === 0) return
      let channel = frame[0]!
      if (base64 || !isBinary) {
        channel -= 48
        frame = Buffer.concat([Buffer.from([0]), Buffer.from(frame.subarray(1).toString('latin1'), 'base64')])
      }
      // Only the data channels are read; error channels are write-only, others do not exist.
      if (channel % 2 !== 0 || channel / 2 >= ports.length) return
      connections[channel / 2]?.write(frame.subarray(1))
    })
    ws.on('close', () => {
      for (const tcp of connections) tcp?.destroy()
    })
  }
}

function choose(offered: string[]): string | undefined {
  return offered.find((p) => SUPPORTED.includes(p))
}
