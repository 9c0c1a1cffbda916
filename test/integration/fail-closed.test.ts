// Never reap what Airflow's operator does not own (issue 11 §3), end to end with the built CLI, the
// fake API server and a real Airflow 2.10 database: a KubernetesJobOperator Job's pod (it carries every
// KPO label), a task instance in a state this version does not know, execution_timeout 0, and the 2.x
// [core] default_task_execution_timeout for tasks serialized without the field.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, beforeEach, afterEach, describe, expect, it} from 'vitest'
import type {Report, ReportItem} from '../../src/core/report.js'
import {type TestAirflowDb, createSqliteAirflowDb} from '../support/airflow-db/index.js'
import {runCli} from '../support/cli.js'
import {assertValidReport} from '../support/contract.js'
import {type FakeKube, startFakeKube} from '../support/fake-kube/index.js'
import {addKpoPod, kpoLabels, kpoOperator} from '../support/kpo.js'

const DAG = 'fail_closed'
const RUN = 'scheduled__2026-11-23T00:00:00+00:00'

let db: TestAirflowDb
let kube: FakeKube
let dir: string
let env: Record<string, string>

const op = kpoOperator

/** A task instance started `minutes` ago by the DB's clock. */
async function task(taskId: string, state: string, minutes: number): Promise<void> {
  await db.seed.taskInstance({dagId: DAG, taskId, runId: RUN, state, tryNumber: 1})
  await db.seed.sql(`UPDATE task_instance SET start_date = strftime('%Y-%m-%d %H:%M:%f000', 'now', '-' || ? || ' minutes') WHERE dag_id = ? AND task_id = ?`, [minutes, DAG, taskId])
}

beforeAll(async () => {
  db = await createSqliteAirflowDb('2.10')
  await db.seed.dagRun({dagId: DAG, runId: RUN})
  await db.seed.serializedDag({
    dagId: DAG,
    data: {
      __version: 1,
      dag: {
        _dag_id: DAG,
        fileloc: `/opt/airflow/dags/${DAG}.py`,
        timezone: 'UTC',
        tasks: [
          op('zero_timeout', {execution_timeout: 0.0}),
          op('uses_default'), // 2.x leaves out a field equal to the [core] default
          op('job_task', {execution_timeout: 600.0, _task_type: 'KubernetesJobOperator'}),
          op('own_timeout', {execution_timeout: 600.0}),
        ],
      },
    },
  })
  // zombies: a finished Job task, an unowned finished task, a task in a state from the future, healthy ones.
  await task('job_done', 'success', 120)
  await task('plain_done', 'success', 120)
  await task('from_the_future', 'awaiting_approval', 120)
  for (let i = 0; i < 4; i++) await task(`healthy_${i}`, 'running', 120)
  // overdue: all deferred for 2 h.
  for (const taskId of ['zero_timeout', 'uses_default', 'job_task', 'own_timeout']) await task(taskId, 'deferred', 120)
})

afterAll(async () => {
  await db?.drop()
})

beforeEach(async () => {
  kube = await startFakeKube()
  dir = mkdtempSync(path.join(tmpdir(), 'reap-fail-closed-'))
  const kubeconfig = kube.writeKubeconfig(path.join(dir, 'kubeconfig'), {contexts: [{name: 'prod', namespace: 'airflow'}]})
  env = {KUBECONFIG: kubeconfig, AIRFLOW_REAP_DB: db.url, AIRFLOW_REAP_CACHE: path.join(dir, 'runs.sqlite')}
})

afterEach(async () => {
  await kube.close()
  rmSync(dir, {recursive: true, force: true})
})

/** A pod of the Job KubernetesJobOperator creates: its template is KPO's build_pod_request_obj, labels and all. */
function addJobPod(name: string, taskId: string, jobName: string): void {
  kube.addPod({
    namespace: 'airflow',
    name,
    labels: {...kpoLabels({dagId: DAG, taskId, runId: RUN, tryNumber: 1}), 'batch.kubernetes.io/job-name': jobName},
    creationTimestamp: new Date(Date.now() - 120 * 60_000),
    ownerReferences: [{apiVersion: 'batch/v1', kind: 'Job', name: jobName, uid: `uid-of-${jobName}`, controller: true, blockOwnerDeletion: true}],
  })
}

const pods = () => kube.listObjects('pods').map((p) => p.metadata.name as string).sort()
const byName = (items: ReportItem[]) => Object.fromEntries(items.map((i) => [i.name, i.action === 'skipped' ? `skipped (${i.skipReason})` : i.action]))

async function reap(args: string[], extraEnv: Record<string, string> = {}): Promise<{code: number | null; report: Report; stderr: string}> {
  const result = await runCli([...args, '-o', 'json'], {env: {...env, ...extraEnv}})
  const report = JSON.parse(result.stdout) as Report
  assertValidReport(report)
  return {code: result.code, report, stderr: result.stderr}
}

describe('zombies --delete --yes', () => {
  it('leaves a Job-owned KPO pod (owner named) and a pod whose task is in an unknown state; deletes the real zombie', async () => {
    addJobPod('job-done-x7k2p', 'job_done', 'fail-closed-job-done')
    addKpoPod(kube, {name: 'plain-done', dagId: DAG, taskId: 'plain_done', runId: RUN, tryNumber: 1})
    addKpoPod(kube, {name: 'from-the-future', dagId: DAG, taskId: 'from_the_future', runId: RUN, tryNumber: 1})
    for (let i = 0; i < 4; i++) addKpoPod(kube, {name: `healthy-${i}`, dagId: DAG, taskId: `healthy_${i}`, runId: RUN, tryNumber: 1})
    const {code, report} = await reap(['zombies', '--delete', '--yes'])
    expect(code).toBe(0)
    expect(byName(report.items)).toEqual({
      'job-done-x7k2p': 'skipped (owned-by-controller)',
      'plain-done': 'deleted',
      'from-the-future': 'skipped (unknown-state)',
    })
    const job = report.items.find((i) => i.name === 'job-done-x7k2p')!
    expect(job.detail).toMatch(/owned by its controller Job airflow\/fail-closed-job-done \(batch\/v1\)/)
    const future = report.items.find((i) => i.name === 'from-the-future')!
    expect(future.detail).toMatch(/state "awaiting_approval", which this version does not know/)
    expect(future.taskInstance).toMatchObject({state: 'awaiting_approval'})
    expect(pods()).toEqual(['from-the-future', 'healthy-0', 'healthy-1', 'healthy-2', 'healthy-3', 'job-done-x7k2p'])
    expect(kube.requests.filter((r) => r.method === 'DELETE').map((r) => r.path.split('/').pop())).toEqual(['plain-done'])
  })

  it('--exit-code does not count a controller-owned pod: it is not this Airflow\'s to reap', async () => {
    addJobPod('job-done-x7k2p', 'job_done', 'fail-closed-job-done')
    for (let i = 0; i < 4; i++) addKpoPod(kube, {name: `healthy-${i}`, dagId: DAG, taskId: `healthy_${i}`, runId: RUN, tryNumber: 1})
    const result = await runCli(['zombies', '-o', 'json', '--exit-code'], {env})
    expect(JSON.parse(result.stdout).items).toHaveLength(1)
    expect(result.code).toBe(0)
  })
})

describe('overdue --delete --yes', () => {
  beforeEach(() => {
    for (const taskId of ['zero_timeout', 'uses_default', 'own_timeout']) {
      addKpoPod(kube, {name: taskId.replace('_', '-'), dagId: DAG, taskId, runId: RUN, tryNumber: 1, ageMinutes: 121})
    }
    addJobPod('job-task-q9z', 'job_task', 'fail-closed-job-task')
  })

  it('execution_timeout 0 is no timeout; without the 2.x default a task serialized without the field has none; a Job-owned pod is left', async () => {
    const {code, report} = await reap(['overdue', '--delete', '--yes', '--allow-mass-delete'])
    expect(code).toBe(0)
    expect(byName(report.items)).toEqual({'own-timeout': 'deleted', 'job-task-q9z': 'skipped (owned-by-controller)'})
    expect(pods()).toEqual(['job-task-q9z', 'uses-default', 'zero-timeout'])
  })

  it(`the 2.x default from AIRFLOW__CORE__DEFAULT_TASK_EXECUTION_TIMEOUT (seconds) applies to the task without the field, not to the 0`, async () => {
    const {code, report} = await reap(['overdue', '--delete', '--yes', '--allow-mass-delete'], {AIRFLOW__CORE__DEFAULT_TASK_EXECUTION_TIMEOUT: '3600'})
    expect(code).toBe(0)
    expect(byName(report.items)).toEqual({'own-timeout': 'deleted', 'uses-default': 'deleted', 'job-task-q9z': 'skipped (owned-by-controller)'})
    expect(report.items.find((i) => i.name === 'uses-default')!.detail).toMatch(/execution_timeout 1h0m/)
    expect(pods()).toEqual(['job-task-q9z', 'zero-timeout'])
  })

  it('--default-execution-timeout overrides the environment; a default longer than the run finds nothing more', async () => {
    const {report} = await reap(['overdue', '--default-execution-timeout', '3h'], {AIRFLOW__CORE__DEFAULT_TASK_EXECUTION_TIMEOUT: '60'})
    expect(Object.keys(byName(report.items)).sort()).toEqual(['job-task-q9z', 'own-timeout'])
  })

  it('a malformed AIRFLOW__CORE__DEFAULT_TASK_EXECUTION_TIMEOUT is a usage error, not a guess', async () => {
    const result = await runCli(['overdue'], {env: {...env, AIRFLOW__CORE__DEFAULT_TASK_EXECUTION_TIMEOUT: '1h'}})
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/^error: AIRFLOW__CORE__DEFAULT_TASK_EXECUTION_TIMEOUT="1h" is not an integer number of seconds/)
  })
})
