// The fake API server itself, spoken to with plain https requests: what the other integration tests
// rely on must behave as ../shared/k8s-api-observed/README.md says kube-apiserver does.

import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {type CallOptions, type Reply, callFake} from '../support/fake-kube/call.js'
import {type FakeKube, type SeedObject, startFakeKube} from '../support/fake-kube/index.js'

let kube: FakeKube

const call = (method: string, path: string, options: CallOptions = {}): Promise<Reply> => callFake(kube, method, path, options)

const podsPath = (ns: string, name = '') => `/api/v1/namespaces/${ns}/pods${name ? `/${name}` : ''}`
const jobsPath = (ns: string, name = '') => `/apis/batch/v1/namespaces/${ns}/jobs${name ? `/${name}` : ''}`
const METADATA_ONLY = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1'

function names(reply: Reply): string[] {
  return reply.body.items.map((i: {metadata: {name: string}}) => i.metadata.name)
}

function jobObject(name: string, extra: Record<string, unknown> = {}): SeedObject {
  return {apiVersion: 'batch/v1', kind: 'Job', metadata: {name, namespace: 'airflow', ...extra}, spec: {template: {spec: {}}}}
}

beforeAll(async () => {
  kube = await startFakeKube()
})

afterAll(async () => {
  await kube.close()
})

describe('authentication and errors', () => {
  it('answers 401 with a Status without a bearer token, or with a wrong one', async () => {
    for (const token of [null, 'wrong']) {
      const reply = await call('GET', podsPath('airflow'), {token})
      expect(reply.status).toBe(401)
      expect(reply.body).toMatchObject({kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401})
    }
  })

  it('answers 404 NotFound with the resource in the message', async () => {
    const pod = await call('GET', podsPath('airflow', 'nope'))
    expect(pod.status).toBe(404)
    expect(pod.body).toMatchObject({reason: 'NotFound', message: 'pods "nope" not found', details: {name: 'nope', kind: 'pods'}})
    const job = await call('GET', jobsPath('airflow', 'nope'))
    expect(job.body.message).toBe('jobs.batch "nope" not found')
    expect(job.body.details).toEqual({name: 'nope', group: 'batch', kind: 'jobs'})
  })

  it('answers 404 for paths it does not serve', async () => {
    expect((await call('GET', '/apis/example.com/v1/namespaces/a/widgets')).status).toBe(404)
  })
})

describe('label selectors', () => {
  const ns = 'selectors'
  beforeAll(() => {
    kube.addPod({namespace: ns, name: 'a1', labels: {app: 'a', tier: 'web'}})
    kube.addPod({namespace: ns, name: 'a2', labels: {app: 'a'}})
    kube.addPod({namespace: ns, name: 'b1', labels: {app: 'b', tier: 'db'}})
    kube.addPod({namespace: ns, name: 'none'})
  })

  it.each([
    ['app=a', ['a1', 'a2']],
    ['app==a', ['a1', 'a2']],
    ['app!=a', ['b1', 'none']],
    ['app in (a, b)', ['a1', 'a2', 'b1']],
    ['app notin (a)', ['b1', 'none']],
    ['tier', ['a1', 'b1']],
    ['!tier', ['a2', 'none']],
    ['app=a,tier', ['a1']],
    ['app=a, !tier', ['a2']],
    ['', ['a1', 'a2', 'b1', 'none']],
  ])('%s', async (selector, expected) => {
    const reply = await call('GET', `${podsPath(ns)}?labelSelector=${encodeURIComponent(selector)}`)
    expect(reply.status).toBe(200)
    expect(names(reply)).toEqual(expected)
  })

  it.each(['app in (a', 'app=a=b', 'a b', 'app in ()', '=a', 'app=a,'])('rejects %j with 400 BadRequest', async (selector) => {
    const reply = await call('GET', `${podsPath(ns)}?labelSelector=${encodeURIComponent(selector)}`)
    expect(reply.status).toBe(400)
    expect(reply.body).toMatchObject({kind: 'Status', reason: 'BadRequest', code: 400})
  })

  it('supports field selectors on metadata.name and status.phase', async () => {
    const reply = await call('GET', `${podsPath(ns)}?fieldSelector=${encodeURIComponent('metadata.name!=a1,status.phase=Running')}`)
    expect(names(reply)).toEqual(['a2', 'b1', 'none'])
  })
})

describe('lists: full objects, metadata only, paging', () => {
  beforeAll(() => {
    for (const ns of ['page-b', 'page-a']) {
      for (const name of ['p3', 'p1', 'p2', 'p4']) kube.addPod({namespace: ns, name, labels: {paging: 'yes'}})
    }
  })

  it('returns a PodList of full objects whose items carry no kind, with a resourceVersion', async () => {
    const reply = await call('GET', `${podsPath('page-a')}?labelSelector=paging`)
    expect(reply.body).toMatchObject({kind: 'PodList', apiVersion: 'v1'})
    expect(reply.body.metadata.resourceVersion).toMatch(/^\d+$/)
    expect(reply.body.items[0].spec.containers).toBeDefined()
    expect(reply.body.items[0].kind).toBeUndefined()
  })

  it('returns PartialObjectMetadataList for the metadata-only Accept header, even among alternatives', async () => {
    for (const accept of [METADATA_ONLY, `${METADATA_ONLY},application/json`]) {
      const reply = await call('GET', `${podsPath('page-a')}?labelSelector=paging`, {accept})
      expect(reply.body).toMatchObject({kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1'})
      for (const item of reply.body.items) {
        expect(Object.keys(item).sort()).toEqual(['apiVersion', 'kind', 'metadata'])
        expect(item).toMatchObject({kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1'})
        expect(item.metadata.uid).toBeDefined()
      }
    }
  })

  it('answers an empty metadata-only list with items: null and an empty full list with [], as kube-apiserver does', async () => {
    const partial = await call('GET', `${podsPath('nothing-here')}?limit=500`, {accept: `${METADATA_ONLY},application/json`})
    expect(partial.body).toMatchObject({kind: 'PartialObjectMetadataList', items: null})
    const full = await call('GET', `${podsPath('nothing-here')}?limit=500`)
    expect(full.body).toMatchObject({kind: 'PodList', items: []})
  })

  it('refuses an Accept header it cannot serve with 406', async () => {
    const reply = await call('GET', podsPath('page-a'), {accept: 'application/json;as=Table;g=meta.k8s.io;v=v1'})
    expect(reply.status).toBe(406)
  })

  it('pages across namespaces in (namespace, name) order with continue and remainingItemCount', async () => {
    const seen: string[] = []
    let token = ''
    const remaining: number[] = []
    for (let page = 0; page < 5; page++) {
      const reply = await call('GET', `/api/v1/pods?limit=3${token ? `&continue=${encodeURIComponent(token)}` : ''}`)
      expect(reply.status).toBe(200)
      seen.push(...reply.body.items.filter((i: {metadata: {namespace: string}}) => i.metadata.namespace.startsWith('page-'))
        .map((i: {metadata: {namespace: string; name: string}}) => `${i.metadata.namespace}/${i.metadata.name}`))
      token = reply.body.metadata.continue ?? ''
      if (reply.body.metadata.remainingItemCount !== undefined) remaining.push(reply.body.metadata.remainingItemCount)
      if (!token) break
    }
    expect(token).toBe('')
    const expected = ['page-a', 'page-b'].flatMap((ns) => ['p1', 'p2', 'p3', 'p4'].map((n) => `${ns}/${n}`))
    expect(seen).toEqual(expected)
    expect(remaining.length).toBeGreaterThan(0)
    expect(remaining).toEqual([...remaining].sort((a, b) => b - a))
  })

  it('serves later pages from the first page\'s snapshot', async () => {
    const first = await call('GET', `${podsPath('page-a')}?limit=2`)
    kube.addPod({namespace: 'page-a', name: 'p0-late'})
    kube.removeObject('pods', 'page-a', 'p4')
    const second = await call('GET', `${podsPath('page-a')}?limit=10&continue=${first.body.metadata.continue}`)
    expect([...names(first), ...names(second)]).toEqual(['p1', 'p2', 'p3', 'p4'])
    kube.removeObject('pods', 'page-a', 'p0-late')
    kube.addPod({namespace: 'page-a', name: 'p4', labels: {paging: 'yes'}})
  })

  it('answers 410 Expired for a continue token issued before expireContinueTokens()', async () => {
    const first = await call('GET', `${podsPath('page-b')}?limit=2`)
    kube.expireContinueTokens()
    const reply = await call('GET', `${podsPath('page-b')}?limit=2&continue=${encodeURIComponent(first.body.metadata.continue)}`)
    expect(reply.status).toBe(410)
    expect(reply.body).toMatchObject({kind: 'Status', reason: 'Expired', code: 410})
    const fresh = await call('GET', `${podsPath('page-b')}?limit=2`)
    expect((await call('GET', `${podsPath('page-b')}?limit=2&continue=${fresh.body.metadata.continue}`)).status).toBe(200)
  })

  it('rejects a continue token it never issued with 400', async () => {
    expect((await call('GET', `${podsPath('page-b')}?limit=2&continue=garbage`)).status).toBe(400)
  })
})

describe('create', () => {
  it('assigns uid, resourceVersion and creationTimestamp; 409 AlreadyExists when the name is taken', async () => {
    const created = await call('POST', podsPath('create'), {body: {apiVersion: 'v1', kind: 'Pod', metadata: {name: 'x'}, spec: {}}})
    expect(created.status).toBe(201)
    expect(created.body.metadata).toMatchObject({name: 'x', namespace: 'create'})
    expect(created.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/)
    expect(created.body.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    const again = await call('POST', podsPath('create'), {body: {metadata: {name: 'x'}, spec: {}}})
    expect(again.status).toBe(409)
    expect(again.body).toMatchObject({reason: 'AlreadyExists', message: 'pods "x" already exists'})
  })

  it('bumps one global resourceVersion on every write', async () => {
    const a = await call('POST', podsPath('create'), {body: {metadata: {name: 'rv-a'}}})
    const b = await call('POST', jobsPath('create'), {body: {metadata: {name: 'rv-b'}}})
    expect(Number(b.body.metadata.resourceVersion)).toBeGreaterThan(Number(a.body.metadata.resourceVersion))
  })
})

describe('delete', () => {
  it('refuses a UID precondition that does not match with 409 Conflict and keeps the object', async () => {
    const pod = kube.addPod({namespace: 'del', name: 'guarded'})
    const reply = await call('DELETE', podsPath('del', 'guarded'), {body: {preconditions: {uid: 'not-the-uid'}}})
    expect(reply.status).toBe(409)
    // As kube-apiserver answers it (pinned in test/real/k8s-unstick.test.ts): the resource named by its Kind.
    expect(reply.body).toMatchObject({kind: 'Status', reason: 'Conflict', code: 409, details: {name: 'guarded', kind: 'Pod'}})
    expect(reply.body.message).toBe(
      `Operation cannot be fulfilled on Pod "guarded": the UID in the precondition (not-the-uid) does not match the UID in record (${pod.metadata.uid}). The object might have been deleted and then recreated`,
    )
    expect(kube.getObject('pods', 'del', 'guarded')?.metadata.uid).toBe(pod.metadata.uid)
  })

  it('deletes with the matching UID and records the grace period used', async () => {
    const pod = kube.addPod({namespace: 'del', name: 'ok', terminationGracePeriodSeconds: 45})
    const reply = await call('DELETE', podsPath('del', 'ok'), {body: {kind: 'DeleteOptions', apiVersion: 'v1', preconditions: {uid: pod.metadata.uid}}})
    expect(reply.status).toBe(200)
    expect(reply.body).toMatchObject({kind: 'Pod', metadata: {name: 'ok', deletionGracePeriodSeconds: 45}})
    expect(kube.getObject('pods', 'del', 'ok')).toBeUndefined()
    expect(kube.requests.at(-1)?.gracePeriodSeconds).toBe(45)
    expect((await call('DELETE', podsPath('del', 'ok'))).status).toBe(404)
  })

  // As the real server answers (test/real/k8s-unstick.test.ts 'a pod deleted at once').
  it.each([
    ['an unscheduled pod', {nodeName: null}, {}],
    ['a scheduled pod deleted with gracePeriodSeconds 0', {}, {gracePeriodSeconds: 0}],
  ] as const)('answers the DELETE of %s, removed at once, marked for deletion with grace 0', async (_name, pod, options) => {
    kube.addPod({namespace: 'del', name: 'at-once', ...pod})
    const reply = await call('DELETE', podsPath('del', 'at-once'), {body: {kind: 'DeleteOptions', apiVersion: 'v1', ...options}})
    expect(reply.status).toBe(200)
    expect(reply.body).toMatchObject({kind: 'Pod', metadata: {deletionTimestamp: expect.any(String), deletionGracePeriodSeconds: 0}})
    expect(kube.getObject('pods', 'del', 'at-once')).toBeUndefined()
  })

  it('takes gracePeriodSeconds from the query too', async () => {
    kube.addPod({namespace: 'del', name: 'query-grace'})
    await call('DELETE', `${podsPath('del', 'query-grace')}?gracePeriodSeconds=0`)
    expect(kube.requests.at(-1)?.gracePeriodSeconds).toBe(0)
  })

  it('validates with dryRun=All (404, 409, 403) and changes nothing', async () => {
    const pod = kube.addPod({namespace: 'del', name: 'dry'})
    const ok = await call('DELETE', `${podsPath('del', 'dry')}?dryRun=All`)
    expect(ok.status).toBe(200)
    const inBody = await call('DELETE', podsPath('del', 'dry'), {body: {dryRun: ['All'], preconditions: {uid: pod.metadata.uid}}})
    expect(inBody.status).toBe(200)
    expect(kube.getObject('pods', 'del', 'dry')?.metadata.resourceVersion).toBe(pod.metadata.resourceVersion)
    expect((await call('DELETE', podsPath('del', 'dry'), {body: {dryRun: ['All'], preconditions: {uid: 'x'}}})).status).toBe(409)
    expect((await call('DELETE', `${podsPath('del', 'missing')}?dryRun=All`)).status).toBe(404)
    kube.deny({verb: 'delete', resource: 'pods', namespace: 'del-denied'})
    kube.addPod({namespace: 'del-denied', name: 'dry'})
    expect((await call('DELETE', `${podsPath('del-denied', 'dry')}?dryRun=All`)).status).toBe(403)
    expect(kube.getObject('pods', 'del-denied', 'dry')).toBeDefined()
  })

  it('reads the options from the body when there is one, the query then ignored, as kube-apiserver does: ?dryRun=All beside a body deletes', async () => {
    const pod = kube.addPod({namespace: 'del', name: 'query-ignored'})
    const reply = await call('DELETE', `${podsPath('del', 'query-ignored')}?dryRun=All&gracePeriodSeconds=5`, {body: {preconditions: {uid: pod.metadata.uid}}})
    expect(reply.status).toBe(200)
    expect(kube.requests.at(-1)?.gracePeriodSeconds).not.toBe(5)
    expect(kube.getObject('pods', 'del', 'query-ignored')).toBeUndefined()
  })

  it('marks an object with finalizers Terminating and keeps it', async () => {
    kube.addPod({namespace: 'del', name: 'held', finalizers: ['example.com/hold']})
    const reply = await call('DELETE', podsPath('del', 'held'))
    expect(reply.status).toBe(200)
    const stored = kube.getObject('pods', 'del', 'held')
    expect(stored?.metadata.deletionTimestamp).toBeDefined()
    expect(stored?.metadata.deletionGracePeriodSeconds).toBe(30)
    expect(stored?.metadata.finalizers).toEqual(['example.com/hold'])
  })

  it('answers 403 with the RBAC message format', async () => {
    kube.deny({verb: 'delete', resource: 'pods', namespace: 'rbac'})
    kube.addPod({namespace: 'rbac', name: 'p'})
    const reply = await call('DELETE', podsPath('rbac', 'p'))
    expect(reply.status).toBe(403)
    expect(reply.body).toMatchObject({reason: 'Forbidden', code: 403})
    expect(reply.body.message).toBe(
      'pods "p" is forbidden: User "system:serviceaccount:airflow:airflow-reap" cannot delete resource "pods" in API group "" in the namespace "rbac"',
    )
    expect((await call('GET', podsPath('rbac', 'p'))).status).toBe(200)
    kube.deny({verb: 'patch', resource: 'jobs', group: 'batch', namespace: 'rbac'})
    kube.addObject('jobs', {metadata: {name: 'denied', namespace: 'rbac'}})
    const patch = await call('PATCH', jobsPath('rbac', 'denied'), {body: {}, contentType: 'application/merge-patch+json'})
    expect(patch.body.message).toBe(
      'jobs.batch "denied" is forbidden: User "system:serviceaccount:airflow:airflow-reap" cannot patch resource "jobs" in API group "batch" in the namespace "rbac"',
    )
    const list = await call('GET', '/api/v1/pods?labelSelector=x')
    expect(list.status).toBe(200)
    kube.deny({verb: 'list', resource: 'pods', namespace: 'rbac'})
    const everywhere = await call('GET', '/api/v1/pods')
    expect(everywhere.body.message).toBe(
      'pods is forbidden: User "system:serviceaccount:airflow:airflow-reap" cannot list resource "pods" in API group "" at the cluster scope',
    )
  })
})

describe('jobs: the orphan finalizer', () => {
  it('a Job deleted without propagationPolicy stays Terminating with finalizer orphan; its name stays taken until the finalizer goes', async () => {
    await call('POST', jobsPath('airflow'), {body: jobObject('stuck')})
    const deleted = await call('DELETE', jobsPath('airflow', 'stuck'))
    expect(deleted.status).toBe(200)
    expect(deleted.body.metadata.finalizers).toEqual(['orphan'])
    expect(deleted.body.metadata.deletionTimestamp).toBeDefined()
    expect((await call('GET', jobsPath('airflow', 'stuck'))).status).toBe(200)

    const recreate = await call('POST', jobsPath('airflow'), {body: jobObject('stuck')})
    expect(recreate.status).toBe(409)
    expect(recreate.body).toMatchObject({reason: 'AlreadyExists', message: 'object is being deleted: jobs.batch "stuck" already exists'})

    const current = (await call('GET', jobsPath('airflow', 'stuck'))).body
    const patched = await call('PATCH', jobsPath('airflow', 'stuck'), {
      contentType: 'application/json-patch+json',
      body: [
        {op: 'test', path: '/metadata/finalizers', value: ['orphan']},
        {op: 'test', path: '/metadata/resourceVersion', value: current.metadata.resourceVersion},
        {op: 'replace', path: '/metadata/finalizers', value: []},
      ],
    })
    expect(patched.status).toBe(200)
    // Deleted by the update (ShouldDeleteDuringUpdate): the answer is the object written, not a Status.
    expect(patched.body).toMatchObject({kind: 'Job', metadata: {name: 'stuck', deletionTimestamp: expect.any(String)}})
    expect(patched.body.metadata.finalizers ?? []).toEqual([])
    expect((await call('GET', jobsPath('airflow', 'stuck'))).status).toBe(404)
    expect((await call('POST', jobsPath('airflow'), {body: jobObject('stuck')})).status).toBe(201)
  })

  it('Foreground adds foregroundDeletion; Background removes the Job at once', async () => {
    kube.addObject('jobs', jobObject('fg'))
    const fg = await call('DELETE', jobsPath('airflow', 'fg'), {body: {propagationPolicy: 'Foreground'}})
    expect(fg.body.metadata.finalizers).toEqual(['foregroundDeletion'])
    kube.addObject('jobs', jobObject('bg'))
    const bg = await call('DELETE', `${jobsPath('airflow', 'bg')}?propagationPolicy=Background`)
    expect(bg.body).toMatchObject({kind: 'Status', status: 'Success', details: {name: 'bg', group: 'batch', kind: 'jobs'}})
    expect(kube.getObject('jobs', 'airflow', 'bg')).toBeUndefined()
  })

  it('a second DELETE with Background drops the orphan finalizer of a stuck Job, as kube-apiserver does', async () => {
    kube.addObject('jobs', jobObject('re-delete', {finalizers: ['orphan'], deletionTimestamp: '2020-01-01T00:00:00Z'}))
    await call('DELETE', jobsPath('airflow', 're-delete'), {body: {propagationPolicy: 'Background'}})
    expect(kube.getObject('jobs', 'airflow', 're-delete')).toBeUndefined()
  })
})

describe('patch', () => {
  it('a failing json-patch test answers 422 Invalid with the generic message and changes nothing', async () => {
    const job = kube.addObject('jobs', jobObject('json-test', {finalizers: ['orphan'], deletionTimestamp: '2020-01-01T00:00:00Z'}))
    const reply = await call('PATCH', jobsPath('airflow', 'json-test'), {
      contentType: 'application/json-patch+json',
      body: [
        {op: 'add', path: '/metadata/labels', value: {changed: 'yes'}},
        {op: 'test', path: '/metadata/finalizers', value: ['orphan', 'other']},
        {op: 'replace', path: '/metadata/finalizers', value: []},
      ],
    })
    expect(reply.status).toBe(422)
    expect(reply.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'the server rejected our request due to an error in our request',
      reason: 'Invalid',
      details: {},
      code: 422,
    })
    expect(kube.getObject('jobs', 'airflow', 'json-test')).toEqual(job)
  })

  it('a strategic merge patch does not remove finalizers; a merge patch replaces the list', async () => {
    kube.addObject('jobs', jobObject('smp', {finalizers: ['orphan', 'example.com/keep'], deletionTimestamp: '2020-01-01T00:00:00Z'}))
    const smp = await call('PATCH', jobsPath('airflow', 'smp'), {
      contentType: 'application/strategic-merge-patch+json',
      body: {metadata: {finalizers: []}},
    })
    expect(smp.status).toBe(200)
    expect(kube.getObject('jobs', 'airflow', 'smp')?.metadata.finalizers).toEqual(['orphan', 'example.com/keep'])
    const merge = await call('PATCH', jobsPath('airflow', 'smp'), {
      contentType: 'application/merge-patch+json',
      body: {metadata: {finalizers: ['example.com/keep']}},
    })
    expect(merge.body.metadata.finalizers).toEqual(['example.com/keep'])
    const directive = await call('PATCH', jobsPath('airflow', 'smp'), {
      contentType: 'application/strategic-merge-patch+json',
      body: {metadata: {'$deleteFromPrimitiveList/finalizers': ['example.com/keep']}},
    })
    expect(directive.body).toMatchObject({kind: 'Job', metadata: {name: 'smp'}})
    expect(kube.getObject('jobs', 'airflow', 'smp')).toBeUndefined()
  })

  const removeFinalizers = [{op: 'replace', path: '/metadata/finalizers', value: []}]

  it('removing the last finalizer of a pod whose graceful deletion runs leaves it Terminating (ShouldDeleteDuringUpdate)', async () => {
    kube.addPod({namespace: 'patch', name: 'graceful', finalizers: ['example.com/hold'], terminationGracePeriodSeconds: 30})
    const deleted = await call('DELETE', podsPath('patch', 'graceful'))
    expect(deleted.body.metadata).toMatchObject({deletionGracePeriodSeconds: 30, finalizers: ['example.com/hold']})
    const patched = await call('PATCH', podsPath('patch', 'graceful'), {contentType: 'application/json-patch+json', body: removeFinalizers})
    expect(patched.status).toBe(200)
    expect(patched.body).toMatchObject({kind: 'Pod', metadata: {deletionTimestamp: expect.any(String), deletionGracePeriodSeconds: 30}})
    expect(patched.body.metadata.finalizers ?? []).toEqual([])
    const after = await call('GET', podsPath('patch', 'graceful'))
    expect(after.status).toBe(200)
    expect(after.body.metadata.deletionTimestamp).toBeDefined()
  })

  it('removing the last finalizer of a pod deleted with grace 0 deletes it, and answers with the pod', async () => {
    kube.addPod({namespace: 'patch', name: 'unscheduled', finalizers: ['example.com/hold'], nodeName: null})
    const deleted = await call('DELETE', podsPath('patch', 'unscheduled'))
    expect(deleted.body.metadata).toMatchObject({deletionGracePeriodSeconds: 0})
    const patched = await call('PATCH', podsPath('patch', 'unscheduled'), {contentType: 'application/json-patch+json', body: removeFinalizers})
    expect(patched.status).toBe(200)
    expect(patched.body).toMatchObject({kind: 'Pod', metadata: {name: 'unscheduled', deletionGracePeriodSeconds: 0}})
    expect((await call('GET', podsPath('patch', 'unscheduled'))).status).toBe(404)
  })

  it('answers 409 Conflict when the patch names a stale resourceVersion', async () => {
    const pod = kube.addPod({namespace: 'patch', name: 'rv', labels: {a: '1'}})
    kube.updateObject('pods', 'patch', 'rv', (p) => (p.metadata.labels = {a: '2'}))
    const reply = await call('PATCH', podsPath('patch', 'rv'), {
      contentType: 'application/merge-patch+json',
      body: {metadata: {resourceVersion: pod.metadata.resourceVersion, labels: {a: '3'}}},
    })
    expect(reply.status).toBe(409)
    expect(reply.body.reason).toBe('Conflict')
    expect(kube.getObject('pods', 'patch', 'rv')?.metadata.labels).toEqual({a: '2'})
  })

  it('refuses new finalizers on a Terminating object with 422', async () => {
    kube.addObject('jobs', jobObject('no-new', {finalizers: ['orphan'], deletionTimestamp: '2020-01-01T00:00:00Z'}))
    const reply = await call('PATCH', jobsPath('airflow', 'no-new'), {
      contentType: 'application/merge-patch+json',
      body: {metadata: {finalizers: ['orphan', 'example.com/new']}},
    })
    expect(reply.status).toBe(422)
  })

  it('answers 415 for a patch type it does not know', async () => {
    kube.addPod({namespace: 'patch', name: 'media'})
    expect((await call('PATCH', podsPath('patch', 'media'), {body: {}, contentType: 'application/json'})).status).toBe(415)
  })
})

describe('events.k8s.io/v1 Events', () => {
  const eventsPath = (ns: string) => `/apis/events.k8s.io/v1/namespaces/${ns}/events`
  const event = (name: string, eventTime: string) => ({
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: {name, namespace: 'airflow'},
    eventTime,
    reportingController: 'example.com/test',
    reportingInstance: 'test-1',
    action: 'Patch',
    reason: 'Tested',
    regarding: {kind: 'Pod', namespace: 'airflow', name: 'p'},
    note: 'n',
    type: 'Normal',
  })

  it('decodes eventTime as Go RFC3339Micro: exactly six fractional digits, else 400 BadRequest', async () => {
    expect((await call('POST', eventsPath('airflow'), {body: event('six', '2026-11-30T12:00:00.123456Z')})).status).toBe(201)
    expect((await call('POST', eventsPath('airflow'), {body: event('offset', '2026-11-30T12:00:00.123456+02:00')})).status).toBe(201)
    for (const [name, eventTime] of [
      ['millis', '2026-11-30T12:00:00.123Z'], // Date.prototype.toISOString()
      ['nanos', '2026-11-30T12:00:00.123456789Z'],
      ['seconds', '2026-11-30T12:00:00Z'],
      ['one', '2026-11-30T12:00:00.1Z'],
    ]) {
      const reply = await call('POST', eventsPath('airflow'), {body: event(name, eventTime)})
      expect(reply.status, eventTime).toBe(400)
      expect(reply.body).toMatchObject({reason: 'BadRequest', message: expect.stringContaining(`parsing time "${eventTime}"`)})
    }
  })
})

describe('test hooks', () => {
  afterEach(() => {
    kube.requests.length = 0
  })

  it('inject answers a plain-text 429 with Retry-After, the given number of times', async () => {
    kube.inject({method: 'GET', pathIncludes: '/namespaces/inject/', status: 429, headers: {'Retry-After': '1'}, body: 'Too many requests, please try again later.\n', times: 2})
    for (let i = 0; i < 2; i++) {
      const reply = await call('GET', podsPath('inject'))
      expect(reply.status).toBe(429)
      expect(reply.headers['retry-after']).toBe('1')
      expect(reply.headers['content-type']).toContain('text/plain')
      expect(reply.body).toBe('Too many requests, please try again later.\n')
    }
    expect((await call('GET', podsPath('inject'))).status).toBe(200)
  })

  it('beforeRequest runs before the request is served and can change the state it sees', async () => {
    const original = kube.addPod({namespace: 'hook', name: 'same-name'})
    const remove = kube.beforeRequest((request) => {
      if (request.method !== 'DELETE') return
      kube.removeObject('pods', 'hook', 'same-name')
      kube.addPod({namespace: 'hook', name: 'same-name'})
    })
    const reply = await call('DELETE', podsPath('hook', 'same-name'), {body: {preconditions: {uid: original.metadata.uid}}})
    remove()
    expect(reply.status).toBe(409)
    expect(kube.getObject('pods', 'hook', 'same-name')?.metadata.uid).not.toBe(original.metadata.uid)
  })

  it('logs method, path, query, accept, content type and body', async () => {
    await call('GET', `${podsPath('log')}?limit=5`, {accept: METADATA_ONLY})
    expect(kube.requests[0]).toMatchObject({method: 'GET', path: podsPath('log'), query: {limit: '5'}, accept: METADATA_ONLY, status: 200})
  })
})

describe('namespaces', () => {
  it('GET finds a built-in namespace, an added one and one that holds objects', async () => {
    kube.addNamespace('empty-but-created')
    kube.addPod({namespace: 'has-a-pod', name: 'p'})
    for (const name of ['default', 'kube-system', 'empty-but-created', 'has-a-pod']) {
      const reply = await call('GET', `/api/v1/namespaces/${name}`)
      expect(reply.status, name).toBe(200)
      expect(reply.body).toMatchObject({kind: 'Namespace', apiVersion: 'v1', metadata: {name}, status: {phase: 'Active'}})
    }
  })

  it('GET of a namespace that does not exist is 404 NotFound, as kube-apiserver words it', async () => {
    const reply = await call('GET', '/api/v1/namespaces/no-such-ns')
    expect(reply.status).toBe(404)
    expect(reply.body).toMatchObject({kind: 'Status', reason: 'NotFound', message: 'namespaces "no-such-ns" not found', details: {name: 'no-such-ns', kind: 'namespaces'}})
  })

  it('a denied GET is 403, the namespace named as the scope (as kube-apiserver words it)', async () => {
    const denied = await startFakeKube()
    try {
      denied.deny({verb: 'get', resource: 'namespaces'})
      const saved = kube
      kube = denied
      const reply = await call('GET', '/api/v1/namespaces/default').finally(() => (kube = saved))
      expect(reply.status).toBe(403)
      expect(reply.body.message).toBe(
        'namespaces "default" is forbidden: User "system:serviceaccount:airflow:airflow-reap" cannot get resource "namespaces" in API group "" in the namespace "default"',
      )
    } finally {
      await denied.close()
    }
  })
})
