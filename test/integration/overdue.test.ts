// Issue 5 end to end: the built CLI against the fake API server and real Airflow databases
// (PostgreSQL 2.7 / 2.10 / 3.x, SQLite 2.10 / 3.x, MariaDB 2.10) holding serialized DAGs in their
// real encodings. Every start_date is written relative to the DATABASE's clock, and one test shifts
// the CLI's own clock by hours: the verdicts must not move.
import {rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Report, ReportItem} from '../../src/core/report.js'
import type {TaskKey} from '../../src/core/types.js'
import {
  type TestAirflowDb,
  createMysqlAirflowDb,
  createPostgresAirflowDb,
  createSqliteAirflowDb,
} from '../support/airflow-db/index.js'
import {cliWorkspace, runCli} from '../support/cli.js'
import {assertValidReport} from '../support/contract.js'
import {type FakeKube, startFakeKube} from '../support/fake-kube/index.js'
import {addKpoPod, kpoOperator, serializedDag} from '../support/kpo.js'

const DAG = 'etl_overdue'
const COMPRESSED_DAG = 'compressed_dag'
const BROKEN_DAG = 'broken_dag'
const VERSIONED_DAG = 'versioned_dag'
const RUN = 'scheduled__2026-11-23T00:00:00+00:00'

type DbFactory = () => Promise<TestAirflowDb>
const variants: Array<[string, DbFactory]> = [
  ['postgres 2.10', () => createPostgresAirflowDb('2.10')],
  ['postgres 3.x', () => createPostgresAirflowDb('3.x')],
  ['postgres 2.7', () => createPostgresAirflowDb('2.7')],
  ['sqlite 2.10', () => createSqliteAirflowDb('2.10')],
  ['sqlite 3.x', () => createSqliteAirflowDb('3.x')],
  ['mariadb 2.10', () => createMysqlAirflowDb('2.10')],
]

const op = kpoOperator

const serialized = (db: TestAirflowDb, dagId: string, tasks: object[]): object => serializedDag(db.version, dagId, tasks)

/** Moves a task instance's start_date to `minutes` before the database's own now. */
async function startedAgo(db: TestAirflowDb, key: Omit<TaskKey, 'mapIndex'> & {mapIndex?: number}, minutes: number): Promise<void> {
  const expr =
    db.dialect === 'postgresql'
      ? 'now() - make_interval(mins => CAST(? AS integer))'
      : db.dialect === 'sqlite'
        ? `strftime('%Y-%m-%d %H:%M:%f000', 'now', '-' || ? || ' minutes')`
        : 'UTC_TIMESTAMP(6) - INTERVAL ? MINUTE'
  await db.seed.sql(`UPDATE task_instance SET start_date = ${expr} WHERE dag_id = ? AND task_id = ? AND run_id = ? AND map_index = ?`, [
    minutes,
    key.dagId,
    key.taskId,
    key.runId,
    key.mapIndex ?? -1,
  ])
}

/** A KPO task instance in `state`, try `tryNumber` (written as each version stores it), started `minutes` ago by the DB clock. */
async function task(
  db: TestAirflowDb,
  t: {dagId?: string; taskId: string; runId?: string; mapIndex?: number; state: string; tryNumber?: number; minutes: number; dagVersionId?: string},
): Promise<void> {
  const effective = t.tryNumber ?? 1
  // Airflow < 2.10 keeps the column one lower while deferred (FACTS §4.2).
  const raw = db.version === '2.7' && t.state !== 'running' && t.state !== 'success' ? effective - 1 : effective
  const key = {dagId: t.dagId ?? DAG, taskId: t.taskId, runId: t.runId ?? RUN, mapIndex: t.mapIndex}
  await db.seed.taskInstance({...key, state: t.state, tryNumber: raw, dagVersionId: t.dagVersionId})
  await startedAgo(db, key, t.minutes)
}

async function seedScenario(db: TestAirflowDb, kube: FakeKube): Promise<void> {
  const seed = db.seed
  await seed.serializedDag({
    dagId: DAG,
    data: serialized(db, DAG, [
      op('deferred_overdue', {execution_timeout: 1800.0}),
      op('running_overdue', {execution_timeout: 600.0, deferrable: false}),
      op('deferred_within', {execution_timeout: 1800.0}),
      op('no_timeout'),
      op('mapped_task', {_is_mapped: true, partial_kwargs: {execution_timeout: {__type: 'timedelta', __var: 1800.0}}}),
      op('kept_task', {execution_timeout: 1800.0}),
      op('retried_task', {execution_timeout: 1800.0, retries: 3}),
      op('reattached_task', {execution_timeout: 1800.0, retries: 3}),
      op('finished_task', {execution_timeout: 60.0}),
    ]),
  })
  await seed.serializedDag({dagId: COMPRESSED_DAG, data: serialized(db, COMPRESSED_DAG, [op('load', {execution_timeout: 1800.0})]), compressed: 'zlib'})
  await seed.serializedDag({dagId: BROKEN_DAG, data: serialized(db, BROKEN_DAG, [op('t', {execution_timeout: 60.0})]), compressed: 'zlib'})
  // A row whose compressed bytes are corrupt: it cannot be parsed, so BROKEN_DAG's tasks are not judged.
  await seed.sql('UPDATE serialized_dag SET data = NULL, data_compressed = ? WHERE dag_id = ?', [Buffer.from('not zlib at all'), BROKEN_DAG])

  // 1. Deferred 2 h into a 30 min timeout: overdue. Running past a 10 min timeout: overdue too.
  await task(db, {taskId: 'deferred_overdue', state: 'deferred', minutes: 120})
  addKpoPod(kube, {name: 'deferred-overdue', dagId: DAG, taskId: 'deferred_overdue', runId: RUN, tryNumber: 1, ageMinutes: 121})
  await task(db, {taskId: 'running_overdue', state: 'running', minutes: 60})
  addKpoPod(kube, {name: 'running-overdue', dagId: DAG, taskId: 'running_overdue', runId: RUN, tryNumber: 1, ageMinutes: 61})
  // 2. Within its timeout, and without any timeout (never overdue).
  await task(db, {taskId: 'deferred_within', state: 'deferred', minutes: 10})
  addKpoPod(kube, {name: 'deferred-within', dagId: DAG, taskId: 'deferred_within', runId: RUN, tryNumber: 1, ageMinutes: 11})
  await task(db, {taskId: 'no_timeout', state: 'deferred', minutes: 300})
  addKpoPod(kube, {name: 'no-timeout', dagId: DAG, taskId: 'no_timeout', runId: RUN, tryNumber: 1, ageMinutes: 301})
  // 3. A mapped task (timeout in partial_kwargs): index 0 overdue, index 1 not.
  await task(db, {taskId: 'mapped_task', mapIndex: 0, state: 'deferred', minutes: 120})
  await task(db, {taskId: 'mapped_task', mapIndex: 1, state: 'deferred', minutes: 5})
  addKpoPod(kube, {name: 'mapped-task-0', dagId: DAG, taskId: 'mapped_task', runId: RUN, mapIndex: 0, tryNumber: 1, ageMinutes: 121})
  addKpoPod(kube, {name: 'mapped-task-1', dagId: DAG, taskId: 'mapped_task', runId: RUN, mapIndex: 1, tryNumber: 1, ageMinutes: 6})
  // 4. Overdue but annotated: left alone.
  await task(db, {taskId: 'kept_task', state: 'deferred', minutes: 120})
  addKpoPod(kube, {name: 'kept-overdue', dagId: DAG, taskId: 'kept_task', runId: RUN, tryNumber: 1, ageMinutes: 121, annotations: {'airflow-reap/keep': 'true'}})
  // 5. Try 2 overdue: its own pod is; try 1's pod is the zombies command's business, not ours.
  await task(db, {taskId: 'retried_task', state: 'deferred', tryNumber: 2, minutes: 120})
  await seed.xcom({dagId: DAG, taskId: 'retried_task', runId: RUN, key: 'pod_name', value: 'retried-try2'})
  addKpoPod(kube, {name: 'retried-try1', dagId: DAG, taskId: 'retried_task', runId: RUN, tryNumber: 1, ageMinutes: 200})
  addKpoPod(kube, {name: 'retried-try2', dagId: DAG, taskId: 'retried_task', runId: RUN, tryNumber: 2, ageMinutes: 121})
  // 6. Try 2 re-attached to try 1's pod (its pod_name XCom names it): that pod is the current try's, overdue.
  await task(db, {taskId: 'reattached_task', state: 'deferred', tryNumber: 2, minutes: 120})
  await seed.xcom({dagId: DAG, taskId: 'reattached_task', runId: RUN, key: 'pod_name', value: 'reattached-try1'})
  addKpoPod(kube, {name: 'reattached-try1', dagId: DAG, taskId: 'reattached_task', runId: RUN, tryNumber: 1, ageMinutes: 200})
  // 7. A finished task's pod (a zombie, not overdue) and a pod of a run this DB does not know.
  await task(db, {taskId: 'finished_task', state: 'success', minutes: 120})
  addKpoPod(kube, {name: 'finished-zombie', dagId: DAG, taskId: 'finished_task', runId: RUN, tryNumber: 1, ageMinutes: 121})
  addKpoPod(kube, {name: 'foreign-pod', dagId: 'not_in_this_db', taskId: 't', runId: RUN, tryNumber: 1, ageMinutes: 500})
  // 8. A compressed serialized DAG, and one that cannot be parsed.
  await task(db, {dagId: COMPRESSED_DAG, taskId: 'load', state: 'deferred', minutes: 120})
  addKpoPod(kube, {name: 'compressed-load', dagId: COMPRESSED_DAG, taskId: 'load', runId: RUN, tryNumber: 1, ageMinutes: 121})
  await task(db, {dagId: BROKEN_DAG, taskId: 't', state: 'deferred', minutes: 120})
  addKpoPod(kube, {name: 'broken-t', dagId: BROKEN_DAG, taskId: 't', runId: RUN, tryNumber: 1, ageMinutes: 121})

  if (db.version === '3.x') await seedVersions(db, kube)
}

/** 3.x: the try's own dag_version decides, then the run's created_dag_version_id, then the latest. */
async function seedVersions(db: TestAirflowDb, kube: FakeKube): Promise<void> {
  const seed = db.seed
  const v1 = (await seed.serializedDag({dagId: VERSIONED_DAG, data: serialized(db, VERSIONED_DAG, [op('t', {execution_timeout: 1800.0})])})).dagVersionId!
  await seed.serializedDag({dagId: VERSIONED_DAG, data: serialized(db, VERSIONED_DAG, [op('t', {execution_timeout: 86400.0})]), compressed: 'zlib'})
  const runs = {exact: 'manual__exact', byRun: 'manual__by_run', latest: 'manual__latest'}
  for (const runId of Object.values(runs)) await seed.dagRun({dagId: VERSIONED_DAG, runId})
  await task(db, {dagId: VERSIONED_DAG, taskId: 't', runId: runs.exact, state: 'deferred', minutes: 120, dagVersionId: v1})
  await task(db, {dagId: VERSIONED_DAG, taskId: 't', runId: runs.byRun, state: 'deferred', minutes: 120})
  await task(db, {dagId: VERSIONED_DAG, taskId: 't', runId: runs.latest, state: 'deferred', minutes: 120})
  await seed.sql('UPDATE task_instance SET dag_version_id = NULL WHERE dag_id = ? AND run_id IN (?, ?)', [VERSIONED_DAG, runs.byRun, runs.latest])
  await seed.sql('UPDATE dag_run SET created_dag_version_id = ? WHERE dag_id = ? AND run_id = ?', [v1, VERSIONED_DAG, runs.byRun])
  addKpoPod(kube, {name: 'versioned-exact', dagId: VERSIONED_DAG, taskId: 't', runId: runs.exact, tryNumber: 1, ageMinutes: 121})
  addKpoPod(kube, {name: 'versioned-run', dagId: VERSIONED_DAG, taskId: 't', runId: runs.byRun, tryNumber: 1, ageMinutes: 121})
  addKpoPod(kube, {name: 'versioned-latest', dagId: VERSIONED_DAG, taskId: 't', runId: runs.latest, tryNumber: 1, ageMinutes: 121})
}

const OVERDUE_DEFERRED = ['deferred-overdue', 'mapped-task-0', 'retried-try2', 'reattached-try1', 'compressed-load']

function expected(airflow3: boolean, {running = true} = {}): Record<string, string> {
  const names = [...OVERDUE_DEFERRED, ...(running ? ['running-overdue'] : []), ...(airflow3 ? ['versioned-exact', 'versioned-run'] : [])]
  return {...Object.fromEntries(names.map((n) => [n, 'none'])), 'kept-overdue': 'skipped (keep-annotation)'}
}

function byName(items: ReportItem[]): Record<string, string> {
  return Object.fromEntries(items.map((i) => [i.name, i.action === 'skipped' ? `skipped (${i.skipReason})` : i.action]))
}

describe.each(variants)('overdue against %s', (_name, createDb) => {
  let kube: FakeKube
  let db: TestAirflowDb
  let dir: string
  let env: Record<string, string>
  let airflow3: boolean
  let scanned: number

  beforeAll(async () => {
    kube = await startFakeKube()
    db = await createDb()
    airflow3 = db.version === '3.x'
    ;({dir, env} = cliWorkspace(kube, {prefix: 'overdue', context: 'test', db}))
    await seedScenario(db, kube)
    scanned = kube.listObjects('pods').length
  })

  afterAll(async () => {
    await kube?.close()
    await db?.drop()
    rmSync(dir, {recursive: true, force: true})
  })

  it('finds exactly the overdue pods, as the contract document, and warns about the unparsable DAG', async () => {
    const result = await runCli(['overdue', '-o', 'json'], {env})
    expect(result.code).toBe(0)
    const report: Report = JSON.parse(result.stdout)
    assertValidReport(report)
    expect(report).toMatchObject({kind: 'OverdueReport', context: 'test', dryRun: true})
    expect(byName(report.items)).toEqual(expected(airflow3))
    expect(report.items.every((i) => i.reason === 'execution-timeout-exceeded' && i.phase === 'Running')).toBe(true)
    // The contract's "found": acted on or to act on; the skipped one is counted apart.
    const found = Object.keys(expected(airflow3)).length - 1
    expect(report.summary).toEqual({scanned, found, acted: 0, failed: 0, skipped: 1, unknown: 0})
    expect(report.warnings).toEqual([expect.stringMatching(/^the serialized DAG of broken_dag( \(version \d+\))? cannot be read .*its tasks are not judged$/)])
    expect(result.stderr).toMatch(/^warning: the serialized DAG of broken_dag/)
    expect(typeof report.runId).toBe('number')
  })

  it('reports the task instance, its timeout, how long it ran and by how much it is over', async () => {
    const report: Report = JSON.parse((await runCli(['overdue', '-o', 'json', '--no-cache'], {env})).stdout)
    const item = (name: string) => report.items.find((i) => i.name === name)!
    expect(item('deferred-overdue').taskInstance).toEqual({dagId: DAG, taskId: 'deferred_overdue', runId: RUN, mapIndex: -1, tryNumber: 1, state: 'deferred'})
    expect(item('deferred-overdue').detail).toBe('try 1 (deferred) running 2h0m, execution_timeout 30m, over by 1h30m (+1m grace)')
    expect(item('running-overdue').detail).toBe('try 1 (running) running 1h0m, execution_timeout 10m, over by 50m (+1m grace)')
    expect(item('mapped-task-0').taskInstance).toMatchObject({taskId: 'mapped_task', mapIndex: 0})
    expect(item('retried-try2').taskInstance).toMatchObject({tryNumber: 2, state: 'deferred'})
    expect(item('reattached-try1').detail).toMatch(/^try 2 \(deferred, re-attached to this pod of an earlier try\) running 2h0m/)
    expect(item('compressed-load').detail).toMatch(/execution_timeout 30m, over by 1h30m/)
  })

  it('--grace moves the line: 80m spares the task 50m over, keeps those 1h30m over', async () => {
    const report: Report = JSON.parse((await runCli(['overdue', '--grace', '80m', '-o', 'json', '--no-cache'], {env})).stdout)
    expect(byName(report.items)).toEqual(expected(airflow3, {running: false}))
    expect(report.items.find((i) => i.name === 'deferred-overdue')!.detail).toMatch(/\(\+1h20m grace\)$/)
  })

  it("gives the same verdicts whatever the CLI's own clock says (clock skew)", async () => {
    const shim = path.join(dir, 'skewed-clock.mjs')
    writeFileSync(
      shim,
      `const offset = Number(process.env.REAP_TEST_CLOCK_OFFSET_MS)
const RealDate = Date
class SkewedDate extends RealDate {
  constructor(...args) { if (args.length === 0) super(RealDate.now() + offset); else super(...args) }
  static now() { return RealDate.now() + offset }
}
globalThis.Date = SkewedDate
`,
    )
    const baseline = byName(JSON.parse((await runCli(['overdue', '-o', 'json', '--no-cache'], {env})).stdout).items)
    for (const hours of [-3, 3, 48]) {
      const offset = hours * 3_600_000
      const nodeOptions = [process.env.NODE_OPTIONS, `--import=${pathToFileURL(shim).href}`].filter(Boolean).join(' ')
      const before = Date.now()
      const result = await runCli(['overdue', '-o', 'json', '--no-cache'], {env: {...env, NODE_OPTIONS: nodeOptions, REAP_TEST_CLOCK_OFFSET_MS: String(offset)}})
      const report: Report = JSON.parse(result.stdout)
      // The shim really moved the CLI's clock (its report is stamped with it)...
      expect(Math.abs(new Date(report.generatedAt).getTime() - before - offset)).toBeLessThan(60_000)
      // ...and the verdicts did not move: the laptop 3 h behind would see nothing overdue, 3 h ahead everything.
      expect(byName(report.items)).toEqual(baseline)
    }
    expect(baseline).toEqual(expected(airflow3))
  })

  it('--exit-code exits 3 when overdue pods are left in place', async () => {
    expect((await runCli(['overdue', '--exit-code', '--no-cache'], {env})).code).toBe(3)
  })

  it('the table names the pods and says it was a dry run', async () => {
    const {stdout} = await runCli(['overdue', '--no-cache'], {env})
    // One namespace: no NAMESPACE column, as kubectl prints it without -A.
    expect(stdout).toMatch(/^NAME\s+AGE\s+PHASE\s+REASON\s+ACTION\n/)
    expect(stdout).toMatch(/\ndeferred-overdue\s+\S+\s+Running\s+execution-timeout-exceeded\s+none/)
    expect(stdout.trimEnd().split('\n').at(-1)).toMatch(
      /^\d+ overdue pods? found among \d+ scanned; 1 skipped \(1 keep-annotation\); dry run: nothing changed \(add --delete --yes to delete them\)$/,
    )
  })

  it('changes nothing without --yes (dry runs, client and server)', async () => {
    const server: Report = JSON.parse((await runCli(['overdue', '--delete', '--dry-run=server', '-o', 'json', '--no-cache'], {env})).stdout)
    expect(server.dryRun).toBe(true)
    expect(server.items.find((i) => i.name === 'deferred-overdue')!.detail).toMatch(/server dry run/)
    const serverDryRun = (r: {body?: unknown}) => JSON.stringify((r.body as {dryRun?: string[]} | undefined)?.dryRun) === '["All"]'
    const deletes = kube.requests.filter((r) => r.method === 'DELETE')
    expect(deletes.length).toBeGreaterThan(0)
    expect(kube.requests.filter((r) => r.method !== 'GET' && !serverDryRun(r))).toEqual([])
    expect(kube.listObjects('pods')).toHaveLength(scanned)
  })

  it('--delete --yes deletes exactly the overdue pods, after re-checking each task instance', async () => {
    // Between the scan and the delete, running_overdue finishes: the re-check must leave its pod alone.
    const stopHook = kube.beforeRequest(async (request) => {
      if (request.method === 'GET' && request.path.endsWith('/pods/running-overdue')) {
        await db.seed.setTaskInstance({dagId: DAG, taskId: 'running_overdue', runId: RUN}, {state: 'success'})
      }
    })
    kube.requests.length = 0
    let report: Report
    try {
      const result = await runCli(['overdue', '--delete', '--yes', '-o', 'json'], {env})
      expect(result.code).toBe(0)
      report = JSON.parse(result.stdout)
    } finally {
      stopHook()
    }
    assertValidReport(report)
    const deleted = [...OVERDUE_DEFERRED, ...(airflow3 ? ['versioned-exact', 'versioned-run'] : [])]
    expect(byName(report.items)).toEqual({
      ...Object.fromEntries(deleted.map((n) => [n, 'deleted'])),
      'running-overdue': 'skipped (changed-concurrently)',
      'kept-overdue': 'skipped (keep-annotation)',
    })
    expect(report.dryRun).toBe(false)
    expect(report.summary).toMatchObject({acted: deleted.length, failed: 0, skipped: 2})
    const item = report.items.find((i) => i.name === 'deferred-overdue')!
    expect(item.detail).toMatch(/Airflow will fail try 1 of etl_overdue\.deferred_overdue .*retries follow the task's retry policy$/)
    expect(report.items.find((i) => i.name === 'running-overdue')!.detail).toMatch(/now success in try 1/)

    // Only those pods were deleted, each with its UID as a precondition.
    const deletes = kube.requests.filter((r) => r.method === 'DELETE')
    expect(deletes.map((r) => r.path.split('/').at(-1)).sort()).toEqual([...deleted].sort())
    for (const request of deletes) {
      const name = request.path.split('/').at(-1)
      expect((request.body as {preconditions?: {uid?: string}}).preconditions?.uid).toBe(report.items.find((i) => i.name === name)!.uid)
    }
    const left = kube.listObjects('pods').map((p) => p.metadata.name)
    for (const name of deleted) expect(left).not.toContain(name)
    expect(left).toEqual(expect.arrayContaining(['running-overdue', 'kept-overdue', 'deferred-within', 'no-timeout', 'mapped-task-1', 'retried-try1', 'broken-t', 'finished-zombie']))

    // A second run finds only the pod the annotation protects.
    const again: Report = JSON.parse((await runCli(['overdue', '-o', 'json', '--no-cache'], {env})).stdout)
    expect(byName(again.items)).toEqual({'kept-overdue': 'skipped (keep-annotation)'})
  })
})
