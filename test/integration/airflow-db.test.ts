// The metadata-DB task-instance source (SqlAirflowDb) against real databases: the same suite over every schema family and dialect.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {openAirflowDb} from '../../src/airflow/open.js'
import type {SqlDriver} from '../../src/airflow/drivers/types.js'
import {openDriver} from '../../src/airflow/drivers/open.js'
import {SqlAirflowDb, queriesFor} from '../../src/airflow/sql-airflow-db.js'
import {parseDbUrl} from '../../src/airflow/url.js'
import type {SchemaFamily, TaskInstanceRow} from '../../src/core/types.js'
import {isActiveState, taskKeyString} from '../../src/core/types.js'
import {
  ALEMBIC_REVISION,
  type AirflowVersion,
  type Seeder,
  type TestAirflowDb,
  createMysqlAirflowDb,
  createPostgresAirflowDb,
  createSqliteAirflowDb,
} from '../support/airflow-db/index.js'
import {behindPgBouncer, pgbouncerMissing} from '../support/pgbouncer.js'

interface Backend {
  name: string
  version: AirflowVersion
  family: SchemaFamily
  create(): Promise<TestAirflowDb>
}

const BACKENDS: Backend[] = [
  {name: 'postgresql 2.7', version: '2.7', family: 'airflow-2.7', create: () => createPostgresAirflowDb('2.7')},
  {name: 'postgresql 2.10', version: '2.10', family: 'airflow-2.10', create: () => createPostgresAirflowDb('2.10')},
  {name: 'postgresql 3.x', version: '3.x', family: 'airflow-3', create: () => createPostgresAirflowDb('3.x')},
  {name: 'sqlite 2.10', version: '2.10', family: 'airflow-2.10', create: () => createSqliteAirflowDb('2.10')},
  {name: 'sqlite 3.x', version: '3.x', family: 'airflow-3', create: () => createSqliteAirflowDb('3.x')},
  {name: 'mysql 2.10', version: '2.10', family: 'airflow-2.10', create: () => createMysqlAirflowDb('2.10')},
  // The Helm chart's default path: PgBouncer in transaction pooling mode (every statement must work there).
  ...(pgbouncerMissing
    ? []
    : [
        {name: 'postgresql 2.10 behind PgBouncer', version: '2.10', family: 'airflow-2.10', create: async () => behindPgBouncer(await createPostgresAirflowDb('2.10', {password: 'Pgb-s3cret'}))},
        {name: 'postgresql 3.x behind PgBouncer', version: '3.x', family: 'airflow-3', create: async () => behindPgBouncer(await createPostgresAirflowDb('3.x'))},
      ] satisfies Backend[]),
]

describe.skipIf(!pgbouncerMissing)('SqlAirflowDb behind PgBouncer', () => {
  it.skip(`skipped: ${pgbouncerMissing}`, () => undefined)
})

// A fixed instant with sub-second digits, so time zone and precision mistakes show.
const T0 = new Date('2025-06-01T12:00:00.123Z')
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000)
const SINCE = minutes(-60)

const DAG = 'kpo_dag'
const RUN_RUNNING = 'scheduled__2025-06-01T11:00:00+00:00'
const RUN_QUEUED = 'manual__2025-06-01T11:30:00+00:00'
const RUN_OTHER_DAG = {dagId: 'other_dag', runId: 'manual__x'}

/** taskId → [state, raw try_number column] of the TIs in RUN_RUNNING. */
const TIS: Record<string, [string | null, number | null]> = {
  t_none: [null, 0],
  t_null_try: [null, null],
  t_scheduled: ['scheduled', 1],
  t_queued: ['queued', 1],
  t_running: ['running', 2],
  t_deferred: ['deferred', 2],
  t_up_for_retry: ['up_for_retry', 1],
  t_up_for_reschedule: ['up_for_reschedule', 1],
  t_restarting: ['restarting', 1],
  t_success: ['success', 1],
  t_failed: ['failed', 3],
  t_skipped: ['skipped', 0],
  t_upstream_failed: ['upstream_failed', 0],
  t_removed: ['removed', 1],
}
const ACTIVE = ['t_none', 't_null_try', 't_scheduled', 't_queued', 't_running', 't_deferred', 't_up_for_retry', 't_up_for_reschedule', 't_restarting']

async function seedScenario(seed: Seeder): Promise<void> {
  // dag runs around SINCE
  await seed.dagRun({dagId: DAG, runId: 'old_success', state: 'success', startDate: minutes(-200), endDate: minutes(-120)})
  await seed.dagRun({dagId: DAG, runId: 'old_failed', state: 'failed', startDate: minutes(-200), endDate: minutes(-61)})
  await seed.dagRun({dagId: DAG, runId: 'ended_at_since', state: 'success', startDate: minutes(-90), endDate: SINCE})
  await seed.dagRun({dagId: DAG, runId: 'recent_failed', state: 'failed', startDate: minutes(-500), endDate: minutes(-5)})
  await seed.dagRun({dagId: DAG, runId: RUN_RUNNING, state: 'running', startDate: minutes(-600), endDate: null})
  await seed.dagRun({dagId: DAG, runId: RUN_QUEUED, state: 'queued', startDate: null, endDate: null})
  await seed.dagRun({dagId: DAG, runId: 'success_without_end', state: 'success', startDate: minutes(-900), endDate: null})
  await seed.dagRun({...RUN_OTHER_DAG, state: 'running'})

  for (const [taskId, [state, tryNumber]] of Object.entries(TIS)) {
    await seed.taskInstance({dagId: DAG, taskId, runId: RUN_RUNNING, state, tryNumber, startDate: state ? minutes(-10) : null})
  }
  await seed.taskInstance({dagId: DAG, taskId: 'mapped', runId: RUN_RUNNING, mapIndex: 0, state: 'running', tryNumber: 1})
  await seed.taskInstance({dagId: DAG, taskId: 'mapped', runId: RUN_RUNNING, mapIndex: 1, state: 'success', tryNumber: 1})
  await seed.taskInstance({dagId: DAG, taskId: 'q_task', runId: RUN_QUEUED, state: null, tryNumber: 0})
  await seed.taskInstance({dagId: DAG, taskId: 'done', runId: 'recent_failed', state: 'failed', tryNumber: 1})
  await seed.taskInstance({...RUN_OTHER_DAG, taskId: 'elsewhere', state: 'running', tryNumber: 1})
}

const byKey = (a: TaskInstanceRow, b: TaskInstanceRow) => taskKeyString(a).localeCompare(taskKeyString(b))

describe.each(BACKENDS)('SqlAirflowDb on $name', (backend) => {
  let db: TestAirflowDb
  let airflow: SqlAirflowDb
  const isAirflow3 = backend.version === '3.x'

  beforeAll(async () => {
    db = await backend.create()
    await seedScenario(db.seed)
    airflow = await openAirflowDb(parseDbUrl(db.url))
  })

  afterAll(async () => {
    await airflow?.close()
    await db?.drop()
  })

  it('detects the schema family, dialect and alembic revision', () => {
    expect(airflow.schema).toEqual({family: backend.family, dialect: db.dialect, revision: ALEMBIC_REVISION[backend.version]})
  })

  it("now() is the database's clock as a UTC Date", async () => {
    const now = await airflow.now()
    expect(now).toBeInstanceOf(Date)
    expect(Math.abs(now.getTime() - Date.now())).toBeLessThan(60_000)
  })

  it('dagRunsSince returns the unfinished runs and those that ended at or after `since`', async () => {
    const runs = await airflow.dagRunsSince(SINCE)
    const ids = runs.map((r) => `${r.dagId}/${r.runId}`).sort()
    expect(ids).toEqual(
      [
        `${DAG}/ended_at_since`,
        `${DAG}/recent_failed`,
        `${DAG}/${RUN_RUNNING}`,
        `${DAG}/${RUN_QUEUED}`,
        `${DAG}/success_without_end`,
        `${RUN_OTHER_DAG.dagId}/${RUN_OTHER_DAG.runId}`,
      ].sort(),
    )
    const edge = runs.find((r) => r.runId === 'ended_at_since')!
    expect(edge).toEqual({dagId: DAG, runId: 'ended_at_since', state: 'success', endDate: SINCE})
    expect(runs.find((r) => r.runId === RUN_RUNNING)).toMatchObject({state: 'running', endDate: null})
  })

  it('taskInstancesOfTasks returns every TI of the given tasks, every map index, any state', async () => {
    const tis = await airflow.taskInstancesOfTasks([
      {dagId: DAG, taskId: 't_running', runId: RUN_RUNNING},
      {dagId: DAG, taskId: 't_success', runId: RUN_RUNNING},
      {dagId: DAG, taskId: 'mapped', runId: RUN_RUNNING},
      {dagId: DAG, taskId: 'q_task', runId: RUN_QUEUED},
      {dagId: DAG, taskId: 't_running', runId: RUN_RUNNING}, // a duplicate must not duplicate rows
      {dagId: DAG, taskId: 't_running', runId: 'no_such_run'},
      {dagId: DAG, taskId: 'no_such_task', runId: RUN_RUNNING},
    ])
    const got = tis.map((ti) => `${ti.runId}/${ti.taskId}/${ti.mapIndex}:${ti.state}`).sort()
    const want = [
      `${RUN_RUNNING}/t_running/-1:running`,
      `${RUN_RUNNING}/t_success/-1:success`,
      `${RUN_RUNNING}/mapped/0:running`,
      `${RUN_RUNNING}/mapped/1:success`,
      `${RUN_QUEUED}/q_task/-1:null`,
    ].sort()
    expect(got).toEqual(want)
  })

  it('taskInstancesOfTasks reads only the tasks asked for, not the rest of their runs', async () => {
    const tis = await airflow.taskInstancesOfTasks([{dagId: DAG, taskId: 't_queued', runId: RUN_RUNNING}])
    expect(tis.map((ti) => ti.taskId)).toEqual(['t_queued'])
  })

  it('taskInstancesOfTasks of no tasks is empty', async () => {
    expect(await airflow.taskInstancesOfTasks([])).toEqual([])
  })

  it('the task instances read back as active are exactly the unfinished ones (NULL state included)', async () => {
    const tis = await airflow.taskInstancesOfRuns([{dagId: DAG, runId: RUN_RUNNING}])
    const active = tis.filter((ti) => ti.mapIndex === -1 && isActiveState(ti.state)).map((ti) => ti.taskId)
    expect(active.sort()).toEqual([...ACTIVE].sort())
  })

  it('taskInstancesOfRuns returns every state, with typed fields', async () => {
    const tis = (await airflow.taskInstancesOfRuns([{dagId: DAG, runId: RUN_RUNNING}])).sort(byKey)
    expect(tis).toHaveLength(Object.keys(TIS).length + 2)
    const running = tis.find((ti) => ti.taskId === 't_running')!
    expect(running).toEqual({
      dagId: DAG,
      taskId: 't_running',
      runId: RUN_RUNNING,
      mapIndex: -1,
      state: 'running',
      tryNumber: 2,
      startDate: minutes(-10),
      operator: 'KubernetesPodOperator',
    })
    expect(tis.find((ti) => ti.taskId === 't_none')!.startDate).toBeNull()
  })

  it('makes the try number effective (FACTS §4.2): < 2.10 adds one unless running', async () => {
    const tis = await airflow.taskInstancesOfRuns([{dagId: DAG, runId: RUN_RUNNING}])
    const tryOf = (taskId: string) => tis.find((ti) => ti.taskId === taskId)!.tryNumber
    const plusOne = backend.family === 'airflow-2.7' ? 1 : 0
    expect(tryOf('t_running')).toBe(2) // the column while running, in every version
    expect(tryOf('t_deferred')).toBe(2 + plusOne) // 2.7 decrements the column on deferral
    expect(tryOf('t_up_for_retry')).toBe(1 + plusOne)
    expect(tryOf('t_none')).toBe(0 + plusOne)
    expect(tryOf('t_null_try')).toBe(0 + plusOne) // NULL column reads as 0
  })

  it('sees a state change made after the first read (no caching)', async () => {
    const key = {dagId: DAG, taskId: 't_success', runId: RUN_RUNNING}
    await db.seed.setTaskInstance(key, {state: 'running', tryNumber: 4})
    try {
      const tis = await airflow.taskInstancesOfTasks([key])
      expect(tis.find((ti) => ti.taskId === 't_success')).toMatchObject({state: 'running', tryNumber: 4})
    } finally {
      await db.seed.setTaskInstance(key, {state: 'success', tryNumber: 1})
    }
  })

  describe('podNameXComs', () => {
    const run = 'xcom_run'
    const dagId = 'xcom_dag'
    const key = (taskId: string, mapIndex = -1) => ({dagId, taskId, runId: run, mapIndex})

    beforeAll(async () => {
      const tasks = ['plain', 'orm', 'object', 'number', 'reference', 'null_value', 'garbage', 'no_xcom', 'other_key_only']
      for (const taskId of tasks) await db.seed.taskInstance({dagId, taskId, runId: run, state: 'running', tryNumber: 2})
      await db.seed.taskInstance({dagId, taskId: 'mapped', runId: run, mapIndex: 3, state: 'running', tryNumber: 1})
      await db.seed.xcom({...key('plain'), key: 'pod_name', value: 'kpo-pod-abc123'})
      await db.seed.xcom({...key('plain'), key: 'pod_namespace', value: 'airflow'})
      await db.seed.xcom({...key('orm'), key: 'pod_name', value: 'kpo-pod-orm', encoding: 'orm'})
      await db.seed.xcom({...key('object'), key: 'pod_name', value: {name: 'kpo-pod'}})
      await db.seed.xcom({...key('number'), key: 'pod_name', value: 42})
      await db.seed.xcom({...key('reference'), key: 'pod_name', value: 's3://bucket/xcom/abc'})
      await db.seed.xcom({...key('null_value'), key: 'pod_name'})
      await db.seed.xcom({
        ...key('garbage'),
        key: 'pod_name',
        // 2.x: pickled bytes (enable_xcom_pickling), not UTF-8; 3.x: a JSON string that is not a name
        raw: isAirflow3 ? JSON.stringify('not a pod name') : Buffer.from([0x80, 0x04, 0x95, 0xff, 0x00]),
      })
      await db.seed.xcom({...key('other_key_only'), key: 'pod_namespace', value: 'airflow'})
      await db.seed.xcom({...key('mapped', 3), key: 'pod_name', value: 'kpo-pod-m3'})
    })

    it('decodes plain names and reports non-names as null, in one call', async () => {
      const names = await airflow.podNameXComs([
        key('plain'),
        key('orm'),
        key('object'),
        key('number'),
        key('reference'),
        key('null_value'),
        key('garbage'),
        key('no_xcom'),
        key('other_key_only'),
        key('mapped', 3),
        key('mapped', 4),
        key('plain'),
      ])
      const expected = new Map<string, string | null>([
        [taskKeyString(key('plain')), 'kpo-pod-abc123'],
        // 3.x ORM form: a JSON string holding JSON text, decoded twice. In 2.x the value is plain JSON.
        [taskKeyString(key('orm')), 'kpo-pod-orm'],
        [taskKeyString(key('object')), null],
        [taskKeyString(key('number')), null],
        [taskKeyString(key('reference')), null],
        [taskKeyString(key('null_value')), null],
        [taskKeyString(key('garbage')), null],
        [taskKeyString(key('mapped', 3)), 'kpo-pod-m3'],
      ])
      expect(names).toEqual(expected)
    })

    it('of no keys is empty', async () => {
      expect((await airflow.podNameXComs([])).size).toBe(0)
    })
  })

  describe('the seeder (test support) writes serialized DAGs as Airflow does', () => {
    const data = {__version: isAirflow3 ? 2 : 1, dag: {dag_id: 'ser_dag', tasks: [{__type: 'operator', __var: {task_id: 't', execution_timeout: 3600.0}}]}}

    it.each([undefined, 'zlib', 'gzip'] as const)('compressed: %s', async (compressed) => {
      const {dagVersionId} = await db.seed.serializedDag({dagId: 'ser_dag', data, compressed})
      expect(dagVersionId === undefined).toBe(!isAirflow3)
      const where = isAirflow3 ? 'dag_version_id = ?' : 'dag_id = ?'
      const [row] = await db.seed.sql<{data: unknown; data_compressed: Uint8Array | null}>(
        `SELECT data, data_compressed FROM serialized_dag WHERE ${where}`,
        [dagVersionId ?? 'ser_dag'],
      )
      const {inflateSync, gunzipSync} = await import('node:zlib')
      const stored = row!.data_compressed
        ? JSON.parse((compressed === 'gzip' ? gunzipSync : inflateSync)(row!.data_compressed).toString('utf8'))
        : typeof row!.data === 'string'
          ? JSON.parse(row!.data)
          : row!.data
      expect(stored).toEqual(data)
    })

    it.runIf(isAirflow3)('3.x task instances point at the newest dag_version of their DAG', async () => {
      const {dagVersionId} = await db.seed.serializedDag({dagId: 'ser_dag2', data})
      const {id} = await db.seed.taskInstance({dagId: 'ser_dag2', taskId: 't', runId: 'r', state: 'running', tryNumber: 1})
      const [row] = await db.seed.sql<{id: string; dag_version_id: string}>(
        "SELECT id, dag_version_id FROM task_instance WHERE dag_id = 'ser_dag2'",
      )
      expect(row).toEqual({id, dag_version_id: dagVersionId})
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    })
  })

  it('answers for thousands of runs at once', async () => {
    const runs = Array.from({length: 2500}, (_, i) => ({dagId: DAG, runId: `missing_${i}`}))
    runs.splice(1234, 0, {dagId: DAG, runId: 'recent_failed'})
    const tis = await airflow.taskInstancesOfRuns(runs)
    expect(tis.map((ti) => ti.taskId)).toEqual(['done'])
  })

  it('sends a key list longer than one statement carries as several, with the same rows as one statement', async () => {
    const driver = await openDriver(parseDbUrl(db.url))
    let statements = 0
    const counting: SqlDriver = {
      dialect: driver.dialect,
      query: (sql, params) => (statements++, driver.query(sql, params)),
      queryMapped: (sql, params, map) => (statements++, driver.queryMapped(sql, params, map)),
      close: () => driver.close(),
    }
    const sliced = new SqlAirflowDb(counting, airflow.schema, await queriesFor(counting), 2)
    try {
      const tasks = [...Object.keys(TIS), 'mapped'].map((taskId) => ({dagId: DAG, taskId, runId: RUN_RUNNING}))
      const runs = [{dagId: DAG, runId: RUN_RUNNING}, {dagId: DAG, runId: RUN_QUEUED}, RUN_OTHER_DAG, {dagId: DAG, runId: 'recent_failed'}, {dagId: DAG, runId: 'no_such_run'}]
      statements = 0
      const byTask = await sliced.taskInstancesOfTasks(tasks)
      expect(statements).toBe(Math.ceil(tasks.length / 2))
      expect(byTask.sort(byKey)).toEqual((await airflow.taskInstancesOfTasks(tasks)).sort(byKey))
      expect(byTask).toHaveLength(Object.keys(TIS).length + 2) // every task's rows, both map indexes of `mapped`
      statements = 0
      const byRun = await sliced.taskInstancesOfRuns(runs)
      expect(statements).toBe(3)
      expect(byRun.sort(byKey)).toEqual((await airflow.taskInstancesOfRuns(runs)).sort(byKey))
      const keys = ['plain', 'orm', 'number', 'no_xcom', 'garbage'].map((taskId) => ({dagId: 'xcom_dag', taskId, runId: 'xcom_run', mapIndex: -1}))
      expect(await sliced.podNameXComs(keys)).toEqual(await airflow.podNameXComs(keys))
    } finally {
      await sliced.close()
    }
  })

  it('answers for thousands of tasks at once', async () => {
    const tasks = Array.from({length: 2500}, (_, i) => ({dagId: DAG, taskId: `missing_${i}`, runId: RUN_QUEUED}))
    tasks.splice(1234, 0, {dagId: DAG, taskId: 'q_task', runId: RUN_QUEUED})
    const tis = await airflow.taskInstancesOfTasks(tasks)
    expect(tis.map((ti) => ti.taskId)).toEqual(['q_task'])
  })
})
