// A real Kubernetes control plane for the tests in test/real/: etcd, kube-apiserver and
// kube-controller-manager built from their Go modules by scripts/real-cluster.sh (pinned in
// test/real/k8s/go.mod), started here on 127.0.0.1 and ephemeral ports with their data in a
// temporary directory, and stopped (process group, bounded) when the test file ends.
//
// - TLS with the test CA of test/support/certs (as the fake), an admin bearer token
//   (--token-auth-file, group system:masters), --authorization-mode=RBAC, service-account
//   signing keys so that TokenRequest (`kubectl create token`) works.
// - kube-controller-manager runs the garbage collector and the Job controller only; a test may stop
//   and restart it (stopControllerManager / startControllerManager).
// - No scheduler and no kubelet: pods stay Pending unless a test writes their status through the
//   `status` subresource, and pods/portforward cannot work (port-forward stays tested on the fake).
// - The ServiceAccount admission plugin is off (as in controller-runtime's envtest): pods need no
//   `default` ServiceAccount, which no controller here would create.
import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import {generateKeyPairSync, randomBytes} from 'node:crypto'
import {closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import https from 'node:https'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {callFake} from './fake-kube/call.js'
import {closedPort} from './faults.js'
import {type KubeconfigOptions, writeKubeconfig} from './fake-kube/kubeconfig.js'
import {repoRoot} from './paths.js'

const CERTS = path.join(repoRoot, 'test', 'support', 'certs')
const BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kubectl'] as const
const READY_TIMEOUT_MS = 120_000
const STOP_TIMEOUT_MS = 5_000

/** Where scripts/real-cluster.sh keeps (or would keep) the binaries for the pinned module. */
export const realKubeBinDir: string = execFileSync('bash', [path.join(repoRoot, 'scripts', 'real-cluster.sh'), 'path'], {encoding: 'utf8'}).trim()

const missingBinaries = BINARIES.filter((name) => !existsSync(path.join(realKubeBinDir, name)))

/**
 * Why the real-server tests cannot run here (for `describe.skipIf`), or undefined when they can.
 * Under CI=true a missing binary is not a reason to skip: the harness then throws and the tests fail.
 */
export const realKubeMissing: string | undefined =
  missingBinaries.length === 0 || process.env.CI
    ? undefined
    : `the real control plane is not built (${missingBinaries.join(', ')} missing in ${realKubeBinDir}): run bash scripts/real-cluster.sh`

/** The built kubectl (v1.37), for plugin discovery and applying manifests. */
export const realKubectl = path.join(realKubeBinDir, 'kubectl')

export interface RealKubeOptions {
  /** Start kube-controller-manager (default true). */
  controllerManager?: boolean
}

export interface RealKube {
  url: string
  caPem: string
  /** The admin's bearer token (system:masters). */
  token: string
  /** A kubeconfig (CA + token, admin unless options.token says otherwise) written at `file`. */
  writeKubeconfig(file: string, options?: KubeconfigOptions): string
  /** The admin kubeconfig written at start. */
  kubeconfig: string
  /** Runs the built kubectl with the admin kubeconfig; throws with its stderr when it fails. */
  kubectl(args: string[], input?: string): string
  /** A raw request as the admin (or with `token`): status and parsed JSON body. */
  request(method: string, apiPath: string, body?: unknown, options?: {contentType?: string; token?: string; accept?: string}): Promise<{status: number; body: any}>
  stopControllerManager(): Promise<void>
  startControllerManager(): Promise<void>
  /** The running processes by name (etcd, kube-apiserver, kube-controller-manager): the bench reads their peak RSS. */
  pids(): Record<string, number>
  /** The temporary directory of the data (etcd's under `etcd/`) and the logs, removed by stop(). */
  dir: string
  stop(): Promise<void>
}

interface Started {
  name: string
  child: ChildProcess
  log: string
}

const running = new Set<Started>()
process.once('exit', () => {
  for (const process_ of running) killNow(process_.child)
})

export async function startRealKube(options: RealKubeOptions = {}): Promise<RealKube> {
  if (missingBinaries.length > 0) {
    throw new Error(`real control plane not built: ${missingBinaries.join(', ')} missing in ${realKubeBinDir} (bash scripts/real-cluster.sh builds them)`)
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'reap-real-kube-'))
  const token = randomBytes(16).toString('hex')
  const caPem = readFileSync(path.join(CERTS, 'ca.pem'), 'utf8')
  const saKey = writeServiceAccountKeys(dir)
  writeFileSync(path.join(dir, 'tokens.csv'), `${token},admin,admin-uid,system:masters\n`, {mode: 0o600})
  const [etcdClient, etcdPeer, apiPort] = [await closedPort(), await closedPort(), await closedPort()]
  const url = `https://127.0.0.1:${apiPort}`
  const kubeconfig = writeKubeconfig(path.join(dir, 'admin.kubeconfig'), {server: url, caPem, token}, {contexts: [{name: 'real', namespace: 'default'}]})
  const processes: Started[] = []
  let controllerManager: Started | undefined

  const start = (name: string, args: string[]): Started => {
    const log = path.join(dir, `${name}.log`)
    const fd = openSync(log, 'a')
    // detached: a process group of its own, which stop() ends as a whole.
    const child = spawn(path.join(realKubeBinDir, name), args, {detached: true, stdio: ['ignore', fd, fd]})
    closeSync(fd) // the child has its own copy
    const started = {name, child, log}
    running.add(started)
    child.once('exit', () => running.delete(started))
    return started
  }

  const request: RealKube['request'] = async (method, apiPath, body, requestOptions = {}) => {
    const reply = await callFake({url, caPem, token}, method, apiPath, {body, ...requestOptions})
    return {status: reply.status, body: reply.body}
  }

  const startControllerManager = async () => {
    controllerManager = start('kube-controller-manager', [
      `--kubeconfig=${kubeconfig}`,
      '--controllers=garbage-collector-controller,job-controller',
      '--leader-elect=false',
      '--secure-port=0',
      `--service-account-private-key-file=${saKey.private}`,
      '--concurrent-gc-syncs=5',
    ])
    processes.push(controllerManager)
  }

  const stopControllerManager = async () => {
    if (controllerManager) await stopProcess(controllerManager)
    controllerManager = undefined
  }

  const stop = async () => {
    for (const process_ of [...processes].reverse()) await stopProcess(process_)
    rmSync(dir, {recursive: true, force: true})
  }

  try {
    const etcd = start('etcd', [
      '--name=reap-test',
      `--data-dir=${path.join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=reap-test=http://127.0.0.1:${etcdPeer}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ])
    processes.push(etcd)
    const apiserver = start('kube-apiserver', [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      // No Endpoints for the `kubernetes` Service: the reconciler refuses a loopback address.
      '--endpoint-reconciler-type=none',
      `--secure-port=${apiPort}`,
      `--cert-dir=${path.join(dir, 'apiserver-certs')}`,
      `--tls-cert-file=${path.join(CERTS, 'server.pem')}`,
      `--tls-private-key-file=${path.join(CERTS, 'server-key.pem')}`,
      `--token-auth-file=${path.join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--disable-admission-plugins=ServiceAccount',
      '--service-cluster-ip-range=10.96.0.0/16',
      `--service-account-key-file=${saKey.public}`,
      `--service-account-signing-key-file=${saKey.private}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      '--allow-privileged=false',
    ])
    processes.push(apiserver)
    await waitReady(request, [etcd, apiserver])
    if (options.controllerManager !== false) await startControllerManager()
  } catch (error) {
    const logs = processes.map((p) => `--- ${p.name}\n${tail(p.log)}`).join('\n')
    await stop()
    throw new Error(`${(error as Error).message}\n${logs}`)
  }

  return {
    url,
    caPem,
    token,
    kubeconfig,
    writeKubeconfig: (file, kubeconfigOptions = {}) => writeKubeconfig(file, {server: url, caPem, token}, kubeconfigOptions),
    kubectl: (args, input) => execFileSync(realKubectl, [`--kubeconfig=${kubeconfig}`, ...args], {input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe']}),
    request,
    stopControllerManager,
    startControllerManager,
    pids: () => Object.fromEntries(processes.filter((p) => p.child.pid !== undefined && p.child.exitCode === null && p.child.signalCode === null).map((p) => [p.name, p.child.pid!])),
    dir,
    stop,
  }
}

function writeServiceAccountKeys(dir: string): {private: string; public: string} {
  const {privateKey, publicKey} = generateKeyPairSync('rsa', {modulusLength: 2048})
  const files = {private: path.join(dir, 'sa.key'), public: path.join(dir, 'sa.pub')}
  writeFileSync(files.private, privateKey.export({type: 'pkcs8', format: 'pem'}), {mode: 0o600})
  writeFileSync(files.public, publicKey.export({type: 'spki', format: 'pem'}))
  return files
}

async function waitReady(request: RealKube['request'], processes: Started[]): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  let last = 'no answer'
  while (Date.now() < deadline) {
    const exited = processes.find((p) => p.child.exitCode !== null || p.child.signalCode !== null)
    if (exited) throw new Error(`${exited.name} exited (${exited.child.exitCode ?? exited.child.signalCode}) before the API server was ready`)
    try {
      const answer = await request('GET', '/readyz')
      if (answer.status === 200) return
      last = `${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`
    } catch (error) {
      last = (error as Error).message
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`kube-apiserver not ready within ${READY_TIMEOUT_MS / 1000} s: ${last}`)
}

async function stopProcess(process_: Started): Promise<void> {
  const {child} = process_
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  try {
    process.kill(-child.pid, 'SIGTERM')
  } catch {
    return
  }
  const timer = setTimeout(() => killNow(child), STOP_TIMEOUT_MS)
  await exited
  clearTimeout(timer)
}

function killNow(child: ChildProcess): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, 'SIGKILL')
  } catch {
    // already gone
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n')
  } catch {
    return ''
  }
}

/** POSTs every object to `collectionPath`, `concurrency` at a time; throws on the first refusal. */
export async function createAll(kube: RealKube, collectionPath: string, objects: object[], concurrency = 16): Promise<any[]> {
  const created: any[] = new Array(objects.length)
  let next = 0
  const worker = async () => {
    while (next < objects.length) {
      const index = next++
      const answer = await kube.request('POST', collectionPath, objects[index])
      if (answer.status !== 201) throw new Error(`POST ${collectionPath}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`)
      created[index] = answer.body
    }
  }
  await Promise.all(Array.from({length: concurrency}, worker))
  return created
}

export interface ProxiedRequest {
  method: string
  path: string
  query: URLSearchParams
  accept: string
}

/**
 * A TLS proxy in front of the real API server (same test CA) that records every request and may run
 * a hook before forwarding one: the way a test acts "between the CLI's list and its delete" on a
 * server it cannot pause. The answers are the real server's, unchanged.
 */
export interface RecordingProxy {
  url: string
  requests: ProxiedRequest[]
  /** Runs (and is awaited) before a request is forwarded. */
  beforeForward?: (request: ProxiedRequest) => Promise<void> | void
  writeKubeconfig(file: string, options?: KubeconfigOptions): string
  close(): Promise<void>
}

export async function startRecordingProxy(kube: RealKube): Promise<RecordingProxy> {
  const tls = {cert: readFileSync(path.join(CERTS, 'server.pem')), key: readFileSync(path.join(CERTS, 'server-key.pem'))}
  const target = new URL(kube.url)
  const proxy: RecordingProxy = {
    url: '',
    requests: [],
    writeKubeconfig: (file, options = {}) => writeKubeconfig(file, {server: proxy.url, caPem: kube.caPem, token: kube.token}, options),
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      await closed
    },
  }
  const server = https.createServer(tls, (incoming, outgoing) => {
    const chunks: Buffer[] = []
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
    incoming.on('end', async () => {
      const url = new URL(incoming.url ?? '/', kube.url)
      const recorded = {method: incoming.method ?? 'GET', path: url.pathname, query: url.searchParams, accept: String(incoming.headers.accept ?? '')}
      proxy.requests.push(recorded)
      try {
        await proxy.beforeForward?.(recorded)
      } catch (error) {
        outgoing.writeHead(599).end(String(error))
        return
      }
      const headers = {...incoming.headers, host: target.host}
      const upstream = https.request({host: target.hostname, port: target.port, path: incoming.url, method: incoming.method, headers, ca: kube.caPem}, (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(outgoing)
      })
      upstream.on('error', (error) => outgoing.destroy(error))
      upstream.end(Buffer.concat(chunks))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  proxy.url = `https://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`
  return proxy
}
