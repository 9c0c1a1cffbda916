// execution_timeout from the metadata DB's serialized DAGs (resolveExecutionTimeouts, the DB adapter's),
// and what the overdue command makes of the answers (readExecutionTimeouts): the fallback chain of
// FACTS §5.2, each serialized DAG parsed once, and an unreadable DAG turned into a warning (its tasks
// not judged) while the others still are.
import {deflateSync, gzipSync} from 'node:zlib'
import {beforeEach, describe, expect, it, vi} from 'vitest'
import type {SerializedDagRequest, SerializedDagRows} from '../../src/airflow/execution-timeouts.js'
import type {TaskInstanceSource} from '../../src/airflow/types.js'
import type {ExecutingTaskInstanceRow, SerializedDagRow} from '../../src/core/overdue.js'
import {taskKeyString} from '../../src/core/types.js'

const parseCount = vi.hoisted(() => ({n: 0}))
vi.mock('../../src/airflow/serialized-dag.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/airflow/serialized-dag.js')>()
  return {
    ...original,
    executionTimeouts: (serialized: unknown, defaultSeconds?: number) => {
      parseCount.n++
      return original.executionTimeouts(serialized, defaultSeconds)
    },
  }
})

const {readExecutionTimeouts} = await import('../../src/reap/overdue.js')
const {resolveExecutionTimeouts} = await import('../../src/airflow/execution-timeouts.js')

const op = (taskId: string, fields: Record<string, unknown> = {}) => ({__type: 'operator', __var: {task_id: taskId, ...fields}})
const dagJson = (timeouts: Record<string, number | undefined>) =>
  JSON.stringify({__version: 1, dag: {tasks: Object.entries(timeouts).map(([id, t]) => op(id, t === undefined ? {} : {execution_timeout: t}))}})

function row(dagId: string, body: string | Buffer, versionId: string | null = null, versionNumber: number | null = null): SerializedDagRow {
  return typeof body === 'string'
    ? {dagId, versionId, versionNumber, data: body, dataCompressed: null}
    : {dagId, versionId, versionNumber, data: null, dataCompressed: body}
}

function ti(dagId: string, taskId: string, fields: Partial<ExecutingTaskInstanceRow> = {}): ExecutingTaskInstanceRow {
  return {dagId, taskId, runId: 'r', mapIndex: -1, state: 'deferred', tryNumber: 1, startDate: new Date(0), operator: null, dagVersionId: null, runDagVersionId: null, ...fields}
}

/**
 * A fake task-instance source holding serialized DAG rows by version id and by dag_id (latest), answering
 * executionTimeouts with the DB adapter's own resolution, and recording each read of rows.
 */
function fakeDb(byVersion: SerializedDagRow[], latest: SerializedDagRow[]) {
  const requests: SerializedDagRequest[] = []
  const read = async (request: SerializedDagRequest): Promise<SerializedDagRows> => {
    requests.push(request)
    return {
      byVersion: new Map(byVersion.filter((r) => request.versionIds.includes(r.versionId!)).map((r) => [r.versionId!, r])),
      latest: new Map(latest.filter((r) => request.latestOf.includes(r.dagId)).map((r) => [r.dagId, r])),
    }
  }
  const db = {
    executionTimeouts: (tis: ExecutingTaskInstanceRow[], defaultSeconds?: number) => resolveExecutionTimeouts(read, tis, defaultSeconds),
  } as unknown as TaskInstanceSource
  return {db, requests, read}
}

beforeEach(() => {
  parseCount.n = 0
})

describe('readExecutionTimeouts', () => {
  it('2.x: one row per DAG, plain, zlib or gzip, parsed once however many task instances use it', async () => {
    const {db, requests} = fakeDb([], [
      row('plain', dagJson({a: 1800, b: undefined})),
      row('zlib', deflateSync(dagJson({c: 600}))),
      row('gzip', gzipSync(dagJson({d: 60}))),
    ])
    const tis = [ti('plain', 'a'), ti('plain', 'b'), ti('plain', 'a', {runId: 'r2'}), ti('zlib', 'c'), ti('gzip', 'd'), ti('gzip', 'd', {mapIndex: 1})]
    const {timeouts, warnings} = await readExecutionTimeouts(db, tis)
    expect(warnings).toEqual([])
    expect(tis.map((t) => timeouts.get(taskKeyString(t)))).toEqual([1800, undefined, 1800, 600, 60, 60])
    expect(tis.every((t) => timeouts.has(taskKeyString(t)))).toBe(true)
    expect(parseCount.n).toBe(3)
    expect(requests).toEqual([{versionIds: [], latestOf: ['plain', 'zlib', 'gzip']}])
  })

  it("3.x: the try's exact version wins over the latest one", async () => {
    const {db, requests} = fakeDb([row('d', dagJson({t: 1800}), 'v1', 1)], [row('d', dagJson({t: 86400}), 'v2', 2)])
    const {timeouts} = await readExecutionTimeouts(db, [ti('d', 't', {dagVersionId: 'v1', runDagVersionId: 'v2'})])
    expect([...timeouts.values()]).toEqual([1800])
    expect(requests).toEqual([{versionIds: ['v1'], latestOf: []}])
  })

  it("3.x: falls back to the run's version, then to the latest, reading only what is missing", async () => {
    const {db, requests} = fakeDb([row('d', dagJson({t: 600}), 'v0', 1)], [row('d', dagJson({t: 86400}), 'v2', 2)])
    const tis = [
      ti('d', 't', {dagVersionId: 'gone', runDagVersionId: 'v0'}), // the try's version has no row: the run's
      ti('d', 't', {runId: 'r2', runDagVersionId: 'v0'}),
      ti('d', 't', {runId: 'r3'}), // nothing known: the latest
    ]
    const {timeouts, warnings} = await readExecutionTimeouts(db, tis)
    expect(warnings).toEqual([])
    expect(tis.map((t) => timeouts.get(taskKeyString(t)))).toEqual([600, 600, 86400])
    expect(requests).toEqual([
      {versionIds: ['gone', 'v0'], latestOf: ['d']},
    ])
    expect(parseCount.n).toBe(2)
  })

  it('3.x: a missing version leads to a second round for the next source only', async () => {
    const {db, requests} = fakeDb([], [row('d', dagJson({t: 60}), 'v2', 2)])
    const {timeouts} = await readExecutionTimeouts(db, [ti('d', 't', {dagVersionId: 'gone', runDagVersionId: 'gone-too'})])
    expect([...timeouts.values()]).toEqual([60])
    expect(requests).toEqual([
      {versionIds: ['gone'], latestOf: []},
      {versionIds: ['gone-too'], latestOf: []},
      {versionIds: [], latestOf: ['d']},
    ])
  })

  it('an unreadable DAG is a warning naming it; its tasks are not judged, the others are', async () => {
    const {db} = fakeDb([], [
      row('broken_zlib', Buffer.from('definitely not zlib')),
      row('broken_shape', JSON.stringify({__version: 1, dag: {}})),
      row('broken_json', '{"__version": 1, "dag": '),
      row('fine', dagJson({t: 60})),
    ])
    const tis = [ti('broken_zlib', 't'), ti('broken_zlib', 'u'), ti('broken_shape', 't'), ti('broken_json', 't'), ti('fine', 't'), ti('missing', 't')]
    const {timeouts, warnings} = await readExecutionTimeouts(db, tis)
    expect([...timeouts.entries()]).toEqual([[taskKeyString(ti('fine', 't')), 60]])
    expect(warnings).toHaveLength(4)
    expect(warnings[0]).toMatch(/^the serialized DAG of broken_zlib cannot be read \(.+\): its tasks are not judged$/)
    expect(warnings[1]).toMatch(/broken_shape .*no task list/)
    expect(warnings[2]).toMatch(/broken_json/)
    expect(warnings[3]).toBe('no serialized DAG of missing in the Airflow DB: its tasks are not judged')
  })

  it('names the dag_version of an unreadable 3.x row', async () => {
    const {db} = fakeDb([row('d', Buffer.from([0x78, 0x9c, 1, 2, 3]), 'v7', 7)], [])
    const {warnings} = await readExecutionTimeouts(db, [ti('d', 't', {dagVersionId: 'v7'})])
    expect(warnings).toEqual([expect.stringMatching(/^the serialized DAG of d \(version 7\) cannot be read/)])
  })
})

describe('resolveExecutionTimeouts: an answer for every task instance', () => {
  it('seconds, none (the task sets none, or its DAG does not list it), unknown with the reason', async () => {
    const {read} = fakeDb([], [row('d', dagJson({a: 60, b: undefined})), row('broken', 'not json')])
    const tis = [ti('d', 'a'), ti('d', 'b'), ti('d', 'not_in_dag'), ti('broken', 'a'), ti('missing', 'a')]
    const answers = await resolveExecutionTimeouts(read, tis)
    expect(tis.map((t) => answers.get(taskKeyString(t)))).toEqual([
      {kind: 'seconds', seconds: 60},
      {kind: 'none'},
      {kind: 'none'},
      {kind: 'unknown', reason: expect.stringMatching(/^the serialized DAG of broken cannot be read \(.+\)$/)},
      {kind: 'unknown', reason: 'no serialized DAG of missing in the Airflow DB'},
    ])
  })

  it("[core] default_task_execution_timeout fills in for a task serialized without one, never over an explicit 0", async () => {
    const {read} = fakeDb([], [row('d', dagJson({unset: undefined, zero: 0}))])
    const answers = await resolveExecutionTimeouts(read, [ti('d', 'unset'), ti('d', 'zero')], 300)
    expect([...answers.values()]).toEqual([{kind: 'seconds', seconds: 300}, {kind: 'seconds', seconds: 0}])
  })
})
