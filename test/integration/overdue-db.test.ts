// The SqlAirflowDb methods the overdue command added, against real databases of every family/dialect:
// running/deferred task instances with their DAG-version references, and serialized DAG rows by
// exact version (3.x) or latest, undecoded (JSON text or compressed bytes).
import {inflateSync} from 'node:zlib'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {openAirflowDb} from '../../src/airflow/open.js'
import type {SqlAirflowDb} from '../../src/airflow/sql-airflow-db.js'
import {parseDbUrl} from '../../src/airflow/url.js'
import {decodeSerializedDag} from '../../src/airflow/serialized-dag.js'
import {
  type TestAirflowDb,
  createMysqlAirflowDb,
  createPostgresAirflowDb,
  createSqliteAirflowDb,
} from '../support/airflow-db/index.js'
import {behindPgBouncer, pgbouncerMissing} from '../support/pgbouncer.js'

const BACKENDS: Array<[string, () => Promise<TestAirflowDb>]> = [
  ['postgresql 2.7', () => createPostgresAirflowDb('2.7')],
  ['postgresql 2.10', () => createPostgresAirflowDb('2.10')],
  ['postgresql 3.x', () => createPostgresAirflowDb('3.x')],
  ['sqlite 2.10', () => createSqliteAirflowDb('2.10')],
  ['sqlite 3.x', () => createSqliteAirflowDb('3.x')],
  ['mysql 2.10', () => createMysqlAirflowDb('2.10')],
  ...(pgbouncerMissing
    ? []
    : ([
        ['postgresql 2.10 behind PgBouncer', async () => behindPgBouncer(await createPostgresAirflowDb('2.10'))],
        ['postgresql 3.x behind PgBouncer', async () => behindPgBouncer(await createPostgresAirflowDb('3.x'))],
      ] satisfies Array<[string, () => Promise<TestAirflowDb>]>)),
]

describe.skipIf(!pgbouncerMissing)('overdue queries behind PgBouncer', () => {
  it.skip(`skipped: ${pgbouncerMissing}`, () => undefined)
})

const DAG = 'dag_a'
const OTHER = 'dag_b'
const UNTIMED = 'dag_c' // its task sets no execution_timeout
const RUN = 'manual__2026-01-01T00:00:00+00:00'
const START = new Date('2026-01-01T10:00:00.123Z')
const dagData = (timeout: number) => ({__version: 1, dag: {tasks: [{__type: 'operator', __var: {task_id: 't', execution_timeout: timeout}}]}})

describe.each(BACKENDS)('overdue queries on %s', (_name, create) => {
  let db: TestAirflowDb
  let airflow: SqlAirflowDb
  let v1: string | undefined
  let v2: string | undefined
  let otherVersion: string | undefined
  const is3 = () => db.version === '3.x'

  beforeAll(async () => {
    db = await create()
    const seed = db.seed
    v1 = (await seed.serializedDag({dagId: DAG, data: dagData(60)})).dagVersionId
    v2 = (await seed.serializedDag({dagId: DAG, data: dagData(120), compressed: 'zlib'})).dagVersionId
    otherVersion = (await seed.serializedDag({dagId: OTHER, data: dagData(180), compressed: 'gzip'})).dagVersionId
    await seed.serializedDag({dagId: UNTIMED, data: {__version: 1, dag: {tasks: [{__type: 'operator', __var: {task_id: 't'}}]}}})
    const deferredRaw = db.version === '2.7' ? 1 : 2 // < 2.10 stores a deferred try one lower (FACTS §4.2)
    for (const [taskId, state, tryNumber] of [
      ['running', 'running', 1],
      ['deferred', 'deferred', deferredRaw],
      ['queued', 'queued', 1],
      ['success', 'success', 1],
      ['up_for_retry', 'up_for_retry', 1],
    ] as const) {
      await seed.taskInstance({dagId: DAG, taskId, runId: RUN, state, tryNumber, startDate: START, dagVersionId: v1})
    }
    await seed.taskInstance({dagId: DAG, taskId: 'elsewhere', runId: 'other_run', state: 'running', tryNumber: 1})
    if (is3()) await seed.sql('UPDATE dag_run SET created_dag_version_id = ? WHERE dag_id = ? AND run_id = ?', [v2, DAG, RUN])
    airflow = await openAirflowDb(parseDbUrl(db.url))
  })

  afterAll(async () => {
    await airflow?.close()
    await db?.drop()
  })

  it('executingTaskInstances: running and deferred task instances of the given runs only, with their version references', async () => {
    const rows = await airflow.executingTaskInstances([
      {dagId: DAG, runId: RUN},
      {dagId: DAG, runId: RUN},
      {dagId: 'no_such_dag', runId: RUN},
    ])
    const sorted = rows.sort((a, b) => a.taskId.localeCompare(b.taskId))
    expect(sorted.map((r) => [r.taskId, r.state, r.tryNumber])).toEqual([
      ['deferred', 'deferred', 2],
      ['running', 'running', 1],
    ])
    expect(sorted[0].startDate).toEqual(START)
    if (is3()) {
      expect(sorted.map((r) => r.dagVersionId)).toEqual([v1, v1])
      expect(sorted.map((r) => r.runDagVersionId)).toEqual([v2, v2])
    } else {
      expect(sorted.every((r) => r.dagVersionId === null && r.runDagVersionId === null)).toBe(true)
    }
    expect(await airflow.executingTaskInstances([])).toEqual([])
  })

  it('serializedDags: the latest row of each DAG (2.x: its only row), undecoded', async () => {
    const {latest, byVersion} = await airflow.serializedDags({versionIds: [], latestOf: [DAG, OTHER, DAG, 'missing']})
    expect(byVersion.size).toBe(0)
    expect([...latest.keys()].sort()).toEqual([DAG, OTHER])
    const a = latest.get(DAG)!
    const b = latest.get(OTHER)!
    // 2.x replaces the row: the last written (compressed, 120 s); 3.x: the newest version, also that one.
    expect(a.data).toBeNull()
    expect(JSON.parse(inflateSync(Buffer.from(a.dataCompressed!)).toString('utf8'))).toEqual(dagData(120))
    expect(decodeSerializedDag(b.data, b.dataCompressed)).toEqual(dagData(180)) // gzip
    if (is3()) {
      expect(a).toMatchObject({versionId: v2, versionNumber: 2})
      expect(b).toMatchObject({versionId: otherVersion, versionNumber: 1})
    } else {
      expect(a).toMatchObject({versionId: null, versionNumber: null})
    }
  })

  it('serializedDags: exact versions on 3.x (ignored on 2.x), plain JSON returned as text', async () => {
    const ids = is3() ? [v1!, v2!] : ['whatever']
    const {byVersion, latest} = await airflow.serializedDags({versionIds: ids, latestOf: []})
    expect(latest.size).toBe(0)
    if (!is3()) {
      expect(byVersion.size).toBe(0)
      return
    }
    expect([...byVersion.keys()].sort()).toEqual([v1, v2].sort())
    const first = byVersion.get(v1!)!
    expect(typeof first.data).toBe('string')
    expect(JSON.parse(first.data!)).toEqual(dagData(60))
    expect(first).toMatchObject({dagId: DAG, versionNumber: 1, dataCompressed: null})
  })

  it("executionTimeouts: the try's own version (3.x) or the only row (2.x); the 2.x default only on 2.x", async () => {
    const executing = (dagId: string, dagVersionId: string | null = null) => ({
      dagId, taskId: 't', runId: RUN, mapIndex: -1, state: 'running', tryNumber: 1, startDate: START, operator: null, dagVersionId, runDagVersionId: null,
    })
    const tis = [executing(DAG, v1 ?? null), executing(UNTIMED), executing('missing')]
    const answers = [...(await airflow.executionTimeouts(tis, 300)).values()]
    expect(answers).toEqual([
      {kind: 'seconds', seconds: is3() ? 60 : 120},
      // Airflow 3's task SDK does not apply [core] default_task_execution_timeout.
      is3() ? {kind: 'none'} : {kind: 'seconds', seconds: 300},
      {kind: 'unknown', reason: 'no serialized DAG of missing in the Airflow DB'},
    ])
  })
})
