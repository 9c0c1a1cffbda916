// doctor when the task instances come from the Airflow REST API: its checks (reachable and version,
// credentials, reads, the page a server really gives, its clock) stand where the DB's would, against
// the fake Airflow API of each personality and the fake Kubernetes API server.
import {rmSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {credentialSource} from '../../src/airflow-api/auth.js'
import {parseApiUrl} from '../../src/airflow-api/url.js'
import type {CheckResult, DoctorReport} from '../../src/doctor/report.js'
import {type DoctorOptions, runDoctor} from '../../src/doctor/run.js'
import type {Progress} from '../../src/reap/progress.js'
import {cliWorkspace, runCli} from '../support/cli.js'
import {assertValidDoctorReport} from '../support/contract.js'
import {type FakeAirflowApi, type FakeFixture, type FakeOptions, startFakeAirflowApi} from '../support/fake-airflow-api/index.js'
import {type FakeKube, startFakeKube} from '../support/fake-kube/index.js'

const NS = 'airflow'
const RUN = 'scheduled__2026-11-22T00:00:00+00:00'
const FIXTURE: FakeFixture = {
  dags: [{dagId: 'etl', latestVersionId: '0199a0a0-0000-7000-8000-00000000000a', tasks: [{taskId: 'a', executionTimeout: null}]}],
  runs: [{dagId: 'etl', runId: RUN, state: 'running'}],
  taskInstances: ['a', 'b', 'c', 'd', 'e'].map((taskId, i) => ({dagId: 'etl', runId: RUN, taskId, mapIndex: -1, tryNumber: 1, state: i < 3 ? 'running' : 'deferred'})),
  xcoms: [{dagId: 'etl', runId: RUN, taskId: 'a', mapIndex: -1, key: 'pod_name', value: 'etl-a-1'}],
}
const PASSWORD = 'pw-s3cret-doctor'

const silent: Progress = {update: () => undefined, warn: () => undefined, note: () => undefined, stop: () => undefined} as unknown as Progress

let kube: FakeKube
let dir: string
let kubeconfig: string
let fake: FakeAirflowApi | undefined

beforeAll(async () => {
  kube = await startFakeKube()
  ;({dir, kubeconfig} = cliWorkspace(kube, {prefix: 'doctor-api', namespace: NS}))
})

afterAll(async () => {
  await fake?.stop()
  await kube?.close()
  rmSync(dir, {recursive: true, force: true})
})

async function doctor(options: FakeOptions, env: NodeJS.ProcessEnv, pageSize = 100, urlOf = (url: string) => url): Promise<DoctorReport> {
  await fake?.stop()
  fake = await startFakeAirflowApi(options, FIXTURE)
  const doctorOptions: DoctorOptions = {
    kube: {kubeconfig, namespace: NS, allNamespaces: false},
    db: {portForward: 'auto'},
    store: {noCache: true},
    airflowApi: {base: parseApiUrl(urlOf(fake.url), '--airflow-url'), api: 'auto', credentials: credentialSource(undefined, env), timeoutMs: 5000, pageSize, maxRequests: 100, concurrency: 4},
  }
  const report = await runDoctor(doctorOptions, {progress: silent, signal: new AbortController().signal, env: {}})
  assertValidDoctorReport(report)
  expect(JSON.stringify(report)).not.toContain(PASSWORD)
  return report
}

function check(report: DoctorReport, name: CheckResult['check']): CheckResult {
  const found = report.checks.find((c) => c.check === name)
  if (!found) throw new Error(`no ${name} check in ${JSON.stringify(report.checks)}`)
  return found
}

const jwt = {kind: 'jwt', username: 'reaper', password: PASSWORD, ttlMs: 60_000} as const
const passwordEnv = {AIRFLOW_REAP_API_USERNAME: 'reaper', AIRFLOW_REAP_API_PASSWORD: PASSWORD}

describe('doctor with --airflow-url', () => {
  it('v2: every API check passes; the DB checks are skipped, the workload is counted through the API', async () => {
    const report = await doctor({personality: 'v2', version: '3.3.2', auth: jwt}, passwordEnv)
    expect(check(report, 'airflow-api')).toMatchObject({status: 'ok', message: expect.stringContaining('Airflow 3.3.2, REST API v2')})
    expect(check(report, 'airflow-api-auth')).toMatchObject({status: 'ok', message: 'credentials accepted (AIRFLOW_REAP_API_USERNAME/PASSWORD)'})
    expect(check(report, 'airflow-api-reads')).toMatchObject({status: 'ok', message: expect.stringMatching(/^task instances: readable; (an XCom entry|XCom entries): readable/)})
    expect(check(report, 'airflow-api-page-size')).toMatchObject({status: 'ok'})
    for (const name of ['db-source', 'db-connection', 'db-schema'] as const) expect(check(report, name)).toMatchObject({status: 'skip', message: expect.stringContaining('Airflow API')})
    expect(report.airflowApi).toEqual({url: fake!.url, api: 'v2', airflowVersion: '3.3.2', auth: 'password', effectivePageSize: 5})
    expect(check(report, 'workload').message).toContain('5 unfinished task instances (running 3, deferred 2)')
    expect(report.workload.taskInstances).toEqual({running: 3, deferred: 2})
    expect(check(report, 'clock')).toMatchObject({status: 'ok', message: expect.stringContaining('Airflow API')})
    expect(report.clock.airflowApiOffsetSeconds).not.toBeNull()
    expect(report.clock.dbOffsetSeconds).toBeNull()
    // No Secret and no port-forward among the permissions asked for: the API source needs neither.
    expect(report.permissions.some((p) => p.resource === 'secrets' || p.subresource === 'portforward')).toBe(false)
    expect(report.summary.fail).toBe(0)
    // Only reads, and the token request.
    expect(fake!.log.every((r) => r.method === 'GET' || r.path === '/auth/token')).toBe(true)
  })

  it('v1 (2.10) with basic auth', async () => {
    const report = await doctor({personality: 'v1', version: '2.10.5', auth: {kind: 'basic', username: 'reaper', password: PASSWORD}}, passwordEnv)
    expect(report.airflowApi).toMatchObject({api: 'v1', airflowVersion: '2.10.5', auth: 'password'})
    expect(report.summary.fail).toBe(0)
  })

  it('a server that clamps pages (3.2+ maximum_page_limit) below --airflow-page-size is a warning naming the rows it gives', async () => {
    const report = await doctor({personality: 'v2', version: '3.3.2', maximumPageLimit: 2}, {}, 100)
    expect(check(report, 'airflow-api-page-size')).toMatchObject({status: 'warn', message: expect.stringContaining('holds a page to 2 rows')})
    expect(report.airflowApi?.effectivePageSize).toBe(2)
    // Asking for pages the server gives is fine.
    expect(check(await doctor({personality: 'v2', version: '3.3.2', maximumPageLimit: 2}, {}, 2), 'airflow-api-page-size').status).toBe('ok')
  })

  it('refused credentials fail the auth check (never showing the password) and skip the reads', async () => {
    const report = await doctor({personality: 'v2', version: '3.3.2', auth: jwt}, {AIRFLOW_REAP_API_USERNAME: 'reaper', AIRFLOW_REAP_API_PASSWORD: `${PASSWORD}-wrong`})
    expect(check(report, 'airflow-api')).toMatchObject({status: 'ok'})
    expect(check(report, 'airflow-api-auth')).toMatchObject({status: 'fail', message: expect.stringContaining('401 Invalid credentials')})
    expect(check(report, 'airflow-api-reads').status).toBe('skip')
    expect(check(report, 'airflow-api-page-size').status).toBe('skip')
    expect(JSON.stringify(report)).not.toContain(`${PASSWORD}-wrong`)
  })

  it('no credentials: the auth check fails and says how to give them', async () => {
    const report = await doctor({personality: 'v2', version: '3.3.2', auth: jwt}, {})
    expect(check(report, 'airflow-api-auth')).toMatchObject({status: 'fail', fix: expect.stringContaining('AIRFLOW_REAP_API_TOKEN')})
  })

  it('a DAG the credentials may not read fails the reads check', async () => {
    const report = await doctor({personality: 'v2', version: '3.3.2', faults: [{path: /xcomEntries/, fault: {kind: 'status', status: 403, contentType: 'application/json', body: '{"detail":"Forbidden"}'}}]}, {})
    expect(check(report, 'airflow-api-reads')).toMatchObject({status: 'fail', message: expect.stringContaining('may not read DAG etl'), fix: expect.stringContaining('Viewer')})
  })

  it('a URL without the path prefix the server is mounted under (404 on both /version) fails the first check and skips the rest', async () => {
    const report = await doctor({personality: 'v2', version: '3.3.2', prefix: '/astro/d1'}, {}, 100, (url) => url.replace('/astro/d1', ''))
    expect(check(report, 'airflow-api')).toMatchObject({status: 'fail', message: expect.stringContaining('answers 404'), fix: expect.stringContaining('path prefix')})
    for (const name of ['airflow-api-auth', 'airflow-api-reads', 'airflow-api-page-size'] as const) expect(check(report, name).status).toBe('skip')
    expect(report.summary.fail).toBeGreaterThan(0)
  })

  it("a skewed Airflow API clock is judged like the DB's", async () => {
    const report = await doctor({personality: 'v2', version: '3.3.2', clockSkewMs: 5 * 60_000}, {})
    expect(check(report, 'clock')).toMatchObject({status: 'fail', message: expect.stringMatching(/Airflow API \+(299|300|301)s from this machine/)})
  })
})

describe('doctor --airflow-url, the built CLI', () => {
  it('runs the API checks from the flags (credentials from the environment only) and exits 0', async () => {
    await fake?.stop()
    fake = await startFakeAirflowApi({personality: 'v2', version: '3.3.2', auth: jwt}, FIXTURE)
    const env = {KUBECONFIG: kubeconfig, HOME: dir, ...passwordEnv, AIRFLOW_REAP_DB: 'postgresql://nobody@db.invalid/airflow'}
    const result = await runCli(['doctor', '-o', 'json', '--no-cache', '-n', NS, '--airflow-url', fake.url], {env})
    expect(result.code, result.stderr).toBe(0)
    const report = JSON.parse(result.stdout) as DoctorReport
    assertValidDoctorReport(report)
    expect(report.airflowApi).toMatchObject({api: 'v2', auth: 'password'})
    expect(check(report, 'db-source').status).toBe('skip')
    expect(result.stdout + result.stderr).not.toContain(PASSWORD)
  })

  it('--db with --airflow-url is a usage error (exit 2), before anything is opened', async () => {
    const result = await runCli(['doctor', '--db', 'sqlite:///x.db', '--airflow-url', 'http://127.0.0.1:9'], {env: {KUBECONFIG: kubeconfig, HOME: dir}})
    expect(result.code).toBe(2)
    expect(result.stderr.split('\n')[0]).toBe('error: --db and --airflow-url cannot be used together: choose the DB or the REST API')
  })
})
