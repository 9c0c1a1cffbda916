// Never reap what Airflow's operator does not own, and never take an unknown for a verdict (issue 11
// §3): controller-owned pods, task instance states this version does not know, execution_timeout 0
// and Airflow 2.x's default_task_execution_timeout. Table-driven, pure.
import {describe, expect, it} from 'vitest'
import {makeSafeLabelValue} from '../../src/core/labels.js'
import {judgeTask, overdueItem} from '../../src/core/overdue.js'
import {executionTimeouts} from '../../src/airflow/serialized-dag.js'
import {type DagRunRow, type ObjectMeta, type OwnerReference, type TaskInstanceRow, isActiveState, isKnownState} from '../../src/core/types.js'
import {buildAirflowIndex, judgeZombie, matchPod, podGuard} from '../../src/core/zombies.js'
import {DEFAULT_TIMEOUT_ENV, defaultTimeoutFromEnv} from '../../src/commands/overdue.js'
import {UsageError} from '../../src/errors.js'

const NOW = new Date('2026-11-23T10:00:00Z')
const RUN_ID = 'manual__2026-01-01T00:00:00+00:00'
const RUN: DagRunRow = {dagId: 'etl', runId: RUN_ID, state: 'running', endDate: null}

const JOB_OWNER: OwnerReference = {apiVersion: 'batch/v1', kind: 'Job', name: 'etl-extract-job', uid: 'job-uid', controller: true}

function pod(overrides: Partial<ObjectMeta> = {}): ObjectMeta {
  return {
    kind: 'Pod',
    namespace: 'airflow',
    name: 'etl-extract-job-x7k2p',
    uid: 'uid-1',
    resourceVersion: '1',
    annotations: {},
    creationTimestamp: new Date('2026-11-23T08:00:00Z'),
    finalizers: [],
    ownerReferences: [],
    labels: {kubernetes_pod_operator: 'True', dag_id: 'etl', task_id: 'extract', run_id: makeSafeLabelValue(RUN_ID), try_number: '1'},
    ...overrides,
  }
}

function ti(overrides: Partial<TaskInstanceRow> = {}): TaskInstanceRow {
  return {dagId: 'etl', taskId: 'extract', runId: RUN_ID, mapIndex: -1, state: 'running', tryNumber: 1, startDate: new Date('2026-11-23T08:00:00Z'), operator: 'KubernetesJobOperator', ...overrides}
}

function judge(p: ObjectMeta, tis: TaskInstanceRow[]) {
  const match = matchPod(p, buildAirflowIndex([RUN], tis))
  return judgeZombie(match, new Map(), {now: NOW, minAgeSeconds: 300, includeUnknown: false})
}

describe('task instance states (airflow-core utils/state.py, 2.x and 3.x)', () => {
  it.each([
    [null, true, true],
    ['scheduled', true, true],
    ['queued', true, true],
    ['running', true, true],
    ['restarting', true, true],
    ['up_for_retry', true, true],
    ['up_for_reschedule', true, true],
    ['deferred', true, true],
    ['awaiting_input', true, true], // 3.x: parked for human input (State.unfinished)
    ['shutdown', true, true], // older 2.x: State.unfinished
    ['success', true, false],
    ['failed', true, false],
    ['skipped', true, false],
    ['upstream_failed', true, false],
    ['removed', true, false],
    ['paused_by_a_future_airflow', false, true], // unknown: counted as active (fail closed)
    ['none', false, true], // the string, not NULL: not a state Airflow stores
  ])('%s: known %s, active %s', (state, known, active) => {
    expect(isKnownState(state)).toBe(known)
    expect(isActiveState(state)).toBe(active)
  })
})

describe('pod guards every pod-deleting command applies', () => {
  it.each<[string, Partial<ObjectMeta>, string | undefined]>([
    ['a plain KPO pod', {}, undefined],
    ['a Job-owned pod (controller)', {ownerReferences: [JOB_OWNER]}, 'owned-by-controller'],
    ['a pod with a non-controller owner', {ownerReferences: [{...JOB_OWNER, controller: false}]}, undefined],
    ['a pod with an owner that does not say controller', {ownerReferences: [{apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'u'}]}, undefined],
    ['kept by annotation, and Job-owned', {annotations: {'airflow-reap/keep': 'true'}, ownerReferences: [JOB_OWNER]}, 'keep-annotation'],
    ['Job-owned and terminating', {ownerReferences: [JOB_OWNER], deletionTimestamp: NOW}, 'owned-by-controller'],
    ['terminating', {deletionTimestamp: NOW}, 'terminating'],
  ])('%s', (_name, overrides, skipReason) => {
    expect(podGuard(pod(overrides))?.skipReason).toBe(skipReason)
  })

  it('names the owner', () => {
    expect(podGuard(pod({ownerReferences: [JOB_OWNER]}))?.note).toBe(
      'owned by its controller Job airflow/etl-extract-job (batch/v1), which would re-create a deleted pod',
    )
  })
})

describe('zombies verdicts for pods Airflow does not own, and states it does not know', () => {
  it.each<[string, ObjectMeta, TaskInstanceRow[], {reason: string; skipReason?: string; detail?: RegExp} | false]>([
    // KubernetesJobOperator (wait_until_job_complete=False): the task succeeded as soon as the Job was created.
    ['Job pod of a succeeded KubernetesJobOperator task', pod({ownerReferences: [JOB_OWNER]}), [ti({state: 'success'})], {reason: 'no-active-task-instance', skipReason: 'owned-by-controller', detail: /Job airflow\/etl-extract-job/}],
    ['the same pod without an owner is a zombie', pod(), [ti({state: 'success'})], {reason: 'no-active-task-instance'}],
    ['Job pod of an older try', pod({ownerReferences: [JOB_OWNER]}), [ti({tryNumber: 2})], {reason: 'stale-try', skipReason: 'may-be-reattached'}],
    ['task instance in an unknown state', pod(), [ti({state: 'paused_by_a_future_airflow'})], {reason: 'no-active-task-instance', skipReason: 'unknown-state', detail: /"paused_by_a_future_airflow"/}],
    ['unknown state of an older try', pod({labels: {...pod().labels, try_number: '1'}}), [ti({state: 'awaiting_approval', tryNumber: 3})], {reason: 'no-active-task-instance', skipReason: 'unknown-state', detail: /awaiting_approval/}],
    ['restarting (3.x) keeps its pod', pod(), [ti({state: 'restarting'})], false],
    ['up_for_reschedule keeps its pod', pod(), [ti({state: 'up_for_reschedule'})], false],
    ['deferred keeps its pod', pod(), [ti({state: 'deferred'})], false],
    ['scheduled keeps its pod', pod(), [ti({state: 'scheduled'})], false],
    ['queued keeps its pod', pod(), [ti({state: 'queued'})], false],
    ['up_for_retry keeps its pod', pod(), [ti({state: 'up_for_retry'})], false],
    ['none (NULL) keeps its pod', pod(), [ti({state: null})], false],
    ['removed: zombie', pod(), [ti({state: 'removed'})], {reason: 'no-active-task-instance'}],
    ['skipped: zombie', pod(), [ti({state: 'skipped'})], {reason: 'no-active-task-instance'}],
    ['upstream_failed: zombie', pod(), [ti({state: 'upstream_failed'})], {reason: 'no-active-task-instance'}],
    ['failed: zombie', pod(), [ti({state: 'failed'})], {reason: 'no-active-task-instance'}],
  ])('%s', (_name, p, tis, expected) => {
    const verdict = judge(p, tis)
    if (expected === false) {
      expect(verdict.finding).toBe(false)
      return
    }
    expect(verdict).toMatchObject({finding: true, reason: expected.reason})
    expect(verdict.finding && verdict.skipReason).toBe(expected.skipReason)
    if (expected.detail && verdict.finding) expect(verdict.detail).toMatch(expected.detail)
  })
})

describe('overdue: execution_timeout 0, the 2.x default, a Job-owned pod', () => {
  const options = {dbNow: NOW, graceSeconds: 60}
  const started2hAgo = ti({startDate: new Date(NOW.getTime() - 2 * 3600_000)})

  it.each<[string, number | undefined, boolean]>([
    ['no execution_timeout', undefined, false],
    ['execution_timeout 0 is no timeout (Airflow tests `if task.execution_timeout:`)', 0, false],
    ['1h, running 2h', 3600, true],
    ['3h, running 2h', 3 * 3600, false],
  ])('%s', (_name, timeout, overdue) => {
    expect(judgeTask(started2hAgo, timeout, options).overdue).toBe(overdue)
  })

  const op = (fields: Record<string, unknown>) => ({__type: 'operator', __var: {_task_type: 'KubernetesPodOperator', ...fields}})
  const v1 = {__version: 1, dag: {tasks: [op({task_id: 'uses_default'}), op({task_id: 'zero', execution_timeout: 0.0}), op({task_id: 'own', execution_timeout: 60.0})]}}

  it.each<[string, number | undefined, Record<string, number | undefined>]>([
    ['without a default, a task serialized without the field has none', undefined, {uses_default: undefined, zero: 0, own: 60}],
    ['with the 2.x default, such a task has the default; an explicit 0 stays none', 7200, {uses_default: 7200, zero: 0, own: 60}],
    ['a default of 0 is none', 0, {uses_default: 0, zero: 0, own: 60}],
  ])('%s', (_name, defaultSeconds, expected) => {
    expect(Object.fromEntries(executionTimeouts(v1, defaultSeconds))).toEqual(expected)
  })

  it('client_defaults (3.x) win over the 2.x default', () => {
    const v3 = {__version: 3, client_defaults: {tasks: {execution_timeout: 900.0}}, dag: {tasks: [op({task_id: 'a'})]}}
    expect(executionTimeouts(v3, 7200).get('a')).toBe(900)
  })

  it.each<[string, string | undefined, number | undefined | 'usage']>([
    ['unset', undefined, undefined],
    ['empty (Airflow: none)', '', undefined],
    ['seconds', '3600', 3600],
    ['zero', '0', 0],
    ['with spaces', ' 600 ', 600],
    ['a duration is not what Airflow reads', '1h', 'usage'],
    ['a float is not what Airflow reads', '1.5', 'usage'],
  ])(`${DEFAULT_TIMEOUT_ENV} %s`, (_name, value, expected) => {
    const env = value === undefined ? {} : {[DEFAULT_TIMEOUT_ENV]: value}
    if (expected === 'usage') expect(() => defaultTimeoutFromEnv(env)).toThrow(UsageError)
    else expect(defaultTimeoutFromEnv(env)).toBe(expected)
  })

  it('a Job-owned pod past its timeout is skipped, owner named: its controller would re-create it', () => {
    const p = pod({ownerReferences: [JOB_OWNER]})
    const match = matchPod(p, buildAirflowIndex([RUN], [started2hAgo]))
    const verdict = judgeTask(started2hAgo, 3600, options)
    if (!verdict.overdue) throw new Error('expected overdue')
    const item = overdueItem(match, {ti: started2hAgo, reattached: false}, verdict, options)
    expect(item).toMatchObject({action: 'skipped', skipReason: 'owned-by-controller'})
    expect(item.detail).toMatch(/execution_timeout 1h0m.*owned by its controller Job airflow\/etl-extract-job/)
  })
})
