import {describe, expect, it} from 'vitest'
import {type ApiRule, describeRule} from '../../src/core/permissions.js'
import {permissionResults, profiles, questionsOf, rbacChecks} from '../../src/doctor/rbac.js'
import {resolveResource} from '../../src/kube/resources.js'

const scope = {
  namespace: 'airflow',
  db: {secret: {namespace: 'airflow', name: 'airflow-metadata'}},
  unstickTargets: [{resource: resolveResource('jobs')}, {resource: resolveResource('pods')}],
}
const all = profiles(scope)
const missing = (...names: string[]) => (rule: ApiRule) => !names.includes(describeRule(rule))

describe('rbacChecks', () => {
  it('all granted: one ok line per command line', () => {
    const checks = rbacChecks(all, () => true)
    expect(checks.map((c) => [c.subject, c.status])).toEqual([
      ['doctor', 'ok'],
      ['zombies', 'ok'],
      ['overdue', 'ok'],
      ['zombies --delete --yes', 'ok'],
      ['overdue --delete --yes', 'ok'],
      ['unstick', 'ok'],
      ['unstick --yes', 'ok'],
    ])
  })

  it('a read missing fails doctor and the reports, naming verb, resource and namespace', () => {
    const checks = rbacChecks(all, missing('get pods'))
    const byLine = Object.fromEntries(checks.map((c) => [c.subject, c]))
    expect(byLine.doctor.status).toBe('ok')
    expect(byLine.zombies.status).toBe('fail')
    expect(byLine.zombies.message).toBe('missing: get pods in namespace "airflow"')
    expect(byLine.zombies.fix).toMatch(/`zombies` will fail without them/)
    // The same missing read makes the deleting line fail the same way: the same severity.
    expect(byLine['zombies --delete --yes'].status).toBe('fail')
  })

  it('without get secrets, zombies and zombies --delete --yes both fail (same consequence, same severity)', () => {
    const checks = Object.fromEntries(rbacChecks(all, missing('get secrets airflow-metadata')).map((c) => [c.subject, c.status]))
    expect(checks.zombies).toBe('fail')
    expect(checks['zombies --delete --yes']).toBe('fail')
    expect(checks['overdue --delete --yes']).toBe('fail')
  })

  it('delete missing only warns, on the deleting command lines', () => {
    const checks = rbacChecks(all, missing('delete pods'))
    expect(checks.filter((c) => c.status !== 'ok').map((c) => [c.subject, c.status])).toEqual([
      ['zombies --delete --yes', 'warn'],
      ['overdue --delete --yes', 'warn'],
    ])
  })

  it('a best-effort rule missing warns and says what is lost', () => {
    const checks = rbacChecks(all, missing('create events.events.k8s.io'))
    const line = checks.find((c) => c.subject === 'unstick --yes')!
    expect(line.status).toBe('warn')
    expect(line.message).toMatch(/create events.events.k8s.io in namespace "airflow" \(best effort/)
    expect(line.fix).toMatch(/still works/)
  })

  it('the Secret read by name is essential', () => {
    const checks = rbacChecks(all, missing('get secrets airflow-metadata'))
    expect(checks.find((c) => c.subject === 'doctor')!.status).toBe('fail')
  })
})

describe('permissionResults', () => {
  it('lists each permission once with every command line needing it', () => {
    const rows = permissionResults(all, (rule) => rule.verb !== 'patch')
    const listPods = rows.find((r) => r.verb === 'list' && r.resource === 'pods')!
    expect(listPods.neededBy).toEqual(['doctor', 'zombies', 'overdue', 'zombies --delete --yes', 'overdue --delete --yes', 'unstick', 'unstick --yes'])
    expect(listPods.allowed).toBe(true)
    const patchJobs = rows.find((r) => r.verb === 'patch' && r.resource === 'jobs')!
    expect(patchJobs).toMatchObject({group: 'batch', namespace: 'airflow', allowed: false, neededBy: ['unstick --yes']})
    expect(rows.find((r) => r.verb === 'get' && r.resource === 'jobs')!.bestEffort).toBe(true)
  })
})

describe('questionsOf', () => {
  it('asks once per resource name, with the subresource and namespace', () => {
    expect(questionsOf({verb: 'get', group: '', resource: 'secrets', resourceNames: ['a', 'b'], namespace: 'ns', purpose: ''})).toEqual([
      {verb: 'get', group: '', resource: 'secrets', namespace: 'ns', name: 'a'},
      {verb: 'get', group: '', resource: 'secrets', namespace: 'ns', name: 'b'},
    ])
    expect(questionsOf({verb: 'create', group: '', resource: 'pods', subresource: 'portforward', purpose: ''})).toEqual([
      {verb: 'create', group: '', resource: 'pods', subresource: 'portforward'},
    ])
  })
})
