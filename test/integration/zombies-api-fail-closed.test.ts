// Fail closed through the REST API source (cli-contract.md, "Task-instance source: the REST API"):
// the lists of a scan only ever clear a pod; every pod reported or deleted was proved by point reads
// just before; a DAG the credentials may not read keeps its pods (not-permitted); a login page, a
// redirect, an exhausted request budget end the run with nothing deleted; Ctrl-C during an API read
// ends it within seconds, recorded as interrupted. Each test fails without the rule it names.
import {beforeAll, describe, expect, it, vi} from 'vitest'
import type {ReportItem} from '../../src/core/report.js'
import {runCli} from '../support/cli.js'
import {type FakeAirflowApi, type FakeOptions, type LoggedRequest, startFakeAirflowApi} from '../support/fake-airflow-api/index.js'
import {fixtureSeeder} from '../support/fake-airflow-api/seeder.js'
import {fakeApiWorld} from '../support/fake-airflow-api/world.js'
import {addKpoPod} from '../support/kpo.js'
import {historyOf, reportOf} from '../support/run-history.js'
import {runCliSignalled, stderrLines} from '../support/signals.js'

vi.setConfig({testTimeout: 60_000})

const DAG = 'etl'
const RUN = 'manual__2026-01-01T00:00:00+00:00'
const RUN_B = 'manual__2026-01-02T00:00:00+00:00'
const SECRET_DAG = 'payroll'
const TOKEN = 'fc-t0ken-4711'

/** Task instances of the scenario; pods for them are in the cluster. */
async function fixture() {
  const seed = fixtureSeeder('3.x')
  await seed.dagRun({dagId: DAG, runId: RUN, state: 'running'})
  await seed.dagRun({dagId: DAG, runId: RUN_B, state: 'running'})
  await seed.taskInstance({dagId: DAG, runId: RUN, taskId: 'done_task', state: 'success', tryNumber: 1})
  await seed.taskInstance({dagId: DAG, runId: RUN, taskId: 'live_task', state: 'running', tryNumber: 1})
  await seed.taskInstance({dagId: DAG, runId: RUN_B, taskId: 'b_task', state: 'running', tryNumber: 1})
  await seed.taskInstance({dagId: SECRET_DAG, runId: RUN, taskId: 'pay', state: 'success', tryNumber: 1})
  return seed.fixture
}

const world = fakeApiWorld('api-fail-closed', (kube) => {
  addKpoPod(kube, {name: 'done-zombie', dagId: DAG, taskId: 'done_task', runId: RUN, tryNumber: 1})
  addKpoPod(kube, {name: 'live-pod', dagId: DAG, taskId: 'live_task', runId: RUN, tryNumber: 1})
  addKpoPod(kube, {name: 'b-pod', dagId: DAG, taskId: 'b_task', runId: RUN_B, tryNumber: 1})
  addKpoPod(kube, {name: 'payroll-zombie', dagId: SECRET_DAG, taskId: 'pay', runId: RUN, tryNumber: 1})
})

/** The personality under test (describe.each below). */
let api: Pick<FakeOptions, 'personality' | 'version'> = {personality: 'v2', version: '3.3.2'}

async function serve(options: Partial<FakeOptions> = {}): Promise<FakeAirflowApi> {
  world.fake = await startFakeAirflowApi({...api, auth: {kind: 'proxy', token: TOKEN}, ...options}, await fixture())
  return world.fake
}

const env = () => ({...world.ws.env, AIRFLOW_REAP_API_TOKEN: TOKEN})
const zombies = (extra: string[]) => runCli(['zombies', '--airflow-url', world.fake!.url, '-o', 'json', ...extra], {env: env()})
const deletes = () => world.kube.requests.filter((r) => r.method === 'DELETE').map((r) => r.path.split('/').pop())
const item = (items: ReportItem[], name: string) => items.find((i) => i.name === name)
const pathIs = (suffix: string) => (request: LoggedRequest) => request.path.endsWith(suffix)

const PERSONALITIES: Array<Pick<FakeOptions, 'personality' | 'version'>> = [
  {personality: 'v1', version: '2.10.5'},
  {personality: 'v2', version: '3.3.2'},
]

describe.each(PERSONALITIES)('through API $personality (Airflow $version)', (personality) => {
  beforeAll(() => {
    api = personality
  })

  describe('the control case', () => {
    it('--delete --yes deletes the zombies the API proves, and nothing else', async () => {
      await serve()
      const result = await zombies(['--delete', '--yes'])
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
      expect(deletes().sort()).toEqual(['done-zombie', 'payroll-zombie'])
    })
  })

  describe('a DAG the credentials may not read', () => {
    it('its pods are skipped not-permitted, in a dry run and with --include-unknown --delete --yes', async () => {
      await serve({deniedDags: [SECRET_DAG]})
      const dry = reportOf((await zombies([])).stdout)
      expect(item(dry.items, 'payroll-zombie')).toMatchObject({action: 'skipped', skipReason: 'not-permitted'})
      expect(item(dry.items, 'payroll-zombie')!.detail).toContain(`may not read DAG ${SECRET_DAG}`)
      const real = await zombies(['--include-unknown', '--delete', '--yes'])
      expect(real.code).toBe(0)
      expect(item(reportOf(real.stdout).items, 'payroll-zombie')).toMatchObject({action: 'skipped', skipReason: 'not-permitted'})
      expect(deletes()).toEqual(['done-zombie'])
    })
  })

  describe('a list only ever clears a pod', () => {
    // v2 only: v1 reads a list longer than one page again whole, in one request (its ties have no order).
    it.runIf(personality.personality === 'v2')('a dag run the run list skipped (a row left the filter between pages) is found by its point read: the pod is kept', async () => {
      // Page 1 of the unfinished runs holds RUN; before page 2, RUN finishes: RUN_B moves to offset 0 and
      // page 2 (offset 1) is empty. The run list never held RUN_B.
      await serve({
        mutations: [
          {
            when: (r) => r.path.endsWith('/dags/~/dagRuns') && r.query.some(([k, v]) => k === 'offset' && v === '1') && r.query.some(([k]) => k === 'state'),
            change: (f) => Object.assign(f.runs.find((run) => run.runId === RUN)!, {state: 'success', endDate: new Date().toISOString()}),
          },
        ],
      })
      const result = await zombies(['--airflow-page-size', '1', '--include-unknown', '--allow-mass-delete', '--delete', '--yes'])
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
      expect(item(reportOf(result.stdout).items, 'b-pod')).toMatchObject({action: 'skipped', skipReason: 'changed-concurrently'})
      expect(deletes()).not.toContain('b-pod')
      expect(deletes()).not.toContain('live-pod')
    })

    it('a dry run reports only what the point reads prove: a task instance running again by then is not a zombie', async () => {
      await serve({mutations: [{when: pathIs('/taskInstances/done_task'), change: (f) => (f.taskInstances.find((t) => t.taskId === 'done_task')!.state = 'running')}]})
      const report = reportOf((await zombies([])).stdout)
      expect(item(report.items, 'done-zombie')).toMatchObject({action: 'skipped', skipReason: 'became-active'})
      const names = await runCli(['zombies', '--airflow-url', world.fake!.url, '-o', 'name'], {env: env()})
      expect(names.stdout).not.toContain('done-zombie')
    })

    it('a 404 for a task instance its own list holds is a doubt: exit 1, nothing deleted', async () => {
      const notFound = JSON.stringify(personality.personality === 'v2' ? {detail: 'not found'} : {title: 'Not Found', status: 404, detail: 'not found', type: 'about:blank'})
      await serve({faults: [{path: /\/taskInstances\/done_task$/, fault: {kind: 'status', status: 404, contentType: 'application/json', body: notFound}}]})
      const result = await zombies(['--delete', '--yes'])
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/^error: the Airflow API answers 404 when it is read by itself but lists it: task instance etl\.done_task of run manual__2026-01-01T00:00:00\+00:00; nothing is decided on answers that disagree\n$/)
      expect(deletes()).toEqual([])
    })

    it('a state this version does not know at the point read keeps the pod (unknown-state)', async () => {
      await serve({mutations: [{when: pathIs('/taskInstances/done_task'), change: (f) => (f.taskInstances.find((t) => t.taskId === 'done_task')!.state = 'awaiting_review')}]})
      const result = await zombies(['--delete', '--yes'])
      expect(item(reportOf(result.stdout).items, 'done-zombie')).toMatchObject({action: 'skipped', skipReason: 'unknown-state'})
      expect(deletes()).not.toContain('done-zombie')
    })
  })

  describe('answers that are not the API: exit 1, nothing deleted, the error says why', () => {
    it.each([
      ['a login page (200 text/html) instead of the run list', {path: /\/dags\/~\/dagRuns$/, fault: {kind: 'status', status: 200, body: '<html><title>Sign in</title></html>'}}, /^error: the Airflow API answered GET \/api\/v[12]\/dags\/~\/dagRuns with text\/html, not JSON \(a login page or a proxy in front of the API\?\)\n$/],
      ['a redirect instead of a task instance', {path: /\/taskInstances/, fault: {kind: 'redirect', location: 'https://sso.example.com/login'}}, /^error: the Airflow API answered (GET|POST) .*\/taskInstances.* with a redirect \(302 to sso\.example\.com\); redirects are not followed/],
      ['malformed JSON', {path: /\/taskInstances/, fault: {kind: 'truncated-json'}}, /^error: the Airflow API answered (GET|POST) .*\/taskInstances.* with malformed JSON/],
    ] as const)('%s', async (_name, rule, message) => {
      await serve({faults: [rule as NonNullable<FakeOptions['faults']>[number]]})
      const result = await zombies(['--delete', '--yes'])
      expect(result.code).toBe(1)
      expect(stderrLines(result.stderr)).toHaveLength(1)
      expect(result.stderr).toMatch(message)
      expect(deletes()).toEqual([])
      expect((await historyOf(env())).items[0]).toMatchObject({outcome: 'failed'})
    })
  })

  describe('the request budget (--airflow-max-requests)', () => {
    it('spent during the scan: exit 1, nothing deleted', async () => {
      await serve()
      const result = await zombies(['--delete', '--yes', '--airflow-max-requests', '4'])
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/^error: the request budget of 4 requests to the Airflow API is spent \(--airflow-max-requests\); nothing was acted on after it\n$/)
      expect(deletes()).toEqual([])
    })

    it('spent by the re-check just before deleting: nothing deleted', async () => {
      await serve()
      const dry = reportOf((await zombies([])).stdout)
      const scanRequests = (dry.source as {requests: number}).requests
      const result = await zombies(['--delete', '--yes', '--airflow-max-requests', String(scanRequests)])
      expect(result.code).toBe(1)
      expect(result.stderr).toContain('--airflow-max-requests')
      expect(deletes()).toEqual([])
    })
  })

  describe('credentials', () => {
    it('a token the proxy refuses: exit 1, the token never printed', async () => {
      await serve()
      const result = await runCli(['zombies', '--airflow-url', world.fake!.url], {env: {...world.ws.env, AIRFLOW_REAP_API_TOKEN: `${TOKEN}-typo`}})
      expect(result.code).toBe(1)
      expect(result.stderr).toMatch(/^error: the Airflow API rejected the token \(token\) on GET /)
      expect(result.stderr + result.stdout).not.toContain(TOKEN)
      expect(deletes()).toEqual([])
    })
  })

  describe('Ctrl-C during an API read', () => {
    it('ends the run (exit 130), recorded as interrupted, nothing deleted', async () => {
      await serve({faults: [{path: /\/taskInstances\/done_task$/, fault: {kind: 'black-hole'}}]})
      const waiting = new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          if (world.fake!.log.some((r) => r.path.endsWith('/taskInstances/done_task'))) {
            clearInterval(timer)
            resolve()
          }
        }, 20)
      })
      const result = await runCliSignalled(['zombies', '--airflow-url', world.fake!.url, '--delete', '--yes'], {env: env(), waiting, signal: 'SIGINT'})
      expect(result.code).toBe(130)
      expect(result.exitMsAfterSignal).toBeLessThan(3_500)
      expect(result.stderr).toMatch(/^error: interrupted by SIGINT/m)
      expect(deletes()).toEqual([])
      expect((await historyOf(env())).items[0]).toMatchObject({outcome: 'interrupted'})
    })
  })
})
