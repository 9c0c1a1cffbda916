// A write whose answer never came is `unknown`, and the next run settles it (issue 21 §1): a DELETE
// answered after --request-timeout and applied later still, SIGINT and SIGTERM with 10 deletes in
// flight, a finalizer patch applied after its timeout. The fake API server holds the chosen requests
// before serving them, so they apply after the CLI has given up on them, as a queued request does.
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {SETTLE_AS_FAILED_AFTER_MS} from '../../src/core/settle.js'
import type {RunDocument} from '../../src/store/documents.js'
import {openRunStore} from '../../src/store/run-store.js'
import {type TestAirflowDb, createSqliteAirflowDb} from '../support/airflow-db/index.js'
import {type CliWorkspace, cliWorkspace, runCli} from '../support/cli.js'
import {historyOf, reportOf, showRun} from '../support/run-history.js'
import {type FakeKube, startFakeKube} from '../support/fake-kube/index.js'
import {addZombiePods, seedFinishedTasks} from '../support/kpo.js'

const DAG = 'settle_dag'
const RUN = 'scheduled__2026-11-22T00:00:00+00:00'
const ZOMBIES = 30
const ZOMBIE_SET = {dagId: DAG, runId: RUN, count: ZOMBIES}
const REAP = ['zombies', '--delete', '--yes', '--allow-mass-delete', '-o', 'json']

let db: TestAirflowDb
let workspace: CliWorkspace
let kube: FakeKube
let env: Record<string, string>

beforeAll(async () => {
  db = await createSqliteAirflowDb('2.10')
  await seedFinishedTasks(db, ZOMBIE_SET)
})

afterAll(async () => {
  await db?.drop()
})

beforeEach(async () => {
  kube = await startFakeKube()
  workspace = cliWorkspace(kube, {prefix: 'settle', db})
  env = workspace.env
})

afterEach(async () => {
  await kube?.close()
  workspace?.remove()
})

function addZombies(): void {
  addZombiePods(kube, ZOMBIE_SET)
}

const podNames = () => new Set(kube.listObjects('pods').map((p) => p.metadata.name as string))
const zombieNames = () => Array.from({length: ZOMBIES}, (_, i) => `zombie-${i}`)

/** Requests matching `which` are held this long before the fake serves (applies) and answers them. */
function holdRequests(which: (method: string, requestPath: string) => boolean, holdMs: number): void {
  kube.beforeRequest(async (request) => {
    if (which(request.method, request.path)) await sleep(holdMs)
  })
}

async function untilTrue(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await sleep(50)
  }
}

const history = () => historyOf(env) // what the store holds: these helpers let history settle nothing
const offlineEnv = () => ({...env, KUBECONFIG: path.join(workspace.dir, 'no-such-kubeconfig')})

const show = (runId: number) => showRun(env, runId)

const itemOf = (document: {items: Array<{name: string}>}, name: string) => document.items.find((i) => i.name === name) as RunDocument['items'][number]

async function seedUnknown(server: string, actedAgoMs: number, name: string): Promise<number> {
  const at = new Date(Date.now() - actedAgoMs)
  const store = openRunStore(env.AIRFLOW_REAP_CACHE, {now: () => at})
  try {
    const runId = store.startRun({command: 'zombies', argv: ['zombies'], context: 'prod', server, namespace: 'airflow', dryRun: false})
    const pod = kube.getObject('pods', 'airflow', name)!
    const item = {kind: 'Pod', namespace: 'airflow', name, uid: pod.metadata.uid as string, ageSeconds: 600, reason: 'no-active-task-instance' as const, detail: 'seeded', taskInstance: null, action: 'none' as const}
    store.recordIntent(runId, item, 'delete')
    store.recordItems(runId, [{...item, action: 'unknown', error: 'the request timed out; it may still apply'}])
    store.finishRun(runId, {outcome: 'failed', summary: {scanned: 1, found: 1, acted: 0, failed: 0, skipped: 0, unknown: 1}})
    return runId
  } finally {
    store.close()
  }
}
describe('a DELETE answered after the request timeout, and applied later still', () => {
  it('is unknown ("the request timed out; it may still apply"), never failed; the next run settles it deleted', async () => {
    addZombies()
    holdRequests((method, requestPath) => method === 'DELETE' && requestPath.endsWith('/pods/zombie-3'), 5000)
    const first = await runCli([...REAP, '--request-timeout', '3s'], {env, timeoutMs: 60_000})
    expect(first.code).toBe(1)
    expect(first.stderr).toMatch(/^error: 1 of 30 actions have an unknown outcome/)
    const report = reportOf(first.stdout)
    expect(itemOf(report, 'zombie-3')).toMatchObject({action: 'unknown'})
    expect(itemOf(report, 'zombie-3').error).toMatch(/within 3s .*; the request timed out; it may still apply \(the pod is still there/)
    expect(report.summary).toMatchObject({acted: ZOMBIES - 1, failed: 0, unknown: 1})

    await untilTrue(() => !podNames().has('zombie-3')) // the held DELETE applies after the CLI gave up
    const [recorded] = (await history()).items
    expect(itemOf(await show(recorded.runId), 'zombie-3')).toMatchObject({action: 'unknown'})
    expect(itemOf(await show(recorded.runId), 'zombie-3').settled).toBeUndefined()

    const next = await runCli(['zombies', '-o', 'json'], {env})
    expect(next.code).toBe(0)
    expect(next.stderr).toContain('settled actions of earlier runs recorded unknown: 1 deleted')
    const nextRunId = reportOf(next.stdout).runId
    const settled = itemOf(await show(recorded.runId), 'zombie-3')
    expect(settled).toMatchObject({action: 'unknown', settled: {action: 'deleted', byRunId: nextRunId, detail: 'that object (its UID) is gone'}})
    expect(Date.parse(settled.settled!.at)).toBeGreaterThan(Date.parse(settled.actedAt!))
    // The table shows the original unknown and its settlement.
    const table = await runCli(['history', 'show', String(recorded.runId)], {env})
    expect(table.stdout).toMatch(new RegExp(`unknown: .*the request timed out; it may still apply.*; settled deleted at \\S+ by run ${nextRunId}: that object \\(its UID\\) is gone`))
    // Settled once: a third run finds nothing left to settle.
    expect((await runCli(['zombies', '-o', 'json'], {env})).stderr).not.toContain('settled')
  }, 90_000)
})

describe.each([
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const)('%s with 10 deletes in flight (--concurrency 10)', (signal, exitCode) => {
  it('every pod the cluster deleted is deleted or unknown in history, never failed; the next run settles each unknown', async () => {
    addZombies()
    let signalledAt = 0
    const first = await runCli([...REAP, '--concurrency', '10'], {
      env,
      timeoutMs: 60_000,
      onSpawn: (child) => {
        kube.beforeRequest((request) => {
          if (request.method !== 'DELETE' || signalledAt) return
          // The first DELETE goes alone (a missing permission costs one request), then 10 at once.
          if (kube.requests.filter((r) => r.method === 'DELETE').length >= 11) {
            signalledAt = Date.now()
            child.kill(signal)
          }
        })
        // Every DELETE is held 2 s (after the hook above saw it): past the 0.5 s an interrupt leaves
        // in-flight requests, and past their read back.
        holdRequests((method) => method === 'DELETE', 2000)
      },
    })
    expect(signalledAt).toBeGreaterThan(0)
    expect(first.code).toBe(exitCode)
    expect(Date.now() - signalledAt).toBeLessThan(5000)
    await untilTrue(() => kube.requests.filter((r) => r.method === 'DELETE').every((r) => r.status !== undefined))
    const applied = zombieNames().filter((name) => !podNames().has(name))
    expect(applied).toHaveLength(11)

    const [run] = (await history()).items
    expect(run.outcome).toBe('interrupted')
    const stored = await show(run.runId)
    for (const name of applied) expect(['deleted', 'unknown']).toContain(itemOf(stored, name).action)
    expect(stored.items.filter((i) => i.action === 'failed')).toEqual([])
    for (const entry of stored.items.filter((i) => i.action === 'unknown')) expect(entry.error).toMatch(/cut short by the interrupt; it may still apply/)
    for (const entry of stored.items.filter((i) => i.action === 'deleted')) expect(applied).toContain(entry.name)
    expect(stored.items.filter((i) => i.action === 'unknown').length).toBeGreaterThan(0)

    const next = await runCli(['zombies', '-o', 'json'], {env})
    expect(next.code).toBe(0)
    const settledBy = reportOf(next.stdout).runId
    const after = await show(run.runId)
    for (const name of applied) {
      const entry = itemOf(after, name)
      if (entry.action === 'unknown') expect(entry.settled).toMatchObject({action: 'deleted', byRunId: settledBy})
      else expect(entry.action).toBe('deleted')
    }
  }, 90_000)
})

describe('an unknown delete still untouched', () => {


  it('long after the request: settled failed; just after it: left unknown (it may still apply)', async () => {
    addZombies()
    const probe = await runCli(['zombies', '-o', 'json'], {env}) // learns the server URL as recorded
    const [probed] = (await history()).items
    expect(probe.code).toBe(0)
    const old = await seedUnknown(probed.server, SETTLE_AS_FAILED_AFTER_MS + 60_000, 'zombie-1')
    const recent = await seedUnknown(probed.server, 10_000, 'zombie-2')
    const next = await runCli(['zombies', '-o', 'json'], {env})
    expect(next.stderr).toContain('settled actions of earlier runs recorded unknown: 1 failed')
    expect(itemOf(await show(old), 'zombie-1')).toMatchObject({action: 'unknown', settled: {action: 'failed', detail: expect.stringMatching(/still there and not being deleted 11m after the request: it did not apply/)}})
    expect(itemOf(await show(recent), 'zombie-2').settled).toBeUndefined()
  }, 60_000)
})

describe('history settles too, when it can ask the cluster', () => {
  it('no cluster to ask: the unknown shown as recorded, nothing said; the cluster answers: settled by history', async () => {
    addZombies()
    const probe = await runCli(['zombies', '-o', 'json'], {env}) // learns the server URL as recorded
    expect(probe.code).toBe(0)
    const [probed] = (await history()).items
    const old = await seedUnknown(probed.server, SETTLE_AS_FAILED_AFTER_MS + 60_000, 'zombie-1')

    const offline = offlineEnv()
    const listed = await runCli(['history'], {env: offline})
    expect(listed.code).toBe(0)
    expect(listed.stderr).toBe('')
    expect(itemOf(await show(old), 'zombie-1')).toMatchObject({action: 'unknown'})
    expect(itemOf(await show(old), 'zombie-1').settled).toBeUndefined()

    const online = await runCli(['history'], {env})
    expect(online.code).toBe(0)
    expect(online.stderr).toContain('settled actions of earlier runs recorded unknown: 1 failed')
    expect(itemOf(await show(old), 'zombie-1')).toMatchObject({action: 'unknown', settled: {action: 'failed', byRunId: null}})
    expect((await runCli(['history', 'show', String(old)], {env})).stdout).toMatch(/by history/)
  }, 60_000)
})

describe('unstick: a finalizer patch answered after the request timeout, applied later still', () => {
  it('is unknown, then settled patched by the next run', async () => {
    const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString().replace(/\.\d+Z$/, 'Z')
    kube.addObject('jobs', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {name: 'late-job', namespace: 'airflow', finalizers: ['orphan'], creationTimestamp: minutesAgo(90), deletionTimestamp: minutesAgo(60), deletionGracePeriodSeconds: 0},
      spec: {template: {spec: {restartPolicy: 'Never', containers: [{name: 'main', image: 'busybox'}]}}},
    })
    holdRequests((method, requestPath) => method === 'PATCH' && requestPath.endsWith('/jobs/late-job'), 5000)
    const first = await runCli(['unstick', 'jobs', '--yes', '--request-timeout', '3s', '-o', 'json'], {env, timeoutMs: 60_000})
    expect(first.code).toBe(1)
    expect(itemOf(reportOf(first.stdout), 'late-job')).toMatchObject({action: 'unknown', error: expect.stringMatching(/the request timed out; it may still apply \(it still holds orphan/)})
    await untilTrue(() => kube.getObject('jobs', 'airflow', 'late-job') === undefined)
    const [recorded] = (await history()).items
    const next = await runCli(['unstick', 'jobs', '-o', 'json'], {env})
    expect(next.stderr).toContain('settled actions of earlier runs recorded unknown: 1 patched')
    expect(itemOf(await show(recorded.runId), 'late-job')).toMatchObject({action: 'unknown', settled: {action: 'patched', byRunId: reportOf(next.stdout).runId}})
  }, 60_000)
})
