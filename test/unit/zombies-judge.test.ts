// judgePods against an in-memory Airflow DB: what it asks for (scale: a pod's own task, not its whole
// dag run, unless the task_id label may have been rewritten) and that the verdicts stay right.
import {setFlagsFromString} from 'node:v8'
import {runInNewContext} from 'node:vm'
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

function recordingDb(rows = ROWS, podsPerRead?: number) {
  const asked = {tasks: [] as TaskRef[], runs: [] as DagRunRef[]}
  const calls = {tasks: 0, runs: 0, xcoms: 0}
  const answered: TaskInstanceRow[] = []
  const answer = (found: TaskInstanceRow[]) => {
    answered.push(...found)
    return found
  }
  const db = {
    schema: {family: 'airflow-2.10', dialect: 'postgresql'},
    podsPerRead,
    async taskInstancesOfTasks(tasks: TaskRef[]) {
      calls.tasks++
      asked.tasks.push(...tasks)
      return answer(rows.filter((row) => tasks.some((t) => t.dagId === row.dagId && t.runId === row.runId && t.taskId === row.taskId)))
    },
    async taskInstancesOfRuns(runs: DagRunRef[]) {
      calls.runs++
      asked.runs.push(...runs)
      return answer(rows.filter((row) => runs.some((r) => r.dagId === row.dagId && r.runId === row.runId)))
    },
    async podNameXComs() {
      calls.xcoms++
      return new Map()
    },
  } as unknown as TaskInstanceSource
  return {db, asked, calls, answered}
}

const CONFIG = {minAgeSeconds: 300, includeUnknown: false}

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

describe('judgePods', () => {
  it('reads only the pods\' own tasks when their labels are the task ids', async () => {
    const {db, asked, answered} = recordingDb()
    const judged = await judgePods(db, [pod('extract-pod', 'extract'), pod('load-pod', 'load')], [RUN], CONFIG, NOW)
    expect(asked.runs).toEqual([])
    expect(asked.tasks.map((t) => t.taskId).sort()).toEqual(['extract', 'load'])
    expect(judged.findings.map((f) => f.match.pod.name)).toEqual(['load-pod'])
    expect(answered).toHaveLength(2) // not the 200 waiting tasks
  })

  it('reads the whole run for a rewritten task_id label, and matches it there', async () => {
    const {db, asked} = recordingDb()
    const judged = await judgePods(db, [pod('long-pod', LONG_TASK), pod('load-pod', 'load')], [RUN], CONFIG, NOW)
    expect(asked.runs).toEqual([{dagId: RUN.dagId, runId: RUN.runId}])
    expect(asked.tasks.map((t) => t.taskId)).toEqual(['load'])
    expect(judged.findings.map((f) => f.match.pod.name)).toEqual(['load-pod'])
    // Its own row, read both ways, describes the finished task once.
    expect(judged.findings[0]!.match.ownTaskInstance).toMatchObject({taskId: 'load', state: 'success'})
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

describe('judgePods in slices (TaskInstanceSource.podsPerRead)', () => {
  // Four runs; pods listed interleaved across them (as a list sorted by name is), one run with more
  // pods than a slice holds, a pod whose run is unknown and one without labels.
  const runs: DagRunRow[] = [0, 1, 2, 3].map((i) => ({dagId: 'etl', runId: `manual__${i}`, state: 'running', endDate: null}))
  const rows: TaskInstanceRow[] = runs.flatMap((run, i) => [
    {...ti('extract', i % 2 ? 'success' : 'running'), runId: run.runId},
    {...ti('load', 'failed'), runId: run.runId},
    {...ti('publish', 'running', 2), runId: run.runId},
  ])
  const podOf = (run: number, taskId: string, tryNumber = 1): ObjectMeta => {
    const p = pod(`${taskId}-${run}-try${tryNumber}`, taskId)
    return {...p, labels: {...p.labels, run_id: makeSafeLabelValue(`manual__${run}`), try_number: String(tryNumber)}}
  }
  const pods: ObjectMeta[] = [
    podOf(0, 'extract'),
    podOf(1, 'extract'),
    podOf(2, 'extract'),
    {...podOf(9, 'extract'), name: 'unknown-run'},
    podOf(0, 'load'),
    podOf(1, 'load'),
    podOf(3, 'extract'),
    {...podOf(0, 'publish'), name: 'no-labels', labels: {kubernetes_pod_operator: 'True'}},
    podOf(0, 'publish'),
    podOf(2, 'publish'),
  ]
  const describeFindings = (judged: Awaited<ReturnType<typeof judgePods>>) =>
    judged.findings.map((f) => `${f.match.pod.name}: ${f.verdict.reason} ${f.verdict.skipReason ?? ''} ${f.match.ownTaskInstance?.state ?? '-'}`)

  it('gives the findings of one read, in the pods\' order, reading each run in one slice only', async () => {
    const whole = recordingDb(rows)
    const expected = describeFindings(await judgePods(whole.db, pods, runs, CONFIG, NOW))
    expect(whole.calls.tasks).toBe(1)
    expect(expected).toEqual([
      'extract-1-try1: no-active-task-instance  success',
      'unknown-run: no-active-task-instance unknown-dag-run -',
      'load-0-try1: no-active-task-instance  failed',
      'load-1-try1: no-active-task-instance  failed',
      'extract-3-try1: no-active-task-instance  success',
      'no-labels: no-active-task-instance missing-labels -',
      'publish-0-try1: stale-try may-be-reattached running', // no pod_name XCom in this fake
      'publish-2-try1: stale-try may-be-reattached running',
    ])

    const sliced = recordingDb(rows, 2)
    const perCall: string[][] = []
    const read = sliced.db.taskInstancesOfTasks.bind(sliced.db)
    sliced.db.taskInstancesOfTasks = async (tasks) => {
      perCall.push(tasks.map((t) => t.runId))
      return read(tasks)
    }
    expect(describeFindings(await judgePods(sliced.db, pods, runs, CONFIG, NOW))).toEqual(expected)
    // Run 0 has three pods: a slice of its own, larger than asked; the other slices two pods at most.
    expect(perCall.map((call) => call.length).sort()).toEqual([1, 2, 2, 3])
    const runsRead = perCall.flatMap((call) => [...new Set(call)])
    expect(new Set(runsRead).size).toBe(runsRead.length) // no run read in two slices
    expect(sliced.calls.xcoms).toBe(2) // the stale tries of runs 0 and 2, each with its own slice
  })

  it('reads the task instances of at most podsPerRead pods per call, unless one run has more', async () => {
    const many = Array.from({length: 12}, (_, i) => podOf(i % 4, ['extract', 'load', 'publish'][i % 3]!))
    const sliced = recordingDb(rows, 3)
    const sizes: number[] = []
    const read = sliced.db.taskInstancesOfTasks.bind(sliced.db)
    sliced.db.taskInstancesOfTasks = async (tasks) => {
      sizes.push(tasks.length)
      return read(tasks)
    }
    const judged = await judgePods(sliced.db, many, runs, CONFIG, NOW)
    expect(sizes).toEqual([3, 3, 3, 3])
    expect(describeFindings(judged)).toEqual(describeFindings(await judgePods(recordingDb(rows).db, many, runs, CONFIG, NOW)))
  })
})

describe('judgePods: memory follows the slice', () => {
  it('keeps nothing of a slice it has judged that is not a finding: its keys and rows are garbage when the next slice is read', async () => {
    const runs: DagRunRow[] = ['a', 'b'].map((r) => ({...RUN, runId: `manual__${r}`}))
    const podOf = (run: string, taskId: string): ObjectMeta => {
      const p = pod(`${taskId}-${run}`, taskId)
      return {...p, labels: {...p.labels, run_id: makeSafeLabelValue(`manual__${run}`)}}
    }
    const rowsOf = (runId: string) => [{...ti('extract', 'running'), runId}, {...ti('load', 'success'), runId}]
    const earlier: WeakRef<object>[] = []
    let stillAlive = -1
    const db = {
      podsPerRead: 2,
      async taskInstancesOfTasks(tasks: TaskRef[]) {
        if (earlier.length > 0) {
          await new Promise((resolve) => setImmediate(resolve)) // WeakRefs clear only after the job that made them
          gc()
          stillAlive = earlier.filter((ref) => ref.deref() !== undefined).length
        }
        const rows = rowsOf(tasks[0]!.runId).filter((row) => tasks.some((t) => t.taskId === row.taskId))
        earlier.push(new WeakRef(tasks), ...rows.filter((row) => row.state === 'running').map((row) => new WeakRef(row)))
        return rows
      },
      async podNameXComs() {
        return new Map()
      },
    } as unknown as TaskInstanceSource
    const judged = await judgePods(db, [podOf('a', 'extract'), podOf('b', 'extract'), podOf('a', 'load'), podOf('b', 'load')], runs, CONFIG, NOW)
    expect(judged.findings.map((f) => f.match.pod.name)).toEqual(['load-a', 'load-b'])
    expect(earlier.length).toBeGreaterThan(1) // the first slice's key list and its running row were watched
    expect(stillAlive).toBe(0)
  })
})
