// `zombies --delete`: reaping that cannot kill a live task (issue 3). Each test names the guard it
// proves; removing that guard from the code makes it fail.
import {existsSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import type {Report} from '../../src/core/report.js'
import {type TestAirflowDb, createPostgresAirflowDb, createSqliteAirflowDb} from '../support/airflow-db/index.js'
import {cliWorkspace, runCli} from '../support/cli.js'
import {assertValidReport, assertValidRun, assertValidRunList} from '../support/contract.js'
import {type FakeKube, startFakeKube} from '../support/fake-kube/index.js'
import {addKpoPod} from '../support/kpo.js'

const DAG = 'reap_dag'
const RUN = 'scheduled__2026-11-22T00:00:00+00:00'

let db: TestAirflowDb
let dir: string

beforeAll(async () => {
  db = await createSqliteAirflowDb('2.10')
  await db.seed.dagRun({dagId: DAG, runId: RUN})
  // healthy_0..9 run; zombie_0..2 and wrong_db_* finished.
  for (let i = 0; i < 10; i++) await db.seed.taskInstance({dagId: DAG, taskId: `healthy_${i}`, runId: RUN, state: 'running', tryNumber: 1})
  for (let i = 0; i < 3; i++) await db.seed.taskInstance({dagId: DAG, taskId: `zombie_${i}`, runId: RUN, state: 'success', tryNumber: 1})
  for (let i = 0; i < 10; i++) await db.seed.taskInstance({dagId: DAG, taskId: `finished_${i}`, runId: RUN, state: 'failed', tryNumber: 1})
})

afterAll(async () => {
  await db?.drop()
})

let kube: FakeKube
let env: Record<string, string>

beforeEach(async () => {
  kube = await startFakeKube()
  ;({dir, env} = cliWorkspace(kube, {prefix: 'delete', db}))
})

afterEach(async () => {
  await kube.close()
  rmSync(dir, {recursive: true, force: true})
})

/** 10 healthy pods and 3 zombies (3 of 13: below the mass-delete stop). */
function seedCluster(): void {
  for (let i = 0; i < 10; i++) addKpoPod(kube, {name: `healthy-${i}`, dagId: DAG, taskId: `healthy_${i}`, runId: RUN, tryNumber: 1})
  for (let i = 0; i < 3; i++) addKpoPod(kube, {name: `zombie-${i}`, dagId: DAG, taskId: `zombie_${i}`, runId: RUN, tryNumber: 1})
}

const podNames = () => kube.listObjects('pods').map((p) => p.metadata.name as string).sort()
const healthyNames = Array.from({length: 10}, (_, i) => `healthy-${i}`)
const deletes = () => kube.requests.filter((r) => r.method === 'DELETE')

async function reap(args: string[] = [], extraEnv: Record<string, string> = {}): Promise<{code: number | null; report: Report; stderr: string}> {
  const result = await runCli(['zombies', '--delete', '--yes', '-o', 'json', ...args], {env: {...env, ...extraEnv}})
  const report = result.stdout ? (JSON.parse(result.stdout) as Report) : (undefined as unknown as Report)
  if (report) assertValidReport(report)
  return {code: result.code, report, stderr: result.stderr}
}

describe('zombies --delete --yes', () => {
  it('deletes exactly the zombies, each with a UID precondition, and records the run', async () => {
    seedCluster()
    const uids = Object.fromEntries(kube.listObjects('pods').map((p) => [p.metadata.name, p.metadata.uid]))
    const {code, report} = await reap()
    expect(code).toBe(0)
    expect(podNames()).toEqual(healthyNames)
    expect(report.dryRun).toBe(false)
    expect(report.summary).toEqual({scanned: 13, found: 3, acted: 3, failed: 0, skipped: 0, unknown: 0})
    expect(deletes()).toHaveLength(3)
    for (const request of deletes()) {
      const name = request.path.split('/').pop()!
      expect(request.body).toMatchObject({preconditions: {uid: uids[name]}})
    }
    const history = JSON.parse((await runCli(['history', '-o', 'json'], {env})).stdout)
    assertValidRunList(history)
    expect(history.items[0]).toMatchObject({runId: report.runId, command: 'zombies', dryRun: false, outcome: 'ok', summary: report.summary})
    const run = JSON.parse((await runCli(['history', 'show', String(report.runId), '-o', 'json'], {env})).stdout)
    assertValidRun(run)
    expect(run.argv).toEqual(['zombies', '--delete', '--yes', '-o', 'json'])
    expect(run.items.map((i: {name: string; action: string}) => `${i.name}:${i.action}`).sort()).toEqual(['zombie-0:deleted', 'zombie-1:deleted', 'zombie-2:deleted'])
  })

  it('re-checks the DB before deleting: a task instance that became active keeps its pod', async () => {
    seedCluster()
    // Between the scan and the delete (while the candidate pods are read), zombie_1's task instance is cleared and runs again.
    kube.beforeRequest(async (request) => {
      if (request.method === 'GET' && request.path.endsWith('/pods/zombie-1')) {
        await db.seed.setTaskInstance({dagId: DAG, taskId: 'zombie_1', runId: RUN}, {state: 'running'})
      }
    })
    try {
      const {code, report} = await reap()
      expect(code).toBe(0)
      expect(podNames()).toEqual([...healthyNames, 'zombie-1'].sort())
      expect(report.items.find((i) => i.name === 'zombie-1')).toMatchObject({action: 'skipped', skipReason: 'became-active'})
    } finally {
      await db.seed.setTaskInstance({dagId: DAG, taskId: 'zombie_1', runId: RUN}, {state: 'success'})
    }
  })

  it('never deletes a pod re-created under the same name (UID precondition, 409)', async () => {
    seedCluster()
    let replacedUid = ''
    kube.beforeRequest((request) => {
      if (request.method === 'DELETE' && request.path.endsWith('/pods/zombie-2') && !replacedUid) {
        kube.removeObject('pods', 'airflow', 'zombie-2')
        replacedUid = addKpoPod(kube, {name: 'zombie-2', dagId: DAG, taskId: 'zombie_2', runId: RUN, tryNumber: 1}).metadata.uid as string
      }
    })
    const {code, report} = await reap()
    expect(code).toBe(0)
    expect(kube.getObject('pods', 'airflow', 'zombie-2')?.metadata.uid).toBe(replacedUid)
    expect(report.items.find((i) => i.name === 'zombie-2')).toMatchObject({action: 'skipped', skipReason: 'replaced'})
    expect(podNames()).toEqual([...healthyNames, 'zombie-2'].sort())
  })

  it('rides out a 429 with Retry-After and a transient 500: all zombies deleted, nothing else', async () => {
    seedCluster()
    kube.inject({method: 'DELETE', pathIncludes: '/pods/zombie-0', status: 429, headers: {'Retry-After': '1'}, body: 'Too many requests, please try again later.\n'})
    kube.inject({method: 'DELETE', pathIncludes: '/pods/zombie-1', status: 500, body: {kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'etcdserver: request timed out', reason: 'InternalError', code: 500}})
    const started = Date.now()
    const {code, report} = await reap()
    expect(code).toBe(0)
    expect(podNames()).toEqual(healthyNames)
    expect(report.summary).toMatchObject({acted: 3, failed: 0})
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000)
    expect(deletes().map((r) => r.status)).toEqual(expect.arrayContaining([429, 500]))
  })

  it('refuses without --yes when there is no terminal, and deletes nothing', async () => {
    seedCluster()
    const result = await runCli(['zombies', '--delete'], {env})
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/^error: refusing to delete without --yes.*pass --yes/)
    expect(result.stdout).toBe('')
    expect(deletes()).toEqual([])
    expect(podNames()).toHaveLength(13)
  })

  it('server dry run sends dryRun=All and changes nothing', async () => {
    seedCluster()
    const result = await runCli(['zombies', '--delete', '--dry-run=server', '-o', 'json'], {env})
    expect(result.code).toBe(0)
    const report: Report = JSON.parse(result.stdout)
    expect(report.dryRun).toBe(true)
    expect(deletes()).toHaveLength(3)
    expect(deletes().every((r) => r.query.dryRun === 'All' || (r.body as {dryRun?: string[]})?.dryRun?.includes('All'))).toBe(true)
    expect(podNames()).toHaveLength(13)
    expect(report.items.every((i) => i.action === 'none' && i.detail.includes('server dry run'))).toBe(true)
    // The table's summary says what the API server accepted, and that --delete --yes alone would still be a dry run.
    const table = await runCli(['zombies', '--delete', '--dry-run=server', '--no-cache'], {env})
    expect(table.stdout.trimEnd().split('\n').at(-1)).toBe(
      '3 zombie pods found among 13 scanned; server dry run: the API server would accept 3 deletes; nothing changed (run it with --delete --yes and without --dry-run=server to delete them)',
    )
  })

  it('--force warns about the grace period only when pods are deleted: not with --dry-run=client', async () => {
    seedCluster()
    const warning = 'warning: --force deletes with a grace period of 0'
    const dryRun = await reap(['--force', '--dry-run=client'])
    expect(dryRun.code).toBe(0)
    expect(podNames()).toHaveLength(13)
    expect(dryRun.stderr).not.toContain(warning)
    const real = await reap(['--force'])
    expect(real.code).toBe(0)
    expect(real.stderr).toContain(warning)
  })

  it('--yes with --dry-run=server is still a dry run, and is recorded as one', async () => {
    seedCluster()
    const {code, report} = await reap(['--dry-run=server'])
    expect(code).toBe(0)
    expect(report.dryRun).toBe(true)
    expect(podNames()).toHaveLength(13)
    const history = JSON.parse((await runCli(['history', '-o', 'json'], {env})).stdout)
    expect(history.items[0]).toMatchObject({dryRun: true})
  })
})

describe('a wrong --db cannot turn into a mass deletion', () => {
  /** Every pod's task instance is finished: what an empty restore or another Airflow's DB looks like. */
  function seedWrongDbCluster(): void {
    for (let i = 0; i < 10; i++) addKpoPod(kube, {name: `pod-${i}`, dagId: DAG, taskId: `finished_${i}`, runId: RUN, tryNumber: 1})
  }

  it('the sanity stop refuses when more than half the pods would go, and deletes nothing', async () => {
    seedWrongDbCluster()
    const {code, report, stderr} = await reap()
    expect(code).toBe(1)
    expect(stderr).toMatch(/^error: refusing to delete 10 of 10 scanned pods \(more than half\)/)
    expect(report.summary.found).toBe(10)
    expect(deletes()).toEqual([])
    expect(podNames()).toHaveLength(10)
    const history = JSON.parse((await runCli(['history', '-o', 'json'], {env})).stdout)
    expect(history.items[0]).toMatchObject({outcome: 'failed'})
  })

  it('--max-deletes 3 deletes at most 3 and says how many remain', async () => {
    seedWrongDbCluster()
    const {code, report} = await reap(['--max-deletes', '3', '--allow-mass-delete'])
    expect(code).toBe(0)
    expect(podNames()).toHaveLength(7)
    expect(report.summary).toMatchObject({acted: 3, skipped: 7})
    expect(report.items.filter((i) => i.skipReason === 'max-deletes')).toHaveLength(7)
  })

  it('--max-deletes: what it holds back is skipped, so -o name lists only the deleted and --exit-code does not count them', async () => {
    seedWrongDbCluster()
    const result = await runCli(['zombies', '--delete', '--yes', '--max-deletes', '3', '--allow-mass-delete', '--exit-code', '-o', 'name', '--no-cache'], {env})
    expect(result.code, result.stderr).toBe(0)
    const deleted = result.stdout.trimEnd().split('\n')
    expect(deleted).toHaveLength(3)
    for (const name of deleted) expect(podNames()).not.toContain(name.replace('pod/', ''))
  })

  it('--dry-run=server deletes nothing and reports what RBAC would refuse', async () => {
    seedWrongDbCluster()
    kube.deny({verb: 'delete', resource: 'pods', namespace: 'airflow'})
    const result = await runCli(['zombies', '--delete', '--dry-run=server', '--allow-mass-delete', '-o', 'json'], {env})
    const report: Report = JSON.parse(result.stdout)
    expect(podNames()).toHaveLength(10)
    // The first refusal names the missing permission; the rest of the namespace is not sent.
    expect(report.summary).toMatchObject({failed: 1, skipped: 9})
    expect(report.items.find((i) => i.action === 'failed')!.error).toMatch(/cannot delete pods in namespace "airflow"/)
    expect(report.items.filter((i) => i.skipReason === 'not-permitted')).toHaveLength(9)
    expect(result.code).toBe(1)
  })

  it('pods of dag runs the DB does not know are skipped, not reaped', async () => {
    for (let i = 0; i < 4; i++) addKpoPod(kube, {name: `foreign-${i}`, dagId: 'someone_elses_dag', taskId: 't', runId: RUN, tryNumber: 1})
    const {code, report} = await reap()
    expect(code).toBe(0)
    expect(report.items.map((i) => i.skipReason)).toEqual(['unknown-dag-run', 'unknown-dag-run', 'unknown-dag-run', 'unknown-dag-run'])
    expect(deletes()).toEqual([])
  })
})

describe('the local run store', () => {
  it('never stores the DB password (checked on the bytes of the store files)', async () => {
    const secret = 'Pw-that-must-not-leak-42'
    const pg = await createPostgresAirflowDb('2.10', {password: secret})
    try {
      await pg.seed.dagRun({dagId: DAG, runId: RUN})
      await pg.seed.taskInstance({dagId: DAG, taskId: 'zombie_0', runId: RUN, state: 'success', tryNumber: 1})
      for (let i = 0; i < 3; i++) addKpoPod(kube, {name: `healthy-${i}`, dagId: DAG, taskId: `missing_${i}`, runId: RUN, tryNumber: 1, ageMinutes: 1})
      addKpoPod(kube, {name: 'zombie-0', dagId: DAG, taskId: 'zombie_0', runId: RUN, tryNumber: 1})
      expect(pg.url).toContain(secret)
      const {code, report} = await reap([`--db=${pg.url}`])
      expect(code).toBe(0)
      expect(report.summary.acted).toBe(1)
      const files = ['', '-wal', '-shm'].map((suffix) => env.AIRFLOW_REAP_CACHE + suffix).filter(existsSync)
      expect(files.length).toBeGreaterThan(0)
      for (const file of files) expect(readFileSync(file).includes(Buffer.from(secret))).toBe(false)
      const run = (await runCli(['history', 'show', String(report.runId), '-o', 'json'], {env})).stdout
      expect(run).not.toContain(secret)
      expect(run).toContain('***')
    } finally {
      await pg.drop()
    }
  })

  it('a corrupt store does not stop a reap: one warning, the deletes happen', async () => {
    seedCluster()
    writeFileSync(env.AIRFLOW_REAP_CACHE, 'this is not a SQLite database '.repeat(200))
    const {code, report, stderr} = await reap()
    expect(code).toBe(0)
    expect(podNames()).toEqual(healthyNames)
    expect(report.runId).toBeNull()
    expect(report.warnings?.[0]).toMatch(/run not recorded.*mv /)
    expect(stderr.match(/warning:/g)).toHaveLength(1)
    const history = await runCli(['history'], {env})
    expect(history.code).toBe(1)
    expect(history.stderr).toMatch(/^error: .*move it aside: mv /)
  })

  it('two runs at once both record', async () => {
    seedCluster()
    const [a, b] = await Promise.all([runCli(['zombies', '-o', 'json'], {env}), runCli(['zombies', '-o', 'json'], {env})])
    const ids = [JSON.parse(a.stdout).runId, JSON.parse(b.stdout).runId]
    expect(new Set(ids).size).toBe(2)
    const history = JSON.parse((await runCli(['history', '-o', 'json'], {env})).stdout)
    expect(history.items.map((r: {runId: number}) => r.runId).sort()).toEqual(ids.sort())
    expect(history.items.every((r: {outcome: string}) => r.outcome === 'ok')).toBe(true)
  })
})

describe('Ctrl-C during a reap', () => {
  it('abandons what has not started, records the run as interrupted and exits non-zero', async () => {
    for (let i = 0; i < 10; i++) addKpoPod(kube, {name: `healthy-${i}`, dagId: DAG, taskId: `healthy_${i}`, runId: RUN, tryNumber: 1})
    for (let i = 0; i < 6; i++) addKpoPod(kube, {name: `slow-${i}`, dagId: DAG, taskId: `finished_${i}`, runId: RUN, tryNumber: 1})
    let child: import('node:child_process').ChildProcess | undefined
    kube.beforeRequest(async (request) => {
      if (request.method !== 'DELETE') return
      child?.kill('SIGINT')
      await new Promise((resolve) => setTimeout(resolve, 300))
    })
    const result = await runCli(['zombies', '--delete', '--yes', '--concurrency', '1', '-o', 'json'], {env, onSpawn: (c) => (child = c)})
    expect(result.code).toBe(130)
    expect(result.stderr).toMatch(/interrupted/)
    const report: Report = JSON.parse(result.stdout)
    expect(report.items.filter((i) => i.skipReason === 'interrupted').length).toBeGreaterThan(0)
    expect(podNames().filter((n) => n.startsWith('slow-')).length).toBeGreaterThan(0)
    const history = JSON.parse((await runCli(['history', '-o', 'json'], {env})).stdout)
    expect(history.items[0]).toMatchObject({outcome: 'interrupted'})
  })
})
