// Running the real Airflow of a venv: `airflow db migrate` into a throwaway DB, and scenario.py (one
// long Python process per scenario) with the test answering its requests to create objects.
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {createInterface} from 'node:readline'
import mysql from 'mysql2/promise'
import {cleanEnv, runProcess} from '../cli.js'
import {randomName} from '../airflow-db/common.js'
import {withClient} from '../airflow-db/postgres.js'
import type {PodCluster} from './cluster.js'
import {REAL_AIRFLOW_DIR, type AirflowVenv} from './venv.js'

export type DbKind = 'postgresql' | 'sqlite' | 'mysql'

export interface RealAirflowDb {
  kind: DbKind
  /** The URL airflow-reap is given (--db). */
  url: string
  /** The SQLAlchemy URL Airflow itself uses (its driver for this line). */
  airflowUrl: string
  /** AIRFLOW_HOME of this DB's Airflow (airflow.cfg, logs). */
  home: string
  drop(): Promise<void>
}

const PG_ADMIN = {host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres'}
const MYSQL_ADMIN = {host: '127.0.0.1', port: 3306, user: 'root'}

/** Airflow's environment: nothing of the developer's own (cleanEnv), no .pyc written into the clone. */
export function airflowEnv(venv: AirflowVenv, home: string, airflowUrl: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return cleanEnv({
    AIRFLOW_HOME: home,
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: airflowUrl,
    AIRFLOW__CORE__LOAD_EXAMPLES: 'False',
    AIRFLOW__CORE__DAGS_FOLDER: path.join(REAL_AIRFLOW_DIR, 'dags'),
    PYTHONDONTWRITEBYTECODE: '1',
    PATH: `${path.join(venv.dir, 'bin')}:${process.env.PATH ?? ''}`,
    ...extra,
  })
}

/** A new database of this kind, migrated by `airflow db migrate` of this venv. */
export async function migratedDb(venv: AirflowVenv, kind: DbKind): Promise<RealAirflowDb> {
  const home = mkdtempSync(path.join(os.tmpdir(), `reap-airflow-${venv.line}-${kind}-`))
  const db = await emptyDb(venv, kind, home)
  const result = await runProcess(venv.airflow, ['db', 'migrate'], {env: airflowEnv(venv, home, db.airflowUrl), timeoutMs: 240_000})
  if (result.code !== 0) {
    await db.drop()
    throw new Error(`airflow db migrate (${venv.line}, ${kind}) exited ${result.code}:\n${(result.stdout + result.stderr).slice(-3000)}`)
  }
  return db
}

async function emptyDb(venv: AirflowVenv, kind: DbKind, home: string): Promise<RealAirflowDb> {
  const removeHome = () => rmSync(home, {recursive: true, force: true})
  const name = randomName('reap_real')
  if (kind === 'sqlite') {
    const url = `sqlite:///${path.join(home, 'airflow.db')}`
    return {kind, url, airflowUrl: url, home, drop: async () => removeHome()}
  }
  if (kind === 'postgresql') {
    await withClient(PG_ADMIN, (client) => client.query(`CREATE DATABASE ${name}`))
    const url = `postgresql://postgres@127.0.0.1:5432/${name}`
    const drop = async () => {
      await withClient(PG_ADMIN, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
      removeHome()
    }
    return {kind, url, airflowUrl: url, home, drop}
  }
  await withMysql((c) => c.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`))
  // 2.10: the pure-Python PyMySQL; 3.x accepts only mysqlclient (plain mysql://).
  const scheme = venv.line === '2.10' ? 'mysql+pymysql' : 'mysql'
  const drop = async () => {
    await withMysql((c) => c.query(`DROP DATABASE IF EXISTS ${name}`))
    removeHome()
  }
  return {kind, url: `mysql://root@127.0.0.1:3306/${name}`, airflowUrl: `${scheme}://root@127.0.0.1:3306/${name}`, home, drop}
}

async function withMysql<T>(body: (connection: mysql.Connection) => Promise<T>): Promise<T> {
  const connection = await mysql.createConnection(MYSQL_ADMIN)
  try {
    return await body(connection)
  } finally {
    await connection.end()
  }
}

// --- scenario.py -----------------------------------------------------------------------------

export interface AirflowFacts {
  airflow: string
  provider: string
  finished: string[]
  unfinished: string[]
  revisionHeads: Record<string, string>
  /** The provider's make_safe_label_value of each input given. */
  labels: Record<string, string>
}

/** A pod built by the provider, with Airflow's own verdict on it (scenario.py World.verdicts). */
export interface WorldPod {
  name: string
  namespace: string
  task_id: string
  map_index: number
  labels: Record<string, string>
  owned: boolean
  dagId: string
  runId: string
  state: string
  tryNumber: number
  podNameXCom: string | null
  verdict: 'finished' | 'retried' | 'live'
  overdue: boolean
  executionTimeout: number | null
}

const MARK = '@@reap '

/**
 * Runs scenario.py COMMAND in the venv against `db`, answering its create requests with `cluster`
 * (`extraEnv`: Airflow configuration, e.g. a custom XCom backend).
 * Returns its final result; throws with Airflow's output when it fails.
 */
export async function runScenario<T>(
  venv: AirflowVenv,
  command: 'facts' | 'world' | 'reference',
  args: string[],
  db: RealAirflowDb | undefined,
  cluster?: PodCluster,
  extraEnv: Record<string, string> = {},
): Promise<T> {
  const home = db?.home ?? mkdtempSync(path.join(os.tmpdir(), 'reap-airflow-facts-'))
  const extra: Record<string, string> = {...extraEnv}
  if (cluster) {
    extra.KUBECONFIG = cluster.writeKubeconfig(path.join(home, 'kubeconfig'))
    extra.REAP_POD_NAMESPACE = cluster.namespace
  }
  const env = airflowEnv(venv, home, db?.airflowUrl ?? `sqlite:///${path.join(home, 'airflow.db')}`, extra)
  const child = spawn(venv.python, [path.join(REAL_AIRFLOW_DIR, 'scenario.py'), command, ...args], {env, stdio: ['pipe', 'pipe', 'pipe']})
  let output = ''
  child.stderr.on('data', (chunk) => (output += chunk))
  const timer = setTimeout(() => child.kill('SIGKILL'), 240_000)
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  let result: T | undefined
  try {
    for await (const line of createInterface({input: child.stdout})) {
      if (!line.startsWith(MARK)) {
        output += `${line}\n`
        continue
      }
      const message = JSON.parse(line.slice(MARK.length)) as Record<string, unknown>
      if ('result' in message) result = message.result as T
      else child.stdin.write(`${JSON.stringify(await answer(message, cluster))}\n`)
    }
  } finally {
    clearTimeout(timer)
    child.stdin.end()
  }
  const code = await exited
  if (!db) rmSync(home, {recursive: true, force: true})
  if (code !== 0 || result === undefined) throw new Error(`scenario.py ${command} (Airflow ${venv.line}) exited ${code}:\n${output.slice(-4000)}`)
  return result
}

async function answer(message: Record<string, unknown>, cluster: PodCluster | undefined): Promise<object> {
  if (!cluster) return {error: 'no cluster'}
  try {
    if ('create' in message) return {object: await cluster.create('pods', message.create as never)}
    if ('createJob' in message) return await cluster.createJob(message.createJob as never)
    return {error: `unknown request ${Object.keys(message).join(',')}`}
  } catch (error) {
    return {error: (error as Error).message}
  }
}
