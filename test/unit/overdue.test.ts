// The overdue verdicts (pure): which serialized DAG a try runs, which pod is the try's own, the
// verdict on the DB's clock, the report line, and the command's flag conflicts.
import {afterEach, describe, expect, it, vi} from 'vitest'
import {validatePodReap} from '../../src/cli/flags.js'
import type {OverdueOptions} from '../../src/commands/overdue.js'
import {
  type ExecutingTaskInstanceRow,
  dagSourcesFor,
  afterDeleteNote,
  currentTryTasks,
  formatSpan,
  judgeTask,
  reattachCandidates,
  overdueItem,
  taskOfPod,
} from '../../src/core/overdue.js'
import {makeSafeLabelValue} from '../../src/core/labels.js'
import type {ObjectMeta} from '../../src/core/types.js'
import {taskKeyString} from '../../src/core/types.js'
import {buildAirflowIndex, matchPod} from '../../src/core/zombies.js'

const DAG = 'etl'
const RUN = 'scheduled__2026-11-23T00:00:00+00:00'
const DB_NOW = new Date('2026-11-23T10:00:00Z')
const minutesBefore = (n: number) => new Date(DB_NOW.getTime() - n * 60_000)

function ti(taskId: string, fields: Partial<ExecutingTaskInstanceRow> = {}): ExecutingTaskInstanceRow {
  return {
    dagId: DAG,
    taskId,
    runId: RUN,
    mapIndex: -1,
    state: 'deferred',
    tryNumber: 1,
    startDate: minutesBefore(120),
    operator: 'KubernetesPodOperator',
    dagVersionId: null,
    runDagVersionId: null,
    ...fields,
  }
}

function pod(name: string, taskId: string, tryNumber: number, extra: Partial<ObjectMeta> = {}, mapIndex = -1): ObjectMeta {
  const labels: Record<string, string> = {
    dag_id: makeSafeLabelValue(DAG),
    task_id: makeSafeLabelValue(taskId),
    run_id: makeSafeLabelValue(RUN),
    try_number: String(tryNumber),
    kubernetes_pod_operator: 'True',
  }
  if (mapIndex >= 0) labels.map_index = String(mapIndex)
  return {
    kind: 'Pod',
    namespace: 'airflow',
    name,
    uid: `uid-${name}`,
    resourceVersion: '1',
    labels,
    annotations: {},
    creationTimestamp: minutesBefore(121),
    finalizers: [],
    ownerReferences: [],
    ...extra,
  }
}

function lookup(pods: ObjectMeta[], tis: ExecutingTaskInstanceRow[], xcoms = new Map<string, string | null>()) {
  const index = buildAirflowIndex([{dagId: DAG, runId: RUN, state: 'running', endDate: null}], tis)
  const byKey = new Map(tis.map((t) => [taskKeyString(t), t]))
  return pods.map((p) => taskOfPod(matchPod(p, index), byKey, xcoms))
}

describe('dagSourcesFor (FACTS §5.2)', () => {
  it('2.x: the one row of the DAG', () => {
    expect(dagSourcesFor(ti('a'))).toEqual([{kind: 'latest', dagId: DAG}])
  })
  it("3.x: the try's version, then the run's, then the latest", () => {
    expect(dagSourcesFor(ti('a', {dagVersionId: 'v1', runDagVersionId: 'v0'}))).toEqual([
      {kind: 'version', versionId: 'v1', dagId: DAG},
      {kind: 'version', versionId: 'v0', dagId: DAG},
      {kind: 'latest', dagId: DAG},
    ])
  })
  it('3.x: the run version alone when the try has none, and no duplicate when both agree', () => {
    expect(dagSourcesFor(ti('a', {runDagVersionId: 'v0'})).map((s) => s.kind)).toEqual(['version', 'latest'])
    expect(dagSourcesFor(ti('a', {dagVersionId: 'v1', runDagVersionId: 'v1'}))).toHaveLength(2)
  })
})

describe('taskOfPod: only the pod of the current try', () => {
  const tis = [ti('current'), ti('retried', {tryNumber: 2}), ti('adopted', {tryNumber: 2}), ti('queued', {state: 'queued'}), ti('mapped', {mapIndex: 3})]
  const xcoms = new Map([
    [taskKeyString(tis[1]), 'retried-try2'],
    [taskKeyString(tis[2]), 'adopted-try1'],
  ])

  it.each([
    ['the pod of the running/deferred try', pod('current-pod', 'current', 1), {taskId: 'current', reattached: false}],
    ['a mapped pod through its map_index label', pod('mapped-3', 'mapped', 1, {}, 3), {taskId: 'mapped', reattached: false}],
    ['an older try whose XCom names another pod: not ours (zombies)', pod('retried-try1', 'retried', 1), undefined],
    ['the newer try itself', pod('retried-try2', 'retried', 2), {taskId: 'retried', reattached: false}],
    ['an older try adopted by the current one (its XCom names this pod)', pod('adopted-try1', 'adopted', 1), {taskId: 'adopted', reattached: true}],
    ['a task that is not running or deferred', pod('queued-pod', 'queued', 1), undefined],
    ['a pod from a try newer than the DB knows', pod('current-try2', 'current', 2), undefined],
    ['a pod without labels', {...pod('bare', 'x', 1), labels: {kubernetes_pod_operator: 'True'}}, undefined],
  ])('%s', (_name, p, expected) => {
    const [task] = lookup([p], tis, xcoms)
    if (expected === undefined) expect(task).toBeUndefined()
    else expect({taskId: task?.ti.taskId, reattached: task?.reattached}).toEqual(expected)
  })

  it('never guesses between two task instances whose ids normalise alike', () => {
    // A hashed label is itself a clean value: the raw task_id equal to it normalises to the same label.
    const hashed = makeSafeLabelValue('a:b')
    const twins = [ti('a:b'), ti(hashed)]
    expect(lookup([pod('p', 'a:b', 1)], twins)[0]).toBeUndefined()
  })
})

describe('judgeTask: on the DB clock, never the laptop clock', () => {
  afterEach(() => {
    vi.useRealTimers()
  })
  const options = {dbNow: DB_NOW, graceSeconds: 60}

  it.each([
    ['deferred 2 h into a 30 min timeout', ti('a', {startDate: minutesBefore(120)}), 1800, true],
    ['within its timeout', ti('a', {startDate: minutesBefore(10)}), 1800, false],
    ['past the timeout but within the grace', ti('a', {startDate: minutesBefore(30.5)}), 1800, false],
    ['without execution_timeout, however long it runs', ti('a', {startDate: minutesBefore(10_000)}), undefined, false],
    ['without a start date', ti('a', {startDate: null}), 60, false],
  ])('%s', (_name, task, timeout, overdue) => {
    expect(judgeTask(task, timeout, options).overdue).toBe(overdue)
  })

  it.each([
    ['a laptop a day ahead', new Date('2026-11-24T10:00:00Z')],
    ['a laptop a day behind', new Date('2026-11-22T10:00:00Z')],
  ])('gives the same verdicts with %s', (_name, laptop) => {
    const before = [judgeTask(ti('a', {startDate: minutesBefore(120)}), 1800, options), judgeTask(ti('b', {startDate: minutesBefore(10)}), 1800, options)]
    vi.useFakeTimers({now: laptop})
    const after = [judgeTask(ti('a', {startDate: minutesBefore(120)}), 1800, options), judgeTask(ti('b', {startDate: minutesBefore(10)}), 1800, options)]
    expect(after).toEqual(before)
    expect(after.map((v) => v.overdue)).toEqual([true, false])
  })
})

describe('overdueItem', () => {
  const options = {dbNow: DB_NOW, graceSeconds: 60}
  const index = buildAirflowIndex([{dagId: DAG, runId: RUN, state: 'running', endDate: null}], [ti('a')])
  const verdict = judgeTask(ti('a'), 1800, options)
  if (!verdict.overdue) throw new Error('fixture must be overdue')

  it('says how long the try ran, its timeout and by how much it is over', () => {
    const item = overdueItem(matchPod(pod('a-pod', 'a', 1), index), {ti: ti('a'), reattached: false}, verdict, options)
    expect(item).toEqual({
      kind: 'Pod',
      namespace: 'airflow',
      name: 'a-pod',
      uid: 'uid-a-pod',
      ageSeconds: 121 * 60,
      reason: 'execution-timeout-exceeded',
      detail: 'try 1 (deferred) running 2h0m, execution_timeout 30m, over by 1h30m (+1m grace)',
      taskInstance: {dagId: DAG, taskId: 'a', runId: RUN, mapIndex: -1, tryNumber: 1, state: 'deferred'},
      action: 'none',
    })
  })

  it.each([
    ['keep-annotation', {annotations: {'airflow-reap/keep': 'true'}}],
    ['terminating', {deletionTimestamp: minutesBefore(1)}],
  ])('a guard leaves the pod alone: %s', (skipReason, extra) => {
    const item = overdueItem(matchPod(pod('a-pod', 'a', 1, extra), index), {ti: ti('a'), reattached: false}, verdict, options)
    expect(item).toMatchObject({action: 'skipped', skipReason})
    // Only a guard with something to add changes the detail.
    expect(item.detail).toBe('try 1 (deferred) running 2h0m, execution_timeout 30m, over by 1h30m (+1m grace)')
  })

  it('a pod owned by a controller: left alone, saying which would re-create it', () => {
    const owner = {apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs-1', uid: 'rs-uid', controller: true}
    const item = overdueItem(matchPod(pod('a-pod', 'a', 1, {ownerReferences: [owner]}), index), {ti: ti('a'), reattached: false}, verdict, options)
    expect(item).toMatchObject({
      action: 'skipped',
      skipReason: 'owned-by-controller',
      detail: 'try 1 (deferred) running 2h0m, execution_timeout 30m, over by 1h30m (+1m grace); owned by its controller ReplicaSet airflow/rs-1 (apps/v1), which would re-create a deleted pod',
    })
  })

  it('a re-attached try, and a try with no state, say so', () => {
    const item = overdueItem(matchPod(pod('a-pod', 'a', 1), index), {ti: ti('a', {state: null, tryNumber: 2}), reattached: true}, verdict, options)
    expect(item.detail).toBe('try 2 (none, re-attached to this pod of an earlier try) running 2h0m, execution_timeout 30m, over by 1h30m (+1m grace)')
  })
})

describe('judgeTask: why a try is not overdue', () => {
  const options = {dbNow: DB_NOW, graceSeconds: 60}
  it.each([
    ['no timeout', ti('a'), undefined, 'no-timeout'],
    ['a timeout of 0 is none (timedelta(0) is false in Airflow)', ti('a'), 0, 'no-timeout'],
    ['no start date', ti('a', {startDate: null}), 60, 'no-start-date'],
    ['within its timeout', ti('a', {startDate: minutesBefore(10)}), 1800, 'within-timeout'],
  ])('%s', (_name, task, timeout, why) => {
    expect(judgeTask(task, timeout, options)).toEqual({overdue: false, why})
  })

  it('an overdue verdict carries its numbers', () => {
    expect(judgeTask(ti('a'), 1800, options)).toEqual({overdue: true, runningSeconds: 7200, overBySeconds: 5400, timeoutSeconds: 1800})
  })
})

describe('reattach: only a later try running or deferred may have adopted a pod', () => {
  it.each([
    ['a later try running', ti('t', {tryNumber: 2, state: 'running'}), true],
    ['a later try deferred', ti('t', {tryNumber: 2, state: 'deferred'}), true],
    ['a later try queued', ti('t', {tryNumber: 2, state: 'queued'}), false],
    ['a later try failed', ti('t', {tryNumber: 2, state: 'failed'}), false],
    ['the same try', ti('t', {tryNumber: 1, state: 'running'}), false],
  ])('%s', (_name, task, adopted) => {
    const [p] = [pod('t-try1', 't', 1)]
    const xcoms = new Map([[taskKeyString(task), 't-try1']])
    const index = buildAirflowIndex([{dagId: DAG, runId: RUN, state: 'running', endDate: null}], [task])
    const match = matchPod(p, index)
    expect(reattachCandidates(match, new Map([[taskKeyString(task), task]])).length).toBe(adopted ? 1 : 0)
    const found = taskOfPod(match, new Map([[taskKeyString(task), task]]), xcoms)
    if (task.tryNumber === 1) expect(found).toEqual({ti: task, reattached: false})
    else expect(found?.reattached ?? false).toBe(adopted)
  })

  it('a task instance with no state is not executing', () => {
    const task = ti('t', {state: null})
    const index = buildAirflowIndex([{dagId: DAG, runId: RUN, state: 'running', endDate: null}], [{...task, state: 'queued'}])
    expect(currentTryTasks(matchPod(pod('t-try1', 't', 1), index), new Map([[taskKeyString(task), task]]))).toEqual([])
  })

  it('after a delete, what Airflow will do: for a known try, and for one the report could not name', () => {
    expect(afterDeleteNote(null)).toBe("Airflow will fail the try when it finds the pod gone (the trigger or the operator reports it missing); retries follow the task's retry policy")
    expect(afterDeleteNote({dagId: DAG, taskId: 't', runId: RUN, mapIndex: -1, tryNumber: 3, state: 'deferred'})).toMatch(/^Airflow will fail try 3 of etl\.t when/)
  })

  it('a pod without labels has no candidates', () => {
    const index = buildAirflowIndex([{dagId: DAG, runId: RUN, state: 'running', endDate: null}], [])
    const match = matchPod({...pod('bare', 'x', 1), labels: {kubernetes_pod_operator: 'True'}}, index)
    expect(reattachCandidates(match, new Map())).toEqual([])
    expect(currentTryTasks(match, new Map())).toEqual([])
  })

  it('a later try whose pod_name XCom names another pod has not adopted this one', () => {
    const a = ti('t', {tryNumber: 2, state: 'running'})
    const index = buildAirflowIndex([{dagId: DAG, runId: RUN, state: 'running', endDate: null}], [a])
    const match = matchPod(pod('t-try1', 't', 1), index)
    expect(taskOfPod(match, new Map([[taskKeyString(a), a]]), new Map([[taskKeyString(a), 'another-pod']]))).toBeUndefined()
  })
})

describe('formatSpan', () => {
  it.each([
    [45, '45s'],
    [90, '1m30s'],
    [1800, '30m'],
    [3002, '50m'],
    [599, '9m59s'],
    [3600, '1h0m'],
    [5400, '1h30m'],
    [7200, '2h0m'],
    [90061, '25h1m'],
    [0, '0s'],
    [-3, '0s'],
    [59.4, '59s'],
    [59.6, '1m'],
    [60, '1m'],
    [600, '10m'],
    [3599, '59m'],
    [605, '10m'],
  ])('%i s → %s', (seconds, text) => {
    expect(formatSpan(seconds)).toBe(text)
  })
})

describe('validate (flag conflicts, before anything is opened)', () => {
  const base: OverdueOptions = {
    kube: {allNamespaces: false},
    db: {portForward: 'auto'},
    api: {api: 'auto', timeoutSeconds: 30, pageSize: 100, maxRequests: 2000},
    taskSource: 'auto',
    output: 'table',
    store: {noCache: true},
    scan: {graceSeconds: 60, concurrency: 10},
    deletion: {serverDryRun: false, maxDeletes: 100, allowMassDelete: false, concurrency: 10},
    delete: false,
    yes: false,
    exitCode: false,
    events: true,
    force: false,
  }
  it.each([
    [{force: true, gracePeriod: 30, delete: true}, /--force and --grace-period/],
    [{kube: {allNamespaces: true, namespace: 'x'}}, /--all-namespaces and --namespace/],
    [{yes: true}, /--yes confirms --delete/],
    [{dryRunMode: 'server' as const}, /--dry-run=server goes with --delete/],
  ])('%o', (patch, message) => {
    expect(() => validatePodReap({...base, ...patch}, 'overdue')).toThrow(message)
  })
  it('accepts --delete --yes and a report', () => {
    expect(() => validatePodReap({...base, delete: true, yes: true}, 'overdue')).not.toThrow()
    expect(() => validatePodReap(base, 'overdue')).not.toThrow()
  })
})
