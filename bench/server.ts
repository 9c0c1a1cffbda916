// The benchmark's Kubernetes API server: the test fake (test/support/fake-kube) in a process of its
// own, so that the clients under test are measured alone. Driven by its parent over the IPC channel
// of child_process.fork:
//   {cmd: 'load', n, anchorMs, latencyMs, kubeconfig}  start the fake, seed N KPO pods, write a kubeconfig
//   {cmd: 'load-objects', file, kubeconfig}            start the fake, seed the pods of an NDJSON file (as
//                                                       a real API server listed them: --real), write a kubeconfig
//   {cmd: 'reset-stats'} / {cmd: 'stats'}               DELETE timings seen by the server
//   {cmd: 'restore'}                                    re-create the zombie pods a delete run removed
//   {cmd: 'expire'}                                     drop the list snapshots behind continue tokens
//   {cmd: 'cluster-db', connection, localPort}          the chart's PostgreSQL and metadata Secret (port-forward bench)
//   {cmd: 'close'}
// kubectl needs discovery documents the fake does not serve; they are answered here with the fake's
// own injection hook, so kubectl can run its ordinary `get pods -A -l ... -o json` against it.
import {createReadStream} from 'node:fs'
import type {IncomingMessage, Server, ServerResponse} from 'node:http'
import {createInterface} from 'node:readline'
import {type FakeKube, type SeedObject, startFakeKube} from '../test/support/fake-kube/index.js'
import {addHelmAirflow} from '../test/support/helm-airflow.js'
import {type BenchPod, planDataset, pods} from './dataset.js'
import {fullPod} from './pod-object.js'

interface LoadMessage {
  cmd: 'load'
  n: number
  anchorMs: number
  latencyMs: number
  kubeconfig: string
}
/** Pods as another server (the real kube-apiserver of --real) listed them, one JSON object a line. */
interface LoadObjectsMessage {
  cmd: 'load-objects'
  file: string
  kubeconfig: string
}
/** The chart's own PostgreSQL in namespace `airflow` (Service, EndpointSlice, pod forwarded to `localPort`) and its metadata Secret. */
interface ClusterDbMessage {
  cmd: 'cluster-db'
  connection: string
  localPort: number
}
type Message = LoadMessage | LoadObjectsMessage | ClusterDbMessage | {cmd: 'reset-stats' | 'stats' | 'restore' | 'expire' | 'close' | 'count'}

let fake: FakeKube | undefined
let zombies: BenchPod[] = []
let deletes = {count: 0, firstStart: 0, lastEnd: 0}
let gets = 0
let lists = 0

function reply(message: unknown): void {
  process.send!(message)
}

function addDiscovery(kube: FakeKube): void {
  const port = new URL(kube.url).port
  const verbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']
  const documents: Record<string, object> = {
    '/version': {major: '1', minor: '32', gitVersion: 'v1.32.0', platform: 'linux/amd64'},
    '/api': {kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${port}`}]},
    '/apis': {kind: 'APIGroupList', apiVersion: 'v1', groups: []},
    '/api/v1': {
      kind: 'APIResourceList',
      groupVersion: 'v1',
      resources: [{name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs, shortNames: ['po'], categories: ['all']}],
    },
  }
  for (const [path, body] of Object.entries(documents)) {
    kube.inject({method: 'GET', match: (r) => r.path === path, status: 200, body, times: Infinity})
  }
}

/** Times DELETEs from the first one's arrival to the last one's answer, on the server itself. */
function watchDeletes(kube: FakeKube): void {
  const server = (kube as unknown as {server: Server}).server
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (request.method === 'GET') {
      if (/\/pods\/[^/?]+(\?|$)/.test(request.url ?? '')) gets++
      else lists++
    }
    if (request.method !== 'DELETE') return
    const start = performance.now()
    if (deletes.count === 0 && deletes.firstStart === 0) deletes.firstStart = start
    response.on('finish', () => {
      deletes.count++
      deletes.lastEnd = performance.now()
    })
  })
}

async function startFake(latencyMs: number): Promise<FakeKube> {
  const kube = await startFakeKube({latencyMs})
  addDiscovery(kube)
  watchDeletes(kube)
  return kube
}

async function load(message: LoadMessage): Promise<void> {
  const started = performance.now()
  fake = await startFake(message.latencyMs)
  const plan = planDataset(message.n, message.anchorMs)
  let count = 0
  zombies = []
  for (const pod of pods(plan)) {
    fake.addObject('pods', fullPod(pod))
    if (pod.zombie) zombies.push(pod)
    count++
  }
  fake.writeKubeconfig(message.kubeconfig)
  fake.requests.length = 0
  reply({ok: true, url: fake.url, pods: count, zombies: zombies.length, loadMs: Math.round(performance.now() - started)})
}

/** The objects as given: UIDs, creation times, managedFields and status are the other server's. */
async function loadObjects(message: LoadObjectsMessage): Promise<void> {
  const started = performance.now()
  fake = await startFake(0)
  let count = 0
  const lines = createInterface({input: createReadStream(message.file), crlfDelay: Infinity})
  for await (const line of lines) {
    if (!line) continue
    fake.addObject('pods', JSON.parse(line) as SeedObject)
    count++
  }
  fake.writeKubeconfig(message.kubeconfig)
  fake.requests.length = 0
  reply({ok: true, url: fake.url, pods: count, zombies: 0, loadMs: Math.round(performance.now() - started)})
}

process.on('message', (message: Message) => {
  void (async () => {
    try {
      switch (message.cmd) {
        case 'load':
          await load(message)
          return
        case 'load-objects':
          await loadObjects(message)
          return
        case 'cluster-db': {
          const helm = addHelmAirflow(fake!, {namespace: 'airflow', connection: message.connection, postgresql: {localPort: message.localPort}})
          fake!.requests.length = 0
          reply({ok: true, pod: helm.postgresqlPod})
          return
        }
        case 'reset-stats':
          deletes = {count: 0, firstStart: 0, lastEnd: 0}
          gets = 0
          lists = 0
          fake!.requests.length = 0
          reply({ok: true})
          return
        case 'stats':
          reply({ok: true, deletes: deletes.count, deletePhaseMs: deletes.lastEnd - deletes.firstStart, gets, lists})
          return
        case 'count':
          reply({ok: true, pods: fake!.listObjects('pods').length})
          return
        case 'restore': {
          let restored = 0
          for (const pod of zombies) {
            if (fake!.getObject('pods', pod.namespace, pod.name)) continue
            fake!.addObject('pods', fullPod(pod))
            restored++
          }
          fake!.requests.length = 0
          reply({ok: true, restored})
          return
        }
        case 'expire':
          fake!.expireContinueTokens()
          fake!.requests.length = 0
          reply({ok: true})
          return
        case 'close':
          await fake?.close()
          reply({ok: true})
          process.exit(0)
      }
    } catch (error) {
      reply({ok: false, error: error instanceof Error ? error.stack : String(error)})
    }
  })()
})

process.on('disconnect', () => process.exit(0))
