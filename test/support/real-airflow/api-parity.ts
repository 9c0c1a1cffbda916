// The REST API source against the real Airflow's own API server over the same DB the DB-source tests
// read (test/support/real-airflow/api-server.ts): both sources must answer every port method alike on
// the scenario's world, and `zombies` / `overdue` must report the same findings either way.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {credentialSource} from '../../../src/airflow-api/auth.js'
import {openAirflowApi} from '../../../src/airflow-api/open.js'
import type {ApiTaskInstanceSource} from '../../../src/airflow-api/source.js'
import {parseApiUrl} from '../../../src/airflow-api/url.js'
import {openAirflowDb} from '../../../src/airflow/open.js'
import type {TaskInstanceSource} from '../../../src/airflow/types.js'
import {parseDbUrl} from '../../../src/airflow/url.js'
import {sortRows, sortedEntries, withoutVersions} from '../source-parity.js'
import type {RealAirflowDb, WorldPod} from './airflow.js'
import {type RealAirflowApi, startAirflowApi} from './api-server.js'
import type {AirflowVenv} from './venv.js'

const START_TIMEOUT_MS = 240_000

export interface ParityWorld {
  venv: () => AirflowVenv
  db: () => RealAirflowDb
  pods: () => WorldPod[]
}

export function describeApiParity(world: ParityWorld): void {
  describe('the REST API source: the real API server over this DB', () => {
    let api: RealAirflowApi
    let fromDb: TaskInstanceSource
    let fromApi: ApiTaskInstanceSource
    let startedInMs: number

    beforeAll(async () => {
      const started = Date.now()
      api = await startAirflowApi(world.venv(), world.db())
      startedInMs = Date.now() - started
      fromDb = await openAirflowDb(parseDbUrl(world.db().url, '--db'))
      // Pages of 2 rows: every list of the world spans pages (v1 then reads a longer list again whole).
      const opened = await openAirflowApi({
        base: parseApiUrl(api.url, 'test'),
        api: 'auto',
        credentials: credentialSource(undefined, api.credentialsEnv),
        timeoutMs: 60_000,
        pageSize: 2,
        maxRequests: 5000,
        concurrency: 4,
      })
      fromApi = opened.source
    }, START_TIMEOUT_MS)

    afterAll(async () => {
      await fromDb?.close()
      await api?.stop()
    })

    const keys = () => world.pods().map((pod) => ({dagId: pod.dagId, taskId: pod.task_id, runId: pod.runId, mapIndex: pod.map_index}))
    const runs = () => [...new Map(world.pods().map((pod) => [`${pod.dagId}\n${pod.runId}`, {dagId: pod.dagId, runId: pod.runId}])).values()]

    it("is this release's API (v1 for 2.x, v2 for 3.x), read with a viewer's password", () => {
      const {personality} = fromApi
      expect(personality.api).toBe(world.venv().line === '3' ? 'v2' : 'v1')
      expect(personality.airflowVersion).toMatch(world.venv().line === '3' ? /^3\./ : /^2\.10\./)
      console.info(`[real airflow ${world.venv().line} ${world.db().kind}] the API server started in ${(startedInMs / 1000).toFixed(1)}s`)
    })

    it('dagRunsSince', async () => {
      const since = new Date(Date.now() - 3600_000)
      const answer = await fromApi.dagRunsSince(since)
      expect(answer.length).toBeGreaterThan(0)
      expect(sortRows(answer)).toEqual(sortRows(await fromDb.dagRunsSince(since)))
    })

    it('taskInstancesOfTasks and taskInstancesOfRuns: every state, mapped tasks, the effective try', async () => {
      const tasks = [...new Map(keys().map((k) => [JSON.stringify([k.dagId, k.runId, k.taskId]), {dagId: k.dagId, runId: k.runId, taskId: k.taskId}])).values()]
      const ofTasks = withoutVersions(await fromApi.taskInstancesOfTasks(tasks) as never)
      expect(ofTasks.length).toBeGreaterThanOrEqual(tasks.length)
      expect(sortRows(ofTasks)).toEqual(sortRows(await fromDb.taskInstancesOfTasks(tasks)))
      const ofRuns = withoutVersions(await fromApi.taskInstancesOfRuns(runs()) as never)
      expect(sortRows(ofRuns)).toEqual(sortRows(await fromDb.taskInstancesOfRuns(runs())))
    })

    it('executingTaskInstances and their executionTimeouts', async () => {
      const apiRows = await fromApi.executingTaskInstances(runs())
      const dbRows = await fromDb.executingTaskInstances(runs())
      expect(apiRows.length).toBeGreaterThan(0)
      expect(sortRows(withoutVersions(apiRows))).toEqual(sortRows(withoutVersions(dbRows)))
      const apiTimeouts = await fromApi.executionTimeouts(apiRows)
      expect([...apiTimeouts.values()].some((t) => t.kind === 'seconds')).toBe(true)
      expect(sortedEntries(apiTimeouts)).toEqual(sortedEntries(await fromDb.executionTimeouts(dbRows)))
    })

    it('podNameXComs: the pod names Airflow stored, and no entry where it stored none', async () => {
      const answer = await fromApi.podNameXComs(keys())
      expect([...answer.values()].filter((name) => name !== null).length).toBeGreaterThan(5)
      expect(sortedEntries(answer)).toEqual(sortedEntries(await fromDb.podNameXComs(keys())))
    })

    it('taskInstanceStateCounts', async () => {
      const states = ['running', 'deferred', 'queued', 'scheduled', 'up_for_retry', 'success', 'failed']
      expect(sortedEntries(await fromApi.taskInstanceStateCounts(states))).toEqual(sortedEntries(await fromDb.taskInstanceStateCounts(states)))
    })
  })
}
