// The seed scenario of issue 2, end to end: the built CLI against the fake API server and real Airflow
// databases (PostgreSQL 2.7 / 2.10 / 3.x, SQLite 2.10 / 3.x, MariaDB 2.10).
import {rmSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Report, ReportItem} from '../../src/core/report.js'
import {
  type TestAirflowDb,
  createMysqlAirflowDb,
  createPostgresAirflowDb,
  createSqliteAirflowDb,
} from '../support/airflow-db/index.js'
import {cliWorkspace, runCli} from '../support/cli.js'
import {assertValidReport} from '../support/contract.js'
import {type FakeKube, startFakeKube} from '../support/fake-kube/index.js'
import {DAG, EXPECTED_IN_AIRFLOW_NS, LONG_DAG, LONG_TASK, RUN, seedZombieScenario} from '../support/zombie-scenario.js'

type DbFactory = () => Promise<TestAirflowDb>
const variants: Array<[string, DbFactory]> = [
  ['postgres 2.10', () => createPostgresAirflowDb('2.10')],
  ['postgres 3.x', () => createPostgresAirflowDb('3.x')],
  ['postgres 2.7', () => createPostgresAirflowDb('2.7')],
  ['sqlite 2.10', () => createSqliteAirflowDb('2.10')],
  ['sqlite 3.x', () => createSqliteAirflowDb('3.x')],
  ['mariadb 2.10', () => createMysqlAirflowDb('2.10')],
]

function byName(items: ReportItem[]) {
  return Object.fromEntries(items.map((i) => [i.name, {reason: i.reason, action: i.action, ...(i.skipReason ? {skipReason: i.skipReason} : {})}]))
}

describe.each(variants)('zombies against %s', (_name, createDb) => {
  let kube: FakeKube
  let db: TestAirflowDb
  let dir: string
  let env: Record<string, string>

  beforeAll(async () => {
    kube = await startFakeKube()
    db = await createDb()
    ;({dir, env} = cliWorkspace(kube, {prefix: 'zombies', context: 'test', db}))
    await seedZombieScenario(db.seed, kube)
  })

  afterAll(async () => {
    await kube?.close()
    await db?.drop()
    rmSync(dir, {recursive: true, force: true})
  })

  it('finds exactly the expected pods in the context namespace, as the contract document', async () => {
    const result = await runCli(['zombies', '-o', 'json'], {env})
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const report: Report = JSON.parse(result.stdout)
    assertValidReport(report)
    expect(report).toMatchObject({kind: 'ZombieReport', context: 'test', dryRun: true})
    expect(byName(report.items)).toEqual(EXPECTED_IN_AIRFLOW_NS)
    // The contract's "found": acted on or to act on (10 listed, 5 of them skipped and counted apart).
    expect(report.summary).toEqual({scanned: 19, found: 5, acted: 0, failed: 0, skipped: 5, unknown: 0})
    expect(typeof report.runId).toBe('number')
  })

  it('describes the task instance behind each zombie', async () => {
    const report: Report = JSON.parse((await runCli(['zombies', '-o', 'json', '--no-cache'], {env})).stdout)
    const item = (name: string) => report.items.find((i) => i.name === name)!
    expect(item('sidecar-task-zombie').taskInstance).toEqual({dagId: DAG, taskId: 'sidecar_task', runId: RUN, mapIndex: -1, tryNumber: 1, state: 'success'})
    expect(item('sidecar-task-zombie').phase).toBe('Running')
    expect(item('long-dag-extract').taskInstance).toMatchObject({dagId: LONG_DAG, state: 'failed'})
    expect(item('long-task-done-zombie').taskInstance).toMatchObject({taskId: `${LONG_TASK}_done`, state: 'success', tryNumber: 2})
    expect(item('retried-task-try1').taskInstance).toMatchObject({taskId: 'retried_task', tryNumber: 2, state: 'running'})
    expect(item('retried-task-try1').detail).toContain('retried-task-try2')
    expect(report.runId).toBeNull()
  })

  it('scans every namespace with -A', async () => {
    const report: Report = JSON.parse((await runCli(['zombies', '-A', '-o', 'json', '--no-cache'], {env})).stdout)
    expect(byName(report.items)).toEqual({...EXPECTED_IN_AIRFLOW_NS, 'other-ns-zombie': {reason: 'no-active-task-instance', action: 'none'}})
    expect(report.summary.scanned).toBe(20)
  })

  it('scans only the namespace given with -n', async () => {
    const report: Report = JSON.parse((await runCli(['zombies', '-n', 'batch', '-o', 'json', '--no-cache'], {env})).stdout)
    expect(report.items.map((i) => i.name)).toEqual(['other-ns-zombie'])
  })

  it('changes nothing in the cluster (read-only without --delete)', async () => {
    expect(kube.requests.filter((r) => r.method !== 'GET')).toEqual([])
    expect(kube.listObjects('pods')).toHaveLength(21)
  })
})
