// The fake's authorization: RBAC mode (Role/ClusterRole grants, resourceNames, subresources, namespace
// scope) with kube-apiserver's 403 wording, SelfSubjectAccessReviews answered from the same decision,
// /version, and the Date header a test can skew.

import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {type Reply, callFake} from '../support/fake-kube/call.js'
import {type FakeKube, startFakeKube} from '../support/fake-kube/index.js'

let kube: FakeKube
const USER = 'system:serviceaccount:airflow:airflow-reap'

const call = (method: string, path: string, body?: unknown): Promise<Reply> => callFake(kube, method, path, {body})

async function review(resourceAttributes: Record<string, string>): Promise<Reply> {
  return call('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    spec: {resourceAttributes},
  })
}

async function allowed(resourceAttributes: Record<string, string>): Promise<boolean> {
  const reply = await review(resourceAttributes)
  expect(reply.status).toBe(201)
  return reply.body.status.allowed as boolean
}

beforeAll(async () => {
  kube = await startFakeKube()
  kube.addPod({namespace: 'airflow', name: 'a'})
  kube.addPod({namespace: 'airflow', name: 'b'})
  kube.addPod({namespace: 'other', name: 'c'})
})

afterAll(async () => {
  await kube.close()
})

afterEach(() => {
  kube.stopRbac()
  kube.setClockSkew(0)
})

describe('RBAC mode', () => {
  it('a Role grants in its namespace only; elsewhere and across namespaces the 403 names verb, resource and scope', async () => {
    kube.enforceRbac([{name: 'reader', namespace: 'airflow', rules: [{verbs: ['list', 'get'], apiGroups: [''], resources: ['pods']}]}])
    expect((await call('GET', '/api/v1/namespaces/airflow/pods')).status).toBe(200)
    expect((await call('GET', '/api/v1/namespaces/airflow/pods/a')).status).toBe(200)
    const elsewhere = await call('GET', '/api/v1/namespaces/other/pods')
    expect(elsewhere.status).toBe(403)
    expect(elsewhere.body).toMatchObject({kind: 'Status', reason: 'Forbidden', code: 403, details: {kind: 'pods'}})
    expect(elsewhere.body.message).toBe(`pods is forbidden: User "${USER}" cannot list resource "pods" in API group "" in the namespace "other"`)
    const everywhere = await call('GET', '/api/v1/pods')
    expect(everywhere.body.message).toBe(`pods is forbidden: User "${USER}" cannot list resource "pods" in API group "" at the cluster scope`)
    const write = await call('DELETE', '/api/v1/namespaces/airflow/pods/a', {})
    expect(write.status).toBe(403)
    expect(write.body.message).toBe(`pods "a" is forbidden: User "${USER}" cannot delete resource "pods" in API group "" in the namespace "airflow"`)
    expect(write.body.details).toEqual({name: 'a', kind: 'pods'})
    expect(kube.getObject('pods', 'airflow', 'a')).toBeDefined()
  })

  it('a ClusterRole grants in every namespace and at the cluster scope', async () => {
    kube.enforceRbac([{rules: [{verbs: ['list'], apiGroups: [''], resources: ['pods']}]}])
    expect((await call('GET', '/api/v1/pods')).status).toBe(200)
    expect((await call('GET', '/api/v1/namespaces/other/pods')).status).toBe(200)
    expect((await call('GET', '/api/v1/namespaces/other/pods/c')).status).toBe(403)
  })

  it('apiGroups must match: pods in "" do not grant jobs in batch', async () => {
    kube.enforceRbac([{namespace: 'airflow', rules: [{verbs: ['*'], apiGroups: [''], resources: ['*']}]}])
    expect((await call('GET', '/api/v1/namespaces/airflow/pods')).status).toBe(200)
    const jobs = await call('GET', '/apis/batch/v1/namespaces/airflow/jobs')
    expect(jobs.status).toBe(403)
    expect(jobs.body.message).toBe(`jobs.batch is forbidden: User "${USER}" cannot list resource "jobs" in API group "batch" in the namespace "airflow"`)
    expect(jobs.body.details).toEqual({group: 'batch', kind: 'jobs'})
  })

  it('resourceNames: get of those names only; a list only when it selects one of them by metadata.name', async () => {
    kube.enforceRbac([{namespace: 'airflow', rules: [{verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'], resourceNames: ['a']}]}])
    expect((await call('GET', '/api/v1/namespaces/airflow/pods/a')).status).toBe(200)
    const b = await call('GET', '/api/v1/namespaces/airflow/pods/b')
    expect(b.body.message).toBe(`pods "b" is forbidden: User "${USER}" cannot get resource "pods" in API group "" in the namespace "airflow"`)
    expect((await call('GET', '/api/v1/namespaces/airflow/pods')).status).toBe(403)
    expect((await call('GET', '/api/v1/namespaces/airflow/pods?fieldSelector=metadata.name%3Da')).status).toBe(200)
  })

  it('a subresource needs its own rule (pods/portforward, or */portforward); the 403 names resource/subresource', async () => {
    kube.enforceRbac([{namespace: 'airflow', rules: [{verbs: ['get', 'create'], apiGroups: [''], resources: ['pods']}]}])
    const denied = await call('GET', '/api/v1/namespaces/airflow/pods/a/portforward?ports=5432')
    expect(denied.status).toBe(403)
    expect(denied.body.message).toBe(
      `pods "a" is forbidden: User "${USER}" cannot get resource "pods/portforward" in API group "" in the namespace "airflow"`,
    )
    expect(denied.body.details).toEqual({name: 'a', kind: 'pods'})
    kube.grant({namespace: 'airflow', rules: [{verbs: ['get'], apiGroups: [''], resources: ['*/portforward']}]})
    // Allowed, then not served by the plain request router (the upgrade handler serves it).
    expect((await call('GET', '/api/v1/namespaces/airflow/pods/a/portforward?ports=5432')).status).toBe(404)
    expect(() => kube.authorize({verb: 'create', group: '', resource: 'pods', subresource: 'portforward', namespace: 'airflow', name: 'a'})).toThrow(
      /cannot create resource "pods\/portforward"/,
    )
  })

  it('deny rules still apply on top of grants', async () => {
    kube.enforceRbac([{rules: [{verbs: ['*'], apiGroups: ['*'], resources: ['*']}]}])
    // Deny rules cannot be removed: this one concerns a namespace no later test reads pods of by name.
    kube.deny({verb: 'get', resource: 'pods', namespace: 'other'})
    expect((await call('GET', '/api/v1/namespaces/other/pods/c')).status).toBe(403)
    expect((await call('GET', '/api/v1/namespaces/airflow/pods/a')).status).toBe(200)
  })
})

describe('SelfSubjectAccessReview', () => {
  it('answers from the RBAC grants: verb, group, resource, subresource, name and namespace', async () => {
    kube.enforceRbac([
      {namespace: 'airflow', rules: [{verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: ['meta']}]},
      {namespace: 'airflow', rules: [{verbs: ['get', 'create'], apiGroups: [''], resources: ['pods/portforward']}]},
      {rules: [{verbs: ['list'], apiGroups: [''], resources: ['pods']}]},
    ])
    expect(await allowed({verb: 'get', resource: 'secrets', namespace: 'airflow', name: 'meta'})).toBe(true)
    expect(await allowed({verb: 'get', resource: 'secrets', namespace: 'airflow', name: 'other'})).toBe(false)
    expect(await allowed({verb: 'get', resource: 'secrets', namespace: 'airflow'})).toBe(false)
    expect(await allowed({verb: 'create', resource: 'pods', subresource: 'portforward', namespace: 'airflow'})).toBe(true)
    expect(await allowed({verb: 'create', resource: 'pods', subresource: 'portforward', namespace: 'other'})).toBe(false)
    expect(await allowed({verb: 'get', resource: 'pods', namespace: 'airflow'})).toBe(false)
    expect(await allowed({verb: 'list', resource: 'pods'})).toBe(true)
    expect(await allowed({verb: 'list', group: 'batch', resource: 'pods'})).toBe(false)
  })

  it('is itself always allowed, and echoes the spec with a status', async () => {
    kube.enforceRbac([])
    const reply = await review({verb: 'delete', resource: 'pods', namespace: 'airflow'})
    expect(reply.status).toBe(201)
    expect(reply.body).toMatchObject({
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      spec: {resourceAttributes: {verb: 'delete', resource: 'pods', namespace: 'airflow'}},
      status: {allowed: false},
    })
    kube.grant({name: 'reaper', namespace: 'airflow', rules: [{verbs: ['delete'], apiGroups: [''], resources: ['pods']}]})
    const granted = await review({verb: 'delete', resource: 'pods', namespace: 'airflow'})
    expect(granted.body.status).toEqual({allowed: true, reason: `RBAC: allowed by RoleBinding "reaper/airflow" of Role "reaper" to User "${USER}"`})
  })

  it('outside RBAC mode, reflects the deny rules', async () => {
    kube.deny({verb: 'patch', resource: 'jobs', group: 'batch', namespace: 'ssar-denied'})
    expect(await allowed({verb: 'patch', group: 'batch', resource: 'jobs', namespace: 'ssar-denied'})).toBe(false)
    expect(await allowed({verb: 'patch', group: 'batch', resource: 'jobs', namespace: 'airflow'})).toBe(true)
  })

  it('refuses a review without resourceAttributes (422)', async () => {
    const reply = await call('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {kind: 'SelfSubjectAccessReview', spec: {}})
    expect(reply.status).toBe(422)
    expect(reply.body.reason).toBe('Invalid')
  })
})

describe('/version and the Date header', () => {
  it('answers /version, open to any authenticated user even in RBAC mode', async () => {
    kube.enforceRbac([])
    const reply = await call('GET', '/version')
    expect(reply.status).toBe(200)
    expect(reply.body).toMatchObject({major: '1', minor: expect.any(String), gitVersion: expect.stringMatching(/^v1\.\d+\.\d+/)})
    kube.setVersion({major: '1', minor: '35', gitVersion: 'v1.35.0'})
    expect((await call('GET', '/version')).body.gitVersion).toBe('v1.35.0')
  })

  it('sends a Date header near this clock, or as far off as a test skews it', async () => {
    const plain = await call('GET', '/version')
    expect(Math.abs(Date.parse(String(plain.headers.date)) - Date.now())).toBeLessThan(5_000)
    kube.setClockSkew(-10 * 60_000)
    const skewed = await call('GET', '/api/v1/namespaces/airflow/pods')
    const offset = Date.parse(String(skewed.headers.date)) - Date.now()
    expect(offset).toBeLessThan(-9 * 60_000)
    expect(offset).toBeGreaterThan(-11 * 60_000)
  })
})
