// The re-checks and preconditions of every path that deletes, driven in-process (src, not dist/, so the
// mutation run reaches them): the real use cases against the fake API server and a real SQLite Airflow
// DB, with the world changed between the scan and the delete as Airflow would change it. Each test
// names the guard it proves; removing that guard makes it fail (docs/mutation-report.md lists them).
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import type {TaskInstanceSource} from '../../src/airflow/types.js'
import type {ReportItem} from '../../src/core/report.js'
import type {KubeClient} from '../../src/kube/client.js'
import {resolveResource} from '../../src/kube/resources.js'
import type {PodDeletion} from '../../src/reap/guarded-delete.js'
import {reapOverdue, scanOverdue} from '../../src/reap/overdue.js'
import {silentProgress} from '../../src/reap/progress.js'
import {type UnstickConfig, reportItems, scanStuck, unstick} from '../../src/reap/unstick.js'
import {reapZombies, scanZombies} from '../../src/reap/zombies.js'
import type {TestAirflowDb} from '../support/airflow-db/index.js'
import {type ReapWorld, startReapWorld} from '../support/reap-world.js'
import type {FakeKube} from '../support/fake-kube/index.js'
import {addKpoPod, kpoOperator} from '../support/kpo.js'

const DAG = 'guard_dag'
const RUN = 'scheduled__2026-11-22T00:00:00+00:00'
const NS = 'airflow'
const MINUTE = 60_000

let db: TestAirflowDb
let airflow: TaskInstanceSource
let kube: FakeKube
let client: KubeClient
let world: ReapWorld

beforeAll(async () => {
  world = await startReapWorld({prefix: 'guards', dagId: DAG, runId: RUN, tasks: overdueTasks()})
  ;({db, airflow, kube, client} = world)
})

afterAll(async () => {
  await world?.close()
})

let counter = 0
/** A task id of its own per test: the tests share one DB. */
let taskId: string
beforeEach(() => {
  taskId = `task_${++counter}`
  kube.requests.length = 0
})
afterEach(() => {
  for (const pod of kube.listObjects('pods')) kube.removeObject('pods', pod.metadata.namespace, pod.metadata.name)
  for (const job of kube.listObjects('jobs')) kube.removeObject('jobs', job.metadata.namespace, job.metadata.name)
})

const DELETION: PodDeletion = {serverDryRun: false, maxDeletes: 100, allowMassDelete: true, concurrency: 2}
const podNames = () => kube.listObjects('pods').map((p) => p.metadata.name as string).sort()
const deletedPods = () => kube.requests.filter((r) => r.method === 'DELETE' && r.path.includes('/pods/')).map((r) => r.path.split('/').pop())

function itemOf(items: ReportItem[], name: string): ReportItem {
  const item = items.find((i) => i.name === name)
  if (!item) throw new Error(`no item ${name} in ${items.map((i) => i.name).join(', ')}`)
  return item
}

/** Healthy running tasks with pods, so a single candidate stays under the mass-delete stop either way. */
async function healthyPods(count = 3): Promise<void> {
  for (let i = 0; i < count; i++) {
    const id = `${taskId}_healthy_${i}`
    await db.seed.taskInstance({dagId: DAG, taskId: id, runId: RUN, state: 'running', tryNumber: 1, startDate: new Date(Date.now() - 5 * MINUTE)})
    addKpoPod(kube, {name: `${id.replaceAll('_', '-')}`, dagId: DAG, taskId: id, runId: RUN, tryNumber: 1})
  }
}

describe('zombies: the re-check just before the delete', () => {
  const config = {namespace: NS, minAgeSeconds: 60, includeUnknown: false, includeFinished: true, concurrency: 2}
  const deps = () => ({kube: client, db: airflow, progress: silentProgress})

  /** Try 1 finished and left its pod: a zombie at the scan. */
  async function zombie(): Promise<string> {
    await db.seed.taskInstance({dagId: DAG, taskId, runId: RUN, state: 'success', tryNumber: 1, startDate: new Date(Date.now() - 90 * MINUTE)})
    const name = taskId.replaceAll('_', '-')
    addKpoPod(kube, {name, dagId: DAG, taskId, runId: RUN, tryNumber: 1})
    await healthyPods()
    return name
  }

  it('a zombie still a zombie at the re-check is deleted (the control case)', async () => {
    const name = await zombie()
    const scan = await scanZombies(deps(), config)
    expect(itemOf(scan.findings.map((f) => f.item), name).action).toBe('none')
    await reapZombies(deps(), scan, config, DELETION)
    expect(itemOf(scan.findings.map((f) => f.item), name).action).toBe('deleted')
    expect(deletedPods()).toEqual([name])
  })

  // Guard: the `verdict.skipReason` branch of recheck. Between the scan and the delete the task was
  // retried; it is still a finding at the re-check, but one with a reason to leave the pod alone.
  it.each([
    [
      'try 2 re-attached to the pod (its pod_name XCom names it)',
      async (name: string) => {
        await db.seed.setTaskInstance({dagId: DAG, taskId, runId: RUN}, {state: 'running', tryNumber: 2, startDate: new Date()})
        await db.seed.xcom({dagId: DAG, taskId, runId: RUN, key: 'pod_name', value: name})
      },
      'may-be-reattached',
    ],
    [
      'try 2 queued, not yet started (it may still re-attach)',
      async () => db.seed.setTaskInstance({dagId: DAG, taskId, runId: RUN}, {state: 'queued', tryNumber: 2, startDate: null}),
      'may-be-reattached',
    ],
    [
      'try 2 running without a pod_name XCom yet',
      async () => db.seed.setTaskInstance({dagId: DAG, taskId, runId: RUN}, {state: 'running', tryNumber: 2, startDate: new Date()}),
      'may-be-reattached',
    ],
    [
      'the task instance moved to a state this version does not know',
      async () => db.seed.setTaskInstance({dagId: DAG, taskId, runId: RUN}, {state: 'some_future_state', tryNumber: 1}),
      'unknown-state',
    ],
  ])('retried between scan and delete: %s → left alone', async (_why, change, skipReason) => {
    const name = await zombie()
    const scan = await scanZombies(deps(), config)
    const item = itemOf(scan.findings.map((f) => f.item), name)
    expect(item.action).toBe('none')
    await change(name)
    await reapZombies(deps(), scan, config, DELETION)
    expect(item).toMatchObject({action: 'skipped', skipReason})
    expect(deletedPods()).toEqual([])
    expect(podNames()).toContain(name)
  })
})

describe('the deletion sequence (sanity stop → cap → re-check → guarded delete)', () => {
  const config = {namespace: NS, minAgeSeconds: 60, includeUnknown: false, includeFinished: false, concurrency: 2}
  const deps = () => ({kube: client, db: airflow, progress: silentProgress})

  /** `count` zombies (finished tasks whose pods are still here), in `phase`; their pod names. */
  async function zombies(count: number, phase = 'Running'): Promise<string[]> {
    const names: string[] = []
    for (let i = 0; i < count; i++) {
      const id = `${taskId}_z${i}`
      await db.seed.taskInstance({dagId: DAG, taskId: id, runId: RUN, state: 'success', tryNumber: 1})
      names.push(id.replaceAll('_', '-'))
      addKpoPod(kube, {name: names[i]!, dagId: DAG, taskId: id, runId: RUN, tryNumber: 1, phase})
    }
    return names
  }

  // Guard: the sanity stop (reapCandidates returns checkSanity's refusal before anything is deleted).
  it('more than half of the scanned pods: refuses, and deletes nothing', async () => {
    await zombies(3)
    await healthyPods(1)
    const scan = await scanZombies(deps(), config)
    const stop = await reapZombies(deps(), scan, config, {...DELETION, allowMassDelete: false})
    expect(stop).toMatch(/--allow-mass-delete/)
    expect(deletedPods()).toEqual([])
    expect(scan.findings.every((f) => f.item.action === 'none')).toBe(true)
  })

  // Guard: the --max-deletes cap (candidates beyond it are held back, never deleted).
  it('--max-deletes 1 of 3: one deleted, the others held back', async () => {
    const names = await zombies(3)
    await healthyPods()
    const scan = await scanZombies(deps(), config)
    await reapZombies(deps(), scan, config, {...DELETION, maxDeletes: 1})
    const items = scan.findings.map((f) => f.item)
    expect(deletedPods()).toHaveLength(1)
    expect(items.filter((i) => i.action === 'deleted').map((i) => i.name)).toEqual(deletedPods())
    const held = items.filter((i) => i.skipReason === 'max-deletes')
    expect(held).toHaveLength(2)
    for (const item of held) expect(item).toMatchObject({action: 'skipped', detail: expect.stringMatching(/; held back by --max-deletes 1$/)})
    expect(podNames()).toEqual(expect.arrayContaining(names.filter((n) => !deletedPods().includes(n))))
  })

  // Guard: only findings still to act on are candidates (a finished pod skipped at the scan stays skipped).
  it('a zombie whose pod already finished is left alone without --include-finished', async () => {
    const [finished] = await zombies(1, 'Succeeded')
    await healthyPods()
    const scan = await scanZombies(deps(), config)
    await reapZombies(deps(), scan, config, DELETION)
    expect(itemOf(scan.findings.map((f) => f.item), finished!)).toMatchObject({action: 'skipped', skipReason: 'finished'})
    expect(deletedPods()).toEqual([])
  })

  // Guard: --dry-run=server sends dryRun=All and reports what would happen, deleting nothing.
  it('--dry-run=server: every DELETE carries dryRun=All, nothing is deleted, the report says so', async () => {
    const [name] = await zombies(1)
    await healthyPods()
    const scan = await scanZombies(deps(), config)
    await reapZombies(deps(), scan, config, {...DELETION, serverDryRun: true})
    const deletes = kube.requests.filter((r) => r.method === 'DELETE')
    expect(deletes).toHaveLength(1)
    expect(deletes[0]!.body).toMatchObject({dryRun: ['All']})
    expect(podNames()).toContain(name)
    expect(itemOf(scan.findings.map((f) => f.item), name!)).toMatchObject({action: 'none', detail: expect.stringContaining('server dry run: the API server would accept the delete')})
  })
})

function overdueTasks(): object[] {
  // One deferrable KPO task per test, each with a 30 min timeout.
  return Array.from({length: 40}, (_, i) => kpoOperator(`task_${i + 1}`, {execution_timeout: 1800.0, retries: 3}))
}

describe('overdue: the re-check compares the try and its start', () => {
  const config = {namespace: NS, graceSeconds: 0, concurrency: 2}
  const deps = () => ({kube: client, db: airflow, progress: silentProgress})
  const key = () => ({dagId: DAG, taskId, runId: RUN})

  /** Try 1 deferred 2 h into a 30 min timeout: overdue at the scan. Its pod is returned by name. */
  async function overdue(): Promise<{name: string; startDate: Date}> {
    const startDate = new Date(Date.now() - 120 * MINUTE)
    await db.seed.taskInstance({...key(), state: 'deferred', tryNumber: 1, startDate})
    const name = taskId.replaceAll('_', '-')
    addKpoPod(kube, {name, dagId: DAG, taskId, runId: RUN, tryNumber: 1, ageMinutes: 121})
    return {name, startDate}
  }

  it('a task unchanged at the re-check has its pod deleted (the control case)', async () => {
    const {name} = await overdue()
    const scan = await scanOverdue(deps(), config)
    expect(itemOf(scan.findings.map((f) => f.item), name).action).toBe('none')
    await reapOverdue(deps(), scan, DELETION)
    expect(itemOf(scan.findings.map((f) => f.item), name).action).toBe('deleted')
    expect(deletedPods()).toEqual([name])
  })

  // Guards: `after.tryNumber === before.tryNumber` and the equal start date in sameTry. A retried task
  // that is running again (re-attached to the same pod, so the pod is now the new try's) looks
  // unchanged by state alone; each of the two comparisons must hold on its own.
  it.each([
    ['retried: try 2 running again, started just now, re-attached to the pod', {tryNumber: 2, startedMinutesAgo: 0}],
    ['retried: try 2 at the same recorded start (the try number alone tells)', {tryNumber: 2, startedMinutesAgo: undefined}],
    ['restarted in the same try: a new start date (the start alone tells)', {tryNumber: 1, startedMinutesAgo: 1}],
  ])('%s → its pod is left alone', async (_why, change) => {
    const {name, startDate} = await overdue()
    const scan = await scanOverdue(deps(), config)
    const item = itemOf(scan.findings.map((f) => f.item), name)
    expect(item.action).toBe('none')
    const newStart = change.startedMinutesAgo === undefined ? startDate : new Date(Date.now() - change.startedMinutesAgo * MINUTE)
    await db.seed.setTaskInstance(key(), {state: 'running', tryNumber: change.tryNumber, startDate: newStart})
    if (change.tryNumber > 1) await db.seed.xcom({...key(), key: 'pod_name', value: name})
    await reapOverdue(deps(), scan, DELETION)
    expect(item).toMatchObject({action: 'skipped', skipReason: 'changed-concurrently'})
    expect(item.detail).toMatch(new RegExp(`now running in try ${change.tryNumber}`))
    expect(deletedPods()).toEqual([])
    expect(podNames()).toContain(name)
  })
})

describe('unstick --delete-dependents: only a foreground deletion hands its dependents to us', () => {
  const jobs = resolveResource('jobs')
  const deps = () => ({kube: client, progress: silentProgress})
  const config = (deleteDependents: boolean): UnstickConfig => ({
    namespace: NS,
    targets: [{resource: jobs}],
    olderThanSeconds: 60,
    extraFinalizers: [],
    deleteDependents,
    serverDryRun: false,
    concurrency: 2,
  })

  /** A Job deleted an hour ago with `finalizer` still on it, and two pods it owns. */
  function stuckJobWithPods(name: string, finalizer: 'orphan' | 'foregroundDeletion'): string[] {
    const job = kube.addObject('jobs', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {name, namespace: NS, finalizers: [finalizer], deletionTimestamp: new Date(Date.now() - 60 * MINUTE).toISOString(), deletionGracePeriodSeconds: 0},
      spec: {template: {spec: {restartPolicy: 'Never', containers: [{name: 'main', image: 'busybox'}]}}},
    })
    const owner = [{apiVersion: 'batch/v1', kind: 'Job', name, uid: job.metadata.uid, controller: true, blockOwnerDeletion: true}]
    const pods = [`${name}-a`, `${name}-b`]
    for (const pod of pods) kube.addPod({namespace: NS, name: pod, ownerReferences: owner})
    return pods
  }

  // Guard: `config.deleteDependents && isForeground(...)` in findDependents.
  it('an Orphan deletion keeps its dependents, even with --delete-dependents', async () => {
    const pods = stuckJobWithPods(`orphaned-${counter}`, 'orphan')
    const scan = await scanStuck(deps(), config(true))
    await unstick(deps(), scan, config(true))
    const items = reportItems(scan)
    expect(items.map((i) => `${i.kind}/${i.name}:${i.action}`)).toEqual([`Job/orphaned-${counter}:patched`])
    expect(items[0].detail).toMatch(/dependents .* stay, as the orphan propagation asked/)
    expect(deletedPods()).toEqual([])
    expect(podNames()).toEqual(pods)
  })

  it('a foreground deletion has its dependents deleted first with --delete-dependents, kept without', async () => {
    const pods = stuckJobWithPods(`fg-${counter}`, 'foregroundDeletion')
    const scan = await scanStuck(deps(), config(false))
    await unstick(deps(), scan, config(false))
    expect(reportItems(scan)).toHaveLength(1)
    expect(podNames()).toEqual(pods)

    const again = stuckJobWithPods(`fg2-${counter}`, 'foregroundDeletion')
    const scan2 = await scanStuck(deps(), config(true))
    await unstick(deps(), scan2, config(true))
    const items = reportItems(scan2)
    expect(items.map((i) => `${i.kind}/${i.name}:${i.action}`)).toEqual([`Job/fg2-${counter}:patched`, ...again.map((p) => `Pod/${p}:deleted`)])
    expect(deletedPods().sort()).toEqual(again)
    expect(podNames()).toEqual(pods)
  })
})
