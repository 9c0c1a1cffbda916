// src/kube against the fake API server: kubeconfig resolution, paged metadata lists, retries, error
// mapping and the guarded writes.

import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {closedPort} from '../support/faults.js'
import os from 'node:os'
import path from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it, vi} from 'vitest'
import {ApiError, ConfigError, ForbiddenError, ReapError, UnreachableError} from '../../src/errors.js'
import {KubeClient} from '../../src/kube/client.js'
import {type LoadKubeTargetOptions, SERVICE_ACCOUNT_DIR, loadKubeTarget} from '../../src/kube/config.js'
import {listMetadata} from '../../src/kube/list.js'
import {deleteGuarded, getObject, patchFinalizersGuarded, podSummary, waitUntilGone} from '../../src/kube/objects.js'
import {resolveResource} from '../../src/kube/resources.js'
import {type FakeKube, type SeedObject, startFakeKube} from '../support/fake-kube/index.js'

const pods = resolveResource('pods')
const jobs = resolveResource('jobs')
const FAST_RETRY = {baseDelayMs: 5, maxDelayMs: 20}

let kube: FakeKube
let tmp: string
let emptyHome: string
let kubeconfig: string
const clients: KubeClient[] = []

/** Resolution that can never see the developer's own ~/.kube/config, KUBECONFIG or service account. */
function target(options: LoadKubeTargetOptions = {}) {
  return loadKubeTarget({env: {}, homeDir: emptyHome, inClusterPathPrefix: path.join(tmp, 'no-pod'), ...options})
}

function client(options: LoadKubeTargetOptions = {}, retry: object = FAST_RETRY): KubeClient {
  const created = new KubeClient(target({kubeconfig, ...options}), {retry})
  clients.push(created)
  return created
}


function job(name: string, finalizers: string[], namespace = 'jobs'): SeedObject {
  return {metadata: {name, namespace, finalizers, deletionTimestamp: '2025-01-01T00:00:00Z'}, spec: {template: {}}}
}

beforeAll(async () => {
  kube = await startFakeKube()
  tmp = mkdtempSync(path.join(os.tmpdir(), 'kube-client-'))
  emptyHome = path.join(tmp, 'home')
  mkdirSync(emptyHome)
  kubeconfig = kube.writeKubeconfig(path.join(tmp, 'kubeconfig'), {contexts: [{name: 'fake', namespace: 'airflow'}]})
})

afterAll(async () => {
  for (const c of clients) c.close()
  await kube.close()
  rmSync(tmp, {recursive: true, force: true})
})

afterEach(() => {
  kube.requests.length = 0
})

describe('loadKubeTarget', () => {
  it('reads --kubeconfig: server, context, the context namespace; -n overrides it', () => {
    const resolved = target({kubeconfig})
    expect(resolved).toMatchObject({server: kube.url, contextName: 'fake', namespace: 'airflow', inCluster: false, sources: [kubeconfig]})
    expect(target({kubeconfig, namespace: 'other'}).namespace).toBe('other')
    expect(target({kubeconfig, requestTimeoutMs: 5000}).requestTimeoutMs).toBe(5000)
  })

  it('refuses a --kubeconfig that does not exist', () => {
    expect(() => target({kubeconfig: path.join(tmp, 'missing')})).toThrow(ConfigError)
    expect(() => target({kubeconfig: path.join(tmp, 'missing')})).toThrow(/kubeconfig .*missing does not exist/)
  })

  it('merges the KUBECONFIG list like kubectl: first file defining a name wins, first current-context wins, missing files ignored', async () => {
    const first = kube.writeKubeconfig(path.join(tmp, 'merge', 'first'), {
      clusterName: 'shared',
      userName: 'shared-user',
      contexts: [{name: 'a', namespace: 'from-first'}],
      currentContext: null,
    })
    const port = await closedPort()
    const second = kube.writeKubeconfig(path.join(tmp, 'merge', 'second'), {
      clusterName: 'shared',
      userName: 'shared-user',
      server: `https://127.0.0.1:${port}`,
      token: 'a-token-that-does-not-work',
      contexts: [{name: 'a', namespace: 'from-second'}, {name: 'b', namespace: 'only-in-second'}],
      currentContext: 'b',
    })
    const env = {KUBECONFIG: [path.join(tmp, 'merge', 'absent'), first, second].join(path.delimiter)}
    const resolved = target({env})
    expect(resolved).toMatchObject({contextName: 'b', namespace: 'only-in-second', server: kube.url, sources: [first, second]})
    expect(target({env, context: 'a'}).namespace).toBe('from-first')
    // The first file's user (the working token) and cluster (the live server) are the ones used.
    const merged = new KubeClient(resolved)
    clients.push(merged)
    kube.addPod({namespace: 'only-in-second', name: 'merged'})
    expect(await getObject(merged, pods, 'only-in-second', 'merged')).not.toBeNull()
  })

  it('falls back to ~/.kube/config when KUBECONFIG is unset', () => {
    const home = path.join(tmp, 'home-with-config')
    kube.writeKubeconfig(path.join(home, '.kube', 'config'), {contexts: [{name: 'home-context'}]})
    expect(loadKubeTarget({env: {}, homeDir: home})).toMatchObject({contextName: 'home-context', namespace: 'default'})
  })

  it('names an unknown --context and lists the available ones', () => {
    const attempt = () => target({kubeconfig, context: 'prod'})
    expect(attempt).toThrow(ConfigError)
    expect(attempt).toThrow(/context "prod" not found in .* \(available: fake\)/)
  })

  it('fails with ConfigError, never a localhost:8080 fallback, when there is no configuration at all', () => {
    const attempt = () => target({env: {KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443'}})
    expect(attempt).toThrow(ConfigError)
    expect(attempt).toThrow(/^no kubeconfig found \(looked in .*\.kube\/config, the in-cluster service account/)
  })

  it('uses the in-cluster service account: token, CA and namespace files', async () => {
    const prefix = path.join(tmp, 'pod-root')
    const dir = path.join(prefix, SERVICE_ACCOUNT_DIR)
    mkdirSync(dir, {recursive: true})
    writeFileSync(path.join(dir, 'token'), kube.token)
    writeFileSync(path.join(dir, 'ca.crt'), kube.caPem)
    writeFileSync(path.join(dir, 'namespace'), 'airflow-prod\n')
    const port = new URL(kube.url).port
    const env = {KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port}
    const resolved = loadKubeTarget({env, homeDir: emptyHome, inClusterPathPrefix: prefix})
    expect(resolved).toMatchObject({inCluster: true, namespace: 'airflow-prod', server: `https://127.0.0.1:${port}`})
    const inCluster = new KubeClient(resolved)
    clients.push(inCluster)
    kube.addPod({namespace: 'airflow-prod', name: 'seen-from-a-pod'})
    expect(await listMetadata(inCluster, {resource: pods, namespace: resolved.namespace})).toHaveLength(1)
  })

  it('resolves certificate paths relative to the kubeconfig file', async () => {
    const dir = path.join(tmp, 'relative')
    mkdirSync(dir, {recursive: true})
    writeFileSync(path.join(dir, 'ca.pem'), kube.caPem)
    const file = path.join(dir, 'config')
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: c, cluster: {server: "' + kube.url + '", certificate-authority: ca.pem}}]',
        `users: [{name: u, user: {token: "${kube.token}"}}]`,
        'contexts: [{name: x, context: {cluster: c, user: u}}]',
        'current-context: x',
      ].join('\n'),
    )
    const relative = new KubeClient(loadKubeTarget({kubeconfig: file, env: {}}))
    clients.push(relative)
    expect(await getObject(relative, pods, 'default', 'nothing')).toBeNull()
  })

  it('authenticates through an exec credential plugin; a broken plugin fails without echoing its output', async () => {
    const execConfig = (script: string) => {
      const file = path.join(tmp, `exec-${clients.length}`)
      const user = {exec: {apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: ['-e', script]}}
      writeFileSync(
        file,
        JSON.stringify({
          clusters: [{name: 'c', cluster: {server: kube.url, 'certificate-authority-data': Buffer.from(kube.caPem).toString('base64')}}],
          users: [{name: 'u', user}],
          contexts: [{name: 'x', context: {cluster: 'c', user: 'u'}}],
          'current-context': 'x',
        }),
      )
      return file
    }
    const credential = {apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: {token: kube.token}}
    const working = execConfig(`console.log(${JSON.stringify(JSON.stringify(credential))})`)
    expect(await getObject(client({kubeconfig: working}), pods, 'default', 'absent')).toBeNull()
    const broken = execConfig(`console.log(${JSON.stringify(kube.token)})`)
    const error = await getObject(client({kubeconfig: broken}), pods, 'default', 'absent').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as Error).message).toMatch(/^cannot get credentials for context "x": /)
    expect((error as Error).message).not.toContain(kube.token.slice(0, 8))
  })

  it('reads a relative token-file from the kubeconfig directory, trimmed, and names it when missing', async () => {
    const dir = path.join(tmp, 'token-file')
    mkdirSync(dir, {recursive: true})
    writeFileSync(path.join(dir, 'token'), `${kube.token}\n`)
    const file = kube.writeKubeconfig(path.join(dir, 'config'), {token: 'unused'})
    writeFileSync(file, readFileSync(file, 'utf8').replace(/token: unused/, 'token-file: token'))
    const withTokenFile = new KubeClient(loadKubeTarget({kubeconfig: file, env: {}}))
    clients.push(withTokenFile)
    expect(await getObject(withTokenFile, pods, 'default', 'absent')).toBeNull()
    writeFileSync(file, readFileSync(file, 'utf8').replace(/token-file: token/, 'token-file: gone'))
    expect(() => loadKubeTarget({kubeconfig: file, env: {}})).toThrow(/^cannot read token-file .*gone of user "fake-user": ENOENT$/)
  })

  it('reports invalid YAML in one line without quoting the file', () => {
    const file = path.join(tmp, 'broken')
    writeFileSync(file, `users:\n- name: u\n  user: {token: "s3cr3t-token"\n`)
    const attempt = () => loadKubeTarget({kubeconfig: file, env: {}})
    expect(attempt).toThrow(ConfigError)
    try {
      attempt()
    } catch (error) {
      expect((error as Error).message).not.toContain('s3cr3t')
      expect((error as Error).message).not.toContain('\n')
    }
  })
})

describe('listMetadata', () => {
  beforeAll(() => {
    for (let i = 1; i <= 7; i++) kube.addPod({namespace: 'listing', name: `pod-${i}`, labels: {kubernetes_pod_operator: 'True', i: String(i)}})
    kube.addPod({namespace: 'listing', name: 'not-kpo'})
    kube.addPod({namespace: 'listing-other', name: 'elsewhere', labels: {kubernetes_pod_operator: 'True'}})
  })

  it('an empty namespace is an empty list: kube-apiserver answers it with items: null', async () => {
    expect(await listMetadata(client(), {resource: pods, namespace: 'nothing-here'})).toEqual([])
  })

  it('pages with limit/continue, asks for metadata only and converts to ObjectMeta', async () => {
    const listed = await listMetadata(client(), {resource: pods, namespace: 'listing', labelSelector: 'kubernetes_pod_operator=True', pageSize: 3})
    expect(listed.map((m) => m.name)).toEqual(['pod-1', 'pod-2', 'pod-3', 'pod-4', 'pod-5', 'pod-6', 'pod-7'])
    expect(listed[0]).toMatchObject({kind: 'Pod', namespace: 'listing', labels: {kubernetes_pod_operator: 'True', i: '1'}, finalizers: []})
    expect(listed[0].creationTimestamp).toBeInstanceOf(Date)
    expect(listed[0].uid).toMatch(/^[0-9a-f-]{36}$/)
    const gets = kube.requests.filter((r) => r.method === 'GET')
    expect(gets).toHaveLength(3)
    for (const request of gets) {
      expect(request.path).toBe('/api/v1/namespaces/listing/pods')
      expect(request.query.limit).toBe('3')
      expect(request.accept).toContain('application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1')
      expect(request.status).toBe(200)
    }
    expect(gets[1].query.continue).toBeTruthy()
  })

  it('lists across all namespaces when no namespace is given', async () => {
    const listed = await listMetadata(client(), {resource: pods, labelSelector: 'kubernetes_pod_operator=True'})
    expect(listed.map((m) => `${m.namespace}/${m.name}`)).toContain('listing-other/elsewhere')
    expect(kube.requests[0].path).toBe('/api/v1/pods')
  })

  it('starts over from the first page when a continue token expires mid-list (410)', async () => {
    let expired = false
    const remove = kube.beforeRequest((request) => {
      if (request.query.continue && !expired) {
        expired = true
        kube.expireContinueTokens()
      }
    })
    const listed = await listMetadata(client(), {resource: pods, namespace: 'listing', labelSelector: 'kubernetes_pod_operator', pageSize: 3})
    remove()
    expect(listed.map((m) => m.name)).toEqual(['pod-1', 'pod-2', 'pod-3', 'pod-4', 'pod-5', 'pod-6', 'pod-7'])
    expect(kube.requests.map((r) => r.status)).toEqual([200, 410, 200, 200, 200])
    expect(kube.requests[2].query.continue).toBeUndefined()
  })

  it('gives up with ApiError after a bounded number of restarts', async () => {
    const remove = kube.beforeRequest((request) => {
      if (request.query.continue) kube.expireContinueTokens()
    })
    const listing = listMetadata(client(), {resource: pods, namespace: 'listing', pageSize: 3, maxRestarts: 2})
    await expect(listing).rejects.toThrow(ApiError)
    remove()
    expect(kube.requests.filter((r) => r.status === 410)).toHaveLength(3)
  })
})

describe('retries and error mapping', () => {
  it('waits Retry-After seconds after a plain-text 429, then succeeds', async () => {
    kube.addPod({namespace: 'throttled', name: 'p'})
    kube.inject({method: 'GET', pathIncludes: '/namespaces/throttled/', status: 429, headers: {'Retry-After': '1'}, body: 'Too many requests, please try again later.\n'})
    const started = Date.now()
    const listed = await listMetadata(client({}, {baseDelayMs: 5}), {resource: pods, namespace: 'throttled'})
    expect(Date.now() - started).toBeGreaterThanOrEqual(950)
    expect(listed).toHaveLength(1)
    expect(kube.requests.map((r) => r.status)).toEqual([429, 200])
  })

  it('retries a 500 with backoff, then succeeds', async () => {
    kube.addPod({namespace: 'flaky', name: 'p'})
    kube.inject({pathIncludes: '/namespaces/flaky/pods/p', status: 500, body: {kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'InternalError', code: 500}})
    expect(await getObject(client(), pods, 'flaky', 'p')).not.toBeNull()
    expect(kube.requests.map((r) => r.status)).toEqual([500, 200])
  })

  it('gives up after a bounded number of 5xx with an ApiError in one line', async () => {
    kube.inject({pathIncludes: '/namespaces/down/', status: 503, body: '<html>\n<body>proxy says no</body>\n</html>', times: Infinity})
    const attempt = getObject(client({}, {...FAST_RETRY, maxAttempts: 3}), pods, 'down', 'p')
    await expect(attempt).rejects.toThrow(ApiError)
    await expect(getObject(client({}, {...FAST_RETRY, maxAttempts: 3}), pods, 'down', 'p')).rejects.toThrow(
      /^GET \/api\/v1\/namespaces\/down\/pods\/p: HTTP 503 Service Unavailable$/,
    )
    expect(kube.requests).toHaveLength(6)
  })

  it('maps an RBAC 403 on delete to a ForbiddenError naming the verb and resource', async () => {
    const pod = kube.addPod({namespace: 'rbac', name: 'p'})
    kube.deny({verb: 'delete', resource: 'pods', namespace: 'rbac'})
    const error = await deleteGuarded(client(), pods, 'rbac', 'p', {uid: pod.metadata.uid}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ForbiddenError)
    expect(error).toMatchObject({verb: 'delete', resource: 'pods'})
    expect((error as Error).message).toBe(
      'RBAC denied: cannot delete pods in namespace "rbac" (user "system:serviceaccount:airflow:airflow-reap")',
    )
  })

  it('maps 401 to ForbiddenError without showing the token', async () => {
    const bad = kube.writeKubeconfig(path.join(tmp, 'bad-token'), {token: 'not-valid-token'})
    const error = await getObject(client({kubeconfig: bad}), pods, 'x', 'y').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ForbiddenError)
    expect((error as Error).message).toMatch(/^unauthorized: /)
    expect((error as Error).message).not.toContain('not-valid-token')
  })

  it('maps a closed port to UnreachableError', async () => {
    const port = await closedPort()
    const closed = kube.writeKubeconfig(path.join(tmp, 'closed'), {server: `https://127.0.0.1:${port}`})
    const attempt = getObject(client({kubeconfig: closed}), pods, 'x', 'y')
    await expect(attempt).rejects.toThrow(UnreachableError)
    await expect(getObject(client({kubeconfig: closed}), pods, 'x', 'y')).rejects.toThrow(
      `cannot reach the Kubernetes API at https://127.0.0.1:${port}: ECONNREFUSED`,
    )
  })

  it('maps an untrusted server certificate to UnreachableError', async () => {
    const file = path.join(tmp, 'no-ca')
    writeFileSync(
      file,
      JSON.stringify({
        clusters: [{name: 'c', cluster: {server: kube.url}}],
        users: [{name: 'u', user: {token: kube.token}}],
        contexts: [{name: 'x', context: {cluster: 'c', user: 'u'}}],
        'current-context': 'x',
      }),
    )
    const error = await getObject(client({kubeconfig: file}), pods, 'x', 'y').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UnreachableError)
    expect((error as Error).message).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/)
    expect((error as Error).message).not.toContain(kube.token)
  })

  it('times out a request after --request-timeout', async () => {
    const remove = kube.beforeRequest(async (request) => {
      if (request.path.includes('/namespaces/slow/')) await new Promise((resolve) => setTimeout(resolve, 400))
    })
    const attempt = getObject(client({requestTimeoutMs: 100}), pods, 'slow', 'p')
    await expect(attempt).rejects.toThrow(/^GET \/api\/v1\/namespaces\/slow\/pods\/p: no answer from the Kubernetes API at https:\/\/.* within 0\.1s \(--request-timeout\)$/)
    // On a loaded machine the request may reach the server only now: let it, so that it is not
    // recorded among the next test's requests.
    await vi.waitFor(() => expect(kube.requests.some((r) => r.path.includes('/namespaces/slow/'))).toBe(true), {timeout: 15_000})
    remove()
  })
})

describe('deleteGuarded', () => {
  it('always sends the UID precondition; deletes the pod it means', async () => {
    const pod = kube.addPod({namespace: 'del', name: 'zombie'})
    const result = await deleteGuarded(client(), pods, 'del', 'zombie', {uid: pod.metadata.uid, gracePeriodSeconds: 0})
    expect(result.outcome).toBe('deleted')
    expect(kube.getObject('pods', 'del', 'zombie')).toBeUndefined()
    expect(kube.requests[0]).toMatchObject({method: 'DELETE', body: {preconditions: {uid: pod.metadata.uid}, gracePeriodSeconds: 0}})
  })

  // kube-apiserver answers a pod it removes at once marked for deletion, grace 0 (test/real/k8s-unstick.test.ts).
  it('reads the marked answer for an unscheduled pod, removed at once, as deleted', async () => {
    const pod = kube.addPod({namespace: 'del', name: 'unscheduled', nodeName: null})
    const result = await deleteGuarded(client(), pods, 'del', 'unscheduled', {uid: pod.metadata.uid})
    expect(result.object?.metadata).toMatchObject({deletionTimestamp: expect.any(String), deletionGracePeriodSeconds: 0})
    expect(result.outcome).toBe('deleted')
    expect(kube.getObject('pods', 'del', 'unscheduled')).toBeUndefined()
  })

  it('still reads a pod with a finalizer left, deleted with grace 0, as terminating', async () => {
    const pod = kube.addPod({namespace: 'del', name: 'held', nodeName: null, finalizers: ['example.com/hold']})
    const result = await deleteGuarded(client(), pods, 'del', 'held', {uid: pod.metadata.uid})
    expect(result.outcome).toBe('terminating')
    expect(kube.getObject('pods', 'del', 'held')).toBeDefined()
  })

  it('reports a graceful pod deletion as terminating, with the pod\'s own grace period', async () => {
    const pod = kube.addPod({namespace: 'del', name: 'graceful', terminationGracePeriodSeconds: 20})
    const result = await deleteGuarded(client(), pods, 'del', 'graceful', {uid: pod.metadata.uid})
    expect(result.outcome).toBe('terminating')
    expect(kube.requests[0].gracePeriodSeconds).toBe(20)
  })

  it('leaves a re-created pod with the same name alone (uid-mismatch)', async () => {
    const listed = kube.addPod({namespace: 'del', name: 'recreated'})
    const remove = kube.beforeRequest((request) => {
      if (request.method !== 'DELETE') return
      kube.removeObject('pods', 'del', 'recreated')
      kube.addPod({namespace: 'del', name: 'recreated'})
    })
    const result = await deleteGuarded(client(), pods, 'del', 'recreated', {uid: listed.metadata.uid})
    remove()
    expect(result.outcome).toBe('uid-mismatch')
    const survivor = kube.getObject('pods', 'del', 'recreated')
    expect(survivor?.metadata.uid).toBeDefined()
    expect(survivor?.metadata.uid).not.toBe(listed.metadata.uid)
  })

  it('refuses to delete without a UID precondition, and sends nothing', async () => {
    kube.addPod({namespace: 'del', name: 'no-uid'})
    await expect(deleteGuarded(client(), pods, 'del', 'no-uid', {uid: ''})).rejects.toThrow(ReapError)
    await expect(deleteGuarded(client(), pods, 'del', 'no-uid', {uid: ''})).rejects.toThrow('refusing to delete pods del/no-uid without a UID precondition')
    expect(kube.requests).toEqual([])
    expect(kube.getObject('pods', 'del', 'no-uid')).toBeDefined()
  })

  it('reports not-found for a pod already gone', async () => {
    expect((await deleteGuarded(client(), pods, 'del', 'never-was', {uid: 'x'})).outcome).toBe('not-found')
  })

  it('counts a 404 after a lost answer to a retried DELETE as deleted', async () => {
    const pod = kube.addPod({namespace: 'del', name: 'lost-answer'})
    const remove = kube.beforeRequest((request) => {
      if (request.method === 'DELETE' && kube.removeObject('pods', 'del', 'lost-answer')) {
        kube.inject({method: 'DELETE', status: 503, body: 'upstream connect error'})
      }
    })
    const result = await deleteGuarded(client(), pods, 'del', 'lost-answer', {uid: pod.metadata.uid})
    remove()
    expect(result.outcome).toBe('deleted')
    expect(kube.requests.map((r) => r.status)).toEqual([503, 404])
  })

  it('with dryRun sends dryRun=All and changes nothing', async () => {
    const pod = kube.addPod({namespace: 'del', name: 'dry'})
    const result = await deleteGuarded(client(), pods, 'del', 'dry', {uid: pod.metadata.uid, dryRun: true})
    expect(['deleted', 'terminating']).toContain(result.outcome)
    expect(kube.getObject('pods', 'del', 'dry')).toEqual(pod)
    expect(kube.requests[0].body).toMatchObject({dryRun: ['All']})
  })

  it('passes propagationPolicy: Background deletes a Job at once, the default leaves it Terminating', async () => {
    const background = kube.addObject('jobs', {metadata: {name: 'bg', namespace: 'jobs'}})
    expect((await deleteGuarded(client(), jobs, 'jobs', 'bg', {uid: background.metadata.uid, propagationPolicy: 'Background'})).outcome).toBe('deleted')
    const legacy = kube.addObject('jobs', {metadata: {name: 'legacy', namespace: 'jobs'}})
    const result = await deleteGuarded(client(), jobs, 'jobs', 'legacy', {uid: legacy.metadata.uid})
    expect(result.outcome).toBe('terminating')
    expect(result.object?.metadata.finalizers).toEqual(['orphan'])
  })
})

describe('patchFinalizersGuarded', () => {
  it('removes the last GC finalizer: the Job is gone and its name free', async () => {
    const stuck = kube.addObject('jobs', job('stuck', ['orphan']))
    const result = await patchFinalizersGuarded(client(), jobs, 'jobs', 'stuck', {
      expected: ['orphan'],
      remove: ['orphan'],
      resourceVersion: stuck.metadata.resourceVersion,
    })
    expect(result.outcome).toBe('gone')
    expect(kube.getObject('jobs', 'jobs', 'stuck')).toBeUndefined()
    expect(kube.requests[0]).toMatchObject({
      method: 'PATCH',
      contentType: 'application/json-patch+json',
      body: [
        {op: 'test', path: '/metadata/finalizers', value: ['orphan']},
        {op: 'test', path: '/metadata/resourceVersion', value: stuck.metadata.resourceVersion},
        {op: 'replace', path: '/metadata/finalizers', value: []},
      ],
    })
    expect(await waitUntilGone(client(), jobs, 'jobs', 'stuck', {uid: stuck.metadata.uid, timeoutMs: 1000})).toBe(true)
  })

  // kube-apiserver's ShouldDeleteDuringUpdate: the last finalizer gone deletes only an object with no
  // grace period running; a pod deleted gracefully stays Terminating, and the answer says which.
  it.each([
    ['a pod whose graceful deletion runs (30 s): patched, still Terminating', 'fake-node', 'patched', true],
    ['a pod deleted with grace 0 (never scheduled): gone', null, 'gone', false],
  ] as const)('removes the last finalizer of %s', async (_name, nodeName, outcome, stillThere) => {
    const name = `last-${outcome}`
    kube.addPod({namespace: 'jobs', name, finalizers: ['orphan'], nodeName, terminationGracePeriodSeconds: 30})
    const deleting = await deleteGuarded(client(), pods, 'jobs', name, {uid: kube.getObject('pods', 'jobs', name)!.metadata.uid})
    expect(deleting.outcome).toBe('terminating')
    const read = kube.getObject('pods', 'jobs', name)!
    const result = await patchFinalizersGuarded(client(), pods, 'jobs', name, {
      expected: ['orphan'],
      remove: ['orphan'],
      resourceVersion: read.metadata.resourceVersion,
    })
    expect(result.outcome).toBe(outcome)
    expect(kube.getObject('pods', 'jobs', name) !== undefined).toBe(stillThere)
  })

  it('keeps foreign finalizers: patched, still there', async () => {
    const held = kube.addObject('jobs', job('held', ['example.com/keep', 'orphan']))
    const result = await patchFinalizersGuarded(client(), jobs, 'jobs', 'held', {
      expected: ['example.com/keep', 'orphan'],
      remove: ['orphan'],
      resourceVersion: held.metadata.resourceVersion,
    })
    expect(result.outcome).toBe('patched')
    expect(result.object?.metadata.finalizers).toEqual(['example.com/keep'])
    expect(await waitUntilGone(client(), jobs, 'jobs', 'held', {uid: held.metadata.uid, timeoutMs: 50, pollIntervalMs: 10})).toBe(false)
  })

  it('reports changed-concurrently when the object changed after it was read (422 test failure)', async () => {
    const read = kube.addObject('jobs', job('raced', ['orphan']))
    kube.updateObject('jobs', 'jobs', 'raced', (j) => (j.metadata.labels = {touched: 'yes'}))
    const result = await patchFinalizersGuarded(client(), jobs, 'jobs', 'raced', {
      expected: ['orphan'],
      remove: ['orphan'],
      resourceVersion: read.metadata.resourceVersion,
    })
    expect(result.outcome).toBe('changed-concurrently')
    expect(kube.requests[0].status).toBe(422)
    expect(kube.getObject('jobs', 'jobs', 'raced')?.metadata.finalizers).toEqual(['orphan'])
  })

  it('reports changed-concurrently on a 409 Conflict', async () => {
    const read = kube.addObject('jobs', job('conflicted', ['orphan']))
    kube.inject({method: 'PATCH', pathIncludes: '/conflicted', status: 409, body: {kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Conflict', code: 409}})
    const result = await patchFinalizersGuarded(client(), jobs, 'jobs', 'conflicted', {
      expected: ['orphan'],
      remove: ['orphan'],
      resourceVersion: read.metadata.resourceVersion,
    })
    expect(result.outcome).toBe('changed-concurrently')
  })

  it('a patch applied whose answer was lost (503, retried, test fails): read back, it is patched', async () => {
    const read = kube.addObject('jobs', job('retried', ['example.com/keep', 'orphan']))
    kube.inject({method: 'PATCH', pathIncludes: '/retried', status: 503, apply: true})
    const result = await patchFinalizersGuarded(client(), jobs, 'jobs', 'retried', {
      expected: ['example.com/keep', 'orphan'],
      remove: ['orphan'],
      resourceVersion: read.metadata.resourceVersion,
      uid: read.metadata.uid,
    })
    expect(kube.requests.filter((r) => r.method === 'PATCH').map((r) => r.status)).toEqual([503, 422])
    expect(result.outcome).toBe('patched')
  })

  it('a patch applied whose answer was lost, the name taken meanwhile by another object: ours is gone, the other untouched', async () => {
    const read = kube.addObject('jobs', job('reborn', ['orphan']))
    kube.inject({method: 'PATCH', pathIncludes: '/reborn', status: 503, apply: true})
    let patches = 0
    const unhook = kube.beforeRequest((request) => {
      if (request.method === 'PATCH' && ++patches === 2) kube.addObject('jobs', job('reborn', ['orphan']))
    })
    try {
      const result = await patchFinalizersGuarded(client(), jobs, 'jobs', 'reborn', {
        expected: ['orphan'],
        remove: ['orphan'],
        resourceVersion: read.metadata.resourceVersion,
        uid: read.metadata.uid,
      })
      expect(result.outcome).toBe('gone')
      const other = kube.getObject('jobs', 'jobs', 'reborn')!
      expect(other.metadata.uid).not.toBe(read.metadata.uid)
      expect(other.metadata.finalizers).toEqual(['orphan'])
    } finally {
      unhook()
    }
  })

  it('the same lost answer settled without a UID (the caller gave none): read back, patched', async () => {
    const read = kube.addObject('jobs', job('retried-no-uid', ['example.com/keep', 'orphan']))
    kube.inject({method: 'PATCH', pathIncludes: '/retried-no-uid', status: 503, apply: true})
    const result = await patchFinalizersGuarded(client(), jobs, 'jobs', 'retried-no-uid', {
      expected: ['example.com/keep', 'orphan'],
      remove: ['orphan'],
      resourceVersion: read.metadata.resourceVersion,
    })
    expect(result.outcome).toBe('patched')
  })

  // settleAfterRetry: a lost answer proves nothing either way; what is on the object decides. Here the
  // lost attempt did NOT apply and another client changed the object meanwhile (the retry's test fails).
  it.each([
    ['our only finalizer still on it', ['orphan'], ['orphan'], 'changed-concurrently'],
    ['one of the two we remove still on it', ['orphan', 'foregroundDeletion'], ['foregroundDeletion'], 'changed-concurrently'],
    ['both we remove gone (another client removed them)', ['orphan', 'foregroundDeletion'], ['example.com/keep'], 'patched'],
  ])('a patch whose lost answer did not apply, %s: %s', async (_name, finalizers, after, outcome) => {
    const name = `not-applied-${after.length}-${finalizers.length}-${outcome}`
    const read = kube.addObject('jobs', job(name, [...finalizers]))
    kube.inject({method: 'PATCH', pathIncludes: `/${name}`, status: 503})
    let patches = 0
    const unhook = kube.beforeRequest((request) => {
      if (request.method === 'PATCH' && request.path.endsWith(`/${name}`) && ++patches === 1) {
        kube.updateObject('jobs', 'jobs', name, (j) => void (j.metadata.finalizers = [...after]))
      }
    })
    try {
      const result = await patchFinalizersGuarded(client(), jobs, 'jobs', name, {
        expected: finalizers,
        remove: finalizers,
        resourceVersion: read.metadata.resourceVersion,
        uid: read.metadata.uid,
      })
      expect(kube.requests.filter((r) => r.method === 'PATCH').map((r) => r.status)).toEqual([503, 422])
      expect(result.outcome).toBe(outcome)
      expect(kube.getObject('jobs', 'jobs', name)?.metadata.finalizers).toEqual(after)
    } finally {
      unhook()
    }
  })

  it('waitUntilGone: returns as soon as the object is gone, or another holds its name; an interrupt ends the wait at once', async () => {
    const held = kube.addObject('jobs', job('waited', ['example.com/keep']))
    setTimeout(() => kube.removeObject('jobs', 'jobs', 'waited'), 150)
    let started = Date.now()
    expect(await waitUntilGone(client(), jobs, 'jobs', 'waited', {uid: held.metadata.uid, timeoutMs: 5000, pollIntervalMs: 20})).toBe(true)
    expect(Date.now() - started).toBeLessThan(1000)

    const old = kube.addObject('jobs', job('renamed', ['example.com/keep']))
    kube.removeObject('jobs', 'jobs', 'renamed')
    kube.addObject('jobs', job('renamed', ['example.com/keep']))
    expect(await waitUntilGone(client(), jobs, 'jobs', 'renamed', {uid: old.metadata.uid, timeoutMs: 1000})).toBe(true)

    const kept = kube.addObject('jobs', job('kept-waiting', ['example.com/keep']))
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 100)
    started = Date.now()
    await expect(waitUntilGone(client(), jobs, 'jobs', 'kept-waiting', {uid: kept.metadata.uid, timeoutMs: 10_000, pollIntervalMs: 5000, signal: controller.signal})).rejects.toThrow()
    expect(Date.now() - started).toBeLessThan(1500)

    // The default poll is a second: a 300 ms deadline is kept, not overslept to the poll.
    started = Date.now()
    expect(await waitUntilGone(client(), jobs, 'jobs', 'kept-waiting', {uid: kept.metadata.uid, timeoutMs: 300})).toBe(false)
    expect(Date.now() - started).toBeGreaterThanOrEqual(280)
    expect(Date.now() - started).toBeLessThan(900)
  })

  it('a patch whose lost answer applied and removed the last finalizer: the retry finds nothing, and that is gone', async () => {
    const read = kube.addObject('jobs', {...job('lost-last', ['orphan']), metadata: {...job('lost-last', ['orphan']).metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 0}})
    kube.inject({method: 'PATCH', pathIncludes: '/lost-last', status: 503, apply: true})
    const result = await patchFinalizersGuarded(client(), jobs, 'jobs', 'lost-last', {expected: ['orphan'], remove: ['orphan'], resourceVersion: read.metadata.resourceVersion, uid: read.metadata.uid})
    expect(kube.requests.filter((r) => r.method === 'PATCH').map((r) => r.status)).toEqual([503, 404])
    expect(result.outcome).toBe('gone')
  })

  it('a 422 with no earlier attempt is changed-concurrently, even when another client removed our finalizer meanwhile', async () => {
    const read = kube.addObject('jobs', job('removed-by-other', ['example.com/keep', 'orphan']))
    kube.updateObject('jobs', 'jobs', 'removed-by-other', (j) => (j.metadata.finalizers = ['example.com/keep']))
    const result = await patchFinalizersGuarded(client(), jobs, 'jobs', 'removed-by-other', {
      expected: ['example.com/keep', 'orphan'],
      remove: ['orphan'],
      resourceVersion: read.metadata.resourceVersion,
      uid: read.metadata.uid,
    })
    expect(result.outcome).toBe('changed-concurrently')
    expect(kube.requests.filter((r) => r.method === 'GET')).toEqual([])
  })

  it('an API server answering the patch with a Status (it deleted the object): gone', async () => {
    const read = kube.addObject('jobs', job('status-answer', ['orphan']))
    kube.inject({method: 'PATCH', pathIncludes: '/status-answer', status: 200, body: {kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: {name: 'status-answer', kind: 'jobs'}}})
    const result = await patchFinalizersGuarded(client(), jobs, 'jobs', 'status-answer', {
      expected: ['orphan'],
      remove: ['orphan'],
      resourceVersion: read.metadata.resourceVersion,
    })
    expect(result.outcome).toBe('gone')
  })

  it.each([
    ['no resourceVersion', {expected: ['orphan'], remove: ['orphan'], resourceVersion: ''}, 'refusing to patch the finalizers of jobs.batch jobs/refused-norv without its resourceVersion'],
    ['none of the finalizers to remove on it', {expected: ['example.com/keep'], remove: ['orphan'], resourceVersion: '1'}, 'none of the finalizers to remove is on jobs.batch jobs/refused-1'],
  ])('refuses to patch with %s, and sends nothing', async (_name, options, message) => {
    kube.addObject('jobs', job(`refused-${options.resourceVersion || 'norv'}`, ['orphan']))
    await expect(patchFinalizersGuarded(client(), jobs, 'jobs', `refused-${options.resourceVersion || 'norv'}`, options)).rejects.toThrow(message)
    expect(kube.requests).toEqual([])
  })

  it('reports not-found, and changes nothing with dryRun', async () => {
    const options = {expected: ['orphan'], remove: ['orphan'], resourceVersion: '1'}
    expect((await patchFinalizersGuarded(client(), jobs, 'jobs', 'absent', options)).outcome).toBe('not-found')
    const dry = kube.addObject('jobs', job('dry', ['orphan']))
    const result = await patchFinalizersGuarded(client(), jobs, 'jobs', 'dry', {...options, resourceVersion: dry.metadata.resourceVersion, dryRun: true})
    expect(result.outcome).toBe('gone')
    expect(kube.getObject('jobs', 'jobs', 'dry')).toEqual(dry)
    expect(kube.requests.at(-1)?.query.dryRun).toBe('All')
  })
})

describe('getObject', () => {
  it('returns the raw object, null on 404, and summarises pods', async () => {
    kube.addPod({
      namespace: 'get',
      name: 'p',
      phase: 'Running',
      containerStatuses: [{name: 'base', ready: false, restartCount: 2, state: {waiting: {reason: 'CrashLoopBackOff'}}}],
    })
    const pod = await getObject(client(), pods, 'get', 'p')
    expect(pod && podSummary(pod)).toEqual({
      phase: 'Running',
      nodeName: 'fake-node',
      containers: [{name: 'base', ready: false, restartCount: 2, state: 'waiting', reason: 'CrashLoopBackOff'}],
    })
    expect(await getObject(client(), pods, 'get', 'absent')).toBeNull()
  })
})
