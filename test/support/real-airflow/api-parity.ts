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
import type {Report} from '../../../src/core/report.js'
import {runCli} from '../cli.js'
import {comparable} from '../run-history.js'
import {sortRows, sortedEntries, withoutVersions} from '../source-parity.js'
import type {RealAirflowDb, WorldPod} from './airflow.js'
import {type RealAirflowApi, startAirflowApi} from './api-server.js'
import {fakeReaderLike, readsFor, realReader, shapeDifferences} from './fake-api-shapes.js'
import type {AirflowVenv} from './venv.js'

const START_TIMEOUT_MS = 240_000

export interface ParityWorld {
  venv: () => AirflowVenv
  db: () => RealAirflowDb
  pods: () => WorldPod[]
  /** The CLI's environment for this world (its kubeconfig, the DB in AIRFLOW_REAP_DB) and its namespace. */
  cli: () => {env: Record<string, string | undefined>; namespace: string}
}

/**
 * The same report but for what may differ between two runs and two sources (run-history.ts comparable:
 * when, which run, which source, the pods' ages), the API run's note that the DB settings in its
 * environment were not read, and the ages themselves, within seconds (each run lists the pods anew).
 */
function expectSameReport(fromApi: Report, fromDb: Report): void {
  const warnings = (fromApi.warnings ?? []).filter((w) => !w.startsWith('task instances come from the Airflow API'))
  expect(comparable({...fromApi, warnings: warnings.length > 0 ? warnings : undefined})).toEqual(comparable(fromDb))
  for (const [index, item] of fromApi.items.entries()) expect(Math.abs((item.ageSeconds ?? 0) - (fromDb.items[index]!.ageSeconds ?? 0))).toBeLessThanOrEqual(5)
}

export function describeApiParity(world: ParityWorld): void {
  describe('the REST API source: the real API server over this DB', () => {
    let api: RealAirflowApi
    let fromDb: TaskInstanceSource
    let fromApi: ApiTaskInstanceSource
    let startedInMs: number
    let sectionStarted: number

    beforeAll(async () => {
      const started = Date.now()
      sectionStarted = started
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
      // What this section adds to the file's run time (issue 20 asks for it).
      console.info(`[real airflow ${world.venv().line} ${world.db().kind}] the REST API section took ${((Date.now() - sectionStarted) / 1000).toFixed(1)}s`)
    })

    const keys = () => world.pods().map((pod) => ({dagId: pod.dagId, taskId: pod.task_id, runId: pod.runId, mapIndex: pod.map_index}))
    const runs = () => [...new Map(world.pods().map((pod) => [`${pod.dagId}\n${pod.runId}`, {dagId: pod.dagId, runId: pod.runId}])).values()]

    it("is this release's API (v1 for 2.x, v2 for 3.x), read with a viewer's password", () => {
      const {personality} = fromApi
      expect(personality.api).toBe(world.venv().line === '3' ? 'v2' : 'v1')
      expect(personality.airflowVersion).toMatch(world.venv().line === '3' ? /^3\./ : /^2\.10\./)
      console.info(`[real airflow ${world.venv().line} ${world.db().kind}] the API server started in ${(startedInMs / 1000).toFixed(1)}s`)
    })

    it('the fake Airflow API answers the same reads as this server does: statuses, media types, key sets, value types', async () => {
      const line = world.venv().line
      const real = await realReader(api, line)
      const fake = await fakeReaderLike(line, fromApi.personality.airflowVersion, real, world.pods())
      try {
        const differences: string[] = []
        for (const read of readsFor(line, world.pods())) {
          const [fromReal, fromFake] = [await real(read.path, read.body), await fake.read(read.path, read.body)]
          expect(fromReal.status, `${read.name}: ${JSON.stringify(fromReal.body).slice(0, 300)}`).toBeLessThan(500)
          differences.push(...shapeDifferences(fromReal, fromFake).map((difference) => `${read.name}: ${difference}`))
        }
        expect(differences).toEqual([])
      } finally {
        await fake.stop()
      }
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

    // The CLI as a user runs it: the DB URL in the environment, --airflow-url and the credentials' variables given.
    const both = async (args: string[]): Promise<{fromDb: Report; fromApi: Report}> => {
      const {env, namespace} = world.cli()
      const common = [...args, '-n', namespace, '-o', 'json', '--no-cache']
      const [dbRun, apiRun] = await Promise.all([
        runCli(common, {env}),
        runCli([...common, '--airflow-url', api.url], {env: {...env, ...api.credentialsEnv}}),
      ])
      expect(dbRun.code, dbRun.stderr).toBe(0)
      expect(apiRun.code, apiRun.stderr).toBe(0)
      expect(apiRun.stdout + apiRun.stderr).not.toContain(api.credentialsEnv.AIRFLOW_REAP_API_PASSWORD)
      return {fromDb: JSON.parse(dbRun.stdout), fromApi: JSON.parse(apiRun.stdout)}
    }

    it('zombies: the same report through the API as through the DB, but for its source', async () => {
      // --min-age 0s: the server stamped every pod's creationTimestamp moments ago.
      const {fromDb, fromApi} = await both(['zombies', '--min-age', '0s'])
      expect(fromDb.items.length).toBeGreaterThan(0)
      expectSameReport(fromApi, fromDb)
      expect(fromDb.source).toMatchObject({kind: 'db'})
      expect(fromApi.source).toMatchObject({kind: 'api', url: api.url, api: world.venv().line === '3' ? 'v2' : 'v1', auth: 'password'})
      expect(fromApi.warnings ?? []).toContainEqual(expect.stringContaining('AIRFLOW_REAP_DB'))
    })

    it('overdue: the same report through the API as through the DB, but for its source', async () => {
      const {fromDb, fromApi} = await both(['overdue'])
      expect(fromDb.items.length).toBeGreaterThan(0)
      expectSameReport(fromApi, fromDb)
    })

    it('taskInstanceStateCounts', async () => {
      const states = ['running', 'deferred', 'queued', 'scheduled', 'up_for_retry', 'success', 'failed']
      expect(sortedEntries(await fromApi.taskInstanceStateCounts(states))).toEqual(sortedEntries(await fromDb.taskInstanceStateCounts(states)))
    })
  })
}
