// Secrets of the REST API source never appear anywhere (cli-contract.md): a recognisable token (from a
// token command) and password (set, and outranked by the command), and mistyped ones, are looked for in
// every output of every format, in history, in the run store's files, in the Events posted and in what
// the Airflow API received outside the Authorization header.
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {type CliResult, type CliWorkspace, cliWorkspace, runCli} from '../support/cli.js'
import {type FakeAirflowApi, startFakeAirflowApi} from '../support/fake-airflow-api/index.js'
import {fixtureSeeder} from '../support/fake-airflow-api/seeder.js'
import {type FakeKube, startFakeKube} from '../support/fake-kube/index.js'
import {addKpoPod} from '../support/kpo.js'
import {reportOf} from '../support/run-history.js'

vi.setConfig({testTimeout: 120_000})

const TOKEN = 'Tk-SECRET-8d1f0c'
const PASSWORD = 'Pw-SECRET-77aa'
/** What every secret of this test holds, the right ones and the mistyped ones alike. */
const MARK = 'SECRET'
const DAG = 'etl'
const RUN = 'manual__2026-01-01T00:00:00+00:00'

let kube: FakeKube
let ws: CliWorkspace
let proxy: FakeAirflowApi
let jwt: FakeAirflowApi
const outputs: CliResult[] = []
/** A token command printing REAP_TEST_PRINTED: the secret is not in its command line (which errors may name). */
let printEnvToken: string

async function fixture() {
  const seed = fixtureSeeder('3.x')
  await seed.taskInstance({dagId: DAG, runId: RUN, taskId: 'done_task', state: 'success', tryNumber: 1})
  await seed.taskInstance({dagId: DAG, runId: RUN, taskId: 'live_task', state: 'running', tryNumber: 1})
  return seed.fixture
}

async function cli(args: string[], env: Record<string, string>): Promise<CliResult> {
  const result = await runCli(args, {env})
  outputs.push(result)
  return result
}

beforeAll(async () => {
  kube = await startFakeKube()
  ws = cliWorkspace(kube, {prefix: 'api-secrets', context: 'test'})
  addKpoPod(kube, {name: 'done-zombie', dagId: DAG, taskId: 'done_task', runId: RUN, tryNumber: 1})
  addKpoPod(kube, {name: 'live-pod', dagId: DAG, taskId: 'live_task', runId: RUN, tryNumber: 1})
  printEnvToken = path.join(ws.dir, 'print-env-token.mjs')
  writeFileSync(printEnvToken, 'process.stdout.write(process.env.REAP_TEST_PRINTED)\n')
  addKpoPod(kube, {name: 'done-zombie-2', dagId: DAG, taskId: 'done_task', runId: RUN, tryNumber: 1})
  proxy = await startFakeAirflowApi({personality: 'v2', version: '3.1.8', auth: {kind: 'proxy', token: TOKEN}}, await fixture())
  jwt = await startFakeAirflowApi({personality: 'v2', version: '3.3.2', auth: {kind: 'jwt', username: 'reaper', password: PASSWORD, ttlMs: 60_000}}, await fixture())
})

afterAll(async () => {
  await kube?.close()
  await proxy?.stop()
  await jwt?.stop()
  ws?.remove()
})

describe('no secret of the API source is ever shown, stored, posted or sent outside its header', () => {
  it('runs with a token command (the password set too, outranked), in every format, acting for real', async () => {
    const tokenCmd = path.join(ws.dir, 'print-token.mjs')
    writeFileSync(tokenCmd, `process.stdout.write(${JSON.stringify(`${TOKEN}\n`)})\n`)
    const env = {...ws.env, AIRFLOW_REAP_API_TOKEN_CMD: `${process.execPath} ${tokenCmd}`, AIRFLOW_REAP_API_USERNAME: 'reaper', AIRFLOW_REAP_API_PASSWORD: PASSWORD}
    const acted = await cli(['zombies', '--airflow-url', proxy.url, '--delete', '--yes', '--allow-mass-delete', '-o', 'json'], env)
    expect(acted.stderr).toBe('')
    expect(acted.code).toBe(0)
    const report = reportOf(acted.stdout)
    expect(report.source).toMatchObject({kind: 'api', auth: 'token-cmd'})
    expect(report.items.filter((i) => i.action === 'deleted').map((i) => i.name).sort()).toEqual(['done-zombie', 'done-zombie-2'])
    for (const output of ['yaml', 'table', 'wide', 'name']) expect((await cli(['zombies', '--airflow-url', proxy.url, '-o', output], env)).code).toBe(0)
    const history = await cli(['history', '-o', 'json'], env)
    const runId = JSON.parse(history.stdout).items[0].runId as number
    for (const output of ['json', 'yaml', 'table']) expect((await cli(['history', 'show', String(runId), '-o', output], env)).code).toBe(0)
  })

  it('v2 username and password: exchanged for a token, never shown', async () => {
    const env = {...ws.env, AIRFLOW_REAP_API_USERNAME: 'reaper', AIRFLOW_REAP_API_PASSWORD: PASSWORD}
    const result = await cli(['zombies', '--airflow-url', jwt.url, '-o', 'json'], env)
    expect(result.code).toBe(0)
    expect(reportOf(result.stdout).source).toMatchObject({auth: 'password'})
  })

  it.each([
    ['a mistyped token', () => ({AIRFLOW_REAP_API_TOKEN: 'Tk-SECRET-typo'}), () => proxy.url, /^error: the Airflow API rejected the token \(token\)/],
    ['a mistyped password', () => ({AIRFLOW_REAP_API_USERNAME: 'reaper', AIRFLOW_REAP_API_PASSWORD: 'Pw-SECRET-typo'}), () => jwt.url, /^error: the Airflow API refused AIRFLOW_REAP_API_USERNAME\/PASSWORD \(POST \/auth\/token: 401 Invalid credentials\)/],
    ['a token command that prints a mistyped token', () => ({AIRFLOW_REAP_API_TOKEN_CMD: `${process.execPath} ${printEnvToken}`, REAP_TEST_PRINTED: 'Tk-SECRET-cmd-typo'}), () => proxy.url, /^error: the Airflow API rejected the token \(token-cmd\)/],
  ] as const)('%s: exit 1, the error names what was refused, not the secret', async (_name, secrets, url, message) => {
    const result = await cli(['zombies', '--airflow-url', url(), '-o', 'json'], {...ws.env, ...secrets()})
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(message)
  })

  it('nothing holds a secret: outputs, the run store, the Events posted, the requests outside their Authorization header', () => {
    expect(outputs.length).toBeGreaterThan(10)
    for (const {stdout, stderr} of outputs) expect(stdout + stderr).not.toContain(MARK)
    const store = path.join(ws.dir, 'runs.sqlite')
    for (const file of [store, `${store}-wal`].filter(existsSync)) expect(readFileSync(file).toString('latin1')).not.toContain(MARK)
    const posted = kube.requests.filter((r) => r.method !== 'GET')
    expect(posted.some((r) => r.path.endsWith('/events'))).toBe(true)
    expect(JSON.stringify(posted)).not.toContain(MARK)
    expect(JSON.stringify([...proxy.log, ...jwt.log])).not.toContain(MARK)
  })
})
