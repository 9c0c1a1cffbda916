// The fake API server's pods/portforward WebSocket endpoint, spoken to with a bare `ws` client: the
// protocol of the kubelet's websocket.go and apimachinery's wsstream/conn.go, and the API server's
// answers before the upgrade (../shared/k8s-api-observed/README.md).
import net from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import WebSocket from 'ws'
import {type FakeKube, startFakeKube} from '../support/fake-kube/index.js'

let kube: FakeKube
let echo: net.Server
let echoPort: number

beforeAll(async () => {
  kube = await startFakeKube({user: 'jane'})
  echo = net.createServer((socket) => socket.pipe(socket))
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve))
  echoPort = (echo.address() as net.AddressInfo).port
  kube.addPod({namespace: 'db', name: 'pg-0'})
  kube.addPod({namespace: 'db', name: 'pending', phase: 'Pending'})
  kube.addPod({namespace: 'db', name: 'unscheduled', phase: 'Pending', nodeName: null})
  kube.portForward.map('db', 'pg-0', 5432, echoPort)
})

afterAll(async () => {
  await kube?.close()
  await new Promise((resolve) => echo?.close(resolve))
})

interface Session {
  ws: WebSocket
  frames: Buffer[]
  closed: Promise<void>
}

const path = (pod: string, query = '?ports=5432') => `/api/v1/namespaces/db/pods/${pod}/portforward${query}`

function open(pod: string, options: {query?: string; protocols?: string[]; token?: string} = {}): Promise<Session> {
  const url = `${kube.url.replace('https', 'wss')}${path(pod, options.query)}`
  const ws = new WebSocket(url, options.protocols ?? ['v4.channel.k8s.io'], {
    ca: kube.caPem,
    headers: {Authorization: `Bearer ${options.token ?? kube.token}`},
  })
  const frames: Buffer[] = []
  ws.on('message', (data: Buffer, isBinary) => frames.push(isBinary ? data : Buffer.from(data.toString(), 'latin1')))
  const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()))
  return new Promise((resolve, reject) => {
    ws.on('open', () => resolve({ws, frames, closed}))
    ws.on('unexpected-response', (_request, response) => {
      let body = ''
      response.on('data', (chunk: Buffer) => (body += chunk))
      response.on('end', () => reject(Object.assign(new Error(`HTTP ${response.statusCode}`), {status: response.statusCode, body, type: response.headers['content-type']})))
    })
    ws.on('error', reject)
  })
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('pods/portforward over WebSocket', () => {
  it('negotiates v4.channel.k8s.io and writes the port (uint16 little endian) first on both channels', async () => {
    const session = await open('pg-0', {protocols: ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'channel.k8s.io']})
    expect(session.ws.protocol).toBe('v4.channel.k8s.io')
    await until(() => session.frames.length >= 2)
    expect(session.frames.slice(0, 2)).toEqual([Buffer.from([0, 0x38, 0x15]), Buffer.from([1, 0x38, 0x15])])
    session.ws.close()
  })

  it('carries the bytes of data channel 0 to the pod port and back, and ignores frames for other channels', async () => {
    const session = await open('pg-0')
    session.ws.send(Buffer.from([1, ...Buffer.from('to the error channel')]))
    session.ws.send(Buffer.from([7, ...Buffer.from('to no channel')]))
    session.ws.send(Buffer.from([0, ...Buffer.from('ping')]))
    await until(() => session.frames.length >= 3)
    expect(session.frames[2]).toEqual(Buffer.from([0, ...Buffer.from('ping')]))
    session.ws.close()
  })

  it('v4.base64.channel.k8s.io: text frames, the channel as a digit, the data in base64', async () => {
    const session = await open('pg-0', {protocols: ['v4.base64.channel.k8s.io']})
    expect(session.ws.protocol).toBe('v4.base64.channel.k8s.io')
    session.ws.send(`0${Buffer.from('hello').toString('base64')}`)
    await until(() => session.frames.length >= 3)
    expect(session.frames.map((f) => f.toString('latin1'))).toEqual(['0OBU=', '1OBU=', `0${Buffer.from('hello').toString('base64')}`])
    session.ws.close()
  })

  it('closes the WebSocket when the pod side closes the connection', async () => {
    const server = net.createServer((socket) => socket.end('bye'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    kube.portForward.map('db', 'pg-0', 6000, (server.address() as net.AddressInfo).port)
    const session = await open('pg-0', {query: '?ports=6000'})
    await session.closed
    expect(session.frames.map((f) => f[0])).toEqual([0, 1, 0])
    expect(session.frames[2]!.subarray(1).toString()).toBe('bye')
    server.close()
  })

  it('reports a refused connection on the error channel, then closes', async () => {
    const session = await open('pg-0', {query: '?ports=5433'})
    await session.closed
    const error = session.frames.find((f, i) => i >= 2 && f[0] === 1)
    expect(error?.subarray(1).toString()).toMatch(
      /^error forwarding port 5433 to pod pg-0_db, uid [0-9a-f-]+: failed to connect to localhost:5433 inside namespace .*connection refused/,
    )
  })

  it('two channels per port when several are asked for', async () => {
    const session = await open('pg-0', {query: '?ports=5432,5433'})
    await until(() => session.frames.length >= 4)
    expect(session.frames.slice(0, 4).map((f) => [...f])).toEqual([
      [0, 0x38, 0x15],
      [1, 0x38, 0x15],
      [2, 0x39, 0x15],
      [3, 0x39, 0x15],
    ])
    session.ws.terminate()
  })

  it('drops every open session on demand (the tests of a tunnel lost mid-run)', async () => {
    const session = await open('pg-0')
    expect(kube.portForward.active).toBeGreaterThan(0)
    expect(kube.portForward.dropAll()).toBeGreaterThan(0)
    await session.closed
  })
})

describe('pods/portforward: the answers before an upgrade', () => {
  it.each([
    ['no token', {token: 'wrong'}, 'pg-0', 401, /Unauthorized/],
    ['a pod that does not exist', {}, 'nope', 404, /"message":"pods \\"nope\\" not found"/],
    ['an unscheduled pod', {}, 'unscheduled', 400, /pod unscheduled does not have a host assigned/],
    ['a pod without a running sandbox', {}, 'pending', 500, /^pod not found \("pending_db"\)$/],
    ['no ports', {query: ''}, 'pg-0', 400, /^query parameter "ports" is required$/],
    ['a bad port', {query: '?ports=0'}, 'pg-0', 400, /^port "0" must be > 0$/],
    ['only unsupported subprotocols', {protocols: ['v5.channel.k8s.io', 'channel.k8s.io']}, 'pg-0', 403, /^$/],
  ])('%s', async (_title, options, pod, status, body) => {
    const error = (await open(pod, options).then(
      () => undefined,
      (e: unknown) => e,
    )) as {status: number; body: string}
    expect(error.status).toBe(status)
    expect(error.body).toMatch(body)
  })

  it('RBAC: get and (since 1.35) create on pods/portforward, named in the message', async () => {
    kube.deny({verb: 'create', resource: 'pods/portforward', namespace: 'db'})
    const error = (await open('pg-0').catch((e: unknown) => e)) as {status: number; body: string}
    expect(error.status).toBe(403)
    expect(JSON.parse(error.body)).toMatchObject({
      reason: 'Forbidden',
      message: 'pods "pg-0" is forbidden: User "jane" cannot create resource "pods/portforward" in API group "" in the namespace "db"',
    })
  })
})
