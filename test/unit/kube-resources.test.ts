import {describe, expect, it} from 'vitest'
import {UsageError} from '../../src/errors.js'
import {apiVersionOf, collectionPath, objectPath, qualifiedName, resolveResource} from '../../src/kube/resources.js'

describe('resolveResource', () => {
  it.each([
    ['po', 'pods'],
    ['pod', 'pods'],
    ['pods', 'pods'],
    ['Pod', 'pods'],
    ['job', 'jobs'],
    ['jobs.batch', 'jobs'],
    ['jobs.v1.batch', 'jobs'],
    ['cj', 'cronjobs'],
    ['cronjob.batch', 'cronjobs'],
    ['deploy', 'deployments'],
    ['deployments.apps', 'deployments'],
    ['rs', 'replicasets'],
    ['sts', 'statefulsets'],
    [' StatefulSet ', 'statefulsets'],
  ])('%j is %s', (name, plural) => {
    expect(resolveResource(name).plural).toBe(plural)
  })

  it.each(['widgets', 'jobs.apps', 'pods.batch', ''])('refuses %j with a UsageError listing the known types', (name) => {
    expect(() => resolveResource(name)).toThrow(UsageError)
    expect(() => resolveResource(name)).toThrow(/known: pods, jobs, cronjobs, deployments, replicasets, statefulsets/)
  })
})

describe('paths and names', () => {
  const pods = resolveResource('pods')
  const jobs = resolveResource('jobs')

  it('builds core and group paths, namespaced or across all namespaces', () => {
    expect(collectionPath(pods)).toBe('/api/v1/pods')
    expect(collectionPath(pods, 'airflow')).toBe('/api/v1/namespaces/airflow/pods')
    expect(collectionPath(jobs)).toBe('/apis/batch/v1/jobs')
    expect(objectPath(jobs, 'airflow', 'backfill')).toBe('/apis/batch/v1/namespaces/airflow/jobs/backfill')
  })

  it('escapes names', () => {
    expect(objectPath(pods, 'a', 'x/../y')).toBe('/api/v1/namespaces/a/pods/x%2F..%2Fy')
  })

  it('names apiVersion and the qualified resource', () => {
    expect([apiVersionOf(pods), apiVersionOf(jobs)]).toEqual(['v1', 'batch/v1'])
    expect([qualifiedName(pods), qualifiedName(jobs)]).toEqual(['pods', 'jobs.batch'])
  })
})
