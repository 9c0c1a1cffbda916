// cronjob for a command that reads Airflow's REST API (--airflow-url) instead of the DB: the pod takes
// the API's credentials from a Secret through secretKeyRef env (never a value in the manifest, never
// a flag value), reads no DB Secret, and runs as generated against the fake API and the fake cluster.
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {CronJob} from 'kubernetes-models/batch/v1'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Report} from '../../src/core/report.js'
import {cliWorkspace, runCli} from '../support/cli.js'
import {type FakeAirflowApi, type FakeFixture, startFakeAirflowApi} from '../support/fake-airflow-api/index.js'
import {startFakeKube} from '../support/fake-kube/index.js'
import type {FakePolicyRule} from '../support/fake-kube/index.js'
import {addKpoPod} from '../support/kpo.js'

type Env = Array<{name: string; value?: string; valueFrom?: {secretKeyRef?: {name: string; key: string}}}>
interface Manifest {
  kind: string
  metadata: {name: string; namespace?: string}
  [field: string]: unknown
}

const URL_GIVEN = 'https://airflow.example.com/deployments/d1'
const DAG = 'etl'
const RUN = 'scheduled__2026-11-30T00:00:00+00:00'
const TOKEN = 'eyJ-cronjob-token-s3cret'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'reap-cronjob-api-'))
})
afterAll(() => {
  rmSync(dir, {recursive: true, force: true})
})

/** The manifests, printed away from any cluster (no kubeconfig: nothing to find or verify). */
async function generate(args: string[]): Promise<Manifest[]> {
  const result = await runCli(['cronjob', ...args, '-o', 'json'], {env: {HOME: dir}})
  expect(result.stderr).toBe('')
  expect(result.code).toBe(0)
  const items = (JSON.parse(result.stdout) as {items: Manifest[]}).items
  for (const item of items.filter((i) => i.kind === 'CronJob')) new CronJob(item as never).validate()
  return items
}

const container = (items: Manifest[], index = 0) => {
  const cronJob = items.filter((i) => i.kind === 'CronJob')[index]!
  return (cronJob.spec as {jobTemplate: {spec: {template: {spec: {containers: Array<{args: string[]; env: Env}>}}}}}).jobTemplate.spec.template.spec.containers[0]!
}

describe('cronjob with the REST API source', () => {
  it('--airflow-token-secret: the token from the Secret as AIRFLOW_REAP_API_TOKEN, no DB Secret, the URL in the arguments', async () => {
    const items = await generate(['zombies', '--delete', '--yes', '-n', 'airflow', '--airflow-url', URL_GIVEN, '--airflow-token-secret', 'airflow-reap-api'])
    const {env, args} = container(items)
    expect(env).toEqual([
      {name: 'AIRFLOW_REAP_API_TOKEN', valueFrom: {secretKeyRef: {name: 'airflow-reap-api', key: 'token'}}},
      {name: 'AIRFLOW_REAP_APP_CACHE', value: '/tmp/airflow-reap'},
    ])
    expect(args).toEqual(expect.arrayContaining(['--airflow-url', URL_GIVEN]))
    // No rule for secrets: the kubelet resolves the reference.
    const role = items.find((i) => i.kind === 'Role') as unknown as {rules: FakePolicyRule[]}
    expect(role.rules.flatMap((r) => r.resources)).not.toContain('secrets')
  })

  it('--airflow-password-secret: username and password from its keys; a KEY for the token Secret', async () => {
    const items = await generate(['overdue', '-n', 'airflow', '--airflow-url', URL_GIVEN, '--airflow-password-secret', 'airflow-api-user'])
    expect(container(items).env.slice(0, 2)).toEqual([
      {name: 'AIRFLOW_REAP_API_USERNAME', valueFrom: {secretKeyRef: {name: 'airflow-api-user', key: 'username'}}},
      {name: 'AIRFLOW_REAP_API_PASSWORD', valueFrom: {secretKeyRef: {name: 'airflow-api-user', key: 'password'}}},
    ])
    const keyed = await generate(['overdue', '-n', 'airflow', '--airflow-url', URL_GIVEN, '--airflow-token-secret', 'astro:api-token'])
    expect(container(keyed).env[0]).toEqual({name: 'AIRFLOW_REAP_API_TOKEN', valueFrom: {secretKeyRef: {name: 'astro', key: 'api-token'}}})
  })

  it('beside a command on the DB, each pod gets only its own Secret', async () => {
    const items = await generate(['-n', 'airflow', 'zombies', '--airflow-url', URL_GIVEN, 'overdue', '--db-secret', 'airflow-metadata', '--airflow-token-secret', 'api'])
    expect([0, 1].map((i) => container(items, i).env.map((e) => e.name))).toEqual([
      ['AIRFLOW_REAP_API_TOKEN', 'AIRFLOW_REAP_APP_CACHE'],
      ['AIRFLOW_REAP_DB', 'AIRFLOW_REAP_APP_CACHE'],
    ])
  })

  it('--airflow-token-cmd in the command needs no Secret', async () => {
    const items = await generate(['zombies', '-n', 'airflow', '--airflow-url', URL_GIVEN, '--airflow-token-cmd', '/opt/token/print'])
    expect(container(items).env.map((e) => e.name)).toEqual(['AIRFLOW_REAP_APP_CACHE'])
  })

  it.each([
    [['zombies', '-n', 'airflow', '--airflow-url', URL_GIVEN], /zombies --airflow-url in a CronJob needs the API's credentials from a Secret: --airflow-token-secret/],
    [['zombies', '-n', 'airflow', '--db-secret', 'db', '--airflow-token-secret', 'api'], /are for a command that reads the Airflow REST API/],
    // The URL of this machine's environment is not the pod's.
    [['zombies', '-n', 'airflow', '--task-source', 'api', '--airflow-token-secret', 'api'], /--task-source api in a CronJob needs --airflow-url/, {AIRFLOW_REAP_API_URL: URL_GIVEN}],
    [['zombies', '-n', 'airflow', '--airflow-url', URL_GIVEN, '--airflow-token-secret', 'a', '--airflow-password-secret', 'b'], /cannot also be provided when using/],
  ] as Array<[string[], RegExp, Record<string, string>?]>)('refuses %j (exit 2)', async (args, message, env = {}) => {
    const result = await runCli(['cronjob', ...args], {env: {HOME: dir, ...env}})
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(message)
  })
})

describe('cronjob with the REST API source: the credentials Secret is verified when a cluster can be asked', () => {
  it('a missing Secret, or one without the key, is exit 1 naming what to create; present, the manifests print', async () => {
    const kube = await startFakeKube()
    const {env, dir: workspace} = cliWorkspace(kube, {prefix: 'cronjob-api-verify', namespace: 'airflow'})
    try {
      const args = ['cronjob', 'zombies', '-n', 'airflow', '--airflow-url', URL_GIVEN, '-o', 'json']
      const missing = await runCli([...args, '--airflow-token-secret', 'airflow-reap-api'], {env})
      expect(missing.code).toBe(1)
      expect(missing.stderr).toContain('secret airflow/airflow-reap-api does not exist')
      expect(missing.stderr).toContain("create it in airflow, the CronJob's namespace")
      expect(missing.stderr).not.toContain('airflow-metadata')
      kube.addSecret('airflow', 'airflow-api-user', {username: 'reaper'})
      const keyless = await runCli([...args, '--airflow-password-secret', 'airflow-api-user'], {env})
      expect(keyless.code).toBe(1)
      expect(keyless.stderr).toContain('has no key "password"')
      kube.addSecret('airflow', 'airflow-reap-api', {token: TOKEN})
      const present = await runCli([...args, '--airflow-token-secret', 'airflow-reap-api'], {env})
      expect(present.code, present.stderr).toBe(0)
      expect(present.stdout).not.toContain(TOKEN)
    } finally {
      await kube.close()
      rmSync(workspace, {recursive: true, force: true})
    }
  })
})

describe("cronjob with the REST API source: the pod's view", () => {
  let api: FakeAirflowApi

  afterAll(async () => {
    await api?.stop()
  })

  it('the container, given the token as the kubelet gives it, judges the pods through the API', async () => {
    const fixture: FakeFixture = {
      dags: [{dagId: DAG, tasks: [{taskId: 'live', executionTimeout: null}, {taskId: 'done', executionTimeout: null}]}],
      runs: [{dagId: DAG, runId: RUN, state: 'running'}],
      taskInstances: [
        {dagId: DAG, runId: RUN, taskId: 'live', mapIndex: -1, tryNumber: 1, state: 'running'},
        {dagId: DAG, runId: RUN, taskId: 'done', mapIndex: -1, tryNumber: 1, state: 'success'},
      ],
      xcoms: [],
    }
    api = await startFakeAirflowApi({personality: 'v2', version: '3.3.2', auth: {kind: 'proxy', token: TOKEN}}, fixture)
    const items = await generate(['zombies', '--min-age', '0s', '-n', 'airflow', '--airflow-url', api.url, '--airflow-token-secret', 'api'])
    const {args} = container(items)
    const kube = await startFakeKube({user: 'system:serviceaccount:airflow:airflow-reap'})
    const root = mkdtempSync(path.join(dir, 'pod-'))
    try {
      addKpoPod(kube, {name: 'live', namespace: 'airflow', dagId: DAG, taskId: 'live', runId: RUN, tryNumber: 1})
      addKpoPod(kube, {name: 'done', namespace: 'airflow', dagId: DAG, taskId: 'done', runId: RUN, tryNumber: 1})
      kube.enforceRbac([{name: 'airflow-reap', namespace: 'airflow', rules: (items.find((i) => i.kind === 'Role') as unknown as {rules: FakePolicyRule[]}).rules}])
      const sa = path.join(root, 'var/run/secrets/kubernetes.io/serviceaccount')
      mkdirSync(sa, {recursive: true})
      writeFileSync(path.join(sa, 'token'), kube.token)
      writeFileSync(path.join(sa, 'ca.crt'), kube.caPem)
      writeFileSync(path.join(sa, 'namespace'), 'airflow')
      const result = await runCli(args, {
        env: {
          HOME: path.join(root, 'home'),
          KUBERNETES_SERVICE_HOST: '127.0.0.1',
          KUBERNETES_SERVICE_PORT: new URL(kube.url).port,
          AIRFLOW_REAP_IN_CLUSTER_ROOT: root,
          AIRFLOW_REAP_API_TOKEN: TOKEN,
        },
      })
      expect(result.code, result.stderr).toBe(0)
      const report = JSON.parse(result.stdout) as Report
      expect(report.source).toMatchObject({kind: 'api', api: 'v2', auth: 'token'})
      expect(report.items.map((i) => i.name)).toEqual(['done'])
      expect(result.stdout + result.stderr).not.toContain(TOKEN)
      expect(api.log.every((r) => r.authScheme === undefined || r.authScheme === 'Bearer')).toBe(true)
    } finally {
      await kube.close()
    }
  })
})
