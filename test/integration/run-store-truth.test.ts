// The run store tells the truth (issue 11 §2): a run is recorded before anything can fail, each delete
// is journaled as it happens, a crash leaves a `crashed` run whose applied deletes are `deleted` or
// `unknown` (never lost), a delete whose answer was lost is settled by reading the pod back, and a run
// with a failed action is never `ok`. Real child processes, real signals, the fake API server.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {closedPort} from '../support/faults.js'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import type {ReportItem} from '../../src/core/report.js'
import {type TestAirflowDb, createSqliteAirflowDb} from '../support/airflow-db/index.js'
import {runCli} from '../support/cli.js'
import {historyOf, reportOf, showRun} from '../support/run-history.js'
import {runOnPty} from '../support/pty.js'
import {type FakeKube, startFakeKube} from '../support/fake-kube/index.js'
import {addZombiePods, seedFinishedTasks} from '../support/kpo.js'

const DAG = 'truth_dag'
const RUN = 'scheduled__2026-11-22T00:00:00+00:00'
const ZOMBIES = 30
const ZOMBIE_SET = {dagId: DAG, runId: RUN, count: ZOMBIES}

let db: TestAirflowDb
let dir: string
let kube: FakeKube
let env: Record<string, string>

beforeAll(async () => {
  db = await createSqliteAirflowDb('2.10')
  await seedFinishedTasks(db, ZOMBIE_SET)
})

afterAll(async () => {
  await db?.drop()
})

async function startCluster(latencyMs = 0, zombies = true): Promise<void> {
  kube = await startFakeKube({latencyMs})
  const kubeconfig = kube.writeKubeconfig(path.join(dir, 'kubeconfig'), {contexts: [{name: 'prod', namespace: 'airflow'}]})
  env = {KUBECONFIG: kubeconfig, AIRFLOW_REAP_DB: db.url, AIRFLOW_REAP_CACHE: path.join(dir, 'runs.sqlite')}
  if (zombies) addZombiePods(kube, ZOMBIE_SET)
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'reap-truth-'))
})

afterEach(async () => {
  await kube?.close()
  rmSync(dir, {recursive: true, force: true})
})

const REAP = ['zombies', '--delete', '--yes', '--allow-mass-delete', '-o', 'json']
const podNames = () => new Set(kube.listObjects('pods').map((p) => p.metadata.name as string))
const deletedByFake = () => Array.from({length: ZOMBIES}, (_, i) => `zombie-${i}`).filter((name) => !podNames().has(name))

const history = () => historyOf(env)

const show = (runId: number) => showRun(env, runId)

const item = (report: {items: ReportItem[]}, name: string) => report.items.find((i) => i.name === name)!


describe('a run is recorded before anything can fail', () => {
  beforeEach(() => startCluster())

  it.each([
    ['the DB refuses the connection', async () => `postgresql://postgres@127.0.0.1:${await closedPort()}/airflow`, /cannot connect|refused|ECONNREFUSED/i],
    ['the DB refuses the login', async () => 'mysql://root:wrong-Passw0rd@127.0.0.1:3306/mysql', /denied|authenticat|password/i],
    ['the DB has no Airflow schema', async () => {
      const file = path.join(dir, 'empty.db')
      writeFileSync(file, '')
      return `sqlite:///${file}`
    }, /schema|not an Airflow|table/i],
  ])('%s: history shows the run failed, with its one-line error and no password', async (_case, url, pattern) => {
    const dbUrl = await url()
    const result = await runCli(REAP, {env: {...env, AIRFLOW_REAP_DB: dbUrl}})
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^error: /)
    const [run] = (await history()).items
    expect(run).toMatchObject({command: 'zombies', context: 'prod', namespace: 'airflow', outcome: 'failed'})
    expect(run.finishedAt).not.toBeNull()
    expect(run.error).toMatch(pattern)
    expect(run.error).not.toContain('\n')
    expect(JSON.stringify(run)).not.toContain('wrong-Passw0rd')
  })

  it('a kubeconfig that cannot be read: history shows the run failed, with the error', async () => {
    const broken = path.join(dir, 'broken-kubeconfig')
    writeFileSync(broken, 'apiVersion: v1\nkind: Config\nclusters: [[[\n')
    const result = await runCli([...REAP, '--kubeconfig', broken, '--context', 'nowhere'], {env})
    expect(result.code).not.toBe(0)
    const [run] = (await history()).items
    expect(run).toMatchObject({command: 'zombies', outcome: 'failed', context: 'nowhere'})
    expect(run.error).toBeTruthy()
    expect(run.error).toBe(result.stderr.replace(/^error: /, '').trim())
  })
})

describe('a crash mid-way through deletions', () => {
  it('SIGKILL during 30 deletes: history shows the run crashed, every delete the cluster saw is deleted or unknown, none lost', async () => {
    await startCluster(150)
    let killedAt = 0
    const result = await runCli([...REAP, '--concurrency', '3'], {
      env,
      timeoutMs: 120_000,
      onSpawn: (child) => {
        kube.beforeRequest((request) => {
          if (request.method !== 'DELETE' || killedAt) return
          if (kube.requests.filter((r) => r.method === 'DELETE').length >= 10) {
            killedAt = Date.now()
            child.kill('SIGKILL')
          }
        })
      },
    })
    expect(result.code).toBeNull() // killed, no exit code
    expect(killedAt).toBeGreaterThan(0)
    await new Promise((resolve) => setTimeout(resolve, 500)) // let the fake finish the requests it had
    const applied = deletedByFake()
    expect(applied.length).toBeGreaterThanOrEqual(9)
    expect(applied.length).toBeLessThan(ZOMBIES)

    const [run] = (await history()).items
    expect(run).toMatchObject({command: 'zombies', dryRun: false, outcome: 'crashed'})
    expect(run.error).toMatch(/ended without recording an outcome/)
    const stored = await show(run.runId)
    expect(stored.outcome).toBe('crashed')
    expect(stored.items).toHaveLength(ZOMBIES) // the findings were journaled before the first delete
    for (const name of applied) expect(['deleted', 'unknown']).toContain(item(stored, name).action)
    for (const entry of stored.items.filter((i) => i.action === 'unknown')) expect(entry.error).toMatch(/may have been applied/)
    // Nothing is recorded deleted that the cluster still has.
    for (const entry of stored.items.filter((i) => i.action === 'deleted')) expect(podNames().has(entry.name)).toBe(false)
    expect(stored.summary).toMatchObject({found: ZOMBIES, unknown: stored.items.filter((i) => i.action === 'unknown').length})
    // A second look says the same: the crash is recorded, not recomputed differently.
    expect((await history()).items[0]).toMatchObject({runId: run.runId, outcome: 'crashed', summary: stored.summary})
  }, 180_000)
})

describe('a delete whose answer is lost is settled by reading the pod back', () => {
  beforeEach(() => startCluster())

  it('applied, then answered after the request timeout: deleted, and the run is ok', async () => {
    kube.inject({method: 'DELETE', pathIncludes: '/pods/zombie-3', status: 200, body: {kind: 'Status', apiVersion: 'v1', status: 'Success'}, apply: true, delayMs: 8000})
    const result = await runCli([...REAP, '--request-timeout', '3s'], {env})
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const report = reportOf(result.stdout)
    expect(item(report, 'zombie-3')).toMatchObject({action: 'deleted'})
    expect(item(report, 'zombie-3').detail).toMatch(/no clear answer \(.*no answer from the Kubernetes API .* within 3s.*\), and the pod is gone/)
    expect(report.summary).toMatchObject({acted: ZOMBIES, failed: 0, unknown: 0})
    expect((await history()).items[0]).toMatchObject({outcome: 'ok'})
  })

  it('applied, then the connection reset on every attempt: deleted', async () => {
    kube.inject({method: 'DELETE', pathIncludes: '/pods/zombie-4', status: 200, apply: true, reset: true, times: Infinity})
    const result = await runCli(REAP, {env})
    const report = reportOf(result.stdout)
    expect(deletedByFake()).toContain('zombie-4')
    expect(item(report, 'zombie-4')).toMatchObject({action: 'deleted'})
    expect(result.code).toBe(0)
  })

  it('not applied, 500 on every attempt: failed (the pod is still there), exit 1, run failed', async () => {
    kube.inject({method: 'DELETE', pathIncludes: '/pods/zombie-5', status: 500, times: Infinity, body: {kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'etcdserver: leader changed', reason: 'InternalError', code: 500}})
    const result = await runCli(REAP, {env, timeoutMs: 120_000})
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^error: 1 of 30 actions failed \(first: pod\/airflow\/zombie-5: .*HTTP 500.*still there/)
    const report = reportOf(result.stdout)
    expect(item(report, 'zombie-5')).toMatchObject({action: 'failed'})
    expect(podNames().has('zombie-5')).toBe(true)
    const [run] = (await history()).items
    expect(run).toMatchObject({outcome: 'failed', summary: {acted: ZOMBIES - 1, failed: 1, unknown: 0}})
  }, 120_000)

  it('applied, answered late, and the pod cannot be read back: unknown, counted apart, run failed', async () => {
    kube.inject({method: 'DELETE', pathIncludes: '/pods/zombie-6', status: 200, apply: true, delayMs: 8000})
    // Reads of the pod after its DELETE (not the scan's) hang past every deadline.
    const deleteSent = () => kube.requests.some((r) => r.method === 'DELETE' && r.path.endsWith('/pods/zombie-6'))
    kube.inject({method: 'GET', pathIncludes: '/pods/zombie-6', match: deleteSent, status: 200, delayMs: 8000, times: Infinity})
    const result = await runCli([...REAP, '--request-timeout', '3s'], {env})
    expect(result.code).toBe(1)
    const report = reportOf(result.stdout)
    expect(item(report, 'zombie-6')).toMatchObject({action: 'unknown'})
    expect(item(report, 'zombie-6').error).toMatch(/within 3s.*; the DELETE may have been applied, and reading the pod back failed too \(no answer within 1s\)$/)
    expect(report.summary).toMatchObject({acted: ZOMBIES - 1, failed: 0, unknown: 1})
    expect(result.stderr).toMatch(/^error: 1 of 30 actions have an unknown outcome/)
    const [run] = (await history()).items
    expect(run).toMatchObject({outcome: 'failed', summary: report.summary})
    expect((await show(run.runId)).items.find((i) => i.name === 'zombie-6')).toMatchObject({action: 'unknown'})
  })
})

describe('failed actions make a failed run', () => {
  beforeEach(() => startCluster())

  it('403 on delete: the rest are not sent; exit 1 naming the missing permission, history failed with the RBAC error', async () => {
    kube.deny({verb: 'delete', resource: 'pods'})
    const result = await runCli([...REAP, '--concurrency', '10'], {env})
    expect(result.code).toBe(1)
    expect(kube.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1)
    expect(result.stderr).toMatch(/^error: 1 of 1 actions failed \(first: pod\/airflow\/zombie-\d+: RBAC denied: cannot delete pods in namespace "airflow" \(user "[^"]+"\)\); 29 more not sent: grant that permission and run again\n$/)
    const report = reportOf(result.stdout)
    expect(report.items.filter((i) => i.skipReason === 'not-permitted')).toHaveLength(ZOMBIES - 1)
    const [run] = (await history()).items
    expect(run).toMatchObject({outcome: 'failed', summary: {acted: 0, failed: 1, skipped: ZOMBIES - 1}})
    expect(run.error).toMatch(/RBAC denied: cannot delete pods/)
  })

  it('a 429 storm on every delete: exit 1, history failed, nothing recorded deleted', async () => {
    kube.inject({method: 'DELETE', status: 429, times: Infinity, headers: {'Retry-After': '0'}, body: 'Too many requests, please try again later.\n'})
    const result = await runCli(REAP, {env, timeoutMs: 120_000})
    expect(result.code).toBe(1)
    expect(podNames().size).toBe(ZOMBIES)
    expect((await history()).items[0]).toMatchObject({outcome: 'failed', summary: {acted: 0, failed: ZOMBIES, unknown: 0}})
  }, 120_000)

  it('401 mid-run: exit 1, history failed', async () => {
    kube.inject({method: 'DELETE', status: 401, times: Infinity, body: {kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401}})
    const result = await runCli(REAP, {env})
    expect(result.code).toBe(1)
    expect(podNames().size).toBe(ZOMBIES)
    expect((await history()).items[0]).toMatchObject({outcome: 'failed', summary: {acted: 0, failed: ZOMBIES, unknown: 0}})
  })

  it('the API server dies mid-run: exit 1, history failed, nothing recorded deleted that was not', async () => {
    kube.beforeRequest(async (request) => {
      if (request.method === 'DELETE') await kube.close()
    })
    const result = await runCli([...REAP, '--request-timeout', '3s'], {env, timeoutMs: 120_000})
    expect(result.code).toBe(1)
    const [run] = (await history()).items
    expect(run.outcome).toBe('failed')
    const stored = await show(run.runId)
    // Every zombie was found and is accounted for: the loops below cannot pass on an empty run.
    expect(stored.items).toHaveLength(ZOMBIES)
    for (const entry of stored.items) expect(['failed', 'unknown', 'skipped', 'deleted']).toContain(entry.action)
    for (const entry of stored.items.filter((i) => i.action === 'deleted')) expect(podNames().has(entry.name)).toBe(false)
  }, 120_000)
})

describe('SIGINT during deletes', () => {
  it('in-flight deletes are answered within the grace and recorded deleted; the run is interrupted', async () => {
    await startCluster(300)
    let signalled = 0
    const result = await runCli([...REAP, '--concurrency', '4'], {
      env,
      onSpawn: (child) => {
        kube.beforeRequest((request) => {
          if (request.method === 'DELETE' && !signalled && kube.requests.filter((r) => r.method === 'DELETE').length >= 6) {
            signalled = Date.now()
            child.kill('SIGINT')
          }
        })
      },
    })
    expect(signalled).toBeGreaterThan(0)
    expect(Date.now() - signalled).toBeLessThan(5000)
    expect(result.code).toBe(130)
    const applied = deletedByFake()
    const [run] = (await history()).items
    expect(run.outcome).toBe('interrupted')
    const stored = await show(run.runId)
    for (const name of applied) expect(item(stored, name).action).toBe('deleted')
    for (const entry of stored.items) if (entry.action === 'deleted') expect(applied).toContain(entry.name)
    expect(stored.items.filter((i) => i.action === 'skipped' && i.skipReason === 'interrupted').length).toBe(ZOMBIES - applied.length)
    // The seconds a signal leaves go to recording and printing the run, not to posting Events.
    expect(kube.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/events'))).toEqual([])
    expect(JSON.parse(result.stdout).warnings).toContain(`no Kubernetes Events posted for the ${applied.length} actions taken: the run was interrupted`)
  })
})

describe('unstick: a finalizer patch whose answer is lost is settled by reading the Job back', () => {
  beforeEach(() => startCluster(0, false))

  function stuckJob(name: string): void {
    const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString().replace(/\.\d+Z$/, 'Z')
    kube.addObject('jobs', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {name, namespace: 'airflow', finalizers: ['orphan'], creationTimestamp: minutesAgo(90), deletionTimestamp: minutesAgo(60), deletionGracePeriodSeconds: 0},
      spec: {template: {spec: {restartPolicy: 'Never', containers: [{name: 'main', image: 'busybox'}]}}},
    })
  }

  it('applied, then answered after the request timeout: patched (the Job is gone), run ok', async () => {
    stuckJob('late-job')
    kube.inject({method: 'PATCH', pathIncludes: '/jobs/late-job', status: 200, apply: true, delayMs: 8000})
    const result = await runCli(['unstick', 'jobs', '--yes', '--request-timeout', '3s', '-o', 'json'], {env})
    expect(result.code).toBe(0)
    expect(kube.getObject('jobs', 'airflow', 'late-job')).toBeUndefined()
    const report = reportOf(result.stdout)
    expect(item(report, 'late-job')).toMatchObject({action: 'patched'})
    expect(item(report, 'late-job').detail).toMatch(/no clear answer: PATCH .*late-job: no answer from the Kubernetes API .* within 3s/)
    expect((await history()).items[0]).toMatchObject({command: 'unstick', outcome: 'ok', summary: {acted: 1, failed: 0, unknown: 0}})
  })

  it('500 on every attempt and not applied: failed, it still holds the finalizer; exit 1, run failed', async () => {
    stuckJob('sick-job')
    kube.inject({method: 'PATCH', pathIncludes: '/jobs/sick-job', status: 500, times: Infinity, body: {kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'etcdserver: leader changed', reason: 'InternalError', code: 500}})
    const result = await runCli(['unstick', 'jobs', '--yes', '-o', 'json'], {env, timeoutMs: 120_000})
    expect(result.code).toBe(1)
    expect(item(reportOf(result.stdout), 'sick-job')).toMatchObject({action: 'failed', error: expect.stringMatching(/still holds orphan/)})
    expect((await history()).items[0]).toMatchObject({outcome: 'failed', summary: {acted: 0, failed: 1}})
  }, 120_000)
})

describe('a deletion confirmed at the prompt', () => {
  beforeEach(() => startCluster())

  it('typing yes makes a real run, recorded as one (dryRun false)', async () => {
    // runOnPty kills the CLI after its time limit, and waitFor gives up: a changed prompt fails, never hangs.
    const run = runOnPty(['zombies', '--delete', '--allow-mass-delete'], {env})
    await run.waitFor(/Type "yes" to proceed/, 50_000)
    run.type('yes\r')
    const {exitCode} = await run.exited
    // The prompt was shown and answered.
    expect(run.screen()).toContain('Type "yes" to proceed: yes')
    expect(exitCode).toBe(0)
    expect(deletedByFake()).toHaveLength(ZOMBIES)
    const [stored] = (await history()).items
    expect(stored).toMatchObject({command: 'zombies', dryRun: false, outcome: 'ok', summary: {acted: ZOMBIES}})
    expect((await show(stored.runId)).dryRunMode).toBeNull()
  }, 60_000)
})
