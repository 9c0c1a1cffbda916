// Issue 13 end to end: `kubectl airflow-reap zombies -n airflow` with no DB flag and no DB variable,
// against a Helm-shaped namespace in the fake API server. The DB URL is read from the chart's metadata
// Secret and names the chart's PgBouncer Service, which this machine cannot resolve: the CLI reaches
// a real PgBouncer (transaction pooling) in front of a real PostgreSQL through the fake's port-forward.
// MariaDB direct, and every way it can go wrong: ambiguous, forbidden, no ready endpoint, a tunnel
// killed mid-run, a sqlite URL.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Report} from '../../src/core/report.js'
import {type TestAirflowDb, createMysqlAirflowDb, createPostgresAirflowDb} from '../support/airflow-db/index.js'
import {runCli} from '../support/cli.js'
import {assertValidReport} from '../support/contract.js'
import {type FakeKube, startFakeKube} from '../support/fake-kube/index.js'
import {type HelmAirflow, addHelmAirflow} from '../support/helm-airflow.js'
import {addKpoPod, kpoOperator} from '../support/kpo.js'
import {type PgBouncer, pgbouncerMissing, startPgBouncer} from '../support/pgbouncer.js'

const DAG = 'etl'
const RUN = 'scheduled__2026-11-22T00:00:00+00:00'
const PASSWORD = 'Helm-s3cret-pw'

let kube: FakeKube
let dir: string
let env: Record<string, string>

beforeAll(async () => {
  kube = await startFakeKube({user: 'system:serviceaccount:ops:reaper'})
  dir = mkdtempSync(path.join(tmpdir(), 'reap-zero-config-'))
  const kubeconfig = kube.writeKubeconfig(path.join(dir, 'kubeconfig'), {contexts: [{name: 'laptop', namespace: 'default'}]})
  // Nothing about the DB in the environment: runCli's cleanEnv drops every AIRFLOW_* variable.
  env = {KUBECONFIG: kubeconfig, AIRFLOW_REAP_CACHE: path.join(dir, 'runs.sqlite'), HOME: dir}
})

afterAll(async () => {
  await kube?.close()
  rmSync(dir, {recursive: true, force: true})
})

async function seedAirflow(db: TestAirflowDb, namespace: string, zombies: number): Promise<void> {
  await db.seed.dagRun({dagId: DAG, runId: RUN})
  await db.seed.taskInstance({dagId: DAG, taskId: 'load', runId: RUN, state: 'running', tryNumber: 1})
  addKpoPod(kube, {namespace, name: 'etl-load-live', dagId: DAG, taskId: 'load', runId: RUN, tryNumber: 1})
  for (let i = 0; i < zombies; i++) {
    await db.seed.taskInstance({dagId: DAG, taskId: `extract_${i}`, runId: RUN, state: 'success', tryNumber: 1})
    addKpoPod(kube, {namespace, name: `etl-extract-${i}-zombie`, dagId: DAG, taskId: `extract_${i}`, runId: RUN, tryNumber: 1})
  }
}

describe.skipIf(pgbouncerMissing)('the chart with PgBouncer: PostgreSQL reached through a port-forward', () => {
  let db: TestAirflowDb
  let pgbouncer: PgBouncer
  let helm: HelmAirflow
  let via: string
  const source = 'secret airflow/airflow-airflow-metadata:connection'

  beforeAll(async () => {
    db = await createPostgresAirflowDb('2.10', {password: PASSWORD})
    const role = new URL(db.url).username
    pgbouncer = await startPgBouncer({databases: {'airflow-metadata': new URL(db.url).pathname.slice(1)}, users: [role]})
    // Exactly what the chart's metadata Secret holds when pgbouncer.enabled is true.
    const connection = `postgresql://${role}:${PASSWORD}@airflow-pgbouncer.airflow:6543/airflow-metadata?sslmode=disable`
    helm = addHelmAirflow(kube, {namespace: 'airflow', connection, pgbouncer: {localPort: pgbouncer.port}})
    via = `port-forward pod/${helm.pgbouncerPod}:6543`
    await seedAirflow(db, 'airflow', 3)
    await db.seed.serializedDag({dagId: DAG, data: {__version: 1, dag: {_dag_id: DAG, timezone: 'UTC', tasks: [kpoOperator('wait', {execution_timeout: 60})]}}})
    await db.seed.taskInstance({dagId: DAG, taskId: 'wait', runId: RUN, state: 'deferred', tryNumber: 1})
    await db.seed.sql("UPDATE task_instance SET start_date = now() - interval '2 hours' WHERE task_id = 'wait'")
    addKpoPod(kube, {namespace: 'airflow', name: 'etl-wait-overdue', dagId: DAG, taskId: 'wait', runId: RUN, tryNumber: 1, ageMinutes: 121})
  })

  afterAll(async () => {
    await pgbouncer?.stop()
    await db?.drop()
  })

  it('zombies -n airflow: no DB flag, the report says where the DB came from and how it was reached', async () => {
    const {code, stdout, stderr} = await runCli(['zombies', '-n', 'airflow', '-o', 'json', '--no-cache'], {env})
    expect(stderr).toBe('')
    expect(code).toBe(0)
    const report: Report = JSON.parse(stdout)
    assertValidReport(report)
    expect(report.db).toEqual({source, via})
    expect(report.items.filter((i) => i.reason === 'no-active-task-instance').map((i) => i.name)).toEqual([
      'etl-extract-0-zombie',
      'etl-extract-1-zombie',
      'etl-extract-2-zombie',
    ])
    expect(stdout).not.toContain(PASSWORD)
  })

  it('the table output says it on stderr, in one header line', async () => {
    const {code, stdout, stderr} = await runCli(['zombies', '-n', 'airflow', '--no-cache'], {env})
    expect(code).toBe(0)
    expect(stderr).toBe(`DB: ${source} via ${via}\n`)
    expect(stdout).toMatch(/^NAME\s+AGE/)
  })

  it('overdue -n airflow through the same port-forward', async () => {
    const {code, stdout, stderr} = await runCli(['overdue', '-n', 'airflow', '-o', 'json', '--no-cache'], {env})
    expect(stderr).toBe('')
    expect(code).toBe(0)
    const report: Report = JSON.parse(stdout)
    assertValidReport(report)
    expect(report.db).toEqual({source, via})
    expect(report.items.map((i) => i.name)).toEqual(['etl-wait-overdue'])
  })

  it('--port-forward never: the Service name does not resolve here, and the error says so without the password', async () => {
    const {code, stdout, stderr} = await runCli(['zombies', '-n', 'airflow', '--port-forward', 'never', '--no-cache'], {env})
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toMatch(/^error: .*airflow-pgbouncer\.airflow/)
    expect(stderr).not.toContain(PASSWORD)
  })

  // Three CLI runs and a database of its own: more than the default 30 s on a loaded machine.
  it('--delete --yes through the tunnel; history show records the DB source and path, never the password', {timeout: 120_000}, async () => {
    const ns = 'airflow-del'
    const other = await createPostgresAirflowDb('2.10', {password: PASSWORD})
    const bouncer = await startPgBouncer({databases: {'airflow-metadata': new URL(other.url).pathname.slice(1)}, users: [new URL(other.url).username]})
    try {
      const connection = `postgresql://${new URL(other.url).username}:${PASSWORD}@airflow-pgbouncer:6543/airflow-metadata`
      const h = addHelmAirflow(kube, {namespace: ns, connection, pgbouncer: {localPort: bouncer.port}})
      await seedAirflow(other, ns, 2)
      const run = await runCli(['zombies', '-n', ns, '--delete', '--yes', '--allow-mass-delete', '-o', 'json'], {env})
      expect(run.stderr).toBe('')
      expect(run.code).toBe(0)
      const report: Report = JSON.parse(run.stdout)
      expect(report.items.filter((i) => i.action === 'deleted')).toHaveLength(2)
      const show = await runCli(['history', 'show', String(report.runId)], {env})
      expect(show.stdout).toContain(`DB:        secret ${ns}/airflow-airflow-metadata:connection via port-forward pod/${h.pgbouncerPod}:6543`)
      const json = JSON.parse((await runCli(['history', 'show', String(report.runId), '-o', 'json'], {env})).stdout)
      expect(json.db).toEqual({source: `secret ${ns}/airflow-airflow-metadata:connection`, via: `port-forward pod/${h.pgbouncerPod}:6543`})
      expect(show.stdout + JSON.stringify(json)).not.toContain(PASSWORD)
    } finally {
      await bouncer.stop()
      await other.drop()
    }
  })

  it('a tunnel killed mid-run fails the run closed: nothing deleted after it, one clear line, recorded as failed', {timeout: 120_000}, async () => {
    const ns = 'airflow-drop'
    const other = await createPostgresAirflowDb('2.10')
    const bouncer = await startPgBouncer({databases: {'airflow-metadata': new URL(other.url).pathname.slice(1)}})
    try {
      const h = addHelmAirflow(kube, {namespace: ns, connection: 'postgresql://postgres@airflow-pgbouncer:6543/airflow-metadata', pgbouncer: {localPort: bouncer.port}})
      await seedAirflow(other, ns, 3)
      // The port-forward is killed as the first delete arrives; the API server still serves that one.
      let dropped = false
      const unhook = kube.beforeRequest(async (request) => {
        if (request.method !== 'DELETE' || dropped) return
        dropped = true
        kube.portForward.dropAll()
        await new Promise((resolve) => setTimeout(resolve, 500))
      })
      const run = await runCli(['zombies', '-n', ns, '--delete', '--yes', '--allow-mass-delete', '--concurrency', '1', '-o', 'json'], {env})
      unhook()
      expect(dropped).toBe(true)
      expect(run.code).toBe(1)
      expect(run.stderr).toBe(`error: the port-forward to the DB (pod/${h.pgbouncerPod}:6543) dropped: the API server closed the connection\n`)
      const deletes = kube.requests.filter((r) => r.method === 'DELETE' && r.path.includes(`/namespaces/${ns}/pods/`))
      expect(deletes).toHaveLength(1)
      // The run still reports what it did before the tunnel dropped.
      const report: Report = JSON.parse(run.stdout)
      expect(report.items.filter((i) => i.action === 'deleted').map((i) => i.name)).toEqual([deletes[0]!.path.split('/').at(-1)])
      const history = JSON.parse((await runCli(['history', 'show', String(report.runId), '-o', 'json'], {env})).stdout)
      expect(history).toMatchObject({outcome: 'failed', error: expect.stringContaining('port-forward to the DB')})
    } finally {
      await bouncer.stop()
      await other.drop()
    }
  })
})

describe.skipIf(!pgbouncerMissing)('the chart with PgBouncer', () => {
  it.skip(`skipped: ${pgbouncerMissing}`, () => undefined)
})

describe('MariaDB, direct', () => {
  let db: TestAirflowDb

  beforeAll(async () => {
    db = await createMysqlAirflowDb('2.10', {password: PASSWORD})
    // An external DB the chart was pointed at (data.metadataConnection), reachable from here.
    addHelmAirflow(kube, {namespace: 'maria', release: 'af', connection: db.url})
    await seedAirflow(db, 'maria', 1)
  })

  afterAll(async () => {
    await db?.drop()
  })

  it('zombies -n maria: read from the Secret, connected directly', async () => {
    const {code, stdout, stderr} = await runCli(['zombies', '-n', 'maria', '-o', 'json', '--no-cache'], {env})
    expect(stderr).toBe('')
    expect(code).toBe(0)
    const report: Report = JSON.parse(stdout)
    expect(report.db).toEqual({source: 'secret maria/af-airflow-metadata:connection', via: 'direct'})
    expect(report.items.map((i) => i.name)).toEqual(['etl-extract-0-zombie'])
  })

  it('--airflow-namespace: pods of one namespace, the DB found in another', async () => {
    addKpoPod(kube, {namespace: 'tasks', name: 'etl-extract-0-elsewhere', dagId: DAG, taskId: 'extract_0', runId: RUN, tryNumber: 1})
    const {code, stdout} = await runCli(['zombies', '-n', 'tasks', '--airflow-namespace', 'maria', '-o', 'json', '--no-cache'], {env})
    expect(code).toBe(0)
    const report: Report = JSON.parse(stdout)
    expect(report.db?.source).toBe('secret maria/af-airflow-metadata:connection')
    expect(report.items.map((i) => i.name)).toEqual(['etl-extract-0-elsewhere'])
  })
})

describe('when the DB cannot be found or reached', () => {
  // One error line; a usage error (exit 2) is followed by the command's help hint.
  const HELP_HINT = /^See 'kubectl airflow-reap \w+ --help' for usage\.$/
  const fail = async (args: string[]) => {
    const result = await runCli([...args, '--no-cache'], {env})
    expect(result.stdout).toBe('')
    const [, ...rest] = result.stderr.trimEnd().split('\n')
    if (result.code === 2) expect(rest).toEqual([expect.stringMatching(HELP_HINT)])
    else expect(rest).toEqual([])
    expect(result.stderr).not.toContain(PASSWORD)
    return {code: result.code, stderr: result.stderr}
  }

  it('ambiguous discovery: exit 2 naming the candidates and the flags', async () => {
    addHelmAirflow(kube, {namespace: 'two', release: 'blue', connection: `postgresql://u:${PASSWORD}@blue-pgbouncer:6543/blue-metadata`})
    addHelmAirflow(kube, {namespace: 'two', release: 'green', connection: `postgresql://u:${PASSWORD}@green-pgbouncer:6543/green-metadata`})
    const {code, stderr} = await fail(['zombies', '-n', 'two'])
    expect(code).toBe(2)
    expect(stderr).toBe(
      'error: cannot choose the Airflow DB in namespace "two": the scheduler pod templates name 2 different DB URLs ' +
        '(secret two/blue-airflow-metadata:connection, secret two/green-airflow-metadata:connection); pass --db-secret NAME[:KEY] (or --db URL)\n' +
        "See 'kubectl airflow-reap zombies --help' for usage.\n",
    )
  })

  it('nothing to find: exit 2', async () => {
    const {code, stderr} = await fail(['zombies', '-n', 'empty'])
    expect(code).toBe(2)
    expect(stderr).toMatch(/^error: cannot find the Airflow DB in namespace "empty": no Deployment or StatefulSet labelled component=scheduler/)
  })

  it('forbidden secrets: exit 1 naming get secrets', async () => {
    addHelmAirflow(kube, {namespace: 'locked', connection: `postgresql://u:${PASSWORD}@airflow-pgbouncer:6543/airflow-metadata`})
    kube.deny({verb: 'get', resource: 'secrets', namespace: 'locked'})
    const {code, stderr} = await fail(['zombies', '-n', 'locked'])
    expect(code).toBe(1)
    expect(stderr).toMatch(/^error: finding the Airflow DB needs "get secrets" in namespace "locked": RBAC denied: cannot get secrets in namespace "locked"/)
  })

  it('a Service with no ready endpoint: exit 1', async () => {
    addHelmAirflow(kube, {
      namespace: 'down',
      connection: `postgresql://u:${PASSWORD}@airflow-pgbouncer.down:6543/airflow-metadata`,
      pgbouncer: {localPort: 1, ready: false},
    })
    const {code, stderr} = await fail(['zombies', '-n', 'down'])
    expect(code).toBe(1)
    expect(stderr).toBe('error: Service down/airflow-pgbouncer has no ready endpoint backed by a pod: nothing to port-forward to (is the DB or PgBouncer pod running?)\n')
  })

  it('a sqlite URL found in the cluster: exit 2, it names a file inside a pod', async () => {
    addHelmAirflow(kube, {namespace: 'lite', connection: 'sqlite:////opt/airflow/airflow.db'})
    const {code, stderr} = await fail(['overdue', '-n', 'lite'])
    expect(code).toBe(2)
    expect(stderr).toMatch(/^error: secret lite\/airflow-airflow-metadata:connection holds a sqlite URL: it names a file inside the Airflow pods/)
  })
})
