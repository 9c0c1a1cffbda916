// The zombies command as a user meets it: every output format, --exit-code, and every error case
// (one clear line on stderr, the contract's exit code, nothing on stdout, no secret, no stack trace).
import {rmSync} from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import yaml from 'js-yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Report} from '../../src/core/report.js'
import {type TestAirflowDb, closedPort, createSqliteAirflowDb} from '../support/airflow-db/index.js'
import {type CliResult, cliWorkspace, runCli} from '../support/cli.js'
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
  ;({dir, env} = cliWorkspace(kube, {prefix: 'cli', db}))
  await db.seed.dagRun({dagId: DAG, runId: RUN})
  await db.seed.taskInstance({dagId: DAG, taskId: 'extract', runId: RUN, state: 'success', tryNumber: 1})
  await db.seed.taskInstance({dagId: DAG, taskId: 'load', runId: RUN, state: 'running', tryNumber: 1})
  addKpoPod(kube, {name: 'etl-extract-zombie', dagId: DAG, taskId: 'extract', runId: RUN, tryNumber: 1})
  addKpoPod(kube, {name: 'etl-load-pod', dagId: DAG, taskId: 'load', runId: RUN, tryNumber: 1})
  addKpoPod(kube, {name: 'etl-load-pod-other', namespace: 'quiet', dagId: DAG, taskId: 'load', runId: RUN, tryNumber: 1})
  // A namespace whose only finding is a pod the user chose to keep.
  addKpoPod(kube, {name: 'etl-extract-kept', namespace: 'kept', dagId: DAG, taskId: 'extract', runId: RUN, tryNumber: 1, annotations: {'airflow-reap/keep': 'true'}})
  kube.addNamespace('empty')
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
    // One namespace: no NAMESPACE column, as kubectl prints without -A.
    expect(lines[0]).toMatch(/^NAME\s+AGE\s+PHASE\s+REASON\s+ACTION$/)
    expect(lines[1]).toMatch(/^etl-extract-zombie\s+60m\s+Running\s+no-active-task-instance\s+none$/)
    expect(lines.at(-1)).toBe('1 zombie pod found among 2 scanned; dry run: nothing changed (add --delete --yes to delete them)')
  })

  it('--dry-run=none without --delete: nothing changed, and not called a dry run (none was asked for)', async () => {
    const {code, stdout} = await runCli(['zombies', '--no-cache', '--dry-run=none'], {env})
    expect(code).toBe(0)
    expect(stdout.trimEnd().split('\n').at(-1)).toBe('1 zombie pod found among 2 scanned; nothing changed (add --delete --yes to delete them)')
  })

  it('table with -A: a NAMESPACE column first; found and skipped counted apart', async () => {
    const {code, stdout} = await runCli(['zombies', '-A', '--no-cache'], {env})
    expect(code).toBe(0)
    const lines = stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^NAMESPACE\s+NAME\s+AGE\s+PHASE\s+REASON\s+ACTION$/)
    expect(lines).toContainEqual(expect.stringMatching(/^airflow\s+etl-extract-zombie\s+60m\s+Running\s+no-active-task-instance\s+none$/))
    expect(lines).toContainEqual(expect.stringMatching(/^kept\s+etl-extract-kept\s+60m\s+Running\s+no-active-task-instance\s+skipped \(keep-annotation\)$/))
    expect(lines.at(-1)).toBe('1 zombie pod found among 4 scanned; 1 skipped (1 keep-annotation); dry run: nothing changed (add --delete --yes to delete them)')
  })

  it('wide: adds the task instance and the detail', async () => {
    const {stdout} = await runCli(['zombies', '-o', 'wide', '--no-cache'], {env})
    expect(stdout.split('\n')[0]).toMatch(/DAG\s+TASK\s+RUN\s+MAP\s+TRY\s+STATE\s+DETAIL$/)
    // An unmapped task has no map index: <none>, never Airflow's -1.
    expect(stdout).toContain(`etl   extract   ${RUN}   <none>   1     success`)
    expect(stdout).not.toMatch(/\s-1\s/)
  })

  it('json and yaml are the same contract document', async () => {
    const json: Report = JSON.parse((await runCli(['zombies', '-o', 'json', '--no-cache'], {env})).stdout)
    const fromYaml = yaml.load((await runCli(['zombies', '-o', 'yaml', '--no-cache'], {env})).stdout) as Report
    assertValidReport(json)
    assertValidReport(fromYaml)
    const stable = (r: Report) => ({...r, generatedAt: 'x', items: r.items.map((i) => ({...i, ageSeconds: 0}))})
    expect(stable(fromYaml)).toEqual(stable(json))
  })

  it('name: kubectl\'s pod/NAME per line, only what it would act on (never a skipped pod)', async () => {
    const {stdout} = await runCli(['zombies', '-o', 'name', '--no-cache'], {env})
    expect(stdout).toBe('pod/etl-extract-zombie\n')
    const all = await runCli(['zombies', '-A', '-o', 'name', '--no-cache'], {env})
    expect(all.stdout).toBe('pod/etl-extract-zombie\n')
    const kept = await runCli(['zombies', '-n', 'kept', '-o', 'name', '--no-cache'], {env})
    expect(kept).toMatchObject({code: 0, stdout: '', stderr: 'No resources found in kept namespace.\n'})
  })

  it('--exit-code exits 3 when zombies are left in place, 0 when there are none or only kept ones', async () => {
    expect((await runCli(['zombies', '--exit-code', '--no-cache'], {env})).code).toBe(3)
    const clean = await runCli(['zombies', '-n', 'quiet', '--exit-code', '--no-cache'], {env})
    expect(clean).toMatchObject({code: 0, stdout: '', stderr: 'No resources found in quiet namespace.\n'})
    const kept = await runCli(['zombies', '-n', 'kept', '--exit-code', '--no-cache'], {env})
    expect(kept.code).toBe(0)
    expect(kept.stdout).toMatch(/^0 zombie pods found among 1 scanned; 1 skipped \(1 keep-annotation\)\n$/m)
  })

  it('nothing matched: kubectl\'s "No resources found" on stderr, with a hint when the namespace does not exist', async () => {
    const empty = await runCli(['zombies', '-n', 'empty', '--no-cache'], {env})
    expect(empty).toMatchObject({code: 0, stdout: '', stderr: 'No resources found in empty namespace.\n'})
    const typo = await runCli(['zombies', '-n', 'airflwo', '--no-cache'], {env})
    expect(typo).toMatchObject({code: 0, stdout: ''})
    expect(typo.stderr).toBe('No resources found in airflwo namespace.\nhint: namespace "airflwo" does not exist (kubectl get namespaces lists them)\n')
    const json = await runCli(['zombies', '-n', 'airflwo', '-o', 'json', '--no-cache'], {env})
    expect(json.stderr).toBe('')
    expect(JSON.parse(json.stdout).items).toEqual([])
  })

  it('a user who may not get namespaces still gets "No resources found", and the run succeeds', async () => {
    const denied = await startFakeKube()
    try {
      denied.deny({verb: 'get', resource: 'namespaces'})
      const kubeconfig = denied.writeKubeconfig(path.join(dir, 'ns-denied-kubeconfig'), {contexts: [{name: 'prod', namespace: 'nowhere'}]})
      const result = await runCli(['zombies', '--no-cache', '--exit-code'], {env: {...env, KUBECONFIG: kubeconfig}})
      expect(result).toMatchObject({code: 0, stdout: '', stderr: 'No resources found in nowhere namespace.\n'})
      expect(denied.requests.some((r) => r.path === '/api/v1/namespaces/nowhere' && r.status === 403)).toBe(true)
    } finally {
      await denied.close()
    }
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

  it('malformed database URL: a usage error (exit 2), password not shown', async () => {
    const result = await runCli(['zombies', '--db', `postgresql://airflow:${SECRET}@db:notaport/airflow`, '--no-cache'], {env})
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe("error: invalid --db URL: port is not a number\nSee 'kubectl airflow-reap zombies --help' for usage.\n")
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
    [['-o', 'xml'], /^error: invalid argument "xml" for "--output" flag: must be one of table, wide, json, yaml, name$/m],
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

