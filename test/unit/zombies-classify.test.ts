import {describe, expect, it} from 'vitest'
import {makeSafeLabelValue} from '../../src/core/labels.js'
import {buildAirflowIndex, judgeZombie, matchPod, needsPodNameXCom, podSlicesByRun} from '../../src/core/zombies.js'
import type {DagRunRow, ObjectMeta, TaskInstanceRow} from '../../src/core/types.js'
import {taskKeyString} from '../../src/core/types.js'

const NOW = new Date('2026-11-23T10:00:00Z')
const HOUR_AGO = new Date('2026-11-23T09:00:00Z')
const RUN_ID = 'manual__2026-01-01T00:00:00+00:00'

function pod(overrides: Partial<ObjectMeta> & {labels?: Record<string, string>} = {}): ObjectMeta {
  return {
    kind: 'Pod',
    namespace: 'airflow',
    name: 'kpo-task-abc',
    uid: 'uid-1',
    resourceVersion: '1',
    annotations: {},
    creationTimestamp: HOUR_AGO,
    finalizers: [],
    ownerReferences: [],
    ...overrides,
    labels: {
      kubernetes_pod_operator: 'True',
      dag_id: 'etl',
      task_id: 'extract',
      run_id: makeSafeLabelValue(RUN_ID),
      try_number: '1',
      ...overrides.labels,
    },
  }
}

function ti(overrides: Partial<TaskInstanceRow> = {}): TaskInstanceRow {
  return {
    dagId: 'etl',
    taskId: 'extract',
    runId: RUN_ID,
    mapIndex: -1,
    state: 'running',
    tryNumber: 1,
    startDate: new Date('2026-11-23T09:30:00Z'),
    operator: 'KubernetesPodOperator',
    ...overrides,
  }
}

const RUN: DagRunRow = {dagId: 'etl', runId: RUN_ID, state: 'running', endDate: null}

interface Case {
  name: string
  pod?: ObjectMeta
  tis?: TaskInstanceRow[]
  runs?: DagRunRow[]
  xcom?: string | null
  includeUnknown?: boolean
  expect: {finding: false} | {reason: string; skipReason?: string}
}

const cases: Case[] = [
  {name: 'healthy running pod of the current try', tis: [ti()], expect: {finding: false}},
  {name: 'deferred task instance keeps its pod', tis: [ti({state: 'deferred'})], expect: {finding: false}},
  {name: 'queued task instance (reattach pending) keeps its pod', tis: [ti({state: 'queued'})], expect: {finding: false}},
  {name: 'task instance with state none keeps its pod', tis: [ti({state: null})], expect: {finding: false}},
  {name: 'custom operator class is matched like any other', tis: [ti({operator: 'MyCompanyPodOperator'})], expect: {finding: false}},
  {name: 'pod try newer than the DB (lag) is never stale', pod: pod({labels: {try_number: '3'}}), tis: [ti({tryNumber: 2})], expect: {finding: false}},
  {name: 'finished task instance: zombie', tis: [], expect: {reason: 'no-active-task-instance'}},
  {name: 'other task of the run is active, not this one', tis: [ti({taskId: 'load'})], expect: {reason: 'no-active-task-instance'}},
  {name: 'other map index is active, not this one', pod: pod({labels: {map_index: '1'}}), tis: [ti({mapIndex: 0})], expect: {reason: 'no-active-task-instance'}},
  {name: 'mapped index matches', pod: pod({labels: {map_index: '1'}}), tis: [ti({mapIndex: 1})], expect: {finding: false}},
  {name: 'unmapped pod does not match map index 0', tis: [ti({mapIndex: 0})], expect: {reason: 'no-active-task-instance'}},
  {name: 'unknown dag run is skipped', runs: [], tis: [], expect: {reason: 'no-active-task-instance', skipReason: 'unknown-dag-run'}},
  {name: 'a pod of another run than the one the DB knows is skipped', runs: [{...RUN, runId: 'manual__2026-02-02T00:00:00+00:00'}], tis: [], expect: {reason: 'no-active-task-instance', skipReason: 'unknown-dag-run'}},
  {name: 'a pod of another DAG than the one the DB knows is skipped', runs: [{...RUN, dagId: 'other'}], tis: [], expect: {reason: 'no-active-task-instance', skipReason: 'unknown-dag-run'}},
  {name: 'unknown dag run with --include-unknown', runs: [], tis: [], includeUnknown: true, expect: {reason: 'no-active-task-instance'}},
  {name: 'missing labels are skipped', pod: pod({labels: {run_id: ''}}), tis: [], expect: {reason: 'no-active-task-instance', skipReason: 'missing-labels'}},
  {name: 'old try, current try running with another pod: zombie', tis: [ti({tryNumber: 2})], xcom: 'kpo-task-new', expect: {reason: 'stale-try'}},
  {name: 'old try, current try deferred with another pod: zombie', tis: [ti({tryNumber: 2, state: 'deferred'})], xcom: 'kpo-task-new', expect: {reason: 'stale-try'}},
  {name: 'old try re-attached by the current try', tis: [ti({tryNumber: 2})], xcom: 'kpo-task-abc', expect: {reason: 'stale-try', skipReason: 'may-be-reattached'}},
  {name: 'old try, no pod_name XCom yet', tis: [ti({tryNumber: 2})], expect: {reason: 'stale-try', skipReason: 'may-be-reattached'}},
  {name: 'old try, XCom not a plain name (custom backend)', tis: [ti({tryNumber: 2})], xcom: null, expect: {reason: 'stale-try', skipReason: 'may-be-reattached'}},
  {name: 'old try, current try only queued (may re-attach)', tis: [ti({tryNumber: 2, state: 'queued'})], xcom: 'kpo-task-new', expect: {reason: 'stale-try', skipReason: 'may-be-reattached'}},
  {
    name: 'old try label, pod created the very instant the current try started (may belong to it)',
    pod: pod({creationTimestamp: new Date('2026-11-23T09:30:00Z')}),
    tis: [ti({tryNumber: 2})],
    xcom: 'kpo-task-new',
    expect: {reason: 'stale-try', skipReason: 'may-be-reattached'},
  },
  {name: 'old try, up_for_retry', tis: [ti({tryNumber: 2, state: 'up_for_retry'})], xcom: 'kpo-task-new', expect: {reason: 'stale-try', skipReason: 'may-be-reattached'}},
  {
    name: 'old try label but pod created after the current try started',
    pod: pod({creationTimestamp: new Date('2026-11-23T09:45:00Z')}),
    tis: [ti({tryNumber: 2})],
    xcom: 'kpo-task-new',
    expect: {reason: 'stale-try', skipReason: 'may-be-reattached'},
  },
  {name: 'keep annotation protects a zombie', pod: pod({annotations: {'airflow-reap/keep': 'true'}}), tis: [], expect: {reason: 'no-active-task-instance', skipReason: 'keep-annotation'}},
  {name: 'young zombie is skipped', pod: pod({creationTimestamp: new Date('2026-11-23T09:58:00Z')}), tis: [], expect: {reason: 'no-active-task-instance', skipReason: 'too-young'}},
  {name: 'terminating zombie is skipped', pod: pod({deletionTimestamp: NOW}), tis: [], expect: {reason: 'no-active-task-instance', skipReason: 'terminating'}},
]

describe('judgeZombie', () => {
  it.each(cases.map((c) => [c.name, c]))('%s', (_name, c) => {
    const index = buildAirflowIndex(c.runs ?? [RUN], c.tis ?? [])
    const match = matchPod(c.pod ?? pod(), index)
    const xcoms = new Map<string, string | null>()
    if (c.xcom !== undefined) for (const t of needsPodNameXCom(match)) xcoms.set(taskKeyString(t), c.xcom)
    const verdict = judgeZombie(match, xcoms, {now: NOW, minAgeSeconds: 300, includeUnknown: c.includeUnknown ?? false})
    if ('finding' in c.expect) {
      expect(verdict).toEqual({finding: false})
    } else {
      expect(verdict).toMatchObject({finding: true, reason: c.expect.reason})
      expect(verdict.finding && verdict.skipReason).toBe(c.expect.skipReason ?? undefined)
    }
  })

  it('matches a dag_id longer than 63 characters through its hashed label', () => {
    const longDag = 'analytics_'.repeat(8)
    const index = buildAirflowIndex([{...RUN, dagId: longDag}], [ti({dagId: longDag})])
    const match = matchPod(pod({labels: {dag_id: makeSafeLabelValue(longDag)}}), index)
    expect(match.activeTis).toHaveLength(1)
    expect(judgeZombie(match, new Map(), {now: NOW, minAgeSeconds: 300, includeUnknown: false})).toEqual({finding: false})
  })

  it('asks for the pod_name XCom only for stale tries of running/deferred task instances', () => {
    const index = buildAirflowIndex([RUN], [ti({tryNumber: 2})])
    expect(needsPodNameXCom(matchPod(pod(), index))).toHaveLength(1)
    expect(needsPodNameXCom(matchPod(pod({labels: {try_number: '2'}}), index))).toHaveLength(0)
  })
})

// The detail is the report's and the Event's explanation of each verdict.
describe('judgeZombie: what each verdict says', () => {
  const details: Record<string, string> = {
    'finished task instance: zombie': "no active task instance matches the pod's labels",
    'unknown dag run is skipped': `dag run etl/${makeSafeLabelValue(RUN_ID)} is unknown to this Airflow (another Airflow, or a wrong --db or --airflow-url?)`,
    'missing labels are skipped': 'cannot be matched to a task instance: missing label run_id',
    'old try, current try running with another pod: zombie': 'try 1 is older than try 2 (running), whose pod is kpo-task-new',
    'old try, current try deferred with another pod: zombie': 'try 1 is older than try 2 (deferred), whose pod is kpo-task-new',
    'old try re-attached by the current try': 'try 2 (running) re-attached to this pod of try 1',
    'old try, no pod_name XCom yet': 'try 1 is older than try 2 (running) but it has no pod_name XCom yet',
    'old try, XCom not a plain name (custom backend)': 'try 1 is older than try 2 (running) but its pod_name XCom is not a plain pod name',
    'old try, current try only queued (may re-attach)': 'try 1 is older than try 2 (queued), which may still re-attach to it',
    'old try, up_for_retry': 'try 1 is older than try 2 (up_for_retry), which may still re-attach to it',
    'old try label but pod created after the current try started': 'created after try 2 started, so it may belong to it',
  }
  it.each(Object.entries(details))('%s → %s', (name, detail) => {
    const c = cases.find((k) => k.name === name)!
    const index = buildAirflowIndex(c.runs ?? [RUN], c.tis ?? [])
    const match = matchPod(c.pod ?? pod(), index)
    const xcoms = new Map<string, string | null>()
    if (c.xcom !== undefined) for (const t of needsPodNameXCom(match)) xcoms.set(taskKeyString(t), c.xcom)
    const verdict = judgeZombie(match, xcoms, {now: NOW, minAgeSeconds: 300, includeUnknown: false})
    expect(verdict.finding && verdict.detail).toBe(detail)
  })

  it('a stale try whose current try has no state yet names it none, and may still re-attach', () => {
    const index = buildAirflowIndex([RUN], [ti({tryNumber: 2, state: null})])
    const verdict = judgeZombie(matchPod(pod(), index), new Map(), {now: NOW, minAgeSeconds: 300, includeUnknown: false})
    expect(verdict).toMatchObject({finding: true, reason: 'stale-try', skipReason: 'may-be-reattached', detail: 'try 1 is older than try 2 (none), which may still re-attach to it'})
  })

  it('a pod exactly --min-age old is old enough', () => {
    const index = buildAirflowIndex([RUN], [])
    const exact = pod({creationTimestamp: new Date(NOW.getTime() - 300_000)})
    expect(judgeZombie(matchPod(exact, index), new Map(), {now: NOW, minAgeSeconds: 300, includeUnknown: false})).not.toHaveProperty('skipReason', 'too-young')
  })
})

describe('matchPod: the pod\'s own task instances', () => {
  it('two task instances whose ids normalise alike: both judge the pod when active, the first describes it', () => {
    const hashed = makeSafeLabelValue('a:b')
    const first = ti({taskId: 'a:b', state: 'success'})
    const second = ti({taskId: hashed, state: 'failed'})
    const match = matchPod(pod({labels: {task_id: hashed}}), buildAirflowIndex([RUN], [first, second]))
    expect(match.ownTaskInstance).toBe(first)
    expect(match.activeTis).toEqual([])
    const active = ti({taskId: hashed, state: 'running'})
    expect(matchPod(pod({labels: {task_id: hashed}}), buildAirflowIndex([RUN], [first, active])).activeTis).toEqual([active])
  })

  it('the active rows judge the pod, the first row of any state describes it; another key\'s rows do neither', () => {
    const finished = ti({state: 'success', tryNumber: 1})
    const retrying = ti({state: 'up_for_retry', tryNumber: 2, mapIndex: 0})
    const other = ti({taskId: 'load', state: 'running'})
    const match = matchPod(pod({labels: {map_index: '0'}}), buildAirflowIndex([RUN], [finished, retrying, other]))
    expect(match.activeTis).toEqual([retrying])
    expect(match.ownTaskInstance).toBe(retrying)
    const unmapped = matchPod(pod(), buildAirflowIndex([RUN], [finished, retrying, other]))
    expect(unmapped.activeTis).toEqual([])
    expect(unmapped.ownTaskInstance).toBe(finished)
    expect(matchPod(pod({labels: {task_id: 'transform'}}), buildAirflowIndex([RUN], [finished, other])).ownTaskInstance).toBeUndefined()
  })
})

describe('podSlicesByRun', () => {
  const runs: DagRunRow[] = ['a', 'b', 'c'].map((r) => ({...RUN, runId: `manual__${r}`}))
  const index = buildAirflowIndex(runs, [])
  const of = (run: string) => pod({labels: {run_id: `manual__${run}`}})
  // a b a c x(unknown run) b a -(no labels) c
  const pods = [of('a'), of('b'), of('a'), of('c'), of('x'), of('b'), of('a'), pod({labels: {dag_id: ''}}), of('c')]
  const cases: Array<[number, number[][]]> = [
    [Infinity, [[0, 2, 6, 1, 5, 3, 8, 4, 7]]],
    [4, [[0, 2, 6], [1, 5, 3, 8], [4, 7]]],
    [2, [[0, 2, 6], [1, 5], [3, 8], [4, 7]]],
    [1, [[0, 2, 6], [1, 5], [3, 8], [4], [7]]],
  ]
  it.each(cases)('at most %s pods a slice, a dag run\'s pods never split, pods without a run one by one', (size, slices) => {
    expect(podSlicesByRun(pods, index, size)).toEqual(slices)
  })

  it("places the runs of one DAG side by side, so that a slice names few DAGs (the REST API's batch reads DAGs × runs × tasks)", () => {
    const twoDags = buildAirflowIndex([...runs, {...RUN, dagId: 'other', runId: 'manual__a'}], [])
    const ofDag = (dag: string, run: string) => pod({labels: {dag_id: dag, run_id: `manual__${run}`}})
    // etl/a other/a etl/b other/a etl/c
    const mixed = [ofDag('etl', 'a'), ofDag('other', 'a'), ofDag('etl', 'b'), ofDag('other', 'a'), ofDag('etl', 'c')]
    expect(podSlicesByRun(mixed, twoDags, Infinity)).toEqual([[0, 2, 4, 1, 3]])
    expect(podSlicesByRun(mixed, twoDags, 3)).toEqual([[0, 2, 4], [1, 3]])
  })
})
