// The zombies and overdue use cases (src/reap/zombies.ts, overdue.ts, kpo-pods.ts) driven in-process
// against the fake API server and a real SQLite Airflow DB, so the mutation run reaches them: what the
// scan reads and says (its progress, each finding's detail and phase), the pods it leaves to Airflow,
// and the re-check's outcomes not covered by reap-guards.test.ts.
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import type {TaskInstanceSource} from '../../src/airflow/types.js'
import type {ReportItem} from '../../src/core/report.js'
import type {ObjectMeta} from '../../src/core/types.js'
import type {KubeClient} from '../../src/kube/client.js'
import type {PodDeletion} from '../../src/reap/guarded-delete.js'
import {PHASE_GETS_MAX, dagRunsOwning, podSelector, readPhases} from '../../src/reap/kpo-pods.js'
import {reapOverdue, scanOverdue} from '../../src/reap/overdue.js'
import {reapZombies, scanZombies} from '../../src/reap/zombies.js'
import type {TestAirflowDb} from '../support/airflow-db/index.js'
import {type ReapWorld, startReapWorld} from '../support/reap-world.js'
import type {FakeKube} from '../support/fake-kube/index.js'
import {addKpoPod, kpoOperator} from '../support/kpo.js'
import {recordingJournal, recordingProgress} from '../support/recording.js'

const DAG = 'scan_dag'
const RUN = 'scheduled__2026-11-22T00:00:00+00:00'
const NS = 'airflow'
const MINUTE = 60_000

let db: TestAirflowDb
let airflow: TaskInstanceSource
let kube: FakeKube
let client: KubeClient
let world: ReapWorld

beforeAll(async () => {
  const tasks = Array.from({length: 60}, (_, i) => kpoOperator(`task_${i + 1}`, {execution_timeout: 1800.0, retries: 3}))
  world = await startReapWorld({prefix: 'scan', dagId: DAG, runId: RUN, tasks})
  ;({db, airflow, kube, client} = world)
})

afterAll(async () => {
  await world?.close()
})

let counter = 0
let taskId: string
beforeEach(() => {
  taskId = `task_${++counter}`
  kube.requests.length = 0
})
afterEach(() => {
  kube.resetBehaviour()
  for (const pod of kube.listObjects('pods')) kube.removeObject('pods', pod.metadata.namespace, pod.metadata.name)
})

/** The Airflow DB, counting the statements of each kind it is asked for and the XCom keys. */
function counting(source: TaskInstanceSource) {
  const calls: Record<string, number> = {}
  const xcomKeys: string[] = []
  const db = new Proxy(source, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        calls[String(property)] = (calls[String(property)] ?? 0) + 1
        if (property === 'podNameXComs') xcomKeys.push(...(args[0] as {taskId: string}[]).map((k) => k.taskId))
        return value.apply(target, args)
      }
    },
  })
  return {db, calls, xcomKeys}
}

const DELETION: PodDeletion = {serverDryRun: false, maxDeletes: 100, allowMassDelete: true, concurrency: 2}
const podName = (id: string) => id.replaceAll('_', '-')
const deletedPods = () => kube.requests.filter((r) => r.method === 'DELETE').map((r) => r.path.split('/').pop())

function itemOf(items: ReportItem[], name: string): ReportItem {
  const item = items.find((i) => i.name === name)
  if (!item) throw new Error(`no item ${name} in ${items.map((i) => i.name).join(', ')}`)
  return item
}

/** A task instance in `state` and its pod (named after the task). */
async function taskWithPod(id: string, state: string, pod: {phase?: string; ageMinutes?: number; startedMinutesAgo?: number; tryNumber?: number} = {}): Promise<string> {
  const startDate = new Date(Date.now() - (pod.startedMinutesAgo ?? 90) * MINUTE)
  await db.seed.taskInstance({dagId: DAG, taskId: id, runId: RUN, state, tryNumber: pod.tryNumber ?? 1, startDate})
  addKpoPod(kube, {name: podName(id), dagId: DAG, taskId: id, runId: RUN, tryNumber: pod.tryNumber ?? 1, phase: pod.phase, ageMinutes: pod.ageMinutes ?? 91})
  return podName(id)
}

/** Healthy running tasks, so that the candidates stay under the mass-delete stop. */
async function healthy(count = 4): Promise<void> {
  for (let i = 0; i < count; i++) await taskWithPod(`${taskId}_ok_${i}`, 'running', {startedMinutesAgo: 5, ageMinutes: 6})
}

describe('zombies', () => {
  const config = {namespace: NS, minAgeSeconds: 60, includeUnknown: false, includeFinished: false, concurrency: 2}
  const depsOf = (extra = {}) => ({kube: client, db: airflow, progress: recordingProgress(), ...extra})

  it('no KPO pods: nothing read from the DB, nothing found', async () => {
    const journal = recordingJournal()
    const deps = depsOf({journal})
    expect(await scanZombies(deps, config)).toEqual({scanned: 0, runs: [], findings: []})
    expect(deps.progress.updates).toEqual(['listing KubernetesPodOperator pods'])
    expect(journal.listedCounts).toEqual([0])
  })

  it('the scan says what it reads, journals how many pods it listed, and names the finished task in the detail', async () => {
    const name = await taskWithPod(taskId, 'success')
    await healthy()
    const journal = recordingJournal()
    const deps = depsOf({journal})
    const scan = await scanZombies(deps, config)
    expect(scan.scanned).toBe(5)
    expect(journal.listedCounts).toEqual([5])
    expect(scan.runs.map((r) => r.runId)).toEqual([RUN])
    expect(deps.progress.updates).toEqual([
      'listing KubernetesPodOperator pods',
      'reading Airflow for 5 pods',
      'reading the task instances of 5 pods (1 dag runs)',
      're-reading 1 candidate pods',
      'reading 1 candidate pods',
    ])
    const item = itemOf(scan.findings.map((f) => f.item), name)
    expect(item).toMatchObject({kind: 'Pod', reason: 'no-active-task-instance', action: 'none', phase: 'Running', detail: 'task instance is success (try 1); the pod is still here'})
    expect('skipReason' in item).toBe(false)
    expect(item.taskInstance).toMatchObject({dagId: DAG, taskId, runId: RUN, tryNumber: 1, state: 'success'})
    expect(kube.listObjects('pods').find((p) => p.metadata.name === name)).toBeDefined()
  })

  it.each([
    ['Succeeded', 'succeeded'],
    ['Failed', 'failed'],
  ])('a zombie whose pod %s is left alone without --include-finished, deleted with it', async (phase, how) => {
    const name = await taskWithPod(taskId, 'success', {phase})
    await healthy()
    const scan = await scanZombies(depsOf(), config)
    expect(itemOf(scan.findings.map((f) => f.item), name)).toMatchObject({
      action: 'skipped',
      skipReason: 'finished',
      phase,
      detail: `task instance is success (try 1); the pod is still here; the pod already ${how} (--include-finished reaps it)`,
    })
    const withFinished = {...config, includeFinished: true}
    const again = await scanZombies(depsOf(), withFinished)
    await reapZombies(depsOf(), again, withFinished, DELETION)
    expect(itemOf(again.findings.map((f) => f.item), name).action).toBe('deleted')
    expect(deletedPods()).toEqual([name])
  })

  it('the finished task is named only for a zombie with nothing else to say', async () => {
    const young = await taskWithPod(taskId, 'success', {ageMinutes: 0})
    const stale = await taskWithPod(`${taskId}_s`, 'running', {tryNumber: 2})
    // The pod of try 1 of a task whose try 2 runs with another pod.
    addKpoPod(kube, {name: `${stale}-try1`, dagId: DAG, taskId: `${taskId}_s`, runId: RUN, tryNumber: 1, ageMinutes: 200})
    await db.seed.xcom({dagId: DAG, taskId: `${taskId}_s`, runId: RUN, key: 'pod_name', value: stale})
    // A pod whose task has no row in its (known) dag run.
    addKpoPod(kube, {name: `${taskId}-rowless`.replaceAll('_', '-'), dagId: DAG, taskId: `${taskId}_rowless`, runId: RUN, tryNumber: 1})
    // A KPO pod without the labels that name its task.
    kube.addPod({namespace: NS, name: `${taskId}-unlabelled`.replaceAll('_', '-'), labels: {kubernetes_pod_operator: 'True', dag_id: DAG}, creationTimestamp: new Date(Date.now() - 90 * MINUTE)})
    await healthy(6)
    const scan = await scanZombies(depsOf(), config)
    const items = scan.findings.map((f) => f.item)
    expect(itemOf(items, `${taskId}-unlabelled`.replaceAll('_', '-'))).toMatchObject({skipReason: 'missing-labels', detail: 'cannot be matched to a task instance: missing label task_id, run_id, try_number'})
    expect(itemOf(items, young)).toMatchObject({skipReason: 'too-young', detail: "no active task instance matches the pod's labels", taskInstance: {state: 'success'}})
    expect(itemOf(items, `${stale}-try1`).detail).toBe(`try 1 is older than try 2 (running), whose pod is ${stale}`)
    expect(itemOf(items, `${taskId}-rowless`.replaceAll('_', '-'))).toMatchObject({detail: "no active task instance matches the pod's labels", taskInstance: null})
  })

  it('a journal that does not count what was listed is fine', async () => {
    await taskWithPod(taskId, 'success')
    const journal = {intent: () => {}, outcome: () => {}}
    expect((await scanZombies(depsOf({journal}), config)).scanned).toBe(1)
    expect((await scanOverdue(depsOf({journal}), {namespace: NS, graceSeconds: 0, concurrency: 2})).scanned).toBe(1)
  })

  it('a too-young zombie keeps its own reason whatever its phase', async () => {
    const name = await taskWithPod(taskId, 'success', {phase: 'Succeeded', ageMinutes: 0})
    await healthy()
    const scan = await scanZombies(depsOf(), config)
    expect(itemOf(scan.findings.map((f) => f.item), name)).toMatchObject({action: 'skipped', skipReason: 'too-young'})
  })

  it('a pod deleted (or replaced) between the list and the phase read: already-gone, not deleted', async () => {
    const name = await taskWithPod(taskId, 'success')
    await healthy()
    kube.beforeRequest((r) => {
      if (r.method === 'GET' && r.path.endsWith(`/pods/${name}`)) kube.removeObject('pods', NS, name)
    })
    const scan = await scanZombies(depsOf(), config)
    const item = itemOf(scan.findings.map((f) => f.item), name)
    expect(item).toMatchObject({action: 'skipped', skipReason: 'already-gone'})
    expect(item.detail).toMatch(/; the pod is gone \(or was replaced\) since it was listed$/)
    const progress = recordingProgress()
    await reapZombies(depsOf({progress}), scan, config, DELETION)
    expect(deletedPods()).toEqual([])
    // No candidate left: nothing to re-check either.
    expect(progress.updates).toEqual([])
  })

  // Guard: recheck's `if (!verdict)` (a task active again is no finding at all at the re-check).
  it('its task running again between scan and delete: skipped became-active; another zombie still deleted, journaled', async () => {
    const back = await taskWithPod(taskId, 'success')
    const other = await taskWithPod(`${taskId}_b`, 'success')
    await healthy(6)
    const journal = recordingJournal()
    const scan = await scanZombies(depsOf(), config)
    await db.seed.setTaskInstance({dagId: DAG, taskId, runId: RUN}, {state: 'running', tryNumber: 1})
    const progress = recordingProgress()
    await reapZombies(depsOf({journal, progress}), scan, config, DELETION)
    const items = scan.findings.map((f) => f.item)
    expect(itemOf(items, back)).toMatchObject({action: 'skipped', skipReason: 'became-active', detail: 'its task instance became active since the scan; left alone'})
    expect(itemOf(items, other).action).toBe('deleted')
    expect(deletedPods()).toEqual([other])
    expect(journal.calls).toEqual([`intent delete Pod/${other}`, `outcome Pod/${other} deleted`])
    expect(progress.updates[0]).toBe('re-checking 2 candidates against Airflow')
  })

  it('a DB that cannot be read at the re-check: nothing deleted, the error thrown', async () => {
    await taskWithPod(taskId, 'success')
    await healthy()
    const scan = await scanZombies(depsOf(), config)
    // The source's own methods (proveCandidates among them) over reads that fail.
    const broken: TaskInstanceSource = Object.assign(Object.create(airflow) as TaskInstanceSource, {
      taskInstancesOfTasks: async () => Promise.reject(new Error('DB gone')),
      taskInstancesOfRuns: async () => Promise.reject(new Error('DB gone')),
    })
    await expect(reapZombies({kube: client, db: broken, progress: recordingProgress()}, scan, config, DELETION)).rejects.toThrow('DB gone')
    expect(deletedPods()).toEqual([])
  })
})

/**
 * The DB source answering the proof as an API source may: the DAGs the credentials may not read, the
 * missing dag runs a read of their own found (the DB source itself never reports either).
 */
function provingAlso(extra: {notPermitted?: string[]; foundRuns?: Array<{dagId: string; runId: string}>}): TaskInstanceSource {
  return Object.assign(Object.create(airflow) as TaskInstanceSource, {
    proveCandidates: async (request: Parameters<TaskInstanceSource['proveCandidates']>[0]) => {
      const proof = await airflow.proveCandidates(request)
      const asked = new Set(request.missingRuns.map((run) => JSON.stringify([run.dagId, run.runId])))
      const foundRuns = (extra.foundRuns ?? []).filter((run) => asked.has(JSON.stringify([run.dagId, run.runId])))
      // Only DAGs the request names, as an API source reads only what it is asked about.
      const named = new Set([...request.tasks, ...request.runs, ...request.missingRuns].map((ref) => ref.dagId))
      return {...proof, notPermitted: new Set((extra.notPermitted ?? []).filter((dagId) => named.has(dagId))), foundRuns}
    },
  })
}

describe("the source's proof: what it could not read keeps the pod", () => {
  const config = {namespace: NS, minAgeSeconds: 60, includeUnknown: true, includeFinished: false, concurrency: 2}

  it('zombies: a DAG the credentials may not read, at the scan and again just before deleting: not-permitted, nothing deleted', async () => {
    const name = await taskWithPod(taskId, 'success')
    await healthy()
    const denied = provingAlso({notPermitted: [DAG]})
    const atScan = await scanZombies({kube: client, db: denied, progress: recordingProgress()}, config)
    expect(itemOf(atScan.findings.map((f) => f.item), name)).toMatchObject({action: 'skipped', skipReason: 'not-permitted'})
    const scan = await scanZombies({kube: client, db: airflow, progress: recordingProgress()}, config)
    expect(itemOf(scan.findings.map((f) => f.item), name).action).toBe('none')
    await reapZombies({kube: client, db: denied, progress: recordingProgress()}, scan, config, DELETION)
    expect(itemOf(scan.findings.map((f) => f.item), name)).toMatchObject({action: 'skipped', skipReason: 'not-permitted', detail: expect.stringContaining(`may not read DAG ${DAG}`)})
    expect(deletedPods()).toEqual([])
  })

  it('zombies --include-unknown: a dag run the scan did not find but a read of its own finds is not unknown: left alone', async () => {
    const lost = 'manual__lost_run'
    addKpoPod(kube, {name: podName(taskId), dagId: DAG, taskId, runId: lost, tryNumber: 1, ageMinutes: 91})
    await healthy()
    const found = provingAlso({foundRuns: [{dagId: DAG, runId: lost}]})
    const scan = await scanZombies({kube: client, db: airflow, progress: recordingProgress()}, config)
    expect(itemOf(scan.findings.map((f) => f.item), podName(taskId))).toMatchObject({action: 'none'})
    await reapZombies({kube: client, db: found, progress: recordingProgress()}, scan, config, DELETION)
    expect(itemOf(scan.findings.map((f) => f.item), podName(taskId))).toMatchObject({action: 'skipped', skipReason: 'changed-concurrently', detail: expect.stringContaining('is not proved unknown')})
    expect(deletedPods()).toEqual([])
  })

  it('zombies: a pod whose task_id label is rewritten is re-checked against its whole run: a task running again is left alone', async () => {
    const long = `${taskId}_${'x'.repeat(70)}`
    const name = await taskWithPod(long, 'success')
    await healthy()
    const scan = await scanZombies({kube: client, db: airflow, progress: recordingProgress()}, {...config, includeUnknown: false})
    expect(itemOf(scan.findings.map((f) => f.item), name).action).toBe('none')
    await db.seed.setTaskInstance({dagId: DAG, taskId: long, runId: RUN}, {state: 'running', tryNumber: 1})
    await reapZombies({kube: client, db: airflow, progress: recordingProgress()}, scan, {...config, includeUnknown: false}, DELETION)
    expect(itemOf(scan.findings.map((f) => f.item), name)).toMatchObject({action: 'skipped', skipReason: 'became-active'})
    expect(deletedPods()).toEqual([])
  })

  // Which DAG a pod belongs to (src/reap/zombies.ts dagOf): its dag run's real id when the scan found
  // the run, since a dag_id label longer than 63 characters is rewritten and names no DAG.
  it('zombies: a DAG with a rewritten dag_id label that the credentials may not read: not-permitted by its real id', async () => {
    const longDag = `${DAG}_${'x'.repeat(70)}`
    await db.seed.taskInstance({dagId: longDag, taskId, runId: RUN, state: 'success', tryNumber: 1, startDate: new Date(Date.now() - 90 * MINUTE)})
    addKpoPod(kube, {name: podName(taskId), dagId: longDag, taskId, runId: RUN, tryNumber: 1, ageMinutes: 91})
    await healthy()
    const scan = await scanZombies({kube: client, db: provingAlso({notPermitted: [longDag]}), progress: recordingProgress()}, config)
    expect(itemOf(scan.findings.map((f) => f.item), podName(taskId))).toMatchObject({action: 'skipped', skipReason: 'not-permitted', detail: expect.stringContaining(`may not read DAG ${longDag}`)})
  })

  it('zombies --include-unknown: a run the scan did not find, of a DAG the credentials may not read: not-permitted by its label', async () => {
    addKpoPod(kube, {name: podName(taskId), dagId: DAG, taskId, runId: 'manual__unseen_run', tryNumber: 1, ageMinutes: 91})
    await healthy()
    const scan = await scanZombies({kube: client, db: provingAlso({notPermitted: [DAG]}), progress: recordingProgress()}, config)
    expect(itemOf(scan.findings.map((f) => f.item), podName(taskId))).toMatchObject({action: 'skipped', skipReason: 'not-permitted'})
  })

  it('overdue: pods of a DAG the credentials may not read, whose runs its lists never show: not-permitted, the others judged as before', async () => {
    const unseen = podName(`${taskId}_unseen`)
    addKpoPod(kube, {name: unseen, dagId: DAG, taskId, runId: 'manual__unseen_run', tryNumber: 1, ageMinutes: 121})
    const overdue = await taskWithPod(taskId, 'deferred', {startedMinutesAgo: 120, ageMinutes: 121})
    const asked: string[][] = []
    const denied = provingAlso({notPermitted: [DAG]})
    const source = Object.assign(Object.create(denied) as TaskInstanceSource, {
      proveCandidates: (request: Parameters<TaskInstanceSource['proveCandidates']>[0]) => {
        asked.push(request.missingRuns.map((run) => `${run.dagId}/${run.runId}`))
        return denied.proveCandidates(request)
      },
    })
    const scan = await scanOverdue({kube: client, db: source, progress: recordingProgress()}, {namespace: NS, graceSeconds: 0, concurrency: 2})
    const items = scan.findings.map((f) => f.item)
    expect(items.map((i) => [i.name, i.action, i.skipReason])).toEqual([
      [overdue, 'skipped', 'not-permitted'], // the re-check's proof: DAG not readable
      [unseen, 'skipped', 'not-permitted'],
    ])
    expect(itemOf(items, unseen).detail).toContain(`may not read DAG ${DAG}`)
    expect(asked[0]).toEqual([`${DAG}/manual__unseen_run`])
  })

  it('overdue: no pod outside the runs read: the proof is not asked about missing runs', async () => {
    await taskWithPod(taskId, 'deferred', {startedMinutesAgo: 120, ageMinutes: 121})
    const {db: countingDb, calls} = counting(airflow)
    const scan = await scanOverdue({kube: client, db: countingDb, progress: recordingProgress()}, {namespace: NS, graceSeconds: 0, concurrency: 2})
    expect(scan.findings.map((f) => f.item.action)).toEqual(['none'])
    expect(calls.proveCandidates).toBe(1) // the re-check's, not one for missing runs
  })

  it('overdue: a DAG the credentials may not read at the re-check: not-permitted, nothing deleted', async () => {
    const name = await taskWithPod(taskId, 'deferred', {startedMinutesAgo: 120, ageMinutes: 121})
    const scan = await scanOverdue({kube: client, db: airflow, progress: recordingProgress()}, {namespace: NS, graceSeconds: 0, concurrency: 2})
    await reapOverdue({kube: client, db: provingAlso({notPermitted: [DAG]}), progress: recordingProgress()}, scan, DELETION)
    expect(itemOf(scan.findings.map((f) => f.item), name)).toMatchObject({action: 'skipped', skipReason: 'not-permitted'})
    expect(deletedPods()).toEqual([])
  })
})

describe('overdue', () => {
  const config = {namespace: NS, graceSeconds: 0, concurrency: 2}
  const depsOf = (extra = {}) => ({kube: client, db: airflow, progress: recordingProgress(), ...extra})

  it('no KPO pods: nothing found', async () => {
    const journal = recordingJournal()
    const deps = depsOf({journal})
    expect(await scanOverdue(deps, config)).toEqual({scanned: 0, findings: [], warnings: []})
    expect(deps.progress.updates).toEqual(['listing KubernetesPodOperator pods'])
    expect(journal.listedCounts).toEqual([0])
  })

  it('the scan says what it reads; a deleted pod\'s detail says what Airflow will do', async () => {
    const name = await taskWithPod(taskId, 'deferred', {startedMinutesAgo: 120, ageMinutes: 121})
    const deps = depsOf({journal: recordingJournal()})
    const scan = await scanOverdue(deps, config)
    expect(deps.progress.updates).toEqual([
      'listing KubernetesPodOperator pods',
      'reading Airflow for 1 pods',
      'reading the serialized DAGs of 1 running or deferred tasks',
      're-reading 1 overdue task instances',
      'reading 1 overdue pods',
    ])
    await reapOverdue(depsOf(), scan, DELETION)
    const item = itemOf(scan.findings.map((f) => f.item), name)
    expect(item.action).toBe('deleted')
    expect(item.detail).toMatch(new RegExp(`; Airflow will fail try 1 of ${DAG}\\.${taskId} when it finds the pod gone`))
  })

  it('a pod of try 1 that try 2 re-attached to (its pod_name XCom names it) is judged as try 2\'s', async () => {
    const name = await taskWithPod(taskId, 'deferred', {startedMinutesAgo: 120, tryNumber: 1})
    await db.seed.setTaskInstance({dagId: DAG, taskId, runId: RUN}, {state: 'deferred', tryNumber: 2})
    await db.seed.xcom({dagId: DAG, taskId, runId: RUN, key: 'pod_name', value: name})
    const scan = await scanOverdue(depsOf(), config)
    expect(itemOf(scan.findings.map((f) => f.item), name).detail).toMatch(/^try 2 \(deferred, re-attached to this pod of an earlier try\) running /)
  })

  it('a pod of try 1 while try 2 runs with another pod: not this command\'s (zombies judges it)', async () => {
    await taskWithPod(taskId, 'deferred', {startedMinutesAgo: 120, tryNumber: 1})
    await db.seed.setTaskInstance({dagId: DAG, taskId, runId: RUN}, {state: 'deferred', tryNumber: 2})
    await db.seed.xcom({dagId: DAG, taskId, runId: RUN, key: 'pod_name', value: 'another-pod'})
    expect((await scanOverdue(depsOf(), config)).findings).toEqual([])
  })

  it('pods of a dag run the DB does not know: nothing read about tasks, nothing found', async () => {
    addKpoPod(kube, {name: podName(taskId), dagId: 'no_such_dag', taskId, runId: RUN, tryNumber: 1})
    const deps = depsOf()
    const scan = await scanOverdue(deps, config)
    expect(scan).toEqual({scanned: 1, findings: [], warnings: []})
    expect(deps.progress.updates).toContain('reading the serialized DAGs of 0 running or deferred tasks')
  })

  it('reads a pod_name XCom only for a pod no current try owns, and no task for a run it does not know', async () => {
    await taskWithPod(taskId, 'deferred', {startedMinutesAgo: 120})
    const current = counting(airflow)
    await scanOverdue(depsOf({db: current.db}), config)
    expect(current.calls.podNameXComs).toBeUndefined()
    // The same task retried: its old pod's owner is decided by the XCom of try 2, and only that.
    await db.seed.setTaskInstance({dagId: DAG, taskId, runId: RUN}, {state: 'deferred', tryNumber: 2})
    const retried = counting(airflow)
    await scanOverdue(depsOf({db: retried.db}), config)
    expect(retried.calls.podNameXComs).toBe(1)
    expect(retried.xcomKeys).toEqual([taskId])
    kube.removeObject('pods', NS, podName(taskId))
    addKpoPod(kube, {name: podName(taskId), dagId: 'no_such_dag', taskId, runId: RUN, tryNumber: 1})
    const unknown = counting(airflow)
    await scanOverdue(depsOf({db: unknown.db}), config)
    expect(unknown.calls.executingTaskInstances).toBeUndefined()
  })

  it('a task within its timeout is no finding', async () => {
    await taskWithPod(taskId, 'deferred', {startedMinutesAgo: 5, ageMinutes: 6})
    const scan = await scanOverdue(depsOf(), config)
    expect(scan).toMatchObject({scanned: 1, findings: []})
  })

  it.each([
    ['Succeeded', 'succeeded'],
    ['Failed', 'failed'],
  ])('an overdue task whose pod %s is left to Airflow, and its detail is not given the after-delete note', async (phase, how) => {
    const name = await taskWithPod(taskId, 'running', {startedMinutesAgo: 120, phase})
    const scan = await scanOverdue(depsOf(), config)
    await reapOverdue(depsOf(), scan, DELETION)
    const item = itemOf(scan.findings.map((f) => f.item), name)
    expect(item).toMatchObject({action: 'skipped', skipReason: 'finished'})
    expect(item.detail).toMatch(new RegExp(`; the pod already ${how}, Airflow will pick up its result$`))
    expect(deletedPods()).toEqual([])
  })

  it('a kept pod (keep annotation) that finished keeps its own reason', async () => {
    const startDate = new Date(Date.now() - 120 * MINUTE)
    await db.seed.taskInstance({dagId: DAG, taskId, runId: RUN, state: 'running', tryNumber: 1, startDate})
    const name = podName(taskId)
    addKpoPod(kube, {name, dagId: DAG, taskId, runId: RUN, tryNumber: 1, phase: 'Succeeded', annotations: {'airflow-reap/keep': 'true'}})
    const scan = await scanOverdue(depsOf(), config)
    expect(itemOf(scan.findings.map((f) => f.item), name)).toMatchObject({action: 'skipped', skipReason: 'keep-annotation'})
  })

  it.each([
    ['finished meanwhile', async () => db.seed.setTaskInstance({dagId: DAG, taskId, runId: RUN}, {state: 'success'}), 'now success in try 1'],
    ['cleared to no state', async () => db.seed.setTaskInstance({dagId: DAG, taskId, runId: RUN}, {state: null}), 'now none in try 1'],
    ['its task instance gone (the dag run cleared)', async () => void (await db.seed.sql('DELETE FROM task_instance WHERE dag_id = ? AND task_id = ?', [DAG, taskId])), 'its task instance is gone'],
  ])('re-check: %s → left alone, saying why', async (_why, change, state) => {
    const name = await taskWithPod(taskId, 'running', {startedMinutesAgo: 120})
    const scan = await scanOverdue(depsOf(), config)
    await change()
    await reapOverdue(depsOf(), scan, DELETION)
    expect(itemOf(scan.findings.map((f) => f.item), name)).toMatchObject({
      action: 'skipped',
      skipReason: 'changed-concurrently',
      detail: `the task instance changed since the scan (${state}); left alone`,
    })
    expect(deletedPods()).toEqual([])
  })

  it('a task whose DAG cannot be read is not judged, and a warning says so', async () => {
    const other = 'unserialized_dag'
    await db.seed.dagRun({dagId: other, runId: RUN})
    await db.seed.taskInstance({dagId: other, taskId, runId: RUN, state: 'running', tryNumber: 1, startDate: new Date(Date.now() - 120 * MINUTE)})
    addKpoPod(kube, {name: podName(`${other}-${taskId}`), dagId: other, taskId, runId: RUN, tryNumber: 1})
    const deps = depsOf()
    const scan = await scanOverdue(deps, config)
    expect(scan.findings).toEqual([])
    expect(scan.warnings).toHaveLength(1)
    expect(scan.warnings[0]).toMatch(/: its tasks are not judged$/)
    expect(deps.progress.warnings).toEqual(scan.warnings)
  })
})

describe('kpo-pods', () => {
  it('the KPO label selector, with the extra one ANDed', () => {
    expect(podSelector()).toMatch(/^[^,]+(,[^,]+)*$/)
    expect(podSelector('team=a')).toBe(`${podSelector()},team=a`)
  })

  it('dag runs are read from an hour before the oldest pod', async () => {
    const asked: Date[] = []
    const db = {dagRunsSince: async (since: Date) => (asked.push(since), [])} as unknown as TaskInstanceSource
    const t = Date.parse('2026-11-22T12:00:00Z')
    const pod = (ms: number) => ({creationTimestamp: new Date(ms)}) as ObjectMeta
    await dagRunsOwning(db, [pod(t + 5 * MINUTE), pod(t), pod(t + MINUTE)])
    expect(asked).toEqual([new Date(t - 60 * MINUTE)])
  })

  function itemsOf(count: number, phaseOf: (i: number) => string): ReportItem[] {
    return Array.from({length: count}, (_, i) => {
      const pod = kube.addPod({namespace: NS, name: `${taskId.replaceAll('_', '-')}-${i}`, phase: phaseOf(i), labels: {kubernetes_pod_operator: 'True', dag_id: DAG}})
      return {kind: 'Pod', namespace: NS, name: pod.metadata.name, uid: pod.metadata.uid, ageSeconds: 0, reason: 'stale-try', detail: 'd', taskInstance: null, action: 'none'} as ReportItem
    })
  }

  it(`up to ${PHASE_GETS_MAX} findings: a GET each; a pod without a phase reads Unknown`, async () => {
    const items = itemsOf(3, (i) => ['Running', 'Succeeded', 'Pending'][i]!)
    kube.updateObject('pods', NS, items[2]!.name, (o) => void delete (o.status as Record<string, unknown>).phase)
    await readPhases(client, items, {namespace: NS, concurrency: 2})
    expect(items.map((i) => i.phase)).toEqual(['Running', 'Succeeded', 'Unknown'])
    expect(kube.requests.filter((r) => r.method === 'GET').length).toBe(3)
  })

  it('a pod replaced since the list is gone (already-gone); an item already skipped keeps its reason; a pod without status reads Unknown', async () => {
    const [replaced, skipped, bare] = itemsOf(3, () => 'Running')
    kube.removeObject('pods', NS, replaced!.name)
    kube.addPod({namespace: NS, name: replaced!.name, labels: {kubernetes_pod_operator: 'True', dag_id: DAG}})
    kube.removeObject('pods', NS, skipped!.name)
    Object.assign(skipped!, {action: 'skipped', skipReason: 'too-young'})
    kube.updateObject('pods', NS, bare!.name, (o) => void delete (o as {status?: unknown}).status)
    await readPhases(client, [replaced!, skipped!, bare!], {namespace: NS, concurrency: 2})
    expect(replaced).toMatchObject({action: 'skipped', skipReason: 'already-gone', detail: 'd; the pod is gone (or was replaced) since it was listed'})
    expect(replaced!.phase).toBeUndefined()
    expect(skipped).toMatchObject({action: 'skipped', skipReason: 'too-young', detail: 'd'})
    expect(bare!.phase).toBe('Unknown')
  })

  it(`more than ${PHASE_GETS_MAX}: one list per phase other than Running, not a GET each`, async () => {
    const phases = ['Running', 'Pending', 'Succeeded', 'Failed', 'Unknown']
    const items = itemsOf(PHASE_GETS_MAX + 1, (i) => phases[i % phases.length]!)
    await readPhases(client, items, {namespace: NS, concurrency: 2})
    expect(items.map((i) => i.phase)).toEqual(items.map((_, i) => phases[i % phases.length]))
    const gets = kube.requests.filter((r) => r.method === 'GET')
    expect(gets).toHaveLength(4)
    expect(gets.map((r) => r.query.fieldSelector).sort()).toEqual(['status.phase=Failed', 'status.phase=Pending', 'status.phase=Succeeded', 'status.phase=Unknown'])
  })

  it('exactly 100 findings are still read one by one; none: no request', async () => {
    await readPhases(client, [], {namespace: NS, concurrency: 2})
    expect(kube.requests).toEqual([])
    const items = itemsOf(PHASE_GETS_MAX, () => 'Running')
    await readPhases(client, items, {namespace: NS, concurrency: 4})
    expect(kube.requests.filter((r) => r.method === 'GET' && r.query.fieldSelector === undefined)).toHaveLength(PHASE_GETS_MAX)
  })
})
