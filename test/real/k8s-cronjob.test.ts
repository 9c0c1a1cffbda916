// Issue 18 §2 on a real kube-apiserver with --authorization-mode=RBAC: the manifests of
// `cronjob COMMAND` are accepted by `kubectl apply` (the kubectl built with the control plane); a run
// with the generated ServiceAccount's own token (TokenRequest, `kubectl create token`) and the
// CronJob's own args and env succeeds with no 403; with any one verb of the Role removed it fails
// naming that verb and resource (or, for the best-effort Event, warns) and deletes nothing; doctor's
// SelfSubjectAccessReviews agree both ways. `cronjob --apply` works through real server-side apply
// and refuses a foreign object of the same name.
// The pods here were created a moment ago and the real server stamps creationTimestamp itself, so
// the runs add `--min-age 0s` / `--older-than 1s` to the CronJob's args; nothing else is changed.
// No kubelet and no controller-manager: pods stay Pending and deleted Jobs keep their finalizers.
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import type {Report} from '../../src/core/report.js'
import {type TestAirflowDb, createPostgresAirflowDb} from '../support/airflow-db/index.js'
import {type CliWorkspace, cliWorkspace, runCli} from '../support/cli.js'
import {ZOMBIES_APPLY_CREATED, withoutOne} from '../support/cronjob-rbac.js'
import type {FakePolicyRule} from '../support/fake-kube/index.js'
import {kpoPodManifest} from '../support/kpo.js'
import {type RealKube, createAll, realKubeMissing, startRealKube} from '../support/real-kube.js'

// The built CLI against a real API server on a shared 2-core machine: one run can take 10-20 s.
vi.setConfig({testTimeout: 120_000, hookTimeout: 240_000})

const NS = 'airflow'
const DAG = 'cron_dag'
const RUN = 'scheduled__2026-11-30T00:00:00+00:00'
const PODS = `/api/v1/namespaces/${NS}/pods`
const ACCOUNT = `system:serviceaccount:${NS}:airflow-reap`

type Rule = FakePolicyRule

interface Manifest {
  kind: string
  metadata: {name: string}
  rules?: Rule[]
  spec?: any
}

interface Scenario {
  name: string
  args: string[]
  /** What makes the CronJob's args act on objects made a moment ago. */
  ageArgs: string[]
  /** Puts the objects the command acts on in place (again, after a run that acted). */
  seed: (kube: RealKube) => Promise<void>
  /** Per resource (as denials name it), whether the object a run would act on is still there. */
  stillThere: (kube: RealKube) => Promise<Record<string, boolean>>
  doctorSubject: string
  /** What a run acts on after seed. */
  findings: number
}

const jobBody = (name: string) => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: {name},
  spec: {template: {spec: {restartPolicy: 'Never', containers: [{name: 'main', image: 'busybox'}]}}},
})

const SCENARIOS: Scenario[] = [
  {
    name: 'zombies --delete --yes',
    args: ['zombies', '--delete', '--yes', '-n', NS],
    ageArgs: ['--min-age', '0s'],
    seed: async (kube) => {
      if ((await kube.request('GET', `${PODS}/zombie`)).status === 404) {
        await createAll(kube, PODS, [kpoPodManifest({name: 'zombie', dagId: DAG, taskId: 'zombie', runId: RUN, tryNumber: 1})], 1)
      }
    },
    stillThere: async (kube) => ({pods: (await kube.request('GET', `${PODS}/zombie`)).status === 200}),
    doctorSubject: 'zombies --delete --yes',
    findings: 1,
  },
  {
    name: 'unstick --yes',
    args: ['unstick', '--yes', '-n', NS],
    ageArgs: ['--older-than', '1s'],
    // A Job deleted with Orphan and a pod deleted with Foreground, both left Terminating (no garbage collector).
    seed: async (kube) => {
      const stuck: Array<[string, object, string]> = [
        [`/apis/batch/v1/namespaces/${NS}/jobs`, jobBody('export'), 'Orphan'],
        [PODS, {apiVersion: 'v1', kind: 'Pod', metadata: {name: 'stuck-pod'}, spec: {containers: [{name: 'main', image: 'busybox'}]}}, 'Foreground'],
      ]
      for (const [path, body, propagationPolicy] of stuck) {
        const name = (body as {metadata: {name: string}}).metadata.name
        if ((await kube.request('GET', `${path}/${name}`)).status !== 404) continue
        await createAll(kube, path, [body], 1)
        await kube.request('DELETE', `${path}/${name}`, {kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy})
      }
      await new Promise((resolve) => setTimeout(resolve, 1_100))
    },
    stillThere: async (kube) => ({
      'jobs.batch': (await kube.request('GET', `/apis/batch/v1/namespaces/${NS}/jobs/export`)).status === 200,
      pods: (await kube.request('GET', `${PODS}/stuck-pod`)).status === 200,
    }),
    doctorSubject: 'unstick --yes',
    findings: 2,
  },
]

describe.skipIf(realKubeMissing)(`cronjob on a real API server${realKubeMissing ? ` (skipped: ${realKubeMissing})` : ''}`, () => {
  let kube: RealKube
  let db: TestAirflowDb
  let admin: CliWorkspace

  beforeAll(async () => {
    ;[kube, db] = await Promise.all([startRealKube({controllerManager: false}), createPostgresAirflowDb('2.10')])
    admin = cliWorkspace(kube, {prefix: 'real-cronjob', namespace: NS, db})
    await db.seed.dagRun({dagId: DAG, runId: RUN})
    for (let i = 0; i < 4; i++) await db.seed.taskInstance({dagId: DAG, taskId: `healthy_${i}`, runId: RUN, state: 'running', tryNumber: 1})
    await db.seed.taskInstance({dagId: DAG, taskId: 'zombie', runId: RUN, state: 'success', tryNumber: 1})
    await createAll(kube, '/api/v1/namespaces', [NS, 'applied'].map((name) => ({apiVersion: 'v1', kind: 'Namespace', metadata: {name}})), 1)
    // The Secret --db-secret names, as a chart install has it: cronjob checks it exists before it prints.
    for (const namespace of [NS, 'applied']) createDbSecret(namespace)
    await createAll(kube, PODS, Array.from({length: 4}, (_, i) => kpoPodManifest({name: `healthy-${i}`, dagId: DAG, taskId: `healthy_${i}`, runId: RUN, tryNumber: 1})))
  }, 180_000)

  function createDbSecret(namespace: string): void {
    kube.kubectl(['create', 'secret', 'generic', 'airflow-metadata', '-n', namespace, `--from-literal=connection=${db.url}`])
  }

  afterAll(async () => {
    await kube?.stop()
    await db?.drop()
    admin?.remove()
  })

  describe.each(SCENARIOS)('$name, run as the generated ServiceAccount', (scenario) => {
    let role: Manifest
    let container: {args: string[]; env: Array<{name: string; value?: string; valueFrom?: unknown}>}
    let account: CliWorkspace

    beforeAll(async () => {
      const generated = await runCli(['cronjob', ...scenario.args, '--db-secret', 'airflow-metadata'], {env: admin.env})
      expect(generated.code, generated.stderr).toBe(0)
      // The YAML as printed, applied by the real kubectl to the real server.
      const applied = kube.kubectl(['apply', '-f', '-'], generated.stdout)
      expect(applied).toMatch(/role\.rbac\.authorization\.k8s\.io\/airflow-reap (created|configured|unchanged)/)
      const items = JSON.parse(kube.kubectl(['get', 'serviceaccount,role,rolebinding,cronjob', '-n', NS, '-l', 'app.kubernetes.io/name=airflow-reap', '-o', 'json'])).items as Manifest[]
      role = items.find((i) => i.kind === 'Role')!
      const cronJob = items.find((i) => i.kind === 'CronJob' && i.spec.jobTemplate.spec.template.spec.containers[0].args[0] === scenario.args[0])!
      container = cronJob.spec.jobTemplate.spec.template.spec.containers[0]
      const token = kube.kubectl(['create', 'token', 'airflow-reap', '-n', NS, '--duration', '1h']).trim()
      account = cliWorkspace({writeKubeconfig: (file, options) => kube.writeKubeconfig(file, {...options, token})}, {prefix: 'real-cronjob-sa', namespace: NS})
    }, 120_000)

    afterAll(() => account?.remove())

    /** The CronJob's container, as the kubelet would run it: its args, its env (the Secret's value given). */
    async function runAsCronJob(): Promise<{code: number | null; report?: Report; stderr: string}> {
      const env: Record<string, string> = {...account.env}
      for (const variable of container.env) env[variable.name] = variable.value ?? (variable.name === 'AIRFLOW_REAP_DB' ? db.url : '')
      const result = await runCli([...container.args, ...scenario.ageArgs], {env})
      return {code: result.code, report: result.stdout ? (JSON.parse(result.stdout) as Report) : undefined, stderr: result.stderr}
    }

    async function setRules(rules: Rule[]): Promise<void> {
      // Without a resourceVersion: an unconditional update.
      const metadata = {...role.metadata, resourceVersion: undefined, managedFields: undefined}
      const answer = await kube.request('PUT', `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/roles/airflow-reap`, {...role, metadata, rules})
      expect(answer.status).toBe(200)
      await untilAccessIs(rules)
    }

    /** RBAC reads Roles from an informer: wait until the account's access matches the rules just written. */
    async function untilAccessIs(rules: Rule[]): Promise<void> {
      const all = role.rules!.flatMap((r) => r.verbs.map((verb) => ({verb, group: r.apiGroups[0], resource: r.resources[0]})))
      const deadline = Date.now() + 20_000
      for (const {verb, group, resource} of all) {
        const granted = rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb))
        for (;;) {
          const review = await kube.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SubjectAccessReview',
            spec: {user: ACCOUNT, groups: ['system:serviceaccounts', `system:serviceaccounts:${NS}`, 'system:authenticated'], resourceAttributes: {namespace: NS, verb, group, resource}},
          })
          if (review.body.status.allowed === granted) break
          if (Date.now() > deadline) throw new Error(`RBAC did not settle for ${verb} ${resource}`)
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
      }
    }

    async function doctorCheck(): Promise<{status: string; message: string}> {
      const result = await runCli(['doctor', '-o', 'json'], {env: {...account.env, AIRFLOW_REAP_DB: db.url}})
      const report = JSON.parse(result.stdout) as {checks: Array<{check: string; subject?: string; status: string; message: string}>}
      return report.checks.find((c) => c.check === 'rbac' && c.subject === scenario.doctorSubject)!
    }

    it('succeeds with the generated Role: no 403, every finding acted on, its Events accepted; doctor agrees', async () => {
      await setRules(role.rules!)
      await scenario.seed(kube)
      const {code, report, stderr} = await runAsCronJob()
      expect(stderr).toBe('')
      expect(code).toBe(0)
      expect(report!.summary.acted).toBe(scenario.findings)
      expect(report!.summary.failed).toBe(0)
      expect(report!.warnings ?? []).toEqual([])
      expect(Object.values(await scenario.stillThere(kube)).some(Boolean)).toBe(false)
      expect(await doctorCheck()).toMatchObject({status: 'ok'})
    })

    it('with any one verb removed: a clear permission error (or, for an extra, a warning), what it needed untouched; doctor names it', async () => {
      const variants = withoutOne(role.rules!)
      expect(variants.length).toBeGreaterThanOrEqual(3)
      try {
        for (const variant of variants) {
          await scenario.seed(kube)
          await setRules(variant.rules)
          const {code, report, stderr} = await runAsCronJob()
          const denial = `cannot ${variant.verb} ${variant.resource} in namespace "${NS}"`
          const said = `${stderr}\n${(report?.warnings ?? []).join('\n')}\n${(report?.items ?? []).map((i) => i.error ?? '').join('\n')}`
          expect(said, `without ${variant.verb} ${variant.resource}`).toContain(denial)
          // A permission whose loss only costs something extra (an Event, an advice) is a warning of a
          // run that otherwise worked; any other fails the run, which then changed nothing.
          const lostOnlyExtras = report !== undefined && report.summary.failed === 0 && code === 0
          if (lostOnlyExtras) {
            expect(report!.warnings!.join('\n')).toContain(denial)
          } else {
            expect(code, `without ${variant.verb} ${variant.resource}`).toBe(1)
            // What the missing permission was needed for is left as it was (unstick acts per object:
            // without patch on jobs, the stuck pod is still freed).
            expect((await scenario.stillThere(kube))[variant.resource], `without ${variant.verb} ${variant.resource}`).toBe(true)
          }
          const doctor = await doctorCheck()
          expect(doctor.status, `doctor without ${variant.verb} ${variant.resource}`).not.toBe('ok')
          expect(doctor.message).toContain(`${variant.verb} ${variant.resource} in namespace "${NS}"`)
        }
      } finally {
        await setRules(role.rules!)
      }
    }, 240_000)
  })

  describe('cronjob --apply (real server-side apply)', () => {
    const apply = (extra: string[] = []) =>
      runCli(['cronjob', 'zombies', '--delete', '--yes', '-n', 'applied', '--db-secret', 'airflow-metadata', '--apply', ...extra], {env: admin.env})

    it('creates, leaves unchanged, then configures what changed', async () => {
      const first = await apply()
      expect(first.stderr).toBe('')
      expect(first.code).toBe(0)
      expect(first.stdout).toBe(ZOMBIES_APPLY_CREATED)
      const cronJob = JSON.parse(kube.kubectl(['get', 'cronjob', 'airflow-reap-zombies', '-n', 'applied', '-o', 'json', '--show-managed-fields']))
      expect(cronJob.metadata.managedFields.map((f: {manager: string; operation: string}) => `${f.manager}/${f.operation}`)).toEqual(['airflow-reap/Apply'])

      const again = await apply()
      expect(again.code, again.stderr).toBe(0)
      expect(again.stdout.trim().split('\n').every((line) => line.endsWith(' unchanged')), again.stdout).toBe(true)
      const after = JSON.parse(kube.kubectl(['get', 'cronjob', 'airflow-reap-zombies', '-n', 'applied', '-o', 'json']))
      expect(after.metadata.resourceVersion).toBe(cronJob.metadata.resourceVersion)

      const changed = await apply(['--schedule', '0 * * * *'])
      expect(changed.code, changed.stderr).toBe(0)
      expect(changed.stdout).toContain('cronjob.batch/airflow-reap-zombies configured')
      expect(changed.stdout).toContain('serviceaccount/airflow-reap unchanged')
      expect(kube.kubectl(['get', 'cronjob', 'airflow-reap-zombies', '-n', 'applied', '-o', 'jsonpath={.spec.schedule}'])).toBe('0 * * * *')
    })

    it("refuses a foreign object of the same name: one error line, its rules untouched", async () => {
      kube.kubectl(['create', 'namespace', 'foreign'])
      createDbSecret('foreign')
      kube.kubectl(['create', 'role', 'airflow-reap', '-n', 'foreign', '--verb=get', '--resource=configmaps'])
      const before = kube.kubectl(['get', 'role', 'airflow-reap', '-n', 'foreign', '-o', 'json'])
      const result = await runCli(['cronjob', 'zombies', '--delete', '--yes', '-n', 'foreign', '--db-secret', 'airflow-metadata', '--apply'], {env: admin.env})
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/^error: role\.rbac\.authorization\.k8s\.io\/airflow-reap already exists and is not airflow-reap's/)
      expect(result.stderr.trim().split('\n')).toHaveLength(1)
      expect(result.stdout).toBe('serviceaccount/airflow-reap created\n')
      expect(kube.kubectl(['get', 'role', 'airflow-reap', '-n', 'foreign', '-o', 'json'])).toBe(before)
    })
  })
})
