import {describe, expect, it} from 'vitest'
import {
  type ApiRule,
  type PermissionQuery,
  type UnstickTargetRef,
  describeRule,
  describeScope,
  podWrites,
  policyRulesByNamespace,
  requiredRules,
  unstickWrites,
} from '../../src/core/permissions.js'
import {resolveResource} from '../../src/kube/resources.js'

/** `list pods @airflow`, `get secrets db @airflow`, `create events.events.k8s.io @* ?` (? = best effort). */
function short(r: ApiRule): string {
  return `${describeRule(r)} @${r.namespace ?? '*'}${r.bestEffort ? ' ?' : ''}`
}

function rules(query: PermissionQuery): string[] {
  return requiredRules(query).map(short)
}

const jobs = {resource: resolveResource('jobs')}
const pods = {resource: resolveResource('pods')}
const deployments = {resource: resolveResource('deployments')}
const cronjobs = {resource: resolveResource('cronjobs')}

describe('requiredRules: zombies and overdue', () => {
  it.each<[string, PermissionQuery, string[]]>([
    ['a report in one namespace', {command: 'zombies', namespace: 'airflow'}, ['list pods @airflow', 'get pods @airflow']],
    ['a report across namespaces (-A)', {command: 'overdue'}, ['list pods @*', 'get pods @*']],
    [
      '--delete --yes: deletes and posts events',
      {command: 'zombies', namespace: 'airflow', writes: 'real'},
      ['list pods @airflow', 'get pods @airflow', 'delete pods @airflow', 'create events.events.k8s.io @airflow ?'],
    ],
    [
      '--delete --yes --no-events',
      {command: 'overdue', namespace: 'airflow', writes: 'real', events: false},
      ['list pods @airflow', 'get pods @airflow', 'delete pods @airflow'],
    ],
    [
      '--dry-run=server: the delete is sent (dryRun=All), no event',
      {command: 'zombies', namespace: 'airflow', writes: 'server-dry-run'},
      ['list pods @airflow', 'get pods @airflow', 'delete pods @airflow'],
    ],
    [
      '-A --delete --yes',
      {command: 'zombies', writes: 'real'},
      ['list pods @*', 'get pods @*', 'delete pods @*', 'create events.events.k8s.io @* ?'],
    ],
  ])('%s', (_name, query, expected) => {
    expect(rules(query)).toEqual(expected)
  })
})

describe('requiredRules: the DB found in the cluster', () => {
  it.each<[string, PermissionQuery, string[]]>([
    [
      '--db-secret NAME: that one Secret by name',
      {command: 'zombies', namespace: 'airflow', db: {secret: {namespace: 'airflow', name: 'airflow-metadata'}}},
      ['list pods @airflow', 'get pods @airflow', 'get secrets airflow-metadata @airflow'],
    ],
    [
      'discovered: the scheduler workloads and the Secret they name',
      {command: 'zombies', namespace: 'team', db: {secret: {namespace: 'airflow'}}},
      [
        'list pods @team',
        'get pods @team',
        'list deployments.apps @airflow',
        'list statefulsets.apps @airflow',
        'get secrets @airflow',
        'list secrets @airflow ?',
      ],
    ],
    [
      'through a port-forward to a named Service',
      {command: 'overdue', namespace: 'airflow', db: {secret: {namespace: 'airflow', name: 's'}, portForward: {namespace: 'db', service: 'pgbouncer'}}},
      [
        'list pods @airflow',
        'get pods @airflow',
        'get secrets s @airflow',
        'get services pgbouncer @db',
        'list endpointslices.discovery.k8s.io @db',
        'get pods @db ?',
        'get pods/portforward @db',
        'create pods/portforward @db',
      ],
    ],
    [
      '-A keeps the DB rules in their namespace',
      {command: 'zombies', db: {secret: {namespace: 'airflow', name: 's'}}},
      ['list pods @*', 'get pods @*', 'get secrets s @airflow'],
    ],
  ])('%s', (_name, query, expected) => {
    expect(rules(query)).toEqual(expected)
  })
})

describe('requiredRules: unstick', () => {
  const unstick = (targets: UnstickTargetRef[], extra: Partial<PermissionQuery> = {}, flags = {deleteDependents: false, wait: false}) =>
    rules({command: 'unstick', namespace: 'ns', unstick: {targets, ...flags}, ...extra})

  it('scans jobs and pods by default: lists, Job advice, the pods Jobs own', () => {
    expect(unstick([jobs, pods])).toEqual(['list jobs.batch @ns', 'get jobs.batch @ns ?', 'list pods @ns'])
  })

  it('--yes patches and posts events', () => {
    expect(unstick([jobs, pods], {writes: 'real'})).toEqual([
      'list jobs.batch @ns',
      'get jobs.batch @ns ?',
      'list pods @ns',
      'patch jobs.batch @ns',
      'patch pods @ns',
      'create events.events.k8s.io @ns ?',
    ])
  })

  it('--wait makes the Job read required', () => {
    expect(unstick([jobs], {writes: 'real', events: false}, {deleteDependents: false, wait: true})).toEqual([
      'list jobs.batch @ns',
      'get jobs.batch @ns',
      'list pods @ns',
      'patch jobs.batch @ns',
    ])
  })

  it('--wait with --dry-run=server waits for nothing: the Job read stays best effort', () => {
    expect(unstick([jobs], {writes: 'server-dry-run'}, {deleteDependents: false, wait: true})).toEqual([
      'list jobs.batch @ns',
      'get jobs.batch @ns ?',
      'list pods @ns',
      'patch jobs.batch @ns',
    ])
  })

  it('named Jobs next to scanned CronJobs (the same API group): the Jobs stay named', () => {
    expect(unstick([{resource: resolveResource('jobs'), name: 'j1'}, cronjobs], {writes: 'real', events: false})).toEqual([
      'get jobs.batch j1 @ns',
      'list pods @ns',
      'patch jobs.batch j1 @ns',
      'list cronjobs.batch @ns',
      'list jobs.batch @ns',
      'patch cronjobs.batch @ns',
    ])
  })

  it('named objects of one type and a scan of another: each type\'s rules from its own targets', () => {
    // The named Job is read by name (its spec too: no separate advice read); the pods are listed.
    expect(unstick([{resource: resolveResource('jobs'), name: 'j1'}, pods], {writes: 'real', events: false})).toEqual([
      'get jobs.batch j1 @ns',
      'list pods @ns',
      'patch jobs.batch j1 @ns',
      'patch pods @ns',
    ])
  })

  it('--delete-dependents deletes what the stuck types own', () => {
    expect(unstick([cronjobs, deployments], {writes: 'server-dry-run'}, {deleteDependents: true, wait: false})).toEqual([
      'list cronjobs.batch @ns',
      'list jobs.batch @ns',
      'delete jobs.batch @ns',
      'patch cronjobs.batch @ns',
      'list deployments.apps @ns',
      'list replicasets.apps @ns',
      'delete replicasets.apps @ns',
      'patch deployments.apps @ns',
    ])
  })

  it('--delete-dependents without writes deletes nothing', () => {
    expect(unstick([jobs], {}, {deleteDependents: true, wait: false})).not.toContain('delete pods @ns')
  })

  it('named objects only: reads, patch and wait by resourceNames', () => {
    const named = [
      {...jobs, name: 'b'},
      {...jobs, name: 'a'},
    ]
    expect(unstick(named, {writes: 'real', events: false}, {deleteDependents: false, wait: true})).toEqual([
      'get jobs.batch a,b @ns',
      'list pods @ns',
      'patch jobs.batch a,b @ns',
    ])
  })

  it('a scanned type and a named object of it: no resourceNames', () => {
    expect(unstick([jobs, {...jobs, name: 'a'}], {writes: 'real', events: false})).toEqual([
      'list jobs.batch @ns',
      'get jobs.batch @ns ?',
      'list pods @ns',
      'patch jobs.batch @ns',
    ])
  })
})

describe('requiredRules: doctor and history', () => {
  it('doctor counts KPO pods and finds the DB like the others', () => {
    expect(rules({command: 'doctor', namespace: 'airflow', db: {secret: {namespace: 'airflow', name: 'm'}}})).toEqual([
      'list pods @airflow',
      'get secrets m @airflow',
    ])
  })
  it('history talks to no cluster', () => {
    expect(rules({command: 'history', namespace: 'airflow', db: {secret: {namespace: 'airflow'}}, writes: 'real'})).toEqual([])
  })
})

describe('flags → writes', () => {
  it.each([
    [{delete: false}, 'none'],
    [{delete: true}, 'real'], // may confirm on a terminal
    [{delete: true, dryRunMode: 'client' as const}, 'none'],
    [{delete: true, dryRunMode: 'server' as const}, 'server-dry-run'],
  ])('pods %j → %s', (flags, expected) => expect(podWrites(flags)).toBe(expected))
  it.each([
    [{yes: false}, 'none'],
    [{yes: true}, 'real'],
    [{yes: true, dryRunMode: 'client' as const}, 'none'],
    [{yes: false, dryRunMode: 'server' as const}, 'server-dry-run'],
  ])('unstick %j → %s', (flags, expected) => expect(unstickWrites(flags)).toBe(expected))
})

describe('policyRulesByNamespace', () => {
  it('merges verbs per resource and name set, one set per namespace, cluster first', () => {
    const all = requiredRules({command: 'zombies', writes: 'real', db: {secret: {namespace: 'airflow', name: 'm'}, portForward: {namespace: 'airflow'}}})
    expect(policyRulesByNamespace(all)).toEqual([
      {
        rules: [
          {apiGroups: [''], resources: ['pods'], verbs: ['delete', 'get', 'list']},
          {apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create']},
        ],
      },
      {
        namespace: 'airflow',
        rules: [
          {apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: ['m']},
          {apiGroups: [''], resources: ['services'], verbs: ['get']},
          {apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list']},
          {apiGroups: [''], resources: ['pods'], verbs: ['get']},
          {apiGroups: [''], resources: ['pods/portforward'], verbs: ['create', 'get']},
        ],
      },
    ])
  })
})

describe('requiredRules: commands without a DB', () => {
  it('unstick needs no DB rules', () => {
    expect(rules({command: 'unstick', namespace: 'ns', unstick: {targets: [pods], deleteDependents: false, wait: false}, db: {secret: {namespace: 'ns'}}})).toEqual([
      'list pods @ns',
    ])
  })
})

// What doctor and the RBAC docs show next to each rule: why the command needs it.
describe('requiredRules: each rule says what the command does with it', () => {
  it.each<[PermissionQuery, [string, string][]]>([
    [
      {command: 'zombies', namespace: 'airflow', writes: 'real', db: {secret: {namespace: 'airflow'}, portForward: {namespace: 'db', service: 'pg'}}},
      [
        ["list pods @airflow", "list KubernetesPodOperator pods (metadata only)"],
        ["get pods @airflow", "read the phase of each finding"],
        ["delete pods @airflow", "delete zombie pods (UID-guarded)"],
        ["create events.events.k8s.io @airflow", "post an Event about each delete or patch"],
        ["list deployments.apps @airflow", "find the scheduler's DB connection setting"],
        ["list statefulsets.apps @airflow", "find the scheduler's DB connection setting"],
        ["get secrets @airflow", "read the DB URL from the Secret the scheduler uses"],
        ["list secrets @airflow", "find the <release>-airflow-metadata Secret when no scheduler workload exists"],
        ["get services pg @db", "read the DB Service's ports"],
        ["list endpointslices.discovery.k8s.io @db", "find a ready pod behind the DB Service"],
        ["get pods @db", "read the DB pod's named container port when its EndpointSlice gives none"],
        ["get pods/portforward @db", "port-forward to the DB pod"],
        ["create pods/portforward @db", "port-forward to the DB pod (checked since Kubernetes 1.35)"],
      ],
    ],
    [
      {command: 'overdue', namespace: 'airflow', writes: 'real'},
      [
        ["list pods @airflow", "list KubernetesPodOperator pods (metadata only)"],
        ["get pods @airflow", "read the phase of each finding"],
        ["delete pods @airflow", "delete overdue pods (UID-guarded)"],
        ["create events.events.k8s.io @airflow", "post an Event about each delete or patch"],
      ],
    ],
    [
      {command: 'unstick', namespace: 'ns', writes: 'real', unstick: {targets: [jobs, {resource: resolveResource('deployments'), name: 'web'}], deleteDependents: true, wait: true}},
      [
        ["list jobs.batch @ns", "list jobs being deleted (metadata only)"],
        ["get jobs.batch @ns", "read stuck Jobs for advice on ttlSecondsAfterFinished"],
        ["list pods @ns", "list the pods a stuck Job owns"],
        ["delete pods @ns", "delete the pods of a foreground deletion (--delete-dependents)"],
        ["patch jobs.batch @ns", "remove garbage-collector finalizers (guarded JSON patch)"],
        ["get deployments.apps web @ns", "read the named deployments"],
        ["list replicasets.apps @ns", "list the replicasets a stuck Deployment owns"],
        ["delete replicasets.apps @ns", "delete the replicasets of a foreground deletion (--delete-dependents)"],
        ["patch deployments.apps web @ns", "remove garbage-collector finalizers (guarded JSON patch)"],
        ["create events.events.k8s.io @ns", "post an Event about each delete or patch"],
      ],
    ],
    [
      {command: 'doctor', namespace: 'airflow'},
      [
        ["list pods @airflow", "count KubernetesPodOperator pods"],
      ],
    ],
  ])('%o', (query, expected) => {
    expect(requiredRules(query).map((r) => [`${describeRule(r)} @${r.namespace ?? '*'}`, r.purpose])).toEqual(expected)
  })
})

describe('merging and presenting the rules', () => {
  const rule = (r: Partial<ApiRule> & Pick<ApiRule, 'verb' | 'resource'>): ApiRule => ({group: '', purpose: 'p', ...r})

  it('a rule for some names is covered by the same rule for any name; a rule is best effort only when every use is', () => {
    const merged = requiredRules({
      command: 'unstick',
      namespace: 'ns',
      writes: 'real',
      events: false,
      unstick: {targets: [jobs, {resource: resolveResource('jobs'), name: 'j1'}], deleteDependents: false, wait: true},
    })
    // A type that is scanned has rules for any name, the named Job among them; the advice GET (best
    // effort) is also the --wait GET (required): required.
    expect(merged.map(short)).toEqual(['list jobs.batch @ns', 'get jobs.batch @ns', 'list pods @ns', 'patch jobs.batch @ns'])
    // No undefined fields: the rules are written out as YAML/JSON.
    for (const r of merged) for (const [field, value] of Object.entries(r)) expect(value, field).not.toBeUndefined()
    expect(merged.every((r) => !('bestEffort' in r) || r.bestEffort === true)).toBe(true)
  })

  it('a best-effort rule alone stays best effort; cluster-wide rules have no namespace field', () => {
    const [, , , event] = requiredRules({command: 'zombies', writes: 'real'})
    expect(event).toStrictEqual({verb: 'create', group: 'events.k8s.io', resource: 'events', purpose: 'post an Event about each delete or patch', bestEffort: true})
  })

  it('describeScope', () => {
    expect(describeScope(undefined)).toBe('in every namespace')
    expect(describeScope('airflow')).toBe('in namespace "airflow"')
  })

  it('policy rules: one per group, resource and names, verbs merged once and sorted, namespaces sorted, cluster-wide first', () => {
    const policies = policyRulesByNamespace([
      rule({verb: 'list', resource: 'pods', namespace: 'b'}),
      rule({verb: 'get', resource: 'pods', namespace: 'b'}),
      rule({verb: 'get', resource: 'pods', namespace: 'b', purpose: 'again'}),
      rule({verb: 'get', resource: 'pods', namespace: 'b', subresource: 'portforward'}),
      rule({verb: 'get', resource: 'secrets', namespace: 'b', resourceNames: ['s1']}),
      rule({verb: 'get', resource: 'secrets', namespace: 'b', resourceNames: ['s2']}),
      rule({verb: 'patch', resource: 'jobs', group: 'batch', namespace: 'a'}),
      rule({verb: 'list', resource: 'jobs', group: 'batch'}),
    ])
    expect(policies).toStrictEqual([
      {rules: [{apiGroups: ['batch'], resources: ['jobs'], verbs: ['list']}]},
      {namespace: 'a', rules: [{apiGroups: ['batch'], resources: ['jobs'], verbs: ['patch']}]},
      {
        namespace: 'b',
        rules: [
          {apiGroups: [''], resources: ['pods'], verbs: ['get', 'list']},
          {apiGroups: [''], resources: ['pods/portforward'], verbs: ['get']},
          {apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: ['s1']},
          {apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: ['s2']},
        ],
      },
    ])
  })
})
