// Finding the Airflow DB in the cluster (locateDb) and reaching it (reachDb), against the fake API
// server with Helm-shaped namespaces (test/support/helm-airflow.ts) and real local TCP servers.
import {mkdtempSync, rmSync} from 'node:fs'
import net from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {parseDbUrl} from '../../src/airflow/url.js'
import {type LocateDbOptions, type LocatedDb, TunnelLostError, describeSource, describeVia, locateDb, openClusterDb, reachDb} from '../../src/cluster-db/index.js'
import {ForbiddenError, UnreachableError, UsageError} from '../../src/errors.js'
import {KubeClient} from '../../src/kube/client.js'
import {type KubeTarget, loadKubeTarget} from '../../src/kube/config.js'
import {closedPort, createMysqlAirflowDb} from '../support/airflow-db/index.js'
import {type FakeKube, startFakeKube} from '../support/fake-kube/index.js'
import {addEndpointSlice, addHelmAirflow} from '../support/helm-airflow.js'

const SECRET = 'Pa55-w0rd-in-secret'
const PG_URL = `postgresql://airflow:${SECRET}@airflow-pgbouncer.airflow:6543/airflow-metadata?sslmode=disable`

let kube: FakeKube
let dir: string
let target: KubeTarget
let client: KubeClient
let echo: net.Server
let echoPort: number
let namespaceCounter = 0

beforeAll(async () => {
  kube = await startFakeKube({user: 'jane'})
  dir = mkdtempSync(path.join(tmpdir(), 'reap-cluster-db-'))
  target = loadKubeTarget({kubeconfig: kube.writeKubeconfig(path.join(dir, 'kubeconfig'), {contexts: [{name: 'fake', namespace: 'airflow'}]})})
  client = new KubeClient(target, {retry: {maxAttempts: 1}})
  echo = net.createServer((socket) => socket.pipe(socket))
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve))
  echoPort = (echo.address() as net.AddressInfo).port
})

afterAll(async () => {
  client?.close()
  await kube?.close()
  await new Promise((resolve) => echo?.close(resolve))
  rmSync(dir, {recursive: true, force: true})
})

afterEach(() => {
  kube.requests.length = 0
})

/** A fresh namespace per test: the fake keeps its objects for the whole file. */
function freshNamespace(): string {
  return `ns-${++namespaceCounter}`
}

const access = (namespace = 'airflow') => ({client, target: {...target, namespace}})
const locate = (namespace: string, options: LocateDbOptions = {}) => locateDb({env: {}, ...options}, access(namespace))

async function failure(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a failure')
    },
    (error: Error) => error,
  )
}

describe('locateDb: where the URL comes from', () => {
  it('--db and then the environment, before asking the cluster anything', async () => {
    expect(describeSource((await locateDb({db: 'postgresql://a@h/d', env: {AIRFLOW_REAP_DB: 'mysql://b@h/d'}}, access())).source)).toBe('flag')
    const fromEnv = await locateDb({env: {AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: 'mysql://b@h/d'}}, access())
    expect(describeSource(fromEnv.source)).toBe('env AIRFLOW__DATABASE__SQL_ALCHEMY_CONN')
    expect(kube.requests).toEqual([])
  })

  it("the official chart: the scheduler Deployment's secretKeyRef, read with one get", async () => {
    const ns = freshNamespace()
    addHelmAirflow(kube, {namespace: ns, connection: PG_URL})
    const located = await locate(ns)
    expect(describeSource(located.source)).toBe(`secret ${ns}/airflow-airflow-metadata:connection`)
    expect(located.url).toMatchObject({dialect: 'postgresql', host: 'airflow-pgbouncer.airflow', port: 6543, password: SECRET, database: 'airflow-metadata'})
    expect(located.namespace).toBe(ns)
    expect(kube.requests.map((r) => `${r.method} ${r.path}${r.query.labelSelector ? `?${r.query.labelSelector}` : ''}`).sort()).toEqual([
      `GET /api/v1/namespaces/${ns}/secrets/airflow-airflow-metadata`,
      `GET /apis/apps/v1/namespaces/${ns}/deployments?component=scheduler`,
      `GET /apis/apps/v1/namespaces/${ns}/statefulsets?component=scheduler`,
    ])
  })

  it.each([
    ['a StatefulSet scheduler (LocalExecutor with persistence)', {kind: 'StatefulSet' as const}, 'secret NS/r1-airflow-metadata:connection'],
    ['only the legacy [core] variable', {env: 'legacy-secret' as const}, 'secret NS/r1-airflow-metadata:connection'],
    ['a literal value in the pod template', {env: 'literal' as const}, 'deployment/r1-scheduler NS env AIRFLOW__DATABASE__SQL_ALCHEMY_CONN'],
    ["no variable at all: the release's <release>-airflow-metadata", {env: 'none' as const}, 'secret NS/r1-airflow-metadata:connection'],
  ])('%s', async (_title, options, source) => {
    const ns = freshNamespace()
    addHelmAirflow(kube, {namespace: ns, release: 'r1', connection: PG_URL, ...options})
    const located = await locate(ns)
    expect(describeSource(located.source)).toBe(source.replace('NS', ns))
    expect(located.url.password).toBe(SECRET)
  })

  it('the last entry of a variable wins, as in the container the kubelet starts', async () => {
    const ns = freshNamespace()
    kube.addSecret(ns, 'custom', {url: PG_URL})
    kube.addObject('deployments', {
      metadata: {namespace: ns, name: 'sched', labels: {component: 'scheduler'}},
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'scheduler',
                env: [
                  {name: 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN', value: 'postgresql://overridden@x/y'},
                  {name: 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN', valueFrom: {secretKeyRef: {name: 'custom', key: 'url'}}},
                ],
              },
            ],
          },
        },
      },
    })
    expect(describeSource((await locate(ns)).source)).toBe(`secret ${ns}/custom:url`)
  })

  it('no scheduler: the one Secret named *-airflow-metadata, found by listing names only', async () => {
    const ns = freshNamespace()
    kube.addSecret(ns, 'prod-airflow-metadata', {connection: PG_URL})
    kube.addSecret(ns, 'unrelated', {connection: 'postgresql://not@this/one'})
    const located = await locate(ns)
    expect(describeSource(located.source)).toBe(`secret ${ns}/prod-airflow-metadata:connection`)
    const list = kube.requests.find((r) => r.path === `/api/v1/namespaces/${ns}/secrets`)
    expect(list?.accept).toMatch(/as=PartialObjectMetadataList/)
  })

  it('several candidates: exit 2, naming them and --db-secret / --db', async () => {
    const ns = freshNamespace()
    addHelmAirflow(kube, {namespace: ns, release: 'blue', connection: PG_URL})
    addHelmAirflow(kube, {namespace: ns, release: 'green', connection: PG_URL})
    const error = await failure(locate(ns))
    expect(error).toBeInstanceOf(UsageError)
    expect(error.message).toContain(`secret ${ns}/blue-airflow-metadata:connection, secret ${ns}/green-airflow-metadata:connection`)
    expect(error.message).toMatch(/--db-secret NAME\[:KEY\] \(or --db URL\)/)
  })

  it('several *-airflow-metadata Secrets and no scheduler: ambiguous too', async () => {
    const ns = freshNamespace()
    kube.addSecret(ns, 'a-airflow-metadata', {connection: PG_URL})
    kube.addSecret(ns, 'b-airflow-metadata', {connection: PG_URL})
    expect((await failure(locate(ns))).message).toMatch(/2 Secrets named \*-airflow-metadata \(secret .*\/a-airflow-metadata:connection, secret .*\/b-airflow-metadata:connection\)/)
  })

  it('nothing found: exit 2, saying what was looked for and the flags', async () => {
    const error = await failure(locate(freshNamespace()))
    expect(error).toBeInstanceOf(UsageError)
    expect(error.message).toMatch(/no Deployment or StatefulSet labelled component=scheduler and no Secret named \*-airflow-metadata; pass --db-secret/)
    expect(error.message).toContain('--airflow-namespace')
  })

  it('--db-secret NAME:KEY, in --airflow-namespace, wins over the environment', async () => {
    const ns = freshNamespace()
    kube.addSecret(ns, 'mine', {dsn: PG_URL})
    const located = await locateDb({dbSecret: 'mine:dsn', airflowNamespace: ns, env: {AIRFLOW_REAP_DB: 'mysql://b@h/d'}}, access('elsewhere'))
    expect(describeSource(located.source)).toBe(`secret ${ns}/mine:dsn`)
  })

  it('a missing key names the keys there are, never a value', async () => {
    const ns = freshNamespace()
    kube.addSecret(ns, 'mine', {dsn: PG_URL, other: 'x'})
    const error = await failure(locate(ns, {dbSecret: 'mine'}))
    expect(error.message).toBe(`secret ${ns}/mine has no key "connection" (its keys: dsn, other); pass --db-secret mine:KEY`)
    expect(error.message).not.toContain(SECRET)
  })

  it('a malformed URL in the Secret is reported without its password', async () => {
    const ns = freshNamespace()
    kube.addSecret(ns, 'bad', {connection: `oracle://u:${SECRET}@h/d`})
    const error = await failure(locate(ns, {dbSecret: 'bad'}))
    expect(error.message).toContain(`invalid secret ${ns}/bad:connection URL`)
    expect(error.message).not.toContain(SECRET)
  })

  it('RBAC: a denied get on secrets names the verb and the resource', async () => {
    const ns = freshNamespace()
    addHelmAirflow(kube, {namespace: ns, connection: PG_URL})
    kube.deny({verb: 'get', resource: 'secrets', namespace: ns})
    const error = (await failure(locate(ns))) as ForbiddenError
    expect(error).toBeInstanceOf(ForbiddenError)
    expect([error.verb, error.resource]).toEqual(['get', 'secrets'])
    expect(error.message).toMatch(/needs "get secrets" in namespace "ns-\d+": RBAC denied: cannot get secrets/)
  })

  it('a sqlite URL names a file inside a pod: exit 2 saying so', async () => {
    const ns = freshNamespace()
    addHelmAirflow(kube, {namespace: ns, connection: 'sqlite:////opt/airflow/airflow.db'})
    const error = await failure(locate(ns))
    expect(error).toBeInstanceOf(UsageError)
    expect(error.message).toMatch(/holds a sqlite URL: it names a file inside the Airflow pods/)
  })
})

describe('reachDb: directly or through a port-forward', () => {
  const located = (url: string, namespace = 'airflow'): LocatedDb => ({url: parseDbUrl(url), source: {kind: 'flag'}, namespace})

  it('never, an IP address, or a host that resolves here: direct', async () => {
    for (const [url, mode] of [
      [PG_URL, 'never'],
      ['postgresql://u@127.0.0.1:5432/d', 'auto'],
      ['postgresql://u@localhost:5432/d', 'auto'],
      ['mysql://u@10.1.2.3/d', 'always'],
    ] as const) {
      if (mode === 'always') {
        await expect(reachDb(located(url), access(), {portForward: mode})).rejects.toThrow(/does not name a Service/)
        continue
      }
      const reached = await reachDb(located(url), access(), {portForward: mode})
      expect(describeVia(reached.via)).toBe('direct')
      expect(reached.url).toEqual(parseDbUrl(url))
    }
    expect(kube.requests).toEqual([])
  })

  it('the chart PgBouncer Service: a ready pod behind it, a local port on 127.0.0.1, bytes both ways', async () => {
    const ns = freshNamespace()
    const helm = addHelmAirflow(kube, {namespace: ns, connection: PG_URL, pgbouncer: {localPort: echoPort}})
    const reached = await reachDb(located(`postgresql://airflow:${SECRET}@airflow-pgbouncer.${ns}.svc.cluster.local:6543/airflow-metadata`), access(), {portForward: 'auto'})
    try {
      expect(describeVia(reached.via)).toBe(`port-forward pod/${helm.pgbouncerPod}:6543`)
      expect(reached.url).toMatchObject({host: '127.0.0.1', password: SECRET, database: 'airflow-metadata'})
      expect(reached.url.port).not.toBe(6543)
      expect(await roundTrip(reached.url.port!, 'hello through the API server')).toBe('hello through the API server')
      expect(reached.lost.aborted).toBe(false)
      const paths = kube.requests.map((r) => `${r.method} ${r.path}`)
      expect(paths).toContain(`GET /api/v1/namespaces/${ns}/services/airflow-pgbouncer`)
      expect(paths).toContain(`GET /apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`)
      expect(paths.filter((p) => p.endsWith('/portforward'))).toHaveLength(2) // the probe, then the connection
    } finally {
      await reached.close()
    }
    expect(reached.lost.aborted).toBe(false)
  })

  it('a bare Service NAME is looked up in the Airflow namespace', async () => {
    const ns = freshNamespace()
    addHelmAirflow(kube, {namespace: ns, connection: PG_URL, pgbouncer: {localPort: echoPort}})
    const reached = await reachDb(located('postgresql://u@airflow-pgbouncer:6543/d', ns), access(), {portForward: 'always'})
    await reached.close()
    expect(reached.via).toMatchObject({kind: 'port-forward', namespace: ns})
  })

  it('a named targetPort, resolved through the pod when the EndpointSlice does not say', async () => {
    const ns = freshNamespace()
    const pod = kube.addPod({namespace: ns, name: 'pg-0'})
    kube.updateObject('pods', ns, 'pg-0', (o) => {
      ;(o.spec as {containers: object[]}).containers = [{name: 'postgres', ports: [{name: 'tcp-postgresql', containerPort: 15432}]}]
    })
    kube.addObject('services', {metadata: {namespace: ns, name: 'pg'}, spec: {ports: [{name: 'sql', port: 5432, targetPort: 'tcp-postgresql'}]}})
    addEndpointSlice(kube, {namespace: ns, service: 'pg', pod: 'pg-0', podUid: pod.metadata.uid, ready: true, ports: []})
    kube.portForward.map(ns, 'pg-0', 15432, echoPort)
    const reached = await reachDb(located(`postgresql://u@pg.${ns}/d`), access(), {portForward: 'auto'})
    try {
      expect(describeVia(reached.via)).toBe('port-forward pod/pg-0:15432')
      expect(await roundTrip(reached.url.port!, 'named')).toBe('named')
    } finally {
      await reached.close()
    }
  })

  it('no ready endpoint: a clear error, nothing listens', async () => {
    const ns = freshNamespace()
    addHelmAirflow(kube, {namespace: ns, connection: PG_URL, pgbouncer: {localPort: echoPort, ready: false}})
    const error = await failure(reachDb(located(`postgresql://u@airflow-pgbouncer.${ns}:6543/d`), access(), {portForward: 'auto'}))
    expect(error).toBeInstanceOf(UnreachableError)
    expect(error.message).toBe(`Service ${ns}/airflow-pgbouncer has no ready endpoint backed by a pod: nothing to port-forward to (is the DB or PgBouncer pod running?)`)
  })

  it('no such Service: says the host does not resolve and is not a Service', async () => {
    const error = await failure(reachDb(located('postgresql://u@nope.nowhere:5432/d'), access(), {portForward: 'auto'}))
    expect(error.message).toBe('the DB host "nope.nowhere" does not resolve here and there is no Service "nope" in namespace "nowhere" to port-forward to')
  })

  it('RBAC: a denied pods/portforward is named with its verb', async () => {
    const ns = freshNamespace()
    addHelmAirflow(kube, {namespace: ns, connection: PG_URL, pgbouncer: {localPort: echoPort}})
    kube.deny({verb: 'create', resource: 'pods/portforward', namespace: ns})
    const error = (await failure(reachDb(located(`postgresql://u@airflow-pgbouncer.${ns}:6543/d`), access(), {portForward: 'auto'}))) as ForbiddenError
    expect(error).toBeInstanceOf(ForbiddenError)
    expect([error.verb, error.resource]).toEqual(['create', 'pods/portforward'])
    expect(error.message).toMatch(/cannot port-forward to the DB \(pod\/airflow-pgbouncer-[\w-]+:6543 in namespace ns-\d+\): RBAC denied: cannot create pods\/portforward/)
  })

  it('a port-forward that drops while a connection uses it aborts `lost` with a TunnelLostError', async () => {
    const ns = freshNamespace()
    const helm = addHelmAirflow(kube, {namespace: ns, connection: PG_URL, pgbouncer: {localPort: echoPort}})
    const reached = await reachDb(located(`postgresql://u@airflow-pgbouncer.${ns}:6543/d`), access(), {portForward: 'auto'})
    try {
      const socket = net.connect(reached.url.port!, '127.0.0.1')
      socket.on('error', () => undefined)
      socket.write('x')
      await new Promise((resolve) => socket.once('data', resolve))
      kube.portForward.dropAll()
      await new Promise((resolve) => reached.lost.addEventListener('abort', resolve, {once: true}))
      expect(reached.lost.reason).toBeInstanceOf(TunnelLostError)
      expect((reached.lost.reason as Error).message).toBe(
        `the port-forward to the DB (pod/${helm.pgbouncerPod}:6543) dropped: the API server closed the connection`,
      )
      await new Promise((resolve) => (socket.destroyed ? resolve(undefined) : socket.once('close', resolve)))
    } finally {
      await reached.close()
    }
  })

  it('the kubelet\'s error (nothing listens on the pod port) is the reason the tunnel dropped', async () => {
    const ns = freshNamespace()
    const helm = addHelmAirflow(kube, {namespace: ns, connection: PG_URL, pgbouncer: {localPort: echoPort}})
    kube.portForward.map(ns, helm.pgbouncerPod!, 6543, await closedPort())
    const reached = await reachDb(located(`postgresql://u@airflow-pgbouncer.${ns}:6543/d`), access(), {portForward: 'auto'})
    try {
      const socket = net.connect(reached.url.port!, '127.0.0.1')
      socket.on('error', () => undefined)
      await new Promise((resolve) => reached.lost.addEventListener('abort', resolve, {once: true}))
      expect((reached.lost.reason as Error).message).toMatch(/dropped: error forwarding port 6543 to pod .*connection refused/)
    } finally {
      await reached.close()
    }
  })
})

describe('openClusterDb: a MySQL DB in the cluster, through the port-forward', () => {
  it('finds the URL, tunnels every connection, and closes with the run', async () => {
    const db = await createMysqlAirflowDb('2.10', {password: SECRET})
    try {
      await db.seed.dagRun({dagId: 'd', runId: 'r', state: 'running'})
      const ns = freshNamespace()
      const url = new URL(db.url)
      const pod = kube.addPod({namespace: ns, name: 'mariadb-0'})
      kube.addObject('services', {metadata: {namespace: ns, name: 'mariadb'}, spec: {ports: [{name: 'mysql', port: 3306, targetPort: 'mysql'}]}})
      addEndpointSlice(kube, {namespace: ns, service: 'mariadb', pod: 'mariadb-0', podUid: pod.metadata.uid, ready: true, ports: [{name: 'mysql', port: 3306}]})
      kube.portForward.map(ns, 'mariadb-0', 3306, Number(url.port || 3306))
      url.hostname = 'mariadb'
      kube.addSecret(ns, 'airflow-airflow-metadata', {connection: url.toString()})
      const opened = kube.portForward.opened
      const cluster = await openClusterDb({env: {}, portForward: 'auto'}, access(ns))
      try {
        expect(cluster.origin).toEqual({source: `secret ${ns}/airflow-airflow-metadata:connection`, via: 'port-forward pod/mariadb-0:3306'})
        expect((await cluster.db.dagRunsSince(new Date(0))).map((r) => r.runId)).toEqual(['r'])
        expect(kube.portForward.opened - opened).toBe(2) // the probe, then the one connection
        expect(kube.portForward.active).toBeGreaterThan(0)
      } finally {
        await cluster.close()
      }
      await until(() => kube.portForward.active === 0)
      expect(cluster.lost.aborted).toBe(false)
    } finally {
      await db.drop()
    }
  })
})

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

async function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text))
    let received = ''
    socket.on('data', (chunk) => {
      received += chunk
      if (received.length >= text.length) {
        socket.end()
        resolve(received)
      }
    })
    socket.on('error', reject)
  })
}

