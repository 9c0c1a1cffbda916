// Issue 18 §2 on a real kube-apiserver (test/support/real-kube.ts): `zombies` and `overdue` over a
// few thousand real pods, read in real metadata-only pages (limit + continue), deleted with real UID
// preconditions, a server dry run that changes nothing, and the Events the real events.k8s.io/v1
// validation accepts. No kubelet: the pods stay Pending (which zombies reaps like Running) unless a
// test writes their phase through the status subresource, as a kubelet would. The
// task instances live in a real PostgreSQL (test/support/airflow-db).
// Port-forward (pods/portforward needs a kubelet) stays tested on the fake only.
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import type {Report} from '../../src/core/report.js'
import {type TestAirflowDb, createPostgresAirflowDb} from '../support/airflow-db/index.js'
import {type CliWorkspace, cliWorkspace, runCli} from '../support/cli.js'
import {assertValidReport} from '../support/contract.js'
import {kpoOperator, kpoPodManifest} from '../support/kpo.js'
import {type RealKube, type RecordingProxy, createAll, realKubeMissing, startRealKube, startRecordingProxy} from '../support/real-kube.js'

// The built CLI against a real API server on a shared 2-core machine: one run can take 10-20 s.
vi.setConfig({testTimeout: 120_000, hookTimeout: 240_000})

const DAG = 'real_dag'
const RUN = 'scheduled__2026-12-01T00:00:00+00:00'
const HEALTHY = 2_000
const ZOMBIES = 12
const NS = 'airflow'
const PODS = `/api/v1/namespaces/${NS}/pods`

describe.skipIf(realKubeMissing)(`zombies and overdue on a real API server${realKubeMissing ? ` (skipped: ${realKubeMissing})` : ''}`, () => {
  let kube: RealKube
  let proxy: RecordingProxy
  let db: TestAirflowDb
  let workspace: CliWorkspace

  beforeAll(async () => {
    ;[kube, db] = await Promise.all([startRealKube({controllerManager: false}), createPostgresAirflowDb('2.10')])
    proxy = await startRecordingProxy(kube)
    workspace = cliWorkspace(proxy, {prefix: 'real-zombies', db})
    await db.seed.dagRun({dagId: DAG, runId: RUN})
    for (let i = 0; i < HEALTHY; i++) await db.seed.taskInstance({dagId: DAG, taskId: `healthy_${i}`, runId: RUN, state: 'running', tryNumber: 1})
    for (let i = 0; i < ZOMBIES; i++) await db.seed.taskInstance({dagId: DAG, taskId: `zombie_${i}`, runId: RUN, state: 'success', tryNumber: 1})
    // One running task 60 minutes into a 10-minute execution_timeout (overdue).
    const op = kpoOperator('slow', {deferrable: false, execution_timeout: 600.0})
    await db.seed.serializedDag({dagId: DAG, data: {__version: 1, dag: {_dag_id: DAG, fileloc: '/dags/r.py', timezone: 'UTC', tasks: [op]}}})
    await db.seed.taskInstance({dagId: DAG, taskId: 'slow', runId: RUN, state: 'running', tryNumber: 1})
    await db.seed.sql(`UPDATE task_instance SET start_date = now() - interval '60 minutes' WHERE task_id = 'slow'`, [])
    await createAll(kube, '/api/v1/namespaces', [{apiVersion: 'v1', kind: 'Namespace', metadata: {name: NS}}], 1)
    const pods = [
      ...Array.from({length: HEALTHY}, (_, i) => kpoPodManifest({name: `healthy-${i}`, dagId: DAG, taskId: `healthy_${i}`, runId: RUN, tryNumber: 1})),
      ...Array.from({length: ZOMBIES}, (_, i) => kpoPodManifest({name: `zombie-${i}`, dagId: DAG, taskId: `zombie_${i}`, runId: RUN, tryNumber: 1})),
      kpoPodManifest({name: 'slow-pod', dagId: DAG, taskId: 'slow', runId: RUN, tryNumber: 1}),
    ]
    await createAll(kube, PODS, pods)
  }, 240_000)

  afterAll(async () => {
    await proxy?.close()
    await kube?.stop()
    await db?.drop()
    workspace?.remove()
  })

  async function run(args: string[]): Promise<{code: number | null; report: Report; stderr: string}> {
    // Pods made a moment ago: zombies' --min-age would spare them all.
    const minAge = args[0] === 'zombies' ? ['--min-age', '0s'] : []
    const result = await runCli([...args, '-o', 'json', ...minAge], {env: workspace.env, timeoutMs: 120_000})
    expect(result.stdout, result.stderr).not.toBe('')
    const report = JSON.parse(result.stdout) as Report
    assertValidReport(report)
    return {code: result.code, report, stderr: result.stderr}
  }

  async function podNames(): Promise<string[]> {
    const names: string[] = []
    let token = ''
    do {
      const page = await kube.request('GET', `${PODS}?limit=1000${token ? `&continue=${encodeURIComponent(token)}` : ''}`)
      names.push(...page.body.items.map((p: {metadata: {name: string}}) => p.metadata.name))
      token = page.body.metadata.continue ?? ''
    } while (token)
    return names
  }

  const zombieNames = Array.from({length: ZOMBIES}, (_, i) => `zombie-${i}`)
  const events = (reason: string): string[] =>
    JSON.parse(kube.kubectl(['get', 'events.events.k8s.io', '-n', NS, '--field-selector', `reason=${reason}`, '-o', 'json'])).items.map(
      (e: {regarding: {name: string}}) => e.regarding.name,
    )

  it('finds exactly the zombies among 2,013 pods, read in metadata-only pages of 500 with continue tokens', async () => {
    proxy.requests.length = 0
    const {code, report} = await run(['zombies'])
    expect(code).toBe(0)
    expect(report.summary.scanned).toBe(HEALTHY + ZOMBIES + 1)
    expect(report.items.filter((i) => i.reason === 'no-active-task-instance').map((i) => i.name).sort()).toEqual([...zombieNames].sort())
    const lists = proxy.requests.filter((r) => r.method === 'GET' && r.path === PODS)
    expect(lists.length).toBeGreaterThanOrEqual(5)
    expect(lists.every((r) => r.query.get('limit') === '500' && r.accept.includes('as=PartialObjectMetadataList'))).toBe(true)
    expect(lists.slice(1).every((r) => (r.query.get('continue') ?? '') !== '')).toBe(true)
  })

  it('--dry-run=server: the real server accepts every delete and nothing changes, no Event posted', async () => {
    const {code, report} = await run(['zombies', '--delete', '--yes', '--dry-run=server'])
    expect(code).toBe(0)
    expect(report.dryRun).toBe(true)
    expect(report.summary.failed).toBe(0)
    expect(report.items.filter((i) => i.reason === 'no-active-task-instance').every((i) => i.action === 'none' && i.detail.includes('server dry run'))).toBe(true)
    expect(await podNames()).toHaveLength(HEALTHY + ZOMBIES + 1)
    expect(events('ZombiePodDeleted')).toEqual([])
  })

  it('a zombie whose phase a kubelet would have set to Succeeded (the status subresource) is listed, not reaped', async () => {
    const path = `${PODS}/zombie-${ZOMBIES - 1}/status`
    const current = (await kube.request('GET', path)).body
    const written = await kube.request('PUT', path, {...current, status: {...current.status, phase: 'Succeeded'}})
    expect(written.status).toBe(200)
    try {
      const {report} = await run(['zombies', '--delete', '--yes', '--dry-run=server'])
      expect(report.items.find((i) => i.name === `zombie-${ZOMBIES - 1}`)).toMatchObject({action: 'skipped', skipReason: 'finished'})
    } finally {
      const pending = (await kube.request('GET', path)).body
      expect((await kube.request('PUT', path, {...pending, status: {...pending.status, phase: 'Pending'}})).status).toBe(200)
    }
  })

  it('--delete --yes deletes exactly the zombies with UID preconditions: one re-created under its name meanwhile survives (real 409)', async () => {
    let replacedUid = ''
    proxy.beforeForward = async (request) => {
      if (request.method === 'DELETE' && request.path === `${PODS}/zombie-0` && !replacedUid) {
        expect((await kube.request('DELETE', `${PODS}/zombie-0`)).status).toBe(200)
        const [created] = await createAll(kube, PODS, [kpoPodManifest({name: 'zombie-0', dagId: DAG, taskId: 'zombie_0', runId: RUN, tryNumber: 1})], 1)
        replacedUid = created.metadata.uid
      }
    }
    try {
      const {code, report} = await run(['zombies', '--delete', '--yes'])
      expect(code).toBe(0)
      expect(report.items.find((i) => i.name === 'zombie-0')).toMatchObject({action: 'skipped', skipReason: 'replaced'})
      expect(report.items.filter((i) => i.action === 'deleted').map((i) => i.name).sort()).toEqual(zombieNames.slice(1).sort())
    } finally {
      proxy.beforeForward = undefined
    }
    expect(replacedUid).not.toBe('')
    expect((await kube.request('GET', `${PODS}/zombie-0`)).body.metadata.uid).toBe(replacedUid)
    const left = await podNames()
    expect(left).toHaveLength(HEALTHY + 2)
    expect(left.filter((n) => n.startsWith('zombie-'))).toEqual(['zombie-0'])
    // Every Event passed the real events.k8s.io/v1 validation and is listed by reason.
    expect(events('ZombiePodDeleted').sort()).toEqual(zombieNames.slice(1).sort())
  })

  it('overdue --delete --yes deletes the pod of the task past its execution_timeout, and posts ExecutionTimeoutExceeded', async () => {
    const {code, report} = await run(['overdue', '--delete', '--yes'])
    expect(code).toBe(0)
    expect(report.items.filter((i) => i.action === 'deleted').map((i) => i.name)).toEqual(['slow-pod'])
    expect((await kube.request('GET', `${PODS}/slow-pod`)).status).toBe(404)
    expect(events('ExecutionTimeoutExceeded')).toEqual(['slow-pod'])
  })
})
