// doctor as a user meets it: against the fake API server (RBAC enforced from the permission table,
// an unreachable or hanging server, a skewed clock) and real SQLite, PostgreSQL and MariaDB databases.
import {rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import yaml from 'js-yaml'
import {afterAll, beforeAll, describe, expect, it, vi} from 'vitest'
import {policyRulesByNamespace, requiredRules} from '../../src/core/permissions.js'
import type {CheckResult, DoctorReport} from '../../src/doctor/report.js'
import {
  type SqliteTestAirflowDb,
  type TestAirflowDb,
  closedPort,
  createMysqlAirflowDb,
  createPostgresAirflowDb,
  createSqliteAirflowDb,
} from '../support/airflow-db/index.js'
import {type CliResult, cliWorkspace, runCli} from '../support/cli.js'
import {assertValidDoctorReport} from '../support/contract.js'
import {type FakeKube, type FakeRole, startFakeKube} from '../support/fake-kube/index.js'
import {addKpoPod} from '../support/kpo.js'

// Each test runs the built CLI once to three times; on a loaded machine one run can take 10 s.
vi.setConfig({testTimeout: 120_000, hookTimeout: 120_000})

const NS = 'airflow'
const DAG = 'etl'
const RUN = 'scheduled__2026-11-22T00:00:00+00:00'

let kube: FakeKube
let sqlite: SqliteTestAirflowDb
let dir: string
let kubeconfig: string

beforeAll(async () => {
  kube = await startFakeKube()
  sqlite = await createSqliteAirflowDb('3.x')
  ;({dir, kubeconfig} = cliWorkspace(kube, {prefix: 'doctor', namespace: NS}))
  await sqlite.seed.taskInstance({dagId: DAG, taskId: 'extract', runId: RUN, state: 'running', tryNumber: 1})
  await sqlite.seed.taskInstance({dagId: DAG, taskId: 'load', runId: RUN, state: 'deferred', tryNumber: 1})
  await sqlite.seed.taskInstance({dagId: DAG, taskId: 'done', runId: RUN, state: 'success', tryNumber: 1})
  addKpoPod(kube, {name: 'etl-extract', dagId: DAG, taskId: 'extract', runId: RUN, tryNumber: 1})
  addKpoPod(kube, {name: 'etl-load', dagId: DAG, taskId: 'load', runId: RUN, tryNumber: 1})
  addKpoPod(kube, {name: 'elsewhere', namespace: 'other', dagId: DAG, taskId: 'load', runId: RUN, tryNumber: 1})
})

afterAll(async () => {
  await kube?.close()
  await sqlite?.drop()
  rmSync(dir, {recursive: true, force: true})
})

function envFor(db: {url: string}, extra: Record<string, string> = {}): Record<string, string> {
  return {KUBECONFIG: kubeconfig, AIRFLOW_REAP_DB: db.url, AIRFLOW_REAP_CACHE: path.join(dir, 'runs.sqlite'), HOME: dir, ...extra}
}

async function doctorJson(args: string[], env: Record<string, string>): Promise<{result: CliResult; report: DoctorReport}> {
  const result = await runCli(['doctor', '-o', 'json', ...args], {env})
  const report = JSON.parse(result.stdout) as DoctorReport
  assertValidDoctorReport(report)
  return {result, report}
}

function check(report: DoctorReport, name: CheckResult['check'], subject?: string): CheckResult {
  const found = report.checks.find((c) => c.check === name && c.subject === subject)
  if (!found) throw new Error(`no ${name} ${subject ?? ''} check in ${JSON.stringify(report.checks)}`)
  return found
}

function statuses(report: DoctorReport): Record<string, string> {
  return Object.fromEntries(report.checks.map((c) => [c.subject ? `${c.check} ${c.subject}` : c.check, c.status]))
}

/** The Roles that grant exactly what these command lines need, as `cronjob` would generate them. */
function rolesFor(...queries: Parameters<typeof requiredRules>[0][]): FakeRole[] {
  const rules = queries.flatMap((q) => requiredRules(q))
  return policyRulesByNamespace(rules).map(({namespace, rules: policies}) => (namespace ? {name: 'airflow-reap', namespace, rules: policies} : {name: 'airflow-reap', rules: policies}))
}

describe('all is well', () => {
  it('every check ok, exit 0: one table line per check and a summary', async () => {
    const {code, stdout, stderr} = await runCli(['doctor'], {env: envFor(sqlite)})
    expect(stderr).toBe('')
    expect(code).toBe(0)
    const lines = stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^STATUS\s+CHECK\s+MESSAGE$/)
    expect(lines).toContainEqual(expect.stringMatching(/^ok\s+api-server\s+Kubernetes v1\.33\.4 at https:\/\/127\.0\.0\.1:\d+$/))
    expect(lines).toContainEqual(expect.stringMatching(/^ok\s+rbac zombies --delete --yes\s+all 4 permissions granted$/))
    expect(lines).toContainEqual(expect.stringMatching(/^ok\s+db-schema\s+sqlite, schema family airflow-3; alembic revision eaf332f43c7c = Airflow >=3\.1\.0 <3\.1\.8$/))
    expect(lines).toContainEqual(
      expect.stringMatching(/^ok\s+workload\s+2 KubernetesPodOperator pods in namespace "airflow"; 2 unfinished task instances \(running 1, deferred 1\)$/),
    )
    expect(lines.at(-1)).toMatch(/^\d+ ok, 0 warnings, 0 failures$/)
  })

  it('-o json is a DoctorReport with the facts; -o yaml the same document', async () => {
    const {result, report} = await doctorJson([], envFor(sqlite))
    expect(result.code).toBe(0)
    expect(report.summary).toMatchObject({warn: 0, fail: 0, skip: 0})
    expect(report).toMatchObject({
      context: 'prod',
      namespace: NS,
      serverVersion: 'v1.33.4',
      db: {source: 'env AIRFLOW_REAP_DB', via: 'direct', dialect: 'sqlite', schemaFamily: 'airflow-3', alembicRevision: 'eaf332f43c7c', airflowVersion: 'Airflow >=3.1.0 <3.1.8'},
      workload: {kpoPods: 2, taskInstances: {running: 1, deferred: 1}},
    })
    expect(Math.abs(report.clock.apiServerOffsetSeconds!)).toBeLessThan(3)
    expect(report.permissions.find((p) => p.verb === 'delete' && p.resource === 'pods')).toMatchObject({
      namespace: NS,
      allowed: true,
      neededBy: ['zombies --delete --yes', 'overdue --delete --yes'],
    })
    const fromYaml = yaml.load((await runCli(['doctor', '-o', 'yaml'], {env: envFor(sqlite)})).stdout) as DoctorReport
    assertValidDoctorReport(fromYaml)
    expect(fromYaml.checks.map((c) => [c.check, c.subject, c.status])).toEqual(report.checks.map((c) => [c.check, c.subject, c.status]))
  })

  it('-A asks about every namespace', async () => {
    const {report} = await doctorJson(['-A'], envFor(sqlite))
    expect(report.namespace).toBe('*')
    expect(report.workload.kpoPods).toBe(3)
    expect(report.permissions.find((p) => p.verb === 'list' && p.resource === 'pods')!.namespace).toBeUndefined()
  })
})

describe('RBAC, enforced by the fake from the permission table', () => {
  it('a Role for the reports only: zombies and overdue ok, deleting warns naming delete pods, exit 0', async () => {
    kube.enforceRbac(rolesFor({command: 'doctor', namespace: NS}, {command: 'zombies', namespace: NS}))
    try {
      const {result, report} = await doctorJson([], envFor(sqlite))
      expect(result.code).toBe(0)
      expect(statuses(report)).toMatchObject({'rbac doctor': 'ok', 'rbac zombies': 'ok', 'rbac overdue': 'ok', 'rbac zombies --delete --yes': 'warn', 'rbac unstick': 'warn'})
      expect(check(report, 'rbac', 'zombies --delete --yes').message).toMatch(/^missing: delete pods in namespace "airflow"; create events\.events\.k8s\.io in namespace "airflow" \(best effort/)
      expect(check(report, 'rbac', 'unstick').message).toContain('list jobs.batch in namespace "airflow"')
    } finally {
      kube.stopRbac()
    }
  })

  it('without get pods: the reports fail naming get pods, exit 1', async () => {
    kube.enforceRbac([{namespace: NS, rules: [{verbs: ['list'], apiGroups: [''], resources: ['pods']}]}])
    try {
      const {result, report} = await doctorJson([], envFor(sqlite))
      expect(result.code).toBe(1)
      expect(result.stderr).toBe('')
      const zombies = check(report, 'rbac', 'zombies')
      expect(zombies).toMatchObject({status: 'fail', message: 'missing: get pods in namespace "airflow"'})
      expect(zombies.fix).toMatch(/will fail without them/)
      expect(check(report, 'rbac', 'doctor').status).toBe('ok')
    } finally {
      kube.stopRbac()
    }
  })

  it('nothing granted: every read fails, the KPO pods cannot be counted, the rest still runs', async () => {
    kube.enforceRbac([])
    try {
      const {stdout, code} = await runCli(['doctor'], {env: envFor(sqlite)})
      expect(code).toBe(1)
      expect(stdout).toMatch(/^fail\s+rbac doctor\s+missing: list pods in namespace "airflow" →/m)
      expect(stdout).toMatch(/^fail\s+workload\s+.*cannot list pods in namespace "airflow"/m)
      expect(stdout).toMatch(/^ok\s+db-schema\s+/m)
    } finally {
      kube.stopRbac()
    }
  })
})

describe('the cluster cannot be used', () => {
  it('no kubeconfig: the kubeconfig fails, what needs the cluster is skipped, the DB is still checked', async () => {
    const {result, report} = await doctorJson([], envFor(sqlite, {KUBECONFIG: path.join(dir, 'missing-kubeconfig')}))
    expect(result.code).toBe(1)
    expect(statuses(report)).toMatchObject({kubeconfig: 'fail', context: 'skip', 'api-server': 'skip', rbac: 'skip', 'db-schema': 'ok'})
    expect(report.workload.taskInstances).toEqual({running: 1, deferred: 1})
  })

  it('API server unreachable: api-server fails with the address, RBAC is skipped, exit 1', async () => {
    const port = await closedPort()
    const config = kube.writeKubeconfig(path.join(dir, 'closed-kubeconfig'), {server: `https://127.0.0.1:${port}`})
    const {result, report} = await doctorJson([], envFor(sqlite, {KUBECONFIG: config}))
    expect(result.code).toBe(1)
    expect(check(report, 'api-server')).toMatchObject({status: 'fail', message: `cannot reach the Kubernetes API at https://127.0.0.1:${port}: ECONNREFUSED`})
    expect(check(report, 'rbac').status).toBe('skip')
    expect(check(report, 'db-connection').status).toBe('ok')
  })

  it('API server that never answers: bounded by --request-timeout, nothing hangs', async () => {
    // The server holds every request until the test ends; doctor must give up on its own.
    let unblock = () => {}
    const blocked = new Promise<void>((resolve) => (unblock = resolve))
    const release = kube.beforeRequest(() => blocked)
    try {
      const started = Date.now()
      const {result, report} = await doctorJson(['--request-timeout', '1s'], envFor(sqlite))
      expect(Date.now() - started).toBeLessThan(60_000)
      expect(result.code).toBe(1)
      expect(check(report, 'api-server').message).toMatch(/^GET \/version: no answer from the Kubernetes API at https:\/\/127\.0\.0\.1:\d+ within 1s \(--request-timeout\)$/)
    } finally {
      release()
      unblock()
    }
  })
})

describe('clock skew', () => {
  it('an API server 10 minutes behind fails the clock check with both offsets', async () => {
    kube.setClockSkew(-10 * 60_000)
    try {
      const {result, report} = await doctorJson([], envFor(sqlite))
      expect(result.code).toBe(1)
      const clock = check(report, 'clock')
      expect(clock.status).toBe('fail')
      expect(clock.message).toMatch(/^API server -(599|600|601)s from this machine; DB 0\.0s from this machine; DB \+(599|600|601)s from the API server$/)
      expect(report.clock.apiServerOffsetSeconds).toBeLessThan(-590)
    } finally {
      kube.setClockSkew(0)
    }
  })

  it('30 seconds ahead is a warning, exit 0', async () => {
    kube.setClockSkew(30_000)
    try {
      const {result, report} = await doctorJson([], envFor(sqlite))
      expect(check(report, 'clock').status).toBe('warn')
      expect(result.code).toBe(0)
    } finally {
      kube.setClockSkew(0)
    }
  })
})

describe('the DB', () => {
  it('unreachable: db-connection fails naming the host, the schema is skipped, the password never shows', async () => {
    const port = await closedPort()
    const url = `postgresql://airflow:Sup3r-s3cret@127.0.0.1:${port}/airflow`
    const {result, report} = await doctorJson([], envFor({url}))
    expect(result.code).toBe(1)
    expect(check(report, 'db-source').message).toBe(`env AIRFLOW_REAP_DB: postgresql://airflow:***@127.0.0.1:${port}/airflow`)
    expect(check(report, 'db-connection')).toMatchObject({status: 'fail'})
    expect(check(report, 'db-connection').message).toMatch(new RegExp(`^via direct: .*127\\.0\\.0\\.1:${port}`))
    expect(check(report, 'db-schema').status).toBe('skip')
    expect(result.stdout + result.stderr).not.toContain('Sup3r-s3cret')
  })

  it('no DB anywhere: db-source fails and says how to name it', async () => {
    const {result, report} = await doctorJson([], envFor({url: ''}))
    expect(result.code).toBe(1)
    const source = check(report, 'db-source')
    expect(source.status).toBe('fail')
    expect(source.fix).toMatch(/--db URL|--db-secret/)
  })

  it('an alembic revision no release has: a warning saying so', async () => {
    const odd = await createSqliteAirflowDb('2.10')
    try {
      const file = new Database((odd as SqliteTestAirflowDb).path)
      file.prepare('UPDATE alembic_version SET version_num = ?').run('0123456789ab')
      file.close()
      const {result, report} = await doctorJson([], envFor(odd))
      expect(result.code).toBe(0)
      expect(check(report, 'db-schema')).toMatchObject({status: 'warn', message: expect.stringContaining('alembic revision 0123456789ab is no release airflow-reap knows (2.7 … 3.3)')})
      expect(report.db.airflowVersion).toBeNull()
    } finally {
      await odd.drop()
    }
  })

  it('a revision of another family than the columns: fails', async () => {
    const odd = await createSqliteAirflowDb('2.10')
    try {
      const file = new Database((odd as SqliteTestAirflowDb).path)
      file.prepare('UPDATE alembic_version SET version_num = ?').run('29ce7909c52b')
      file.close()
      const {result, report} = await doctorJson([], envFor(odd))
      expect(result.code).toBe(1)
      expect(check(report, 'db-schema').message).toMatch(/airflow-2\.10.*29ce7909c52b = Airflow >=3\.0\.0 <3\.0\.3, whose family is airflow-3/)
    } finally {
      await odd.drop()
    }
  })

  describe.each<[string, () => Promise<TestAirflowDb>, string, string, string]>([
    ['PostgreSQL 2.10', () => createPostgresAirflowDb('2.10', {password: 'pg-Secr3t'}), 'postgresql', 'airflow-2.10', 'Airflow >=2.10.3 <3.0.0'],
    ['PostgreSQL 3.x', () => createPostgresAirflowDb('3.x'), 'postgresql', 'airflow-3', 'Airflow >=3.1.0 <3.1.8'],
    ['MariaDB 2.7', () => createMysqlAirflowDb('2.7'), 'mysql', 'airflow-2.7', 'Airflow >=2.7.0 <2.8.0'],
    ['MariaDB 2.10', () => createMysqlAirflowDb('2.10'), 'mysql', 'airflow-2.10', 'Airflow >=2.10.3 <3.0.0'],
  ])('%s', (_name, create, dialect, family, release) => {
    let db: TestAirflowDb
    beforeAll(async () => {
      db = await create()
      await db.seed.taskInstance({dagId: DAG, taskId: 'a', runId: RUN, state: 'running', tryNumber: 1})
      await db.seed.taskInstance({dagId: DAG, taskId: 'b', runId: RUN, state: 'queued', tryNumber: 1})
      await db.seed.taskInstance({dagId: DAG, taskId: 'c', runId: RUN, state: 'failed', tryNumber: 1})
    })
    afterAll(async () => {
      await db?.drop()
    })

    it('connects, names the release, counts, reads the clock', async () => {
      const {result, report} = await doctorJson([], envFor(db))
      expect(report.checks.filter((c) => c.status !== 'ok')).toEqual([])
      expect(result.code).toBe(0)
      expect(report.db).toMatchObject({dialect, schemaFamily: family, airflowVersion: release, via: 'direct'})
      expect(report.workload.taskInstances).toEqual({queued: 1, running: 1})
      expect(Math.abs(report.clock.dbOffsetSeconds!)).toBeLessThan(5)
      expect(result.stdout).not.toContain('pg-Secr3t')
    })
  })
})

describe('the run store', () => {
  it('--no-cache: off, ok', async () => {
    const {report} = await doctorJson(['--no-cache'], envFor(sqlite))
    expect(check(report, 'run-store')).toMatchObject({status: 'ok', message: 'off (--no-cache): runs are not recorded here'})
  })

  it('counts the runs recorded and says the size', async () => {
    const cache = path.join(dir, 'counted.sqlite')
    await runCli(['zombies', '-n', 'nothing-here'], {env: envFor(sqlite, {AIRFLOW_REAP_CACHE: cache})})
    const {report} = await doctorJson([], envFor(sqlite, {AIRFLOW_REAP_CACHE: cache}))
    expect(report.store).toMatchObject({path: cache, runs: 1})
    expect(report.store.sizeBytes).toBeGreaterThan(0)
    expect(check(report, 'run-store').message).toMatch(/: writable, [\d.]+ KiB, 1 runs$/)
  })

  it('a store that cannot be written is a warning (the commands still run), exit 0', async () => {
    // A regular file where the store's directory should be: ENOTDIR, for root too.
    const blocker = path.join(dir, 'not-a-directory')
    writeFileSync(blocker, '')
    const {result, report} = await doctorJson(['--cache', path.join(blocker, 'runs.sqlite')], envFor(sqlite))
    expect(check(report, 'run-store').status).toBe('warn')
    expect(check(report, 'run-store').fix).toMatch(/runs will not be recorded/)
    expect(report.store).toMatchObject({runs: null, sizeBytes: null})
    expect(result.code).toBe(0)
  })
})
