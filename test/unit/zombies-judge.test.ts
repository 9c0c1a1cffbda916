// judgePods against an in-memory Airflow DB: what it asks for (scale: a pod's own task, not its whole
// dag run, unless the task_id label may have been rewritten) and that the verdicts stay right.
import {describe, expect, it} from 'vitest'
import type {DagRunRef, TaskInstanceSource, TaskRef} from '../../src/airflow/types.js'
import {makeSafeLabelValue} from '../../src/core/labels.js'
import type {DagRunRow, ObjectMeta, TaskInstanceRow} from '../../src/core/types.js'
import {judgePods} from '../../src/reap/zombies.js'

const NOW = new Date('2026-11-23T10:00:00Z')
const RUN: DagRunRow = {dagId: 'etl', runId: 'scheduled__2026-11-23T08:00:00+00:00', state: 'running', endDate: null}
const LONG_TASK = 'a_task_group.with_a_task_whose_id_is_longer_than_sixty_three_characters'

function ti(taskId: string, state: string | null, tryNumber = 1): TaskInstanceRow {
  return {dagId: RUN.dagId, taskId, runId: RUN.runId, mapIndex: -1, state, tryNumber, startDate: null, operator: 'KubernetesPodOperator'}
}

function pod(name: string, taskId: string): ObjectMeta {
  return {
    kind: 'Pod',
    namespace: 'airflow',
    name,
    uid: `uid-${name}`,
    resourceVersion: '1',
    labels: {
      kubernetes_pod_operator: 'True',
      dag_id: makeSafeLabelValue(RUN.dagId),
      task_id: makeSafeLabelValue(taskId),
      run_id: makeSafeLabelValue(RUN.runId),
      try_number: '1',
    },
    annotations: {},
    creationTimestamp: new Date(NOW.getTime() - 3_600_000),
    finalizers: [],
    ownerReferences: [],
  }
}

/** The run holds the pods' tasks and 200 waiting downstream tasks. */
const ROWS = [
  ti('extract', 'running'),
  ti('load', 'success'),
  ti(LONG_TASK, 'running'),
  ...Array.from({length: 200}, (_, i) => ti(`downstream_${i}`, i % 2 ? 'scheduled' : null)),
]

function recordingDb() {
  const asked = {tasks: [] as TaskRef[], runs: [] as DagRunRef[]}
  const calls = {tasks: 0, runs: 0, xcoms: 0}
  const db = {
    schema: {family: 'airflow-2.10', dialect: 'postgresql'},
    async taskInstancesOfTasks(tasks: TaskRef[]) {
      calls.tasks++
      asked.tasks.push(...tasks)
      return ROWS.filter((row) => tasks.some((t) => t.dagId === row.dagId && t.runId === row.runId && t.taskId === row.taskId))
    },
    async taskInstancesOfRuns(runs: DagRunRef[]) {
      calls.runs++
      asked.runs.push(...runs)
      return ROWS.filter((row) => runs.some((r) => r.dagId === row.dagId && r.runId === row.runId))
    },
    async podNameXComs() {
      calls.xcoms++
      return new Map()
    },
  } as unknown as TaskInstanceSource
  return {db, asked, calls}
}

const CONFIG = {minAgeSeconds: 300, includeUnknown: false}

describe('judgePods', () => {
  it('reads only the pods\' own tasks when their labels are the task ids', async () => {
    const {db, asked} = recordingDb()
    const judged = await judgePods(db, [pod('extract-pod', 'extract'), pod('load-pod', 'load')], [RUN], CONFIG, NOW)
    expect(asked.runs).toEqual([])
    expect(asked.tasks.map((t) => t.taskId).sort()).toEqual(['extract', 'load'])
    expect(judged.findings.map((f) => f.match.pod.name)).toEqual(['load-pod'])
    expect(judged.taskInstances).toHaveLength(2) // not the 200 waiting tasks
  })

  it('reads the whole run for a rewritten task_id label, and matches it there', async () => {
    const {db, asked} = recordingDb()
    const judged = await judgePods(db, [pod('long-pod', LONG_TASK), pod('load-pod', 'load')], [RUN], CONFIG, NOW)
    expect(asked.runs).toEqual([{dagId: RUN.dagId, runId: RUN.runId}])
    expect(asked.tasks.map((t) => t.taskId)).toEqual(['load'])
    expect(judged.findings.map((f) => f.match.pod.name)).toEqual(['load-pod'])
    // The row read both ways counts once.
    expect(judged.taskInstances.filter((row) => row.taskId === 'load')).toHaveLength(1)
  })

  it('sends no statement it does not need: no run read without a rewritten label, no XCom read without a stale try', async () => {
    const {db, calls} = recordingDb()
    await judgePods(db, [pod('extract-pod', 'extract')], [RUN], CONFIG, NOW)
    expect(calls).toEqual({tasks: 1, runs: 0, xcoms: 0})
    const long = recordingDb()
    await judgePods(long.db, [pod('long-pod', LONG_TASK)], [RUN], CONFIG, NOW)
    expect(long.calls).toEqual({tasks: 0, runs: 1, xcoms: 0})
    const stale = recordingDb()
    await judgePods(stale.db, [{...pod('extract-try0', 'extract'), labels: {...pod('x', 'extract').labels, try_number: '0'}}], [RUN], CONFIG, NOW)
    expect(stale.calls).toEqual({tasks: 1, runs: 0, xcoms: 1})
  })

  it('reads nothing for pods of dag runs the DB does not know', async () => {
    const {db, asked, calls} = recordingDb()
    const judged = await judgePods(db, [pod('extract-pod', 'extract')], [], CONFIG, NOW)
    expect(asked).toEqual({tasks: [], runs: []})
    expect(calls).toEqual({tasks: 0, runs: 0, xcoms: 0})
    expect(judged.findings[0]!.verdict.skipReason).toBe('unknown-dag-run')
  })
})
