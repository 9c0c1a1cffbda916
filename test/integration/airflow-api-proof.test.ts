// The REST API source's proof of candidate pods (src/airflow-api/proof.ts), through the port's
// proveCandidates, against the fake Airflow API of both releases: what convicts a pod is read again by
// itself (its task instance; after a 404, its DAG and its run); a DAG that may not be read keeps its
// pods; a run is proved absent only by a read of its own; any two answers that disagree stop the proof.
// In process, so that the mutation run (test/mutation/vitest.config.ts) reaches proof.ts.
import {afterEach, describe, expect, it} from 'vitest'
import type {ApiTaskInstanceSource} from '../../src/airflow-api/source.js'
import type {Proof, ProofRequest} from '../../src/airflow/types.js'
import {makeSafeLabelValue} from '../../src/core/labels.js'
import {type FakeAirflowApi, type FakeFixture, type FakeOptions, startFakeAirflowApi} from '../support/fake-airflow-api/index.js'
import {apiError, apiSourceOver, jsonAnswer} from '../support/api-source.js'

const DAG = 'etl'
const OTHER_DAG = 'reports'
const RUN = 'run_1'
const DONE_RUN = 'run_0'
/** A task id longer than a label may be: its pods carry a rewritten task_id label. */
const LONG_TASK = 'extract_every_partition_of_the_warehouse_tables_into_the_lake_daily'
/** A run id with `+` and `:`: its label is rewritten (`manual__2026-…-<9 hex>`). */
const MANUAL_RUN = 'manual__2026-01-01T00:00:00+00:00'

function fixture(): FakeFixture {
  return {
    dags: [
      {dagId: DAG, tasks: [{taskId: 'load', executionTimeout: null}, {taskId: 'fan', executionTimeout: null, isMapped: true}, {taskId: LONG_TASK, executionTimeout: null}]},
      {dagId: OTHER_DAG, tasks: [{taskId: 'send', executionTimeout: null}]},
    ],
    runs: [
      {dagId: DAG, runId: RUN, state: 'running'},
      {dagId: DAG, runId: DONE_RUN, state: 'success', endDate: '2026-01-01T01:00:00Z'},
      {dagId: DAG, runId: MANUAL_RUN, state: 'success', endDate: '2026-01-01T01:00:00Z'},
      {dagId: OTHER_DAG, runId: RUN, state: 'running'},
    ],
    taskInstances: [
      {dagId: DAG, runId: RUN, taskId: 'load', mapIndex: -1, tryNumber: 2, state: 'success', startDate: '2026-01-01T00:10:00Z'},
      {dagId: DAG, runId: RUN, taskId: 'fan', mapIndex: 0, tryNumber: 1, state: 'failed'},
      {dagId: DAG, runId: RUN, taskId: 'fan', mapIndex: 1, tryNumber: 1, state: 'running'},
      {dagId: DAG, runId: RUN, taskId: LONG_TASK, mapIndex: -1, tryNumber: 1, state: 'success'},
      {dagId: DAG, runId: DONE_RUN, taskId: 'load', mapIndex: -1, tryNumber: 1, state: 'success'},
      {dagId: OTHER_DAG, runId: RUN, taskId: 'send', mapIndex: -1, tryNumber: 1, state: 'success'},
    ],
    xcoms: [],
  }
}

const PERSONALITIES: Array<Pick<FakeOptions, 'personality' | 'version'>> = [
  {personality: 'v2', version: '3.3.2'},
  {personality: 'v1', version: '2.10.5'},
]

let fake: FakeAirflowApi | undefined
afterEach(async () => {
  await fake?.stop()
  fake = undefined
})

async function sourceOver(options: Pick<FakeOptions, 'personality' | 'version'> & Partial<FakeOptions>): Promise<ApiTaskInstanceSource> {
  const opened = await apiSourceOver(options, fixture())
  fake = opened.fake
  return opened.source
}

const request = (parts: Partial<ProofRequest>): ProofRequest => ({tasks: [], runs: [], missingRuns: [], ...parts})
const key = (taskId: string, mapIndex = -1, runId = RUN, dagId = DAG) => ({dagId, runId, taskId, mapIndex})
const summary = (proof: Proof) => ({
  taskInstances: proof.taskInstances.map((ti) => `${ti.dagId}/${ti.runId}/${ti.taskId}/${ti.mapIndex} ${ti.state} try ${ti.tryNumber}`).sort(),
  foundRuns: proof.foundRuns.map((run) => `${run.dagId}/${run.runId}`).sort(),
  notPermitted: [...proof.notPermitted].sort(),
})
/** The reads sent after /version, as `GET <path below /api/vN>`. */
const reads = () => fake!.log.filter((r) => !r.path.endsWith('/version')).map((r) => `${r.method} ${decodeURIComponent(r.path.replace(/^\/api\/v\d/, ''))}`)
/** A fault that answers 200 with this JSON body on the paths matched. */
const answering = (path: RegExp, body: unknown) => jsonAnswer(path, 200, body)
/** What the fake answers for a task instance of the fixture, with changes (another state, another key). */
async function bodyOf(options: Pick<FakeOptions, 'personality' | 'version'>, taskId: string, mapIndex: number, change: Record<string, unknown>): Promise<Record<string, unknown>> {
  const plain = await startFakeAirflowApi(options, fixture())
  try {
    const path = `${plain.url}/api/${options.personality}/dags/${DAG}/dagRuns/${RUN}/taskInstances/${taskId}${mapIndex >= 0 ? `/${mapIndex}` : ''}`
    return {...((await (await fetch(path)).json()) as Record<string, unknown>), ...change}
  } finally {
    await plain.stop()
  }
}

describe.each(PERSONALITIES)('proveCandidates over API $personality ($version)', (release) => {
  describe('a task instance by key', () => {
    it('is read by itself, once per key: its answer proves its DAG and its run, which are not read', async () => {
      const source = await sourceOver(release)
      const proof = await source.proveCandidates(request({tasks: [key('load'), key('fan', 0), key('load'), key('load', -1, DONE_RUN)]}))
      expect(summary(proof)).toEqual({
        taskInstances: ['etl/run_0/load/-1 success try 1', 'etl/run_1/fan/0 failed try 1', 'etl/run_1/load/-1 success try 2'],
        foundRuns: [],
        notPermitted: [],
      })
      expect(reads().sort()).toEqual([
        'GET /dags/etl/dagRuns/run_0/taskInstances/load',
        'GET /dags/etl/dagRuns/run_1/taskInstances/fan/0',
        'GET /dags/etl/dagRuns/run_1/taskInstances/load',
      ])
    })

    it('of a DAG the credentials may not read: no row, the DAG named, nothing more asked of it', async () => {
      const source = await sourceOver({...release, deniedDags: [DAG]})
      const proof = await source.proveCandidates(request({tasks: [key('load'), key('send', -1, RUN, OTHER_DAG)]}))
      expect(summary(proof)).toEqual({taskInstances: ['reports/run_1/send/-1 success try 1'], foundRuns: [], notPermitted: [DAG]})
      expect(reads().filter((r) => r.includes('/etl'))).toEqual(['GET /dags/etl/dagRuns/run_1/taskInstances/load'])
    })

    it('of a DAG or a run that does not exist: its 404 settled by the DAG\'s and the run\'s reads, no list asked', async () => {
      const source = await sourceOver(release)
      const proof = await source.proveCandidates(request({tasks: [key('load', -1, RUN, 'gone_dag'), key('load', -1, 'gone_run')]}))
      expect(summary(proof)).toEqual({taskInstances: [], foundRuns: [], notPermitted: []})
      expect(reads().sort()).toEqual([
        'GET /dags/etl',
        'GET /dags/etl/dagRuns/gone_run',
        'GET /dags/etl/dagRuns/gone_run/taskInstances/load',
        'GET /dags/gone_dag',
        'GET /dags/gone_dag/dagRuns/run_1/taskInstances/load',
      ])
    })

    it('a 404 for it that the task\'s own list agrees with: no row, and no error', async () => {
      const source = await sourceOver(release)
      const proof = await source.proveCandidates(request({tasks: [key('fan', 7), key('never_ran')]}))
      expect(summary(proof)).toEqual({taskInstances: [], foundRuns: [], notPermitted: []})
      // Confirmed by the run's list (v1: the whole run's; v2: filtered by task_id).
      expect(reads().filter((r) => r.endsWith('/taskInstances'))).toHaveLength(2)
    })

    it('a 404 for it while the list holds it is a disagreement: the proof fails', async () => {
      const source = await sourceOver({...release, faults: [jsonAnswer(/\/taskInstances\/load$/, 404, {detail: 'Not Found'})]})
      expect((await apiError(source.proveCandidates(request({tasks: [key('load')]})))).message).toMatch(
        'the Airflow API answers 404 when it is read by itself but lists it: task instance etl.load of run run_1; nothing is decided on answers that disagree',
      )
    })

    it('the same for a mapped one: its map index named', async () => {
      const source = await sourceOver({...release, faults: [jsonAnswer(/\/taskInstances\/fan\/0$/, 404, {detail: 'Not Found'})]})
      expect((await apiError(source.proveCandidates(request({tasks: [key('fan', 0)]})))).message).toMatch('task instance etl.fan[0] of run run_1')
    })

    it('answered with another task instance than the one asked for: the proof fails', async () => {
      const other = await bodyOf(release, 'fan', 1, {})
      const source = await sourceOver({...release, faults: [answering(/\/taskInstances\/fan\/0$/, other)]})
      expect((await apiError(source.proveCandidates(request({tasks: [key('fan', 0)]})))).message).toMatch('answered a read of it with another task instance: task instance etl.fan[0] of run run_1')
    })

    it('its own read wins over nothing: the state it answers is the state proved', async () => {
      const running = await bodyOf(release, 'load', -1, {state: 'running'})
      const source = await sourceOver({...release, faults: [answering(/\/taskInstances\/load$/, running)]})
      const proof = await source.proveCandidates(request({tasks: [key('load')]}))
      expect(summary(proof).taskInstances).toEqual(['etl/run_1/load/-1 running try 2'])
    })

    it('a 403 on the task instance itself (a DAG readable, its task instances not): no row, the DAG named', async () => {
      const source = await sourceOver({...release, faults: [jsonAnswer(/\/taskInstances/, 403, {detail: 'Forbidden'})]})
      const proof = await source.proveCandidates(request({tasks: [key('load')]}))
      expect(summary(proof)).toEqual({taskInstances: [], foundRuns: [], notPermitted: [DAG]})
    })

    it.each([
      ['its DAG', /^\/api\/v\d\/dags\/etl$/, {dag_id: OTHER_DAG}, 'GET dags/etl with another object'],
      ['its run, another run id', /\/dagRuns\/run_1$/, {dag_id: DAG, dag_run_id: DONE_RUN}, 'GET dags/etl/dagRuns/run_1 with another object'],
      ['its run, another DAG id', /\/dagRuns\/run_1$/, {dag_id: OTHER_DAG, dag_run_id: RUN}, 'GET dags/etl/dagRuns/run_1 with another object'],
      ['its run, no body that is an object', /\/dagRuns\/run_1$/, null, 'GET dags/etl/dagRuns/run_1 with another object'],
    ])('after a 404 for it, %s answered with another object: the proof fails', async (_what, path, body, message) => {
      const source = await sourceOver({...release, faults: [answering(path, body)]})
      expect((await apiError(source.proveCandidates(request({tasks: [key('never_ran')]})))).message).toMatch(message)
    })

    it('an error that is not a 403 (a 500) fails the proof, never reads as "no task instance"', async () => {
      const source = await sourceOver({...release, faults: [{path: /\/taskInstances\/load$/, fault: {kind: 'status', status: 500}}]})
      expect((await apiError(source.proveCandidates(request({tasks: [key('load')]})))).message).toMatch(/with 500/)
    })
  })

  describe('a whole run (a task_id label that may have been rewritten)', () => {
    it('its list clears what is active or plainly labelled; a finished row whose task id a label rewrites is read by itself', async () => {
      const source = await sourceOver(release)
      const proof = await source.proveCandidates(request({runs: [{dagId: DAG, runId: RUN}, {dagId: DAG, runId: RUN}]}))
      expect(summary(proof).taskInstances).toEqual([
        `etl/run_1/${LONG_TASK}/-1 success try 1`,
        'etl/run_1/fan/0 failed try 1',
        'etl/run_1/fan/1 running try 1',
        'etl/run_1/load/-1 success try 2',
      ])
      const pointReads = reads().filter((r) => /\/taskInstances\/./.test(r))
      expect(pointReads).toEqual([`GET /dags/etl/dagRuns/run_1/taskInstances/${LONG_TASK}`])
    })

    it('the row as its own read answers it, not as the list did', async () => {
      const running = await bodyOf(release, LONG_TASK, -1, {state: 'running'})
      const source = await sourceOver({...release, faults: [answering(new RegExp(`/taskInstances/${LONG_TASK}$`), running)]})
      const proof = await source.proveCandidates(request({runs: [{dagId: DAG, runId: RUN}]}))
      expect(summary(proof).taskInstances).toContain(`etl/run_1/${LONG_TASK}/-1 running try 1`)
    })

    it('listed in the run but 404 by itself: the proof fails', async () => {
      const source = await sourceOver({...release, faults: [jsonAnswer(new RegExp(`/taskInstances/${LONG_TASK}$`), 404, {detail: 'Not Found'})]})
      expect((await apiError(source.proveCandidates(request({runs: [{dagId: DAG, runId: RUN}]})))).message).toMatch(
        `the Airflow API lists it in its run but answers 404 when it is read by itself: task instance etl.${LONG_TASK} of run run_1`,
      )
    })

    it('of a DAG that may not be read, or whose list may not be: no rows, the DAG named', async () => {
      let source = await sourceOver({...release, deniedDags: [DAG]})
      expect(summary(await source.proveCandidates(request({runs: [{dagId: DAG, runId: RUN}]})))).toEqual({taskInstances: [], foundRuns: [], notPermitted: [DAG]})
      await fake!.stop()
      source = await sourceOver({...release, faults: [jsonAnswer(/\/dagRuns\/run_1\/taskInstances$/, 403, {detail: 'Forbidden'})]})
      expect(summary(await source.proveCandidates(request({runs: [{dagId: DAG, runId: RUN}]})))).toEqual({taskInstances: [], foundRuns: [], notPermitted: [DAG]})
    })

    it('of a run that does not exist: no rows, its list never asked for', async () => {
      const source = await sourceOver(release)
      expect(summary(await source.proveCandidates(request({runs: [{dagId: DAG, runId: 'gone_run'}]})))).toEqual({taskInstances: [], foundRuns: [], notPermitted: []})
      expect(reads()).toEqual(['GET /dags/etl', 'GET /dags/etl/dagRuns/gone_run'])
    })
  })

  describe('a run the scan did not find, from its pod\'s labels', () => {
    const labelled = (dagId: string, runId: string) => ({dagId: makeSafeLabelValue(dagId), runId: makeSafeLabelValue(runId)})

    it('read by id: found when it exists, proved absent when it or its DAG does not', async () => {
      const source = await sourceOver(release)
      const proof = await source.proveCandidates(request({missingRuns: [labelled(DAG, RUN), labelled(DAG, 'gone_run'), labelled('gone_dag', RUN)]}))
      expect(summary(proof)).toEqual({taskInstances: [], foundRuns: ['etl/run_1'], notPermitted: []})
      // A label that is not rewritten is the run id itself: read by id, never looked for in a list.
      expect(reads().sort()).toEqual(['GET /dags/etl', 'GET /dags/etl/dagRuns/gone_run', 'GET /dags/etl/dagRuns/run_1', 'GET /dags/gone_dag'])
    })

    it('of a DAG the credentials may not read: kept, the DAG named', async () => {
      const source = await sourceOver({...release, deniedDags: [DAG]})
      const proof = await source.proveCandidates(request({missingRuns: [labelled(DAG, RUN), labelled(DAG, MANUAL_RUN)]}))
      expect(summary(proof)).toEqual({taskInstances: [], foundRuns: [`etl/${makeSafeLabelValue(MANUAL_RUN)}`, 'etl/run_1'], notPermitted: [DAG]})
    })

    it('a run_id label that was rewritten: found among its DAG\'s runs by their labels, else proved absent', async () => {
      const source = await sourceOver(release)
      const absent = labelled(DAG, 'manual__2026-02-02T00:00:00+00:00')
      expect(absent.runId).not.toBe('manual__2026-02-02T00:00:00+00:00')
      const proof = await source.proveCandidates(request({missingRuns: [labelled(DAG, MANUAL_RUN), absent, labelled('gone_dag', MANUAL_RUN)]}))
      expect(summary(proof)).toEqual({taskInstances: [], foundRuns: [`etl/${makeSafeLabelValue(MANUAL_RUN)}`], notPermitted: []})
      // The DAG's own run list, never a read of the label as if it were a run id; none for a DAG that does not exist.
      expect(new Set(reads())).toEqual(new Set(['GET /dags/etl', 'GET /dags/etl/dagRuns', 'GET /dags/gone_dag']))
    })

    it('a rewritten run_id label whose DAG\'s run list may not be read: kept, the DAG named', async () => {
      const source = await sourceOver({...release, faults: [jsonAnswer(/\/dags\/etl\/dagRuns$/, 403, {detail: 'Forbidden'})]})
      const proof = await source.proveCandidates(request({missingRuns: [labelled(DAG, 'manual__2026-02-02T00:00:00+00:00')]}))
      expect(summary(proof)).toEqual({taskInstances: [], foundRuns: [`etl/${makeSafeLabelValue('manual__2026-02-02T00:00:00+00:00')}`], notPermitted: [DAG]})
    })

    // Labels made inside the test, not while the file is collected (the mutation run would count the
    // normaliser's mutants as static: run against every test).
    it.each([
      ['rewritten (a hashed suffix)', () => makeSafeLabelValue(`${'d'.repeat(70)}`)],
      ['a value no label could hold (never made by the normaliser)', () => 'etl+v2'],
      ['that only looks rewritten (a dag named like a hash)', () => 'etl-0123abcde'],
    ])('a dag_id label %s names no DAG that can be read: kept, nothing asked', async (_what, label) => {
      const dagLabel = label()
      const source = await sourceOver(release)
      const proof = await source.proveCandidates(request({missingRuns: [{dagId: dagLabel, runId: RUN}]}))
      expect(summary(proof)).toEqual({taskInstances: [], foundRuns: [`${dagLabel}/${RUN}`], notPermitted: []})
      expect(reads()).toEqual([])
    })
  })
})
