// Issue 14 §3: every delete or finalizer patch posts an events.k8s.io/v1 Event regarding the object,
// best effort (a refused or failing post is a warning, never a failed run), none in dry runs, none
// with --no-events. The fake validates events as kube-apiserver does; kubernetes-models checks them
// against the OpenAPI schema too.
import {rmSync} from 'node:fs'
import {Event} from 'kubernetes-models/events.k8s.io/v1'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import type {Report} from '../../src/core/report.js'
import {type TestAirflowDb, createSqliteAirflowDb} from '../support/airflow-db/index.js'
import {cliWorkspace, runCli} from '../support/cli.js'
import {assertValidReport} from '../support/contract.js'
import {type FakeKube, type FakeObject, startFakeKube} from '../support/fake-kube/index.js'
import {addKpoPod, kpoOperator} from '../support/kpo.js'

const DAG = 'events_dag'
const RUN = 'scheduled__2026-11-30T00:00:00+00:00'
const EVENTS_PATH = '/apis/events.k8s.io/v1/namespaces/airflow/events'

let db: TestAirflowDb
let kube: FakeKube
let dir: string
let env: Record<string, string>

beforeAll(async () => {
  db = await createSqliteAirflowDb('2.10')
  await db.seed.dagRun({dagId: DAG, runId: RUN})
  for (let i = 0; i < 4; i++) await db.seed.taskInstance({dagId: DAG, taskId: `healthy_${i}`, runId: RUN, state: 'running', tryNumber: 1})
  for (let i = 0; i < 2; i++) await db.seed.taskInstance({dagId: DAG, taskId: `zombie_${i}`, runId: RUN, state: 'success', tryNumber: 1})
  // One running task past its 10-minute execution_timeout (overdue).
  const op = kpoOperator('slow', {deferrable: false, execution_timeout: 600.0})
  await db.seed.serializedDag({dagId: DAG, data: {__version: 1, dag: {_dag_id: DAG, fileloc: '/dags/e.py', timezone: 'UTC', tasks: [op]}}})
  await db.seed.taskInstance({dagId: DAG, taskId: 'slow', runId: RUN, state: 'running', tryNumber: 1})
  await db.seed.sql(`UPDATE task_instance SET start_date = strftime('%Y-%m-%d %H:%M:%f000', 'now', '-60 minutes') WHERE task_id = 'slow'`, [])
})

afterAll(async () => {
  await db?.drop()
})

beforeEach(async () => {
  kube = await startFakeKube()
  ;({dir, env} = cliWorkspace(kube, {prefix: 'events', db}))
  for (let i = 0; i < 4; i++) addKpoPod(kube, {name: `healthy-${i}`, dagId: DAG, taskId: `healthy_${i}`, runId: RUN, tryNumber: 1})
  for (let i = 0; i < 2; i++) addKpoPod(kube, {name: `zombie-${i}`, dagId: DAG, taskId: `zombie_${i}`, runId: RUN, tryNumber: 1})
})

afterEach(async () => {
  await kube.close()
  rmSync(dir, {recursive: true, force: true})
})

async function run(args: string[]): Promise<{code: number | null; report: Report; stderr: string}> {
  const result = await runCli([...args, '-o', 'json'], {env})
  const report = JSON.parse(result.stdout) as Report
  assertValidReport(report)
  return {code: result.code, report, stderr: result.stderr}
}

const events = (): FakeObject[] => kube.listObjects('events', 'airflow')
const eventPosts = () => kube.requests.filter((r) => r.method === 'POST' && r.path === EVENTS_PATH)

describe('Kubernetes Events', () => {
  it('zombies --delete --yes: one ZombiePodDeleted event per deleted pod, valid for the API server and the schema', async () => {
    const uids = Object.fromEntries(kube.listObjects('pods').map((p) => [p.metadata.name, p.metadata.uid]))
    const {code, report} = await run(['zombies', '--delete', '--yes'])
    expect(code).toBe(0)
    expect(report.summary.acted).toBe(2)
    expect(report.warnings ?? []).toEqual([])
    const posted = events()
    expect(posted.map((e) => (e.regarding as {name: string}).name).sort()).toEqual(['zombie-0', 'zombie-1'])
    for (const event of posted) {
      new Event(event as never).validate()
      const name = (event.regarding as {name: string}).name
      expect(event).toMatchObject({
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        reason: 'ZombiePodDeleted',
        action: 'Delete',
        type: 'Normal',
        reportingController: 'airflow-reap',
        regarding: {apiVersion: 'v1', kind: 'Pod', namespace: 'airflow', name, uid: uids[name]},
      })
      expect(event.metadata.name).toMatch(new RegExp(`^${name}\\.[0-9a-f]+$`))
      expect(event.reportingInstance).toMatch(/^airflow-reap-./)
      expect(event.eventTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/)
      const item = report.items.find((i) => i.name === name)!
      expect(event.note).toContain(item.detail)
      expect(event.note).toContain(`task instance ${DAG}.zombie_${name.slice(-1)}, run ${RUN}, try 1, state success`)
    }
  })

  it('overdue --delete --yes: ExecutionTimeoutExceeded', async () => {
    addKpoPod(kube, {name: 'slow-pod', dagId: DAG, taskId: 'slow', runId: RUN, tryNumber: 1, ageMinutes: 61})
    const {code, report} = await run(['overdue', '--delete', '--yes'])
    expect(code).toBe(0)
    expect(report.items.find((i) => i.name === 'slow-pod')?.action).toBe('deleted')
    expect(events()).toHaveLength(1)
    expect(events()[0]).toMatchObject({reason: 'ExecutionTimeoutExceeded', action: 'Delete', regarding: {kind: 'Pod', name: 'slow-pod'}})
    expect(events()[0].note).toContain('slow')
  })

  it('unstick --yes: FinalizerRemoved regarding the Job (batch/v1)', async () => {
    kube.addObject('jobs', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {name: 'export', namespace: 'airflow', finalizers: ['orphan'], deletionTimestamp: new Date(Date.now() - 3_600_000).toISOString()},
      spec: {template: {spec: {restartPolicy: 'Never', containers: [{name: 'main', image: 'busybox'}]}}},
    })
    const {code, report} = await run(['unstick', 'jobs', '--yes'])
    expect(code).toBe(0)
    expect(report.summary.acted).toBe(1)
    expect(events()).toHaveLength(1)
    const event = events()[0]
    new Event(event as never).validate()
    expect(event).toMatchObject({reason: 'FinalizerRemoved', action: 'Patch', regarding: {apiVersion: 'batch/v1', kind: 'Job', name: 'export'}})
    expect(event.note).toContain('removed [orphan]')
  })

  it('unstick --yes on a pod whose graceful deletion still runs: the event never says it was deleted, and it is still Terminating', async () => {
    kube.addPod({namespace: 'airflow', name: 'graceful', finalizers: ['orphan'], deletionTimestamp: new Date(Date.now() - 3_600_000), terminationGracePeriodSeconds: 30})
    const {code, report} = await run(['unstick', 'pods', '--yes'])
    expect(code).toBe(0)
    const item = report.items.find((i) => i.name === 'graceful')!
    expect(item.action).toBe('patched')
    expect(item.detail).toContain('removed [orphan]')
    expect(item.detail).not.toContain('deleted it')
    expect(events()).toHaveLength(1)
    expect(events()[0].note).not.toContain('deleted it')
    expect(kube.getObject('pods', 'airflow', 'graceful')?.metadata.deletionTimestamp).toBeDefined()
  })

  it.each([
    ['a report (no --delete)', ['zombies']],
    ['--delete without --yes (--dry-run=client)', ['zombies', '--delete', '--dry-run=client']],
    ['--dry-run=server', ['zombies', '--delete', '--dry-run=server']],
    ['--no-events', ['zombies', '--delete', '--yes', '--no-events']],
    ['unstick --dry-run=server', ['unstick', '--dry-run=server']],
  ])('posts nothing for %s', async (_, args) => {
    const {code} = await run(args)
    expect(code).toBe(0)
    expect(eventPosts()).toEqual([])
  })

  it('an RBAC denial of events is one warning: the pods are still deleted and the run succeeds', async () => {
    kube.deny({verb: 'create', resource: 'events', group: 'events.k8s.io'})
    const {code, report, stderr} = await run(['zombies', '--delete', '--yes'])
    expect(code).toBe(0)
    expect(report.summary).toMatchObject({acted: 2, failed: 0})
    expect(kube.listObjects('pods').map((p) => p.metadata.name)).not.toContain('zombie-0')
    expect(report.warnings).toHaveLength(1)
    expect(report.warnings![0]).toMatch(/^Kubernetes events not posted for 2 of 2 actions: RBAC denied: cannot create events\.events\.k8s\.io in namespace "airflow"/)
    expect(report.warnings![0]).toContain('--no-events')
    expect(stderr).toContain('warning: Kubernetes events not posted')
    // After the first refusal the rest is not tried.
    expect(eventPosts()).toHaveLength(1)
  })

  it('an API server failing event posts (500) is tolerated: the run succeeds with a warning', async () => {
    kube.inject({method: 'POST', pathIncludes: '/events', status: 500, body: {kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'etcdserver: request timed out', reason: 'InternalError', code: 500}, times: Infinity})
    const {code, report} = await run(['zombies', '--delete', '--yes'])
    expect(code).toBe(0)
    expect(report.summary).toMatchObject({acted: 2, failed: 0})
    expect(report.warnings).toHaveLength(1)
    expect(report.warnings![0]).toMatch(/^Kubernetes events not posted for 2 of 2 actions: .*HTTP 500/)
    expect(events()).toEqual([])
  })
})
