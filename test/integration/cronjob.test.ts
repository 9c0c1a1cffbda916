// Issue 14 §1: `cronjob COMMAND [flags]` generates manifests that are valid Kubernetes objects (checked
// against the OpenAPI schemas by kubernetes-models), hold exactly the RBAC the command uses (proved
// both ways against the fake's RBAC authorizer: the command succeeds with the generated Role, and
// fails naming the verb and resource with any single permission removed), and apply by server-side
// apply (created, unchanged, configured).
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import yaml from 'js-yaml'
import {ServiceAccount} from 'kubernetes-models/v1'
import {ClusterRole, ClusterRoleBinding, Role, RoleBinding} from 'kubernetes-models/rbac.authorization.k8s.io/v1'
import {CronJob} from 'kubernetes-models/batch/v1'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import type {Report} from '../../src/core/report.js'
import {type TestAirflowDb, createSqliteAirflowDb} from '../support/airflow-db/index.js'
import {runCli} from '../support/cli.js'
import {type FakeKube, type FakePolicyRule, startFakeKube} from '../support/fake-kube/index.js'
import {addKpoPod} from '../support/kpo.js'
import {ZOMBIES_APPLY_CREATED, withoutOne} from '../support/cronjob-rbac.js'

interface Manifest {
  apiVersion: string
  kind: string
  metadata: {name: string; namespace?: string; labels?: Record<string, string>}
  [field: string]: unknown
}

type Container = {args: string[]; env: Array<{name: string; value?: string; valueFrom?: {secretKeyRef?: {name: string; key: string}}}>; [k: string]: unknown}

const MODELS: Record<string, new (data: never) => {validate(): void}> = {
  'v1/ServiceAccount': ServiceAccount,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'batch/v1/CronJob': CronJob,
}

const DAG = 'cron_dag'
const RUN = 'scheduled__2026-11-30T00:00:00+00:00'
const VERSION = (await import('../../package.json', {with: {type: 'json'}})).default.version

let db: TestAirflowDb
let dir: string

beforeAll(async () => {
  db = await createSqliteAirflowDb('2.10')
  await db.seed.dagRun({dagId: DAG, runId: RUN})
  for (let i = 0; i < 4; i++) await db.seed.taskInstance({dagId: DAG, taskId: `healthy_${i}`, runId: RUN, state: 'running', tryNumber: 1})
  await db.seed.taskInstance({dagId: DAG, taskId: 'zombie', runId: RUN, state: 'success', tryNumber: 1})
  dir = mkdtempSync(path.join(tmpdir(), 'reap-cronjob-'))
})

afterAll(async () => {
  await db?.drop()
  rmSync(dir, {recursive: true, force: true})
})

async function generate(args: string[]): Promise<Manifest[]> {
  const result = await runCli(['cronjob', ...args, '-o', 'json'])
  expect(result.stderr).toBe('')
  expect(result.code).toBe(0)
  const list = JSON.parse(result.stdout) as {apiVersion: string; kind: string; items: Manifest[]}
  expect(list).toMatchObject({apiVersion: 'v1', kind: 'List'})
  for (const item of list.items) validate(item)
  return list.items
}

function validate(item: Manifest): void {
  const Model = MODELS[`${item.apiVersion}/${item.kind}`]
  expect(Model, `${item.apiVersion} ${item.kind}`).toBeDefined()
  new Model(item as never).validate()
}

const ofKind = (items: Manifest[], kind: string) => items.filter((i) => i.kind === kind)
const podSpecOf = (cronJob: Manifest) => (cronJob.spec as {jobTemplate: {spec: {template: {spec: Record<string, unknown>}}}}).jobTemplate.spec.template.spec
const containerOf = (cronJob: Manifest) => (podSpecOf(cronJob).containers as Container[])[0]

describe('cronjob: the manifests', () => {
  it('zombies --delete --yes: ServiceAccount, Role, RoleBinding and a hardened CronJob, valid against the OpenAPI schemas', async () => {
    const items = await generate(['zombies', '--delete', '--yes', '-n', 'airflow', '--db-secret', 'airflow-metadata'])
    expect(items.map((i) => `${i.kind}/${i.metadata.namespace}/${i.metadata.name}`)).toEqual([
      'ServiceAccount/airflow/airflow-reap',
      'Role/airflow/airflow-reap',
      'RoleBinding/airflow/airflow-reap',
      'CronJob/airflow/airflow-reap-zombies',
    ])
    const [account, role, binding, cronJob] = items
    expect(account.automountServiceAccountToken).toBe(false)
    expect(role.rules).toEqual([
      {apiGroups: [''], resources: ['pods'], verbs: ['delete', 'get', 'list']},
      {apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create']},
    ])
    expect(binding).toMatchObject({roleRef: {kind: 'Role', name: 'airflow-reap'}, subjects: [{kind: 'ServiceAccount', name: 'airflow-reap', namespace: 'airflow'}]})
    const spec = cronJob.spec as Record<string, unknown> & {jobTemplate: {spec: Record<string, unknown>}}
    expect(spec).toMatchObject({schedule: '*/15 * * * *', suspend: false, concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 300})
    expect(spec.jobTemplate.spec).toMatchObject({backoffLimit: 0, ttlSecondsAfterFinished: 86400, activeDeadlineSeconds: 600})
    const pod = podSpecOf(cronJob)
    expect(pod).toMatchObject({
      serviceAccountName: 'airflow-reap',
      automountServiceAccountToken: true,
      restartPolicy: 'Never',
      securityContext: {runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: {type: 'RuntimeDefault'}},
    })
    const container = containerOf(cronJob)
    expect(container).toMatchObject({
      image: `ghcr.io/airflow-reap/airflow-reap:${VERSION}`,
      securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: {drop: ['ALL']}},
      resources: {requests: {cpu: '100m', memory: '256Mi'}, limits: {memory: '512Mi'}},
    })
    // In the cluster the DB Service resolves: no port-forward (and no RBAC for one).
    expect(container.args).toEqual(['zombies', '-n', 'airflow', '--delete', '--yes', '--port-forward', 'never', '-o', 'json', '--no-cache'])
    expect(container.env).toContainEqual({name: 'AIRFLOW_REAP_DB', valueFrom: {secretKeyRef: {name: 'airflow-metadata', key: 'connection'}}})
  })

  it('never grants a wildcard or any access to secrets', async () => {
    const items = await generate(['-n', 'airflow', 'zombies', '--delete', '--yes', 'overdue', '--delete', '--yes', 'unstick', '--yes', '--db-secret', 'db:url'])
    const rules = ofKind(items, 'Role').flatMap((r) => r.rules as FakePolicyRule[])
    for (const rule of rules) {
      for (const field of [rule.apiGroups, rule.resources, rule.verbs]) expect(field).not.toContain('*')
      expect(rule.resources).not.toContain('secrets')
    }
    expect(JSON.stringify(items)).not.toMatch(/postgres|mysql|sqlite/)
  })

  it('YAML (the default) holds the same objects as the JSON List, one document each', async () => {
    const args = ['zombies', '--delete', '--yes', '-n', 'airflow', '--db-secret', 'airflow-metadata']
    const asYaml = await runCli(['cronjob', ...args])
    expect(asYaml.code).toBe(0)
    const documents = yaml.loadAll(asYaml.stdout)
    expect(documents).toEqual(await generate(args))
  })

  it('several commands: one CronJob each, sharing the account and one Role holding the union', async () => {
    const items = await generate(['-n', 'airflow', 'zombies', '--delete', '--yes', 'unstick', 'jobs', '--yes', '--schedule', '0 * * * *', '--db-secret', 'airflow-metadata'])
    expect(ofKind(items, 'ServiceAccount')).toHaveLength(1)
    expect(ofKind(items, 'Role')).toHaveLength(1)
    const cronJobs = ofKind(items, 'CronJob')
    expect(cronJobs.map((c) => c.metadata.name)).toEqual(['airflow-reap-zombies', 'airflow-reap-unstick'])
    for (const cronJob of cronJobs) {
      expect((cronJob.spec as {schedule: string}).schedule).toBe('0 * * * *')
      expect(podSpecOf(cronJob).serviceAccountName).toBe('airflow-reap')
    }
    expect(containerOf(cronJobs[1]).args).toEqual(['unstick', '-n', 'airflow', 'jobs', '--yes', '-o', 'json', '--no-cache'])
    const resources = (ofKind(items, 'Role')[0].rules as FakePolicyRule[]).map((r) => `${r.resources.join()}:${r.verbs.join()}`)
    expect(resources).toEqual(['pods:delete,get,list', 'events:create', 'jobs:get,list,patch'])
  })

  it('unstick alone needs no DB: no --db-secret, no cluster to find one in, no AIRFLOW_REAP_DB in its pod, no secrets in its Role', async () => {
    const items = await generate(['unstick', '--yes', '-n', 'airflow-jobs'])
    const [cronJob] = ofKind(items, 'CronJob')
    expect(containerOf(cronJob).env.map((e: {name: string}) => e.name)).toEqual(['AIRFLOW_REAP_APP_CACHE'])
    const resources = (ofKind(items, 'Role')[0].rules as FakePolicyRule[]).flatMap((r) => r.resources)
    expect(resources).not.toContain('secrets')
    // With another command that reads the DB, only that one's pod gets the Secret.
    const both = ofKind(await generate(['-n', 'airflow', 'zombies', '--delete', '--yes', 'unstick', '--yes', '--db-secret', 'db:url']), 'CronJob')
    expect(both.map((c) => containerOf(c).env.map((e: {name: string}) => e.name))).toEqual([['AIRFLOW_REAP_DB', 'AIRFLOW_REAP_APP_CACHE'], ['AIRFLOW_REAP_APP_CACHE']])
  })

  it('-A: a ClusterRole and ClusterRoleBinding named after the account\'s namespace', async () => {
    const items = await generate(['overdue', '--delete', '--yes', '-A', '--airflow-namespace', 'airflow', '--db-secret', 'airflow-metadata'])
    expect(items.map((i) => `${i.kind}/${i.metadata.name}`)).toEqual([
      'ServiceAccount/airflow-reap',
      'ClusterRole/airflow-reap-airflow',
      'ClusterRoleBinding/airflow-reap-airflow',
      'CronJob/airflow-reap-overdue',
    ])
    expect(ofKind(items, 'ClusterRole')[0].metadata.namespace).toBeUndefined()
    expect(containerOf(ofKind(items, 'CronJob')[0]).args.slice(0, 2)).toEqual(['overdue', '-A'])
  })

  it('--history-pvc mounts the volume and keeps the run store on it; --suspend, --image, --name-prefix', async () => {
    const items = await generate([
      'zombies', '-n', 'airflow', '--db-secret', 'airflow-metadata', '--history-pvc', 'reap-history',
      '--suspend', '--image', 'registry.example/reap:dev', '--name-prefix', 'reaper',
    ])
    const cronJob = ofKind(items, 'CronJob')[0]
    expect(cronJob.metadata.name).toBe('reaper-zombies')
    expect((cronJob.spec as {suspend: boolean}).suspend).toBe(true)
    const pod = podSpecOf(cronJob)
    expect(pod.volumes).toContainEqual({name: 'history', persistentVolumeClaim: {claimName: 'reap-history'}})
    expect(pod.securityContext).toMatchObject({fsGroup: 65532})
    const container = containerOf(cronJob)
    expect(container.image).toBe('registry.example/reap:dev')
    expect(container.args).toEqual(['zombies', '-n', 'airflow', '--port-forward', 'never', '-o', 'json', '--cache', '/var/lib/airflow-reap/runs.sqlite'])
    expect(container.volumeMounts).toContainEqual({name: 'history', mountPath: '/var/lib/airflow-reap'})
  })

  it('the Job deadline outlasts the command\'s own timeouts', async () => {
    const items = await generate(['unstick', 'jobs', '--yes', '--wait=5m', '--request-timeout', '5m', '-n', 'airflow', '--db-secret', 'airflow-metadata'])
    const job = (ofKind(items, 'CronJob')[0].spec as {jobTemplate: {spec: {activeDeadlineSeconds: number}}}).jobTemplate.spec
    expect(job.activeDeadlineSeconds).toBe(900 + 300)
  })

  const NS = ['-n', 'airflow']
  const SECRET = ['--db-secret', 'airflow-metadata']
  it.each([
    ['a typo in a flag of the command', ['zombies', '--delet', '--yes', ...NS, ...SECRET], /zombies: unknown flag: --delet/],
    ['a flag value the command refuses', ['zombies', '--min-age', 'soon', ...NS, ...SECRET], /zombies: invalid argument "soon" for "--min-age" flag: not a duration/],
    ["the command's own flag conflicts", ['zombies', '--yes', ...NS, ...SECRET], /--yes confirms --delete/],
    ['--delete without --yes (no terminal in a CronJob)', ['zombies', '--delete', ...NS, ...SECRET], /no terminal to confirm on: add --yes/],
    ['a literal DB URL', ['zombies', '--db', 'postgresql://u:secret@db/airflow', ...NS], /--db would write the DB URL/],
    ['a schedule Kubernetes cannot run', ['zombies', '--schedule', '*/15 * * *', ...NS, ...SECRET], /--schedule "\*\/15 \* \* \*": expected 5 fields/],
    ['a minute out of range', ['zombies', '--schedule', '61 * * * *', ...NS, ...SECRET], /minute "61"/],
    ['no command', ['--suspend', ...SECRET], /name the command to run/],
    ['a command named twice', ['zombies', 'zombies', ...NS, ...SECRET], /zombies is named twice/],
    ['a name prefix that is no DNS label', ['zombies', '--name-prefix', 'Airflow_Reap', ...NS, ...SECRET], /--name-prefix "Airflow_Reap"/],
    ['commands in different namespaces', ['zombies', '-n', 'a', 'unstick', '-n', 'b', ...SECRET], /act in the same namespace/],
  ])('refuses %s (exit 2, one error line)', async (_, args, message) => {
    const result = await runCli(['cronjob', ...args])
    expect(result.stderr).toMatch(message)
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    // One error line (and the usage hint every usage error gets).
    const [first, ...rest] = result.stderr.trim().split('\n')
    expect(first, result.stderr).toMatch(/^error: /)
    expect(rest.every((line) => line.startsWith("See '")), result.stderr).toBe(true)
    expect(result.stderr).not.toContain('secret@')
  })
})

// --- RBAC minimality, both ways ---------------------------------------------------------------

interface Scenario {
  name: string
  args: string[]
  seed: (kube: FakeKube) => void
}

const SCENARIOS: Scenario[] = [
  {
    name: 'zombies --delete --yes',
    args: ['zombies', '--delete', '--yes', '-n', 'airflow'],
    seed: (kube) => {
      for (let i = 0; i < 4; i++) addKpoPod(kube, {name: `healthy-${i}`, dagId: DAG, taskId: `healthy_${i}`, runId: RUN, tryNumber: 1})
      addKpoPod(kube, {name: 'zombie', dagId: DAG, taskId: 'zombie', runId: RUN, tryNumber: 1})
    },
  },
  {
    name: 'unstick --yes (jobs and pods)',
    args: ['unstick', '--yes', '-n', 'airflow'],
    seed: (kube) => {
      const deleted = new Date(Date.now() - 3_600_000).toISOString()
      kube.addObject('jobs', {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: {name: 'export', namespace: 'airflow', finalizers: ['orphan'], deletionTimestamp: deleted},
        spec: {template: {spec: {restartPolicy: 'Never', containers: [{name: 'main', image: 'busybox'}]}}},
      })
      kube.addPod({namespace: 'airflow', name: 'stuck-pod', finalizers: ['foregroundDeletion'], deletionTimestamp: deleted})
    },
  },
]

describe.each(SCENARIOS)('RBAC minimality: $name', (scenario) => {
  let kube: FakeKube
  let cronJobArgs: string[]
  let roleRules: FakePolicyRule[]

  beforeAll(async () => {
    const items = await generate([...scenario.args, '--db-secret', 'airflow-metadata'])
    roleRules = ofKind(items, 'Role')[0].rules as FakePolicyRule[]
    cronJobArgs = containerOf(ofKind(items, 'CronJob')[0]).args
  })

  beforeEach(async () => {
    kube = await startFakeKube({user: 'system:serviceaccount:airflow:airflow-reap'})
    scenario.seed(kube)
  })

  afterEach(async () => {
    await kube.close()
  })

  /** The CronJob's container arguments, run against the fake with these rules enforced. */
  async function runAsCronJob(rules: FakePolicyRule[]): Promise<{code: number | null; report?: Report; stderr: string}> {
    kube.enforceRbac([{name: 'airflow-reap', namespace: 'airflow', rules}])
    const kubeconfig = kube.writeKubeconfig(path.join(dir, `kubeconfig-${Math.random().toString(36).slice(2)}`), {contexts: [{name: 'in-cluster', namespace: 'airflow'}]})
    const result = await runCli(cronJobArgs, {env: {KUBECONFIG: kubeconfig, AIRFLOW_REAP_DB: db.url}})
    const report = result.stdout ? (JSON.parse(result.stdout) as Report) : undefined
    return {code: result.code, report, stderr: result.stderr}
  }

  it('succeeds with the generated Role, acting on every finding and posting its events', async () => {
    const {code, report, stderr} = await runAsCronJob(roleRules)
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(report!.summary.acted).toBeGreaterThan(0)
    expect(report!.summary.failed).toBe(0)
    expect(report!.warnings ?? []).toEqual([])
    expect(kube.listObjects('events', 'airflow').length).toBe(report!.summary.acted)
  })

  it('fails, naming the verb and resource, with any single permission removed', async () => {
    const variants = withoutOne(roleRules)
    expect(variants.length).toBeGreaterThan(2)
    for (const variant of variants) {
      await kube.close()
      kube = await startFakeKube({user: 'system:serviceaccount:airflow:airflow-reap'})
      scenario.seed(kube)
      const {code, report, stderr} = await runAsCronJob(variant.rules)
      const denial = `cannot ${variant.verb} ${variant.resource} in namespace "airflow"`
      // A permission whose loss only costs something (an Event, an advice) is a warning of a run
      // that otherwise worked; any other is a failed run. Either way the message says what is missing.
      const said = `${stderr}\n${(report?.warnings ?? []).join('\n')}\n${(report?.items ?? []).map((i) => i.error ?? '').join('\n')}`
      expect(said, `without ${variant.verb} ${variant.resource}`).toContain(denial)
      const lostOnlyExtras = report !== undefined && report.summary.failed === 0 && code === 0
      if (lostOnlyExtras) expect(report!.warnings!.join('\n')).toContain(denial)
      else expect(code, `without ${variant.verb} ${variant.resource}`).toBe(1)
    }
  }, 120_000)
})

describe('cronjob: the DB Secret found in the cluster', () => {
  let kube: FakeKube
  let kubeconfig: string

  beforeEach(async () => {
    kube = await startFakeKube()
    kubeconfig = kube.writeKubeconfig(path.join(dir, 'kubeconfig-discovery'), {contexts: [{name: 'admin', namespace: 'airflow'}]})
  })

  afterEach(async () => {
    await kube.close()
  })

  /** The official chart's scheduler: the connection variable from `<release>-airflow-metadata`, or a literal. */
  function scheduler(env: Record<string, unknown>): void {
    kube.addObject('deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {name: 'airflow-scheduler', namespace: 'airflow', labels: {component: 'scheduler', release: 'airflow', tier: 'airflow'}},
      spec: {template: {spec: {containers: [{name: 'scheduler', image: 'apache/airflow:2.10.5', env: [{name: 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN', ...env}]}]}}},
    })
  }

  it('refers to the Secret the scheduler takes its URL from, without reading it', async () => {
    scheduler({valueFrom: {secretKeyRef: {name: 'airflow-metadata', key: 'connection'}}})
    const result = await runCli(['cronjob', 'zombies', '--delete', '--yes', '--kubeconfig', kubeconfig, '-o', 'json'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const items = (JSON.parse(result.stdout) as {items: Manifest[]}).items
    for (const item of items) validate(item)
    const container = containerOf(ofKind(items, 'CronJob')[0])
    expect(container.env).toContainEqual({name: 'AIRFLOW_REAP_DB', valueFrom: {secretKeyRef: {name: 'airflow-metadata', key: 'connection'}}})
    expect(container.args).toContain('--port-forward')
    expect(kube.requests.some((r) => r.path.includes('/secrets'))).toBe(false)
    // The pod needs no RBAC on secrets: the kubelet resolves the secretKeyRef.
    expect(JSON.stringify(ofKind(items, 'Role')[0].rules)).not.toContain('secrets')
  })

  it('refuses a scheduler that sets the URL as a literal value (exit 2)', async () => {
    scheduler({value: 'postgresql://airflow:hunter2@airflow-pgbouncer:6543/airflow'})
    const result = await runCli(['cronjob', 'zombies', '--kubeconfig', kubeconfig])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/literal value.*--db-secret NAME\[:KEY\]/)
    expect(result.stderr).not.toContain('hunter2')
  })

  describe('--db-secret is verified when a cluster is configured', () => {
    const secret = (data: Record<string, string>) =>
      kube.addObject('secrets', {apiVersion: 'v1', kind: 'Secret', metadata: {name: 'airflow-airflow-metadata', namespace: 'airflow'}, data})

    it('a Secret that does not exist: exit 1, why, nothing printed', async () => {
      const result = await runCli(['cronjob', 'zombies', '--delete', '--yes', '--db-secret', 'airflow-metadata', '--kubeconfig', kubeconfig])
      expect(result.code).toBe(1)
      expect(result.stdout).toBe('')
      expect(result.stderr).toBe(
        "error: secret airflow/airflow-metadata does not exist, so the CronJob's pod would never start (the official chart names it <release>-airflow-metadata; kubectl get secrets -n airflow lists them; without --db-secret it is found in the cluster); pass --no-verify to write the manifests anyway\n",
      )
    })

    it('a key it does not hold: exit 1, naming the keys it has (never a value)', async () => {
      secret({url: Buffer.from('postgresql://u:hunter2@db/airflow').toString('base64')})
      const result = await runCli(['cronjob', 'zombies', '--delete', '--yes', '--db-secret', 'airflow-airflow-metadata', '--kubeconfig', kubeconfig])
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/^error: secret airflow\/airflow-airflow-metadata has no key "connection" \(its keys: url\)/)
      expect(result.stderr).not.toContain('hunter2')
    })

    it('there, with its key: the manifests; --no-verify does not ask', async () => {
      secret({connection: Buffer.from('postgresql://u:p@db/airflow').toString('base64')})
      const ok = await runCli(['cronjob', 'zombies', '--delete', '--yes', '--db-secret', 'airflow-airflow-metadata', '--kubeconfig', kubeconfig, '-o', 'json'])
      expect(ok).toMatchObject({code: 0, stderr: ''})
      const requests = kube.requests.length
      const unchecked = await runCli(['cronjob', 'zombies', '--delete', '--yes', '--db-secret', 'nope', '--no-verify', '--kubeconfig', kubeconfig, '-o', 'json'])
      expect(unchecked).toMatchObject({code: 0, stderr: ''})
      expect(kube.requests.length).toBe(requests)
    })
  })

  it('says what it looked for and names --db-secret when nothing is found (exit 2)', async () => {
    const result = await runCli(['cronjob', 'zombies', '--kubeconfig', kubeconfig])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/cannot find the Airflow DB in namespace "airflow".*--db-secret/)
  })
})

describe('cronjob: the pod\'s view', () => {
  it('the container runs with the in-cluster service account and the DB URL from its environment', async () => {
    const items = await generate(['zombies', '--delete', '--yes', '-n', 'airflow', '--db-secret', 'airflow-metadata'])
    const container = containerOf(ofKind(items, 'CronJob')[0])
    const kube = await startFakeKube({user: 'system:serviceaccount:airflow:airflow-reap'})
    const root = mkdtempSync(path.join(dir, 'pod-'))
    try {
      SCENARIOS[0].seed(kube)
      kube.enforceRbac([{name: 'airflow-reap', namespace: 'airflow', rules: ofKind(items, 'Role')[0].rules as FakePolicyRule[]}])
      const sa = path.join(root, 'var/run/secrets/kubernetes.io/serviceaccount')
      mkdirSync(sa, {recursive: true})
      writeFileSync(path.join(sa, 'token'), kube.token)
      writeFileSync(path.join(sa, 'ca.crt'), kube.caPem)
      writeFileSync(path.join(sa, 'namespace'), 'airflow')
      const result = await runCli(container.args, {
        env: {
          HOME: path.join(root, 'home'),
          KUBERNETES_SERVICE_HOST: '127.0.0.1',
          KUBERNETES_SERVICE_PORT: new URL(kube.url).port,
          AIRFLOW_REAP_IN_CLUSTER_ROOT: root,
          AIRFLOW_REAP_DB: db.url,
        },
      })
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
      const report = JSON.parse(result.stdout) as Report
      expect(report).toMatchObject({context: 'in-cluster', runId: null, summary: {acted: 1, failed: 0}})
      expect(kube.getObject('pods', 'airflow', 'zombie')).toBeUndefined()
    } finally {
      await kube.close()
    }
  })
})

// --- --apply: server-side apply ------------------------------------------------------------------

describe('cronjob --apply', () => {
  let kube: FakeKube
  let kubeconfig: string

  beforeEach(async () => {
    kube = await startFakeKube()
    kubeconfig = kube.writeKubeconfig(path.join(dir, 'kubeconfig-apply'), {contexts: [{name: 'admin', namespace: 'airflow'}]})
    // --db-secret is verified against the cluster: the Secret the CronJobs refer to exists.
    kube.addObject('secrets', {apiVersion: 'v1', kind: 'Secret', metadata: {name: 'airflow-metadata', namespace: 'airflow'}, data: {connection: Buffer.from('postgresql://u:p@db/airflow').toString('base64')}})
  })

  afterEach(async () => {
    await kube.close()
  })

  const apply = (extra: string[] = []) =>
    runCli(['cronjob', 'zombies', '--delete', '--yes', '--db-secret', 'airflow-metadata', '--apply', '--kubeconfig', kubeconfig, ...extra])

  it('creates, then leaves unchanged, then configures what changed, like kubectl apply', async () => {
    const first = await apply()
    expect(first.stderr).toBe('')
    expect(first.code).toBe(0)
    expect(first.stdout).toBe(ZOMBIES_APPLY_CREATED)
    const cronJob = kube.getObject('cronjobs', 'airflow', 'airflow-reap-zombies')!
    new CronJob(cronJob as never).validate()
    expect((cronJob.metadata.managedFields as Array<{manager: string; operation: string}>)[0]).toMatchObject({manager: 'airflow-reap', operation: 'Apply'})
    const patches = kube.requests.filter((r) => r.method === 'PATCH')
    expect(patches.every((r) => r.contentType === 'application/apply-patch+yaml' && r.query.fieldManager === 'airflow-reap' && r.query.force === 'true')).toBe(true)

    const again = await apply()
    expect(again.stdout.trim().split('\n').every((line) => line.endsWith(' unchanged'))).toBe(true)
    expect(kube.getObject('cronjobs', 'airflow', 'airflow-reap-zombies')!.metadata.resourceVersion).toBe(cronJob.metadata.resourceVersion)

    const changed = await apply(['--schedule', '0 * * * *'])
    expect(changed.stdout).toContain('cronjob.batch/airflow-reap-zombies configured')
    expect(changed.stdout).toContain('serviceaccount/airflow-reap unchanged')
    expect((kube.getObject('cronjobs', 'airflow', 'airflow-reap-zombies')!.spec as {schedule: string}).schedule).toBe('0 * * * *')
  })

  it('with -A creates the cluster-scoped ClusterRole and ClusterRoleBinding', async () => {
    const result = await runCli(['cronjob', 'zombies', '-A', '--airflow-namespace', 'airflow', '--db-secret', 'airflow-metadata', '--apply', '--kubeconfig', kubeconfig])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('clusterrole.rbac.authorization.k8s.io/airflow-reap-airflow created')
    expect(kube.getObject('clusterrolebindings', '', 'airflow-reap-airflow')).toMatchObject({roleRef: {kind: 'ClusterRole', name: 'airflow-reap-airflow'}})
  })

  it('an object of the same name that is not airflow-reap\'s is not taken over: one error line, its rules untouched', async () => {
    const rules = [{apiGroups: [''], resources: ['configmaps'], verbs: ['get']}]
    kube.addObject('roles', {apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: {namespace: 'airflow', name: 'airflow-reap'}, rules})
    const result = await apply()
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(
      'error: role.rbac.authorization.k8s.io/airflow-reap already exists and is not airflow-reap\'s (no label app.kubernetes.io/name=airflow-reap, app.kubernetes.io/instance=airflow-reap): nothing applied from it on; choose another --name-prefix, or remove it\n',
    )
    expect(result.stdout).toBe('serviceaccount/airflow-reap created\n')
    expect(kube.getObject('roles', 'airflow', 'airflow-reap')!.rules).toEqual(rules)
    expect(kube.requests.filter((r) => r.method === 'PATCH' && r.path.includes('/roles/'))).toEqual([])
  })

  it('an apply the API server refuses is an error naming it', async () => {
    kube.deny({verb: 'patch', resource: 'cronjobs', group: 'batch'})
    const result = await apply()
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^error: RBAC denied: cannot patch cronjobs\.batch in namespace "airflow"/)
  })
})
