import {describe, expect, it} from 'vitest'
import {ApiError, ForbiddenError, UnreachableError} from '../../src/errors.js'
import {toObjectMeta} from '../../src/kube/convert.js'
import {errorForNetwork, errorForResponse} from '../../src/kube/status.js'

const server = 'https://k8s.example.com:6443'

function status(code: number, reason: string, message: string) {
  return {kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason, message, code}
}

describe('errorForResponse', () => {
  it('turns an RBAC 403 into a ForbiddenError naming verb, resource and namespace', () => {
    const message = 'jobs.batch "stuck" is forbidden: User "alice" cannot patch resource "jobs" in API group "batch" in the namespace "airflow"'
    const error = errorForResponse({method: 'PATCH', path: '/apis/batch/v1/namespaces/airflow/jobs/stuck', status: 403, body: status(403, 'Forbidden', message), server})
    expect(error).toBeInstanceOf(ForbiddenError)
    expect(error).toMatchObject({verb: 'patch', resource: 'jobs.batch'})
    expect(error.message).toBe('RBAC denied: cannot patch jobs.batch in namespace "airflow" (user "alice")')
  })

  it('says "at cluster scope" for a cluster-wide list', () => {
    const message = 'pods is forbidden: User "bob" cannot list resource "pods" in API group "" at the cluster scope'
    const error = errorForResponse({method: 'GET', path: '/api/v1/pods', status: 403, body: status(403, 'Forbidden', message), server})
    expect(error.message).toBe('RBAC denied: cannot list pods at cluster scope (user "bob")')
  })

  it('keeps a non-RBAC 403 (admission) in one line, with verb and resource from the request', () => {
    const message = 'admission webhook "guard.example.com" denied the request:\n  pods in this namespace\n  are protected'
    const error = errorForResponse({method: 'DELETE', path: '/api/v1/namespaces/a/pods/p', status: 403, body: status(403, 'Forbidden', message), server})
    expect(error).toMatchObject({verb: 'delete', resource: 'pods'})
    expect(error.message).toBe('forbidden: admission webhook "guard.example.com" denied the request: pods in this namespace are protected')
  })

  it('turns other answers into an ApiError with status, reason and message, never the raw body', () => {
    const error = errorForResponse({method: 'GET', path: '/api/v1/pods', status: 500, body: status(500, 'InternalError', 'etcdserver: request timed out'), server})
    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({status: 500, reason: 'InternalError'})
    expect(error.message).toBe('GET /api/v1/pods: HTTP 500 InternalError: etcdserver: request timed out')
    const html = errorForResponse({method: 'GET', path: '/api/v1/pods', status: 502, body: '<html>secret-ish proxy page</html>', server})
    expect(html.message).toBe('GET /api/v1/pods: HTTP 502 Bad Gateway')
  })

  it('caps very long messages', () => {
    const error = errorForResponse({method: 'GET', path: '/p', status: 400, body: status(400, 'BadRequest', 'x'.repeat(1000)), server})
    expect(error.message.length).toBeLessThan(360)
  })

  it('maps 401 to an unauthorized ForbiddenError', () => {
    const error = errorForResponse({method: 'GET', path: '/p', status: 401, body: status(401, 'Unauthorized', 'Unauthorized'), server})
    expect(error).toBeInstanceOf(ForbiddenError)
    expect(error.message).toMatch(/^unauthorized: /)
  })
})

describe('errorForNetwork', () => {
  it('names the server and the error code, with a hint for TLS failures', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), {code: 'ECONNREFUSED'})
    expect(errorForNetwork(refused, server)).toBeInstanceOf(UnreachableError)
    expect(errorForNetwork(refused, server).message).toBe(`cannot reach the Kubernetes API at ${server}: ECONNREFUSED`)
    const tls = Object.assign(new Error('unable to verify the first certificate'), {code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'})
    expect(errorForNetwork(tls, server).message).toContain("not signed by the cluster's certificate authority")
  })
})

describe('toObjectMeta', () => {
  it('fills absent maps and lists and converts timestamps', () => {
    const meta = toObjectMeta('Job', {
      name: 'j',
      namespace: 'a',
      uid: 'u-1',
      resourceVersion: '7',
      creationTimestamp: '2026-01-02T03:04:05Z',
      deletionTimestamp: '2026-01-02T04:00:00Z',
      finalizers: ['orphan'],
      ownerReferences: [{apiVersion: 'batch/v1', kind: 'CronJob', name: 'c', uid: 'u-0', controller: true}],
    })
    expect(meta).toEqual({
      kind: 'Job',
      namespace: 'a',
      name: 'j',
      uid: 'u-1',
      resourceVersion: '7',
      labels: {},
      annotations: {},
      creationTimestamp: new Date('2026-01-02T03:04:05Z'),
      deletionTimestamp: new Date('2026-01-02T04:00:00Z'),
      finalizers: ['orphan'],
      ownerReferences: [{apiVersion: 'batch/v1', kind: 'CronJob', name: 'c', uid: 'u-0', controller: true}],
    })
  })

  it('refuses an object without uid', () => {
    expect(() => toObjectMeta('Pod', {name: 'p', creationTimestamp: '2026-01-01T00:00:00Z'})).toThrow(ApiError)
  })
})
