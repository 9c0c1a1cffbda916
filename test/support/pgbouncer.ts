// A real PgBouncer (Debian's `pgbouncer` package) in front of the test PostgreSQL, configured as the
// official Helm chart configures its own (chart/templates/_helpers.yaml `pgbouncer_config`):
// transaction pooling, `ignore_startup_parameters = extra_float_digits`, one `<release>-metadata`
// database entry. Listens on 127.0.0.1 and an ephemeral port; its files live in a temporary directory.
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import net from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {parseDbUrl} from '../../src/airflow/url.js'
import type {TestAirflowDb} from './airflow-db/index.js'
import {closedPort} from './faults.js'

export const PGBOUNCER_BINARY = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'].find((file) => existsSync(file))

/** Why the PgBouncer tests cannot run here, or undefined when they can. */
// In CI (.ci/run installs it) a missing binary must fail the tests, not skip them.
export const pgbouncerMissing = PGBOUNCER_BINARY || process.env.CI
  ? undefined
  : 'the pgbouncer binary is not installed (apt-get install -y pgbouncer; .ci/run installs it)'

export interface PgBouncer {
  port: number
  /** The URL a client uses for `database` through PgBouncer. */
  url(database: string, user?: string): string
  stop(): Promise<void>
}

export interface PgBouncerOptions {
  /** PgBouncer database name → the PostgreSQL database it stands for. */
  databases: Record<string, string>
  /** Roles allowed to log in (auth_type trust still needs them in auth_file); default postgres. */
  users?: string[]
  /** Server connections per database and user (default 5; 1 makes every client share one). */
  poolSize?: number
  upstream?: {host: string; port: number}
}

export async function startPgBouncer(options: PgBouncerOptions): Promise<PgBouncer> {
  if (!PGBOUNCER_BINARY) throw new Error(pgbouncerMissing)
  const dir = mkdtempSync(path.join(tmpdir(), 'reap-pgbouncer-'))
  // PgBouncer refuses to run as root: it is started as `postgres` then, which must read and write here.
  chmodSync(dir, 0o777)
  const upstream = options.upstream ?? {host: '127.0.0.1', port: 5432}
  const port = await closedPort()
  const databases = Object.entries(options.databases)
    .map(([name, dbname]) => `${name} = host=${upstream.host} port=${upstream.port} dbname=${dbname} pool_size=${options.poolSize ?? 5}`)
    .join('\n')
  const users = options.users ?? ['postgres']
  writeFileSync(path.join(dir, 'users.txt'), users.map((user) => `"${user}" ""\n`).join(''))
  writeFileSync(
    path.join(dir, 'pgbouncer.ini'),
    `[databases]
${databases}

[pgbouncer]
pool_mode = transaction
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = trust
auth_file = ${path.join(dir, 'users.txt')}
ignore_startup_parameters = extra_float_digits
max_client_conn = 100
logfile = ${path.join(dir, 'pgbouncer.log')}
pidfile = ${path.join(dir, 'pgbouncer.pid')}
`,
  )
  const asRoot = process.getuid?.() === 0
  const args = [...(asRoot ? ['-u', 'postgres'] : []), path.join(dir, 'pgbouncer.ini')]
  const child = spawn(PGBOUNCER_BINARY, args, {stdio: ['ignore', 'ignore', 'pipe']})
  let stderr = ''
  child.stderr!.on('data', (chunk) => (stderr += chunk))
  try {
    await waitForPort(port, child, () => `${stderr}${readLog(dir)}`)
  } catch (error) {
    child.kill('SIGKILL')
    rmSync(dir, {recursive: true, force: true})
    throw error
  }
  return {
    port,
    url: (database, user = 'postgres') => `postgresql://${user}@127.0.0.1:${port}/${database}`,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        // PgBouncer 1.23+ waits on SIGTERM for its clients to leave: a leaked one must not hang afterAll.
        const hard = setTimeout(() => child.kill('SIGKILL'), 5_000)
        await exited
        clearTimeout(hard)
      }
      rmSync(dir, {recursive: true, force: true})
    },
  }
}

function readLog(dir: string): string {
  try {
    return readFileSync(path.join(dir, 'pgbouncer.log'), 'utf8')
  } catch {
    return ''
  }
}


async function waitForPort(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`pgbouncer exited with code ${child.exitCode}: ${output()}`)
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1')
      const settle = (open: boolean) => {
        socket.destroy()
        resolve(open)
      }
      socket.once('connect', () => settle(true))
      socket.once('error', () => settle(false))
      socket.setTimeout(500, () => settle(false))
    })
    if (open) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`pgbouncer did not listen on port ${port} within 10 s: ${output()}`)
}

/** The pgbouncer version line, for skip messages and bench notes. */
export function pgbouncerVersion(): string | undefined {
  if (!PGBOUNCER_BINARY) return undefined
  return spawnSync(PGBOUNCER_BINARY, ['--version'], {encoding: 'utf8'}).stdout.split('\n')[0]
}

/**
 * A test Airflow DB (createPostgresAirflowDb) reached through its own PgBouncer: the URL names
 * PgBouncer's `airflow-metadata` database entry, as the chart's metadata Secret does; drop() stops
 * PgBouncer too.
 */
export async function behindPgBouncer(db: TestAirflowDb, entry = 'airflow-metadata'): Promise<TestAirflowDb & {pgbouncer: PgBouncer}> {
  const url = parseDbUrl(db.url, 'test')
  let pgbouncer: PgBouncer
  try {
    pgbouncer = await startPgBouncer({databases: {[entry]: url.database!}, users: [url.user ?? 'postgres']})
  } catch (error) {
    await db.drop()
    throw error
  }
  const userInfo = `${encodeURIComponent(url.user ?? 'postgres')}${url.password ? `:${encodeURIComponent(url.password)}` : ''}@`
  return {
    ...db,
    url: `postgresql://${userInfo}127.0.0.1:${pgbouncer.port}/${entry}`,
    pgbouncer,
    drop: async () => {
      await pgbouncer.stop()
      await db.drop()
    },
  }
}
