// Network faults with real sockets, for the "nothing hangs" tests: a listener that accepts and never
// says a word, and a TCP proxy that forwards faithfully until it goes silent — it stops forwarding
// in both directions without closing anything (no FIN, no RST), as a dead NAT entry or a frozen
// peer does.
import net from 'node:net'

export interface SilentListener {
  port: number
  /** Resolves at the next connection (the client is then waiting on it). */
  nextAccept(): Promise<void>
  /** Resolves when the client next closes (or destroys) a connection. */
  nextClose(): Promise<void>
  close(): Promise<void>
}

export async function startSilentListener(): Promise<SilentListener> {
  let accepts: Array<() => void> = []
  let closes: Array<() => void> = []
  const {port, close} = await listenOnLoopback((socket) => {
    socket.on('data', () => undefined) // read and ignore: the kernel never pushes back either
    socket.on('close', () => {
      for (const resolve of closes) resolve()
      closes = []
    })
    for (const resolve of accepts) resolve()
    accepts = []
  })
  return {
    port,
    close,
    nextAccept: () => new Promise<void>((resolve) => accepts.push(resolve)),
    nextClose: () => new Promise<void>((resolve) => closes.push(resolve)),
  }
}

export interface SilencingProxy {
  port: number
  /** Stops forwarding, both ways, on every connection, now and later. */
  silence(): void
  /** Resolves once the proxy went silent. */
  silenced: Promise<void>
  /** Bytes the client sent that were swallowed after the silence. */
  swallowed(): number
  close(): Promise<void>
}

export interface ProxyOptions {
  /** Goes silent, before forwarding it, on the first client chunk this returns true for. */
  silenceWhen?: (clientChunk: Buffer) => boolean
}

export async function startSilencingProxy(targetPort: number, options: ProxyOptions = {}): Promise<SilencingProxy> {
  let silent = false
  let swallowed = 0
  let onSilence: () => void = () => undefined
  const silenced = new Promise<void>((resolve) => (onSilence = resolve))
  const silence = () => {
    silent = true
    onSilence()
  }
  const server = await listenOnLoopback((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1')
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => {
      if (!silent) client.destroy()
    })
    client.on('data', (chunk: Buffer) => {
      if (!silent && options.silenceWhen?.(chunk)) silence()
      if (silent) swallowed += chunk.length
      else upstream.write(chunk)
    })
    upstream.on('data', (chunk: Buffer) => {
      if (!silent) client.write(chunk)
    })
  })
  return {port: server.port, silence, silenced, swallowed: () => swallowed, close: server.close}
}

/** A TCP port on 127.0.0.1 where nothing listens (ECONNREFUSED; or free for a server to take). */
export async function closedPort(): Promise<number> {
  const server = await listenOnLoopback(() => undefined)
  await server.close()
  return server.port
}

/** A server on 127.0.0.1 and an ephemeral port; close() destroys every connection it accepted. */
export function listenOnLoopback(onConnection: (socket: net.Socket) => void): Promise<{port: number; close(): Promise<void>}> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => undefined)
    onConnection(socket)
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy()
            server.close(() => done())
          }),
      })
    })
  })
}
