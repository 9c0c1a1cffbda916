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
import {addKpoPod} from '../support/kpo.js'

const DAG = 'kpo_zombie_dag'
const RUN = 'manual__2026-01-01T00:00:00+00:00'
const OTHER_RUN = 'scheduled__2026-01-01T00:00:00+00:00'
const LONG_DAG = 'customer_ingestion_pipeline_with_a_name_much_longer_than_sixty_three_characters'
const LONG_TASK = 'transform_group.normalise_customer_records_for_the_downstream_warehouse'

type DbFactory = () => Promise<TestAirflowDb>
const variants: Array<[string, DbFactory]> = [
  ['postgres 2.10', () => createPostgresAirflowDb('2.10')],
  ['postgres 3.x', () => createPostgresAirflowDb('3.x')],
  ['postgres 2.7', () => createPostgresAirflowDb('2.7')],
  ['sqlite 2.10', () => createSqliteAirflowDb('2.10')],
  ['sqlite 3.x', () => createSqliteAirflowDb('3.x')],
  ['mariadb 2.10', () => createMysqlAirflowDb('2.10')],
]

/** Seeds the DB and the cluster with the scenario. Returns nothing: the expectations below name the pods. */
async function seedScenario(db: TestAirflowDb, kube: FakeKube): Promise<void> {
  const seed = db.seed
  const pre210 = db.version === '2.7'
  await seed.dagRun({dagId: DAG, runId: RUN, state: 'running'})
  await seed.dagRun({dagId: LONG_DAG, runId: OTHER_RUN, state: 'running'})

  // 1. The task finished but its pod keeps running (a sidecar that never exits).
  await seed.taskInstance({dagId: DAG, taskId: 'sidecar_task', runId: RUN, state: 'success', tryNumber: 1})
  addKpoPod(kube, {name: 'sidecar-task-zombie', dagId: DAG, taskId: 'sidecar_task', runId: RUN, tryNumber: 1})
  // 2. A healthy running task.
  await seed.taskInstance({dagId: DAG, taskId: 'healthy_task', runId: RUN, state: 'running', tryNumber: 1})
  addKpoPod(kube, {name: 'healthy-task-pod', dagId: DAG, taskId: 'healthy_task', runId: RUN, tryNumber: 1})
  // 3. A mapped task: index 0 finished (zombie pod), index 1 running (healthy pod).
  await seed.taskInstance({dagId: DAG, taskId: 'mapped_task', runId: RUN, mapIndex: 0, state: 'success', tryNumber: 1})
  await seed.taskInstance({dagId: DAG, taskId: 'mapped_task', runId: RUN, mapIndex: 1, state: 'running', tryNumber: 1})
  addKpoPod(kube, {name: 'mapped-task-0', dagId: DAG, taskId: 'mapped_task', runId: RUN, mapIndex: 0, tryNumber: 1})
  addKpoPod(kube, {name: 'mapped-task-1', dagId: DAG, taskId: 'mapped_task', runId: RUN, mapIndex: 1, tryNumber: 1})
  // 4. An old retry whose current try runs another pod (its pod_name XCom says so): zombie.
  await seed.taskInstance({dagId: DAG, taskId: 'retried_task', runId: RUN, state: 'running', tryNumber: 2, startDate: new Date(Date.now() - 20 * 60_000)})
  await seed.xcom({dagId: DAG, taskId: 'retried_task', runId: RUN, key: 'pod_name', value: 'retried-task-try2'})
  addKpoPod(kube, {name: 'retried-task-try1', dagId: DAG, taskId: 'retried_task', runId: RUN, tryNumber: 1, ageMinutes: 90})
  addKpoPod(kube, {name: 'retried-task-try2', dagId: DAG, taskId: 'retried_task', runId: RUN, tryNumber: 2, ageMinutes: 19})
  // 5. An old retry that the current try re-attached to (its XCom names the old pod itself): not a zombie.
  await seed.taskInstance({dagId: DAG, taskId: 'reattached_task', runId: RUN, state: 'running', tryNumber: 2, startDate: new Date(Date.now() - 20 * 60_000)})
  await seed.xcom({dagId: DAG, taskId: 'reattached_task', runId: RUN, key: 'pod_name', value: 'reattached-task-try1'})
  addKpoPod(kube, {name: 'reattached-task-try1', dagId: DAG, taskId: 'reattached_task', runId: RUN, tryNumber: 1, ageMinutes: 90})
  // 6. Hashed labels: a dag_id longer than 63 characters, healthy and zombie.
  await seed.taskInstance({dagId: LONG_DAG, taskId: 'load', runId: OTHER_RUN, state: 'running', tryNumber: 1})
  await seed.taskInstance({dagId: LONG_DAG, taskId: 'extract', runId: OTHER_RUN, state: 'failed', tryNumber: 3})
  addKpoPod(kube, {name: 'long-dag-load', dagId: LONG_DAG, taskId: 'load', runId: OTHER_RUN, tryNumber: 1})
  addKpoPod(kube, {name: 'long-dag-extract', dagId: LONG_DAG, taskId: 'extract', runId: OTHER_RUN, tryNumber: 3})
  // 6b. Task ids make_safe_label_value rewrites (too long: cut and hashed; a letter outside [A-Za-z0-9_.-]:
  // dropped). The pod's task_id label is not the task's id, so only the whole run can match it.
  await seed.taskInstance({dagId: DAG, taskId: LONG_TASK, runId: RUN, state: 'running', tryNumber: 1})
  addKpoPod(kube, {name: 'long-task-pod', dagId: DAG, taskId: LONG_TASK, runId: RUN, tryNumber: 1})
  await seed.taskInstance({dagId: DAG, taskId: `${LONG_TASK}_done`, runId: RUN, state: 'success', tryNumber: 2})
  addKpoPod(kube, {name: 'long-task-done-zombie', dagId: DAG, taskId: `${LONG_TASK}_done`, runId: RUN, tryNumber: 2})
  await seed.taskInstance({dagId: DAG, taskId: 'export_étape', runId: RUN, state: 'running', tryNumber: 1})
  addKpoPod(kube, {name: 'accented-task-pod', dagId: DAG, taskId: 'export_étape', runId: RUN, tryNumber: 1})
  // 7. A custom operator class, deferred and queued task instances: never zombies.
  await seed.taskInstance({dagId: DAG, taskId: 'custom_op_task', runId: RUN, state: 'running', tryNumber: 1, operator: 'AcmeSparkPodOperator'})
  addKpoPod(kube, {name: 'custom-op-pod', dagId: DAG, taskId: 'custom_op_task', runId: RUN, tryNumber: 1})
  // Airflow < 2.10 keeps the try_number column one lower while deferred (FACTS §4.2).
  await seed.taskInstance({dagId: DAG, taskId: 'deferred_task', runId: RUN, state: 'deferred', tryNumber: pre210 ? 0 : 1})
  addKpoPod(kube, {name: 'deferred-task-pod', dagId: DAG, taskId: 'deferred_task', runId: RUN, tryNumber: 1})
  await seed.taskInstance({dagId: DAG, taskId: 'queued_task', runId: RUN, state: 'queued', tryNumber: pre210 ? 0 : 1})
  addKpoPod(kube, {name: 'queued-task-pod', dagId: DAG, taskId: 'queued_task', runId: RUN, tryNumber: 1})
  // 8. Guards: a dag run this DB does not know, a young zombie, an annotated zombie.
  addKpoPod(kube, {name: 'foreign-airflow-pod', dagId: 'not_in_this_db', taskId: 't', runId: RUN, tryNumber: 1})
  await seed.taskInstance({dagId: DAG, taskId: 'young_task', runId: RUN, state: 'success', tryNumber: 1})
  addKpoPod(kube, {name: 'young-zombie', dagId: DAG, taskId: 'young_task', runId: RUN, tryNumber: 1, ageMinutes: 1})
  await seed.taskInstance({dagId: DAG, taskId: 'kept_task', runId: RUN, state: 'success', tryNumber: 1})
  addKpoPod(kube, {name: 'kept-zombie', dagId: DAG, taskId: 'kept_task', runId: RUN, tryNumber: 1, annotations: {'airflow-reap/keep': 'true'}})
  // 9. Another namespace (only with -A), and a pod that is not a KPO pod at all.
  await seed.taskInstance({dagId: DAG, taskId: 'other_ns_task', runId: RUN, state: 'success', tryNumber: 1})
  addKpoPod(kube, {name: 'other-ns-zombie', namespace: 'batch', dagId: DAG, taskId: 'other_ns_task', runId: RUN, tryNumber: 1})
  kube.addPod({namespace: 'airflow', name: 'scheduler-0', labels: {component: 'scheduler'}})
}

const EXPECTED_IN_AIRFLOW_NS: Record<string, {reason: string; action: string; skipReason?: string}> = {
  'sidecar-task-zombie': {reason: 'no-active-task-instance', action: 'none'},
  'mapped-task-0': {reason: 'no-active-task-instance', action: 'none'},
  'retried-task-try1': {reason: 'stale-try', action: 'none'},
  'long-dag-extract': {reason: 'no-active-task-instance', action: 'none'},
  'long-task-done-zombie': {reason: 'no-active-task-instance', action: 'none'},
  'reattached-task-try1': {reason: 'stale-try', action: 'skipped', skipReason: 'may-be-reattached'},
  'foreign-airflow-pod': {reason: 'no-active-task-instance', action: 'skipped', skipReason: 'unknown-dag-run'},
  'young-zombie': {reason: 'no-active-task-instance', action: 'skipped', skipReason: 'too-young'},
  'kept-zombie': {reason: 'no-active-task-instance', action: 'skipped', skipReason: 'keep-annotation'},
}

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
    await seedScenario(db, kube)
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
    // The contract's "found": acted on or to act on (9 listed, 4 of them skipped and counted apart).
    expect(report.summary).toEqual({scanned: 18, found: 5, acted: 0, failed: 0, skipped: 4, unknown: 0})
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
    expect(report.summary.scanned).toBe(19)
  })

  it('scans only the namespace given with -n', async () => {
    const report: Report = JSON.parse((await runCli(['zombies', '-n', 'batch', '-o', 'json', '--no-cache'], {env})).stdout)
    expect(report.items.map((i) => i.name)).toEqual(['other-ns-zombie'])
  })

  it('changes nothing in the cluster (read-only without --delete)', async () => {
    expect(kube.requests.filter((r) => r.method !== 'GET')).toEqual([])
    expect(kube.listObjects('pods')).toHaveLength(20)
  })
})
