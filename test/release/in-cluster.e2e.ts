// The release's single executable run the way the CronJob's pod runs it: laid out as the Dockerfile
// lays it out, started with the container arguments and environment the generated CronJob gives it
// (the DB URL in AIRFLOW_REAP_DB as the secretKeyRef would put it, the app cache in /tmp), with no
// kubeconfig but the in-cluster service account (token, CA and namespace files; KUBERNETES_SERVICE_HOST
// and _PORT pointing at the fake API server), no Node.js and no shell on PATH, a home it cannot
// write to, and only the generated Role's permissions enforced by the fake.
//
// Run by `npm run test:release` (which builds the release first if it is missing).
import {type CliResult, runProcess} from '../support/cli.js'
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {hostname, tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Report} from '../../src/core/report.js'
import {type SqliteTestAirflowDb, createSqliteAirflowDb} from '../support/airflow-db/index.js'
import {type FakeKube, type FakePolicyRule, startFakeKube} from '../support/fake-kube/index.js'
import {addKpoPod} from '../support/kpo.js'
import {contextCopySources, readDockerfile} from '../support/release/image.js'
import {EXECUTABLE, hostArchive, hostPlatform, readTar} from '../support/release/index.js'

const DAG = 'pod_dag'
const RUN = 'scheduled__2026-11-30T00:00:00+00:00'
const SERVICE_ACCOUNT = 'var/run/secrets/kubernetes.io/serviceaccount'


/** Asynchronous on purpose: the fake API server lives in this process and must answer meanwhile. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<CliResult> {
  return runProcess(command, args, {env, cwd, timeoutMs: 90_000})
}

const archive = hostArchive()
const runnable = archive !== null && hostPlatform()?.os === 'linux'

describe.runIf(runnable)('the release executable as the CronJob pod runs it', () => {
  let root: string
  let executable: string
  let db: SqliteTestAirflowDb
  let kube: FakeKube

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'airflow-reap-pod-'))
    // The image's file layout: the Dockerfile's COPY of the archive's executable.
    const [source] = contextCopySources(readDockerfile()[0], {TARGETOS: hostPlatform()!.os, TARGETARCH: hostPlatform()!.arch})
    expect(path.basename(source)).toBe(path.basename(archive!))
    const entry = readTar(readFileSync(archive!)).find((e) => e.name === EXECUTABLE)!
    executable = path.join(root, 'usr', 'local', 'bin', EXECUTABLE)
    mkdirSync(path.dirname(executable), {recursive: true})
    writeFileSync(executable, entry.data)
    chmodSync(executable, 0o755)
    mkdirSync(path.join(root, 'tmp'), {recursive: true, mode: 0o1777})
    // A home that exists but cannot be written (readOnlyRootFilesystem).
    mkdirSync(path.join(root, 'home', 'nonroot'), {recursive: true})
    chmodSync(path.join(root, 'home', 'nonroot'), 0o555)

    db = await createSqliteAirflowDb('2.10')
    await db.seed.dagRun({dagId: DAG, runId: RUN})
    for (let i = 0; i < 3; i++) await db.seed.taskInstance({dagId: DAG, taskId: `live_${i}`, runId: RUN, state: 'running', tryNumber: 1})
    await db.seed.taskInstance({dagId: DAG, taskId: 'done', runId: RUN, state: 'success', tryNumber: 1})
    kube = await startFakeKube({user: 'system:serviceaccount:airflow:airflow-reap'})
    for (let i = 0; i < 3; i++) addKpoPod(kube, {name: `live-${i}`, dagId: DAG, taskId: `live_${i}`, runId: RUN, tryNumber: 1})
    addKpoPod(kube, {name: 'zombie', dagId: DAG, taskId: 'done', runId: RUN, tryNumber: 1})

    // The projected service account volume.
    const sa = path.join(root, SERVICE_ACCOUNT)
    mkdirSync(sa, {recursive: true})
    writeFileSync(path.join(sa, 'token'), `${kube.token}\n`)
    writeFileSync(path.join(sa, 'ca.crt'), kube.caPem)
    writeFileSync(path.join(sa, 'namespace'), 'airflow')
  }, 120_000)

  afterAll(async () => {
    await kube?.close()
    await db?.drop()
    if (root) {
      chmodSync(path.join(root, 'home', 'nonroot'), 0o755)
      rmSync(root, {recursive: true, force: true})
    }
  })

  it('generates its own CronJob, then runs it with the in-cluster account, the DB URL from env and only the generated Role', async () => {
    // `cronjob` run by the release executable itself, on a laptop: no cluster needed with --db-secret and -n.
    const laptop = {PATH: '/nonexistent', HOME: path.join(root, 'laptop-home'), XDG_CACHE_HOME: path.join(root, 'laptop-cache'), NO_COLOR: '1', LANG: 'C.UTF-8'}
    const generated = await run(executable, ['cronjob', 'zombies', '--delete', '--yes', '-n', 'airflow', '--db-secret', 'airflow-metadata', '-o', 'json'], laptop, root)
    expect(generated.stderr).toBe('')
    expect(generated.code).toBe(0)
    const items = (JSON.parse(generated.stdout) as {items: Array<{kind: string; rules?: FakePolicyRule[]; spec?: unknown}>}).items
    const role = items.find((i) => i.kind === 'Role')!
    const cronJob = items.find((i) => i.kind === 'CronJob')! as {spec: {jobTemplate: {spec: {template: {spec: {containers: Array<{args: string[]; env: Array<{name: string; value?: string; valueFrom?: unknown}>}>}}}}}}
    const container = cronJob.spec.jobTemplate.spec.template.spec.containers[0]

    kube.enforceRbac([{name: 'airflow-reap', namespace: 'airflow', rules: role.rules!}])
    const env: NodeJS.ProcessEnv = {
      PATH: '/nonexistent',
      HOME: path.join(root, 'home', 'nonroot'),
      TMPDIR: path.join(root, 'tmp'),
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      KUBERNETES_SERVICE_PORT: new URL(kube.url).port,
      AIRFLOW_REAP_IN_CLUSTER_ROOT: root,
    }
    for (const variable of container.env) {
      // What the kubelet does with the secretKeyRef: the Secret's value, in the environment.
      if (variable.valueFrom) env[variable.name] = db.url
      else env[variable.name] = variable.value!.startsWith('/tmp/') ? path.join(root, variable.value!) : variable.value
    }
    expect(Object.keys(env)).toContain('AIRFLOW_REAP_DB')

    const result = await run(executable, container.args, env, root)
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const report = JSON.parse(result.stdout) as Report
    expect(report).toMatchObject({kind: 'ZombieReport', runId: null, context: 'in-cluster', dryRun: false})
    expect(report.summary).toMatchObject({scanned: 4, found: 1, acted: 1, failed: 0})
    expect(kube.listObjects('pods', 'airflow').map((p) => p.metadata.name).sort()).toEqual(['live-0', 'live-1', 'live-2'])
    const [event] = kube.listObjects('events', 'airflow')
    expect(event).toMatchObject({reason: 'ZombiePodDeleted', reportingInstance: `airflow-reap-${hostname()}`, regarding: {name: 'zombie'}})
    // Every request carried the service account's token; nothing was recorded locally (--no-cache).
    expect(kube.requests.every((r) => r.authenticated)).toBe(true)
  }, 120_000)
})
