// The zombies command as a user meets it: every output format, --exit-code, and every error case
// (one clear line on stderr, the contract's exit code, nothing on stdout, no secret, no stack trace).
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import yaml from 'js-yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Report} from '../../src/core/report.js'
import {type TestAirflowDb, closedPort, createSqliteAirflowDb} from '../support/airflow-db/index.js'
import {type CliResult, runCli} from '../support/cli.js'
import {assertValidReport} from '../support/contract.js'
import {type FakeKube, startFakeKube} from '../support/fake-kube/index.js'
import {addKpoPod} from '../support/kpo.js'

const DAG = 'etl'
const RUN = 'scheduled__2026-11-22T00:00:00+00:00'
const SECRET = 'Sup3r-s3cret-pw'

let kube: FakeKube
let db: TestAirflowDb
let dir: string
let env: Record<string, string>

beforeAll(async () => {
  kube = await startFakeKube()
  db = await createSqliteAirflowDb('2.10')
  dir = mkdtempSync(path.join(tmpdir(), 'reap-cli-'))
  const kubeconfig = kube.writeKubeconfig(path.join(dir, 'kubeconfig'), {contexts: [{name: 'prod', namespace: 'airflow'}]})
  env = {KUBECONFIG: kubeconfig, AIRFLOW_REAP_DB: db.url, AIRFLOW_REAP_CACHE: path.join(dir, 'runs.sqlite'), HOME: dir}
  await db.seed.dagRun({dagId: DAG, runId: RUN})
  await db.seed.taskInstance({dagId: DAG, taskId: 'extract', runId: RUN, state: 'success', tryNumber: 1})
  await db.seed.taskInstance({dagId: DAG, taskId: 'load', runId: RUN, state: 'running', tryNumber: 1})
  addKpoPod(kube, {name: 'etl-extract-zombie', dagId: DAG, taskId: 'extract', runId: RUN, tryNumber: 1})
  addKpoPod(kube, {name: 'etl-load-pod', dagId: DAG, taskId: 'load', runId: RUN, tryNumber: 1})
  addKpoPod(kube, {name: 'etl-load-pod-other', namespace: 'quiet', dagId: DAG, taskId: 'load', runId: RUN, tryNumber: 1})
})

afterAll(async () => {
  await kube?.close()
  await db?.drop()
  rmSync(dir, {recursive: true, force: true})
})

describe('output formats', () => {
  it('table: kubectl-style columns and a summary line', async () => {
    const {code, stdout} = await runCli(['zombies', '--no-cache'], {env})
    expect(code).toBe(0)
    const lines = stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^NAMESPACE\s+NAME\s+AGE\s+PHASE\s+REASON\s+ACTION$/)
    expect(lines[1]).toMatch(/^airflow\s+etl-extract-zombie\s+60m\s+Running\s+no-active-task-instance\s+none$/)
    expect(lines.at(-1)).toMatch(/^1 zombie pod found among 2 scanned; dry run: nothing changed/)
  })

  it('wide: adds the task instance and the detail', async () => {
    const {stdout} = await runCli(['zombies', '-o', 'wide', '--no-cache'], {env})
    expect(stdout.split('\n')[0]).toMatch(/DAG\s+TASK\s+RUN\s+MAP\s+TRY\s+STATE\s+DETAIL$/)
    expect(stdout).toContain(`etl   extract   ${RUN}   -1    1     success`)
  })

  it('json and yaml are the same contract document', async () => {
    const json: Report = JSON.parse((await runCli(['zombies', '-o', 'json', '--no-cache'], {env})).stdout)
    const fromYaml = yaml.load((await runCli(['zombies', '-o', 'yaml', '--no-cache'], {env})).stdout) as Report
    assertValidReport(json)
    assertValidReport(fromYaml)
    const stable = (r: Report) => ({...r, generatedAt: 'x', items: r.items.map((i) => ({...i, ageSeconds: 0}))})
    expect(stable(fromYaml)).toEqual(stable(json))
  })

  it('name: pod/NAMESPACE/NAME per line, for piping', async () => {
    const {stdout} = await runCli(['zombies', '-o', 'name', '--no-cache'], {env})
    expect(stdout).toBe('pod/airflow/etl-extract-zombie\n')
  })

  it('--exit-code exits 3 when zombies are left in place and 0 when there are none', async () => {
    expect((await runCli(['zombies', '--exit-code', '--no-cache'], {env})).code).toBe(3)
    const clean = await runCli(['zombies', '-n', 'quiet', '--exit-code', '--no-cache'], {env})
    expect(clean.code).toBe(0)
    expect(clean.stdout).toBe('0 zombie pods found among 1 scanned\n')
  })

  it('prints no progress on stderr when it is not a terminal: only the header line naming the DB', async () => {
    expect((await runCli(['zombies', '--no-cache'], {env})).stderr).toBe('DB: env AIRFLOW_REAP_DB via direct\n')
    expect((await runCli(['zombies', '-o', 'json', '--no-cache'], {env})).stderr).toBe('')
  })
})

function expectOneLineFailure(result: CliResult, code: number, pattern: RegExp): void {
  expect(result.stdout).toBe('')
  const lines = result.stderr.split('\n').filter((l) => l.trim() !== '')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(pattern)
  expect(result.stderr).not.toMatch(/\n\s+at /)
  expect(result.stderr).not.toContain(SECRET)
  expect(result.code).toBe(code)
}

describe('errors: one clear line, exit 1 for runtime errors', () => {
  it('unreachable API server', async () => {
    const port = await closedPort()
    const kubeconfig = kube.writeKubeconfig(path.join(dir, 'dead-kubeconfig'), {server: `https://127.0.0.1:${port}`})
    const result = await runCli(['zombies', '--no-cache'], {env: {...env, KUBECONFIG: kubeconfig}})
    expectOneLineFailure(result, 1, new RegExp(`^error: cannot reach the Kubernetes API at https://127.0.0.1:${port}`))
  })

  it('unknown context', async () => {
    expectOneLineFailure(await runCli(['zombies', '--context', 'nope', '--no-cache'], {env}), 1, /^error: .*context "nope".*prod/)
  })

  it('no kubeconfig anywhere', async () => {
    const result = await runCli(['zombies', '--no-cache'], {env: {...env, KUBECONFIG: undefined}})
    expectOneLineFailure(result, 1, /^error: no kubeconfig found/)
  })

  it('unreachable database, password not shown', async () => {
    const port = await closedPort()
    const url = `postgresql://airflow:${SECRET}@127.0.0.1:${port}/airflow`
    const result = await runCli(['zombies', '--db', url, '--no-cache'], {env})
    expectOneLineFailure(result, 1, /^error: cannot connect to the Airflow DB at postgresql:\/\/airflow:\*\*\*@127\.0\.0\.1/)
  })

  it('malformed database URL, password not shown', async () => {
    const result = await runCli(['zombies', '--db', `postgresql://airflow:${SECRET}@db:notaport/airflow`, '--no-cache'], {env})
    expectOneLineFailure(result, 1, /^error: .*port/)
  })

  it('a database that is not an Airflow metadata DB', async () => {
    const file = path.join(dir, 'not-airflow.db')
    const other = new Database(file)
    other.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY)')
    other.close()
    const result = await runCli(['zombies', '--db', `sqlite:///${file}`, '--no-cache'], {env})
    expectOneLineFailure(result, 1, /^error: .*does not look like an Airflow/)
  })

  it('RBAC denial names the missing verb and resource', async () => {
    const denied = await startFakeKube()
    try {
      denied.deny({verb: 'list', resource: 'pods'})
      const kubeconfig = denied.writeKubeconfig(path.join(dir, 'denied-kubeconfig'), {contexts: [{name: 'prod', namespace: 'airflow'}]})
      const result = await runCli(['zombies', '--no-cache'], {env: {...env, KUBECONFIG: kubeconfig}})
      expectOneLineFailure(result, 1, /^error: .*cannot list pods.*"airflow"/)
    } finally {
      await denied.close()
    }
  })
})

describe('usage errors: exit 2 before anything is opened', () => {
  it.each([
    [['-A', '-n', 'x'], /--all-namespaces and --namespace/],
    [['--min-age', 'soon'], /not a duration/],
    [['--yes'], /--yes confirms --delete/],
    [['--force', '--grace-period', '30', '--delete'], /--force and --grace-period/],
    [['-o', 'xml'], /Expected --output=xml to be one of/],
  ])('%j', async (args, pattern) => {
    const result = await runCli(['zombies', ...args, '--no-cache'], {env: {...env, KUBECONFIG: '/nonexistent'}})
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(pattern)
    expect(result.stdout).toBe('')
  })
})

describe('help', () => {
  it.each([['zombies'], ['history'], ['history', 'show']])('%j --help shows examples', async (...command) => {
    const result = await runCli([...command, '--help'], {env})
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('EXAMPLES')
    expect(result.stdout).toContain('kubectl airflow-reap')
  })
})

