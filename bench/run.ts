// `npm run bench`: the start-up of the release executable against `kubectl version --client`, then
// airflow-reap `zombies` against the floor and the manual peer at N = 1k, 10k, 50k (and 150k)
// KubernetesPodOperator pods (M = 100 × N task-instance rows), the growth with M, the bytes kept per
// pod, and deletion throughput. Writes bench/results.json and the results section of bench/README.md.
//
//   node dist/bench/run.js [--sizes 1000,10000,50000,150000] [--runs 5] [--peer-runs-50k 3] [--peer-max 50000] [--delete-runs 3]
//                          [--startup-rounds 15] [--first-runs 3] [--skip-startup] [--no-write] [--skip-delete] [--skip-m-growth]
//   node dist/bench/run.js --startup-only [--startup-rounds 15]   (the start-up section alone, printed)
//   node dist/bench/run.js --serve N [--latency MS]     (one size kept up for profiling by hand)
//   node dist/bench/run.js --api [--sizes 10000]          (zombies through the DB and through the REST API, the same rows)
//   node dist/bench/run.js --port-forward [--sizes 50000] [--runs 5]   (direct vs through the port-forward only)
//   node dist/bench/run.js --real [--sizes 10000,50000] [--runs 5]      (the floor and zombies against a real kube-apiserver)
import {type ChildProcess, execFileSync, fork, spawn, spawnSync} from 'node:child_process'
import {once} from 'node:events'
import {copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import yaml from 'js-yaml'
import {type BenchDb, buildBenchDb} from './db.js'
import {fixtureFromDb} from './api-fixture.js'
import {startFakeAirflowApi} from '../test/support/fake-airflow-api/index.js'
import {type Plan, planDataset, zombieCount} from './dataset.js'
import {type StartupReport, benchStartup, startupMarkdown, startupVerdicts} from './startup.js'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const benchDir = path.join(repo, 'bench')

// --- options ---------------------------------------------------------------------------------------

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`)
  return index >= 0 ? process.argv[index + 1] : undefined
}
const flag = (name: string) => process.argv.includes(`--${name}`)

const SIZES = (option('sizes') ?? '1000,10000,50000,150000').split(',').map(Number)
const RUNS = Number(option('runs') ?? 5)
/** The peer takes about two minutes a run at 50k (kubectl -o json alone most of it): fewer runs there, to stay in the 20-minute budget. */
const PEER_RUNS_AT_50K = Number(option('peer-runs-50k') ?? 3)
const DELETE_RUNS = Number(option('delete-runs') ?? 3)
/**
 * The peer is not run above this size: `kubectl get -o json` held 5.2 GB at 50k and grows with the
 * pods (about 15 GB at 150k), more than a shared 24 GB machine can lend it next to the fake server and
 * PostgreSQL. Its row then says so.
 */
const PEER_MAX = Number(option('peer-max') ?? 50_000)
const STARTUP_ROUNDS = Number(option('startup-rounds') ?? 15)
const FIRST_RUNS = Number(option('first-runs') ?? 3)
/** The largest cluster Kubernetes supports (its scalability thresholds: 150,000 pods). */
const BIG_N = 150_000
const WRITE = !flag('no-write')
const DELETE_N = 50_000
const DELETE_COUNT = 1_500
const DELETE_LATENCY_MS = 5
const CONCURRENCIES = [1, 10, 50]
const M_GROWTH_N = 10_000
const M_GROWTH_FACTOR = 2 // M = 100 × N → 200 × N (appending with the indexes in place costs ~45 s per million rows)
const M_GROWTH_RUNS = 3
/** The CLI under test: this checkout's build, or BENCH_CLI (another build's bin/run.js, to compare a change). */
const CLI = path.resolve(process.env.BENCH_CLI ?? path.join(repo, 'bin', 'run.js'))

const started = Date.now()
const log = (line: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`)

// --- machine set-up ----------------------------------------------------------------------------------

function have(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], {stdio: 'ignore'}).status === 0
}

/** kubectl, jq, psql and GNU time from Debian when missing (the fresh-machine case). */
function ensureTools(): void {
  const wanted: Array<[string, string]> = [
    ['kubectl', 'kubernetes-client'],
    ['jq', 'jq'],
    ['psql', 'postgresql-client'],
    ['/usr/bin/time', 'time'],
  ]
  const missing = wanted.filter(([command]) => (command.startsWith('/') ? !existsSync(command) : !have(command))).map(([, pkg]) => pkg)
  if (missing.length === 0) return
  log(`installing ${missing.join(', ')} (apt-get)`)
  execFileSync('apt-get', ['update', '-qq'], {stdio: 'inherit'})
  execFileSync('apt-get', ['install', '-y', '-qq', ...missing], {stdio: 'inherit', env: {...process.env, DEBIAN_FRONTEND: 'noninteractive'}})
}

/** PostgreSQL on 127.0.0.1:5432 as .ci/run starts it, unless AIRFLOW_REAP_TEST_PG_URL points elsewhere. */
async function ensurePostgres(): Promise<void> {
  if (process.env.AIRFLOW_REAP_TEST_PG_URL) return
  const ready = () => spawnSync('pg_isready', ['-h', '127.0.0.1', '-p', '5432', '-q']).status === 0
  if (ready()) return
  log('starting PostgreSQL')
  const version = readdirSync('/etc/postgresql')[0]
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], {stdio: 'inherit'})
  for (let i = 0; i < 60 && !ready(); i++) await new Promise((r) => setTimeout(r, 1000))
  if (!ready()) throw new Error('PostgreSQL did not come up within 60 s')
}

/** The compiled fake reads its TLS material next to itself; the DB builder reads test/fixtures/shared/airflow/ddl. */
function prepareDist(): void {
  const from = path.join(repo, 'test', 'support', 'certs')
  const to = path.join(repo, 'dist', 'test', 'support', 'certs')
  mkdirSync(to, {recursive: true})
  for (const file of readdirSync(from).filter((f) => f.endsWith('.pem'))) copyFileSync(path.join(from, file), path.join(to, file))
  cpSync(path.join(repo, 'test', 'fixtures'), path.join(repo, 'dist', 'test', 'fixtures'), {recursive: true})
}

function commandOutput(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']}).trim()
  } catch {
    return 'unknown'
  }
}

function machine(): Record<string, string | number> {
  const cpus = os.cpus()
  return {
    cpu: `${cpus[0]?.model ?? 'unknown'} × ${cpus.length}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    postgres: commandOutput('psql', [pgAdminUrl(), '-XAtc', 'SHOW server_version']),
    kubectl: commandOutput('kubectl', ['version', '--client', '-o', 'json']).match(/"gitVersion":\s*"([^"]+)"/)?.[1] ?? 'unknown',
    jq: commandOutput('jq', ['--version']),
  }
}

function pgAdminUrl(): string {
  return process.env.AIRFLOW_REAP_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'
}

function loadAverage(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(' ')
}

// --- the fake API server process -------------------------------------------------------------------------

class BenchServer {
  private readonly child: ChildProcess
  private waiting: Array<(message: Record<string, unknown>) => void> = []
  private closed = false
  url = ''

  constructor() {
    this.child = fork(path.join(repo, 'dist', 'bench', 'server.js'), [], {
      execArgv: ['--max-old-space-size=8192'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.child.on('message', (message: Record<string, unknown>) => this.waiting.shift()?.(message))
  }

  async call(message: Record<string, unknown>): Promise<Record<string, unknown>> {
    const answer = new Promise<Record<string, unknown>>((resolve) => this.waiting.push(resolve))
    this.child.send(message)
    const reply = await answer
    if (!reply.ok) throw new Error(`bench server: ${String(reply.error)}`)
    return reply
  }

  async load(plan: Plan, latencyMs: number, kubeconfig: string): Promise<{pods: number; zombies: number; loadMs: number}> {
    const reply = await this.call({cmd: 'load', n: plan.n, anchorMs: plan.anchorMs, latencyMs, kubeconfig})
    this.url = String(reply.url)
    return reply as unknown as {pods: number; zombies: number; loadMs: number}
  }

  /** Serves the pods of an NDJSON file as they are (--real: the real server's own objects). */
  async loadObjects(file: string, kubeconfig: string): Promise<{pods: number; loadMs: number}> {
    const reply = await this.call({cmd: 'load-objects', file, kubeconfig})
    this.url = String(reply.url)
    return reply as unknown as {pods: number; loadMs: number}
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    // Already gone (a Ctrl-C in the terminal reaches it too): nothing to wait for.
    if (this.child.exitCode !== null || this.child.signalCode !== null || !this.child.connected) return
    const exited = once(this.child, 'exit')
    this.child.send({cmd: 'close'})
    await exited
  }
}

// --- measuring -----------------------------------------------------------------------------------------------

interface Sample {
  wallMs: number
  rssKb: number
  code: number
  stdout: string
  stderr: string
}

let tmp = ''
/** The child being measured, if any (a clean-up on SIGINT ends it). */
let measuring: ChildProcess | undefined

/** Runs a command under GNU time (peak RSS: the largest single process, children included) and times it. */
async function measure(command: string[], env: NodeJS.ProcessEnv): Promise<Sample> {
  const timeFile = path.join(tmp, 'time.txt')
  const outFile = path.join(tmp, 'stdout.txt')
  const out = openSync(outFile, 'w')
  const child = spawn('/usr/bin/time', ['-f', '%M', '-o', timeFile, ...command], {env, stdio: ['ignore', out, 'pipe']})
  measuring = child
  let stderr = ''
  child.stderr!.on('data', (chunk) => (stderr += chunk))
  const t0 = performance.now()
  const [code] = (await once(child, 'close')) as [number]
  const wallMs = performance.now() - t0
  measuring = undefined
  closeSync(out)
  const lines = readFileSync(timeFile, 'utf8').trim().split('\n')
  return {wallMs, rssKb: Number(lines[lines.length - 1]), code, stdout: readFileSync(outFile, 'utf8'), stderr}
}

/** Environment without the developer's own cluster or Airflow settings. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(KUBECONFIG|AIRFLOW_REAP_DB|AIRFLOW__|KUBERNETES_)/.test(key)) env[key] = value
  }
  return {...env, NO_COLOR: '1', ...extra}
}

type Tool = 'floor' | 'airflow-reap' | 'peer'
const TOOLS: Tool[] = ['floor', 'airflow-reap', 'peer']

interface Target {
  kubeconfig: string
  db: string
  cache: string
  plan: Plan
}

function commandFor(tool: Tool, target: Target): {command: string[]; env: NodeJS.ProcessEnv} {
  switch (tool) {
    case 'floor': {
      const config = yaml.load(readFileSync(target.kubeconfig, 'utf8')) as {
        clusters: {cluster: {server: string; 'certificate-authority-data': string}}[]
        users: {user: {token: string}}[]
      }
      const ca = path.join(tmp, 'ca.pem')
      writeFileSync(ca, Buffer.from(config.clusters[0].cluster['certificate-authority-data'], 'base64'))
      return {
        command: [process.execPath, path.join(repo, 'dist', 'bench', 'floor.js')],
        env: cleanEnv({BENCH_SERVER: config.clusters[0].cluster.server, BENCH_TOKEN: config.users[0].user.token, BENCH_CA: ca, BENCH_DB: target.db}),
      }
    }
    case 'airflow-reap':
      return {
        command: ['kubectl', 'airflow-reap', 'zombies', '-A', '-o', 'json', '--kubeconfig', target.kubeconfig, '--db', target.db, '--cache', target.cache],
        env: cleanEnv({PATH: `${path.join(tmp, 'plugins')}:${process.env.PATH}`}),
      }
    case 'peer':
      return {command: ['bash', path.join(benchDir, 'peer.sh'), target.kubeconfig, target.db, path.join(tmp, 'peer')], env: cleanEnv({})}
  }
}

/** How many zombies the tool found (every run is checked: a fast wrong answer is no result). */
function zombiesFound(tool: Tool, sample: Sample): number {
  if (sample.code !== 0) throw new Error(`${tool} exited ${sample.code}: ${sample.stderr.slice(-2000)}`)
  switch (tool) {
    case 'floor':
      return (JSON.parse(sample.stdout) as {zombies: number}).zombies
    case 'airflow-reap': {
      const report = JSON.parse(sample.stdout) as {summary: {scanned: number}; items: {action: string; reason: string}[]}
      return report.items.filter((i) => i.action === 'none').length
    }
    case 'peer':
      return readFileSync(path.join(tmp, 'peer', 'zombies.txt'), 'utf8').split('\n').filter(Boolean).length
  }
}

function primeKubectl(target: Target): void {
  spawnSync('kubectl', ['--kubeconfig', target.kubeconfig, '--cache-dir', path.join(tmp, 'peer', 'kube-cache'), 'api-resources'], {stdio: 'ignore'})
}

async function runTool(tool: Tool, target: Target, server: BenchServer): Promise<Sample> {
  await server.call({cmd: 'expire'}) // frees the previous list's snapshot; outside the timing
  const {command, env} = commandFor(tool, target)
  const sample = await measure(command, env)
  const found = zombiesFound(tool, sample)
  const expected = zombieCount(target.plan)
  if (found !== expected) throw new Error(`${tool} found ${found} zombies, expected ${expected}\n${sample.stderr.slice(-2000)}`)
  return sample
}

interface Stat {
  median: number
  min: number
  max: number
  values: number[]
}

function stat(values: number[]): Stat {
  if (values.length === 0) return {median: NaN, min: NaN, max: NaN, values}
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  return {median, min: sorted[0], max: sorted[sorted.length - 1], values}
}

interface ToolResult {
  wallS: Stat
  rssMB: Stat
  /** Why the tool failed at this size (then the stats are empty). */
  error?: string
}

interface SizeResult {
  n: number
  pods: number
  zombies: number
  taskInstances: number
  activeTaskInstances: number
  dagRuns: number
  setupS: {db: number; server: number; dbSteps: Record<string, number>}
  tools: Record<Tool, ToolResult>
}

function toolResult(samples: Sample[], error?: string): ToolResult {
  const result: ToolResult = {wallS: stat(samples.map((s) => s.wallMs / 1000)), rssMB: stat(samples.map((s) => s.rssKb / 1024))}
  if (error) result.error = error
  return result
}

// --- the benchmark --------------------------------------------------------------------------------------------

async function setUp(n: number, latencyMs: number, label: string): Promise<{plan: Plan; server: BenchServer; db: BenchDb; target: Target; setup: SizeResult['setupS']}> {
  const plan = planDataset(n, Math.floor(Date.now() / 1000) * 1000)
  const server = new BenchServer()
  const kubeconfig = path.join(tmp, `kubeconfig-${label}`)
  const t0 = performance.now()
  const serverReady = server.load(plan, latencyMs, kubeconfig).then((r) => ({...r, s: (performance.now() - t0) / 1000}))
  const db = await buildBenchDb(plan, log)
  const dbS = (performance.now() - t0) / 1000
  const loaded = await serverReady
  log(`N=${n}: ${loaded.pods} pods (${loaded.zombies} zombies) served in ${loaded.s.toFixed(1)} s; DB ${db.rows.taskInstances} TIs (${db.rows.active} active) in ${dbS.toFixed(1)} s`)
  const target = {kubeconfig, db: db.url, cache: path.join(tmp, `runs-${label}.sqlite`), plan}
  return {plan, server, db, target, setup: {db: dbS, server: loaded.s, dbSteps: db.timings}}
}

async function benchSize(n: number): Promise<{result: SizeResult; mGrowth?: MGrowth; deletes?: DeleteResult[]}> {
  const {plan, server, db, target, setup} = await setUp(n, 0, `n${n}`)
  try {
    const samples: Record<Tool, Sample[]> = {floor: [], 'airflow-reap': [], peer: []}
    // A tool that fails (crash, wrong answer) is recorded as failed at this size and not run again.
    const errors: Partial<Record<Tool, string>> = {}
    const attempt = async (tool: Tool): Promise<Sample | undefined> => {
      if (errors[tool]) return undefined
      try {
        return await runTool(tool, target, server)
      } catch (error) {
        errors[tool] = error instanceof Error ? error.message : String(error)
        log(`N=${n} ${tool} FAILED: ${errors[tool]}`)
        return undefined
      }
    }
    const peerRuns = n >= 50_000 ? Math.min(RUNS, PEER_RUNS_AT_50K) : RUNS
    const runsOf = (tool: Tool) => (tool === 'peer' ? peerRuns : RUNS)
    if (n > PEER_MAX) errors.peer = `not run above ${fmtCount(PEER_MAX)} pods (--peer-max): kubectl get -o json needs about 5 GB per 50k pods`
    for (const tool of TOOLS) {
      if (errors[tool]) continue
      // Warm-up. The peer's (native binaries, nothing to warm but kubectl's discovery cache) is a cheap
      // kubectl call when it runs fewer times than the others.
      if (tool === 'peer' && peerRuns < RUNS) primeKubectl(target)
      else await attempt(tool)
    }
    for (let round = 0; round < RUNS; round++) {
      // Rotate the order so that no tool always runs right after the same one.
      for (let i = 0; i < TOOLS.length; i++) {
        const tool = TOOLS[(round + i) % TOOLS.length]
        if (samples[tool].length >= runsOf(tool)) continue
        const sample = await attempt(tool)
        if (!sample) continue
        samples[tool].push(sample)
        log(`N=${n} ${tool.padEnd(12)} ${(sample.wallMs / 1000).toFixed(2)} s ${(sample.rssKb / 1024).toFixed(0)} MB`)
      }
    }
    const result: SizeResult = {
      n,
      pods: plan.n,
      zombies: zombieCount(plan),
      taskInstances: db.rows.taskInstances,
      activeTaskInstances: db.rows.active,
      dagRuns: db.rows.dagRuns,
      setupS: setup,
      tools: {
        floor: toolResult(samples.floor, errors.floor),
        'airflow-reap': toolResult(samples['airflow-reap'], errors['airflow-reap']),
        peer: toolResult(samples.peer, errors.peer),
      },
    }
    let mGrowth: MGrowth | undefined
    if (n === M_GROWTH_N && !flag('skip-m-growth') && !errors['airflow-reap']) {
      mGrowth = await growM(plan, db, target, server, result).catch((error: unknown) => {
        log(`M growth FAILED: ${error instanceof Error ? error.message : String(error)}`)
        return undefined
      })
    }
    let deletes: DeleteResult[] | undefined
    if (n === DELETE_N && !flag('skip-delete')) {
      await server.close()
      deletes = await benchDelete(plan, target).catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error)
        log(`delete bench FAILED: ${message}`)
        return CONCURRENCIES.map((concurrency) => ({concurrency, error: message, deleted: 0, wallS: stat([]), deleteRate: stat([]), endToEndRate: stat([]), rssMB: stat([])}))
      })
    }
    return {result, mGrowth, deletes}
  } finally {
    await server.close().catch(() => undefined)
    await db.drop().catch(() => undefined)
  }
}

interface MGrowth {
  n: number
  before: {taskInstances: number; wallS: Stat; rssMB: Stat}
  after: {taskInstances: number; wallS: Stat; rssMB: Stat; addedS: number}
}

/** Same pods, 3× the finished history: airflow-reap must fetch the same rows and use the same memory. */
async function growM(plan: Plan, db: BenchDb, target: Target, server: BenchServer, base: SizeResult): Promise<MGrowth> {
  const total = base.taskInstances * M_GROWTH_FACTOR
  log(`N=${plan.n}: growing task_instance from ${base.taskInstances} to ~${total} rows of old history`)
  const grown = await db.growHistory(plan, total)
  log(`  added ${grown.rows} rows in ${(grown.ms / 1000).toFixed(1)} s`)
  const samples: Sample[] = []
  await runTool('airflow-reap', target, server)
  for (let i = 0; i < M_GROWTH_RUNS; i++) {
    const sample = await runTool('airflow-reap', target, server)
    samples.push(sample)
    log(`N=${plan.n} M=${base.taskInstances + grown.rows} airflow-reap ${(sample.wallMs / 1000).toFixed(2)} s ${(sample.rssKb / 1024).toFixed(0)} MB`)
  }
  const after = toolResult(samples)
  return {
    n: plan.n,
    before: {taskInstances: base.taskInstances, ...base.tools['airflow-reap']},
    after: {taskInstances: base.taskInstances + grown.rows, ...after, addedS: grown.ms / 1000},
  }
}

interface DeleteResult {
  concurrency: number
  error?: string
  deleted: number
  wallS: Stat
  /** Pods per second over the DELETE requests alone (server side: first DELETE received → last answered). */
  deleteRate: Stat
  /** Pods per second over the whole command (list, DB, GETs, re-check, deletes). */
  endToEndRate: Stat
  rssMB: Stat
}

/** Same pods and DB as the N = 50k scans, served again by a fake that waits DELETE_LATENCY_MS before every answer. */
async function benchDelete(plan: Plan, scanTarget: Target): Promise<DeleteResult[]> {
  const server = new BenchServer()
  const kubeconfig = path.join(tmp, 'kubeconfig-delete')
  const loaded = await server.load(plan, DELETE_LATENCY_MS, kubeconfig)
  log(`delete bench: ${loaded.pods} pods served with ${DELETE_LATENCY_MS} ms latency`)
  const target = {...scanTarget, kubeconfig, cache: path.join(tmp, 'runs-delete.sqlite')}
  const results: DeleteResult[] = []
  try {
    if (zombieCount(plan) !== DELETE_COUNT) throw new Error(`the delete bench needs ${DELETE_COUNT} zombies, the plan has ${zombieCount(plan)}`)
    for (const concurrency of CONCURRENCIES) {
      const samples: Sample[] = []
      const deleteMs: number[] = []
      let error: string | undefined
      for (let run = 0; run < DELETE_RUNS && !error; run++) {
        await server.call({cmd: 'restore'})
        await server.call({cmd: 'expire'})
        await server.call({cmd: 'reset-stats'})
        const command = [
          'kubectl', 'airflow-reap', 'zombies', '-A', '-o', 'json', '--kubeconfig', target.kubeconfig, '--db', target.db, '--cache', target.cache,
          '--delete', '--yes', '--concurrency', String(concurrency), '--max-deletes', String(DELETE_COUNT),
        ]
        const sample = await measure(command, cleanEnv({PATH: `${path.join(tmp, 'plugins')}:${process.env.PATH}`}))
        if (sample.code !== 0) {
          error = `exited ${sample.code}: ${sample.stderr.trim().slice(-500)}`
          log(`delete c=${concurrency} FAILED: ${error}`)
          continue
        }
        const report = JSON.parse(sample.stdout) as {items: {action: string}[]}
        const deleted = report.items.filter((i) => i.action === 'deleted').length
        const stats = await server.call({cmd: 'stats'})
        if (deleted !== DELETE_COUNT || stats.deletes !== DELETE_COUNT) {
          throw new Error(`delete run at concurrency ${concurrency}: ${deleted} reported deleted, ${String(stats.deletes)} DELETEs served, expected ${DELETE_COUNT}`)
        }
        samples.push(sample)
        deleteMs.push(Number(stats.deletePhaseMs))
        log(`delete c=${concurrency}: ${(sample.wallMs / 1000).toFixed(2)} s in all, DELETE phase ${(Number(stats.deletePhaseMs) / 1000).toFixed(2)} s (${(DELETE_COUNT / (Number(stats.deletePhaseMs) / 1000)).toFixed(0)} pods/s)`)
      }
      results.push({
        concurrency,
        ...(error ? {error} : {}),
        deleted: DELETE_COUNT,
        wallS: stat(samples.map((s) => s.wallMs / 1000)),
        deleteRate: stat(deleteMs.map((ms) => DELETE_COUNT / (ms / 1000))),
        endToEndRate: stat(samples.map((s) => DELETE_COUNT / (s.wallMs / 1000))),
        rssMB: stat(samples.map((s) => s.rssKb / 1024)),
      })
    }
  } finally {
    await server.close().catch(() => undefined)
  }
  return results
}

// --- targets and the report ---------------------------------------------------------------------------------

interface Verdict {
  target: string
  measured: string
  pass: boolean
}

function short(error: string): string {
  const line = error.split('\n').find((l) => /error|exited|expected/i.test(l)) ?? error.split('\n')[0]
  return line.replace(/\|/g, '/').slice(0, 160)
}

function verdicts(sizes: SizeResult[], mGrowth: MGrowth | undefined, deletes: DeleteResult[], startup: StartupReport | undefined): Verdict[] {
  const out: Verdict[] = startup ? startupVerdicts(startup) : []
  const at = (n: number) => sizes.find((s) => s.n === n)
  const failed = (r: ToolResult | undefined) => !r || r.error !== undefined || r.wallS.values.length === 0
  const why = (r: ToolResult | undefined) => (r?.error ? `failed: ${short(r.error)}` : 'not measured')
  const big = at(50_000)
  const mid = at(10_000)
  if (big) {
    const reap = big.tools['airflow-reap']
    const floor = big.tools.floor
    const peerR = big.tools.peer
    if (failed(reap) || failed(floor)) {
      out.push({target: 'N = 50k: airflow-reap ≤ 1.25 × floor wall time', measured: why(failed(reap) ? reap : floor), pass: false})
    } else {
      const ratio = reap.wallS.median / floor.wallS.median
      out.push({target: 'N = 50k: airflow-reap ≤ 1.25 × floor wall time', measured: `${ratio.toFixed(2)} ×`, pass: ratio <= 1.25})
    }
    if (failed(reap) || failed(peerR)) {
      out.push({target: 'N = 50k: peer / airflow-reap ≥ 5', measured: why(failed(reap) ? reap : peerR), pass: false})
    } else {
      const peer = peerR.wallS.median / reap.wallS.median
      out.push({target: 'N = 50k: peer / airflow-reap ≥ 5', measured: `${peer.toFixed(1)} ×`, pass: peer >= 5})
    }
    if (failed(reap)) out.push({target: 'N = 50k: airflow-reap peak RSS ≤ 250 MB', measured: why(reap), pass: false})
    else out.push({target: 'N = 50k: airflow-reap peak RSS ≤ 250 MB', measured: `${reap.rssMB.median.toFixed(0)} MB (max ${reap.rssMB.max.toFixed(0)})`, pass: reap.rssMB.max <= 250})
  }
  const largest = at(BIG_N)
  if (largest) {
    const reap = largest.tools['airflow-reap']
    const floor = largest.tools.floor
    const timeTarget = `N = ${fmtCount(BIG_N)}: airflow-reap ≤ 1.1 × floor wall time`
    if (failed(reap) || failed(floor)) out.push({target: timeTarget, measured: why(failed(reap) ? reap : floor), pass: false})
    else {
      const ratio = reap.wallS.median / floor.wallS.median
      out.push({target: timeTarget, measured: `${ratio.toFixed(2)} ×`, pass: ratio <= 1.1})
    }
    const memoryTarget = `N = ${fmtCount(BIG_N)}: airflow-reap peak RSS ≤ 300 MB`
    if (failed(reap)) out.push({target: memoryTarget, measured: why(reap), pass: false})
    else out.push({target: memoryTarget, measured: `${reap.rssMB.median.toFixed(0)} MB (max ${reap.rssMB.max.toFixed(0)})`, pass: reap.rssMB.max <= 300})
  } else if (SIZES.includes(BIG_N)) {
    out.push({target: `N = ${fmtCount(BIG_N)}: airflow-reap ≤ 1.1 × floor wall time and ≤ 300 MB`, measured: 'not measured (the set-up failed)', pass: false})
  }
  if (big && mid) {
    const a = mid.tools['airflow-reap']
    const b = big.tools['airflow-reap']
    const factor = big.n / mid.n
    if (failed(a) || failed(b)) {
      out.push({target: `10k → 50k: wall time and peak RSS grow at most linearly (≤ ${factor}×)`, measured: why(failed(a) ? a : b), pass: false})
    } else {
      const time = b.wallS.median / a.wallS.median
      const memory = b.rssMB.median / a.rssMB.median
      out.push({target: `10k → 50k: wall time grows at most linearly (≤ ${factor}×)`, measured: `${time.toFixed(2)} ×`, pass: time <= factor})
      out.push({target: `10k → 50k: peak RSS grows at most linearly (≤ ${factor}×)`, measured: `${memory.toFixed(2)} ×`, pass: memory <= factor})
    }
  }
  if (mGrowth) {
    const growth = mGrowth.after.rssMB.median / mGrowth.before.rssMB.median
    out.push({
      target: `memory does not grow with M (N = ${fmtCount(mGrowth.n)}, M ${fmtCount(mGrowth.before.taskInstances)} → ${fmtCount(mGrowth.after.taskInstances)}: peak RSS within +10 %)`,
      measured: `${mGrowth.before.rssMB.median.toFixed(0)} → ${mGrowth.after.rssMB.median.toFixed(0)} MB (${growth >= 1 ? '+' : ''}${((growth - 1) * 100).toFixed(1)} %)`,
      pass: growth <= 1.1,
    })
  }
  const c50 = deletes.find((d) => d.concurrency === 50)
  const deleteTarget = `deletion ≥ 150 pods/s at concurrency 50 (fake with ${DELETE_LATENCY_MS} ms latency)`
  if (c50?.error || (c50 && c50.deleteRate.values.length === 0)) out.push({target: deleteTarget, measured: `failed: ${short(c50.error ?? '')}`, pass: false})
  else if (c50) {
    out.push({
      target: deleteTarget,
      measured: `${c50.deleteRate.median.toFixed(0)} pods/s (DELETE phase); ${c50.endToEndRate.median.toFixed(0)} pods/s end to end`,
      pass: c50.deleteRate.median >= 150,
    })
  } else if (SIZES.includes(DELETE_N) && !flag('skip-delete')) {
    out.push({target: deleteTarget, measured: 'not measured (the N = 50k set-up failed)', pass: false})
  }
  return out
}

function fmtCount(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(n % 1e6 === 0 ? 0 : 2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(n % 1e3 === 0 ? 0 : 1)}k` : String(n)
}

function fmtStat(s: Stat, digits: number): string {
  if (s.values.length === 0) return '–'
  return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`
}

function ratio(a: ToolResult, b: ToolResult, pick: (r: ToolResult) => Stat, digits: number): string {
  if (a.error || b.error || pick(a).values.length === 0 || pick(b).values.length === 0) return 'n/a'
  return (pick(a).median / pick(b).median).toFixed(digits)
}

function markdown(report: BenchReport): string {
  const lines: string[] = []
  const m = report.machine
  lines.push(`Run of ${report.startedAt}: ${report.durationS.toFixed(0)} s from start to end of \`node dist/bench/run.js\` (set-up of every size included, the build before it not). CLI under test: \`${report.cli}\`.`)
  lines.push('')
  lines.push(`Machine: ${m.cpu}, ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}, PostgreSQL ${m.postgres}, kubectl ${m.kubectl}, ${m.jq}. ` +
    `Load average (1, 5, 15 min) before / after: ${report.loadBefore} / ${report.loadAfter}.`)
  lines.push('')
  lines.push(`Wall time in seconds and peak RSS in MB: median of ${report.runs} runs after a warm-up (min–max)` +
    (report.peerRunsAt50k < report.runs ? `; the peer at 50k: ${report.peerRunsAt50k} runs, no warm-up (a minute and a half or more each).` : '.'))
  lines.push('')
  if (report.startup) lines.push(startupMarkdown(report.startup), '')
  lines.push('| N pods | task instances (active) | zombies | tool | wall s | peak RSS MB |')
  lines.push('|---:|---:|---:|---|---:|---:|')
  for (const size of report.sizes) {
    for (const tool of TOOLS) {
      const r = size.tools[tool]
      const head = `| ${fmtCount(size.n)} | ${fmtCount(size.taskInstances)} (${fmtCount(size.activeTaskInstances)}) | ${size.zombies} | ${tool} |`
      if (r.error?.startsWith('not run')) lines.push(`${head} ${r.error} | – |`)
      else if (r.error) lines.push(`${head} **failed**: ${short(r.error)} | – |`)
      else lines.push(`${head} ${fmtStat(r.wallS, 2)} | ${fmtStat(r.rssMB, 0)} |`)
    }
  }
  lines.push('')
  lines.push('| N pods | airflow-reap / floor (wall) | peer / airflow-reap (wall) | airflow-reap / floor (RSS) |')
  lines.push('|---:|---:|---:|---:|')
  for (const size of report.sizes) {
    const t = size.tools
    const wall = (r: ToolResult) => r.wallS
    const rss = (r: ToolResult) => r.rssMB
    lines.push(`| ${fmtCount(size.n)} | ${ratio(t['airflow-reap'], t.floor, wall, 2)} | ${ratio(t.peer, t['airflow-reap'], wall, 1)} | ${ratio(t['airflow-reap'], t.floor, rss, 2)} |`)
  }
  for (const failure of report.sizeErrors) lines.push('', `N = ${fmtCount(failure.n)}: **not measured**, the set-up or run failed as a whole: ${short(failure.error)}`)
  if (report.perPod) {
    const {heap, rssSlope} = report.perPod
    lines.push('')
    lines.push(`Bytes kept per listed pod (live heap after a full GC, ${fmtCount(heap.n)} pods of the data set, \`bench/record-bytes.ts\`): ` +
      `${heap.podRecord} B as the compact PodRecord, against ${heap.objectMeta} B as the whole ObjectMeta that 0.2.0 kept.` +
      (rssSlope ? ` Peak RSS of airflow-reap grows by ${(rssSlope.bytes / 1024).toFixed(2)} KiB per pod (least-squares slope of the medians at ${rssSlope.sizes.map(fmtCount).join(', ')}): the records, the task-instance rows read for them (about one per pod) and what the GC leaves uncollected.` : ''))
  }
  if (report.mGrowth) {
    const g = report.mGrowth
    lines.push('')
    lines.push(`Growth with M (N = ${fmtCount(g.n)}, same pods, ${fmtCount(g.after.taskInstances - g.before.taskInstances)} more rows of old history appended in ${g.after.addedS.toFixed(0)} s; airflow-reap, median of ${M_GROWTH_RUNS} runs after a warm-up):`)
    lines.push('')
    lines.push('| task instances | wall s | peak RSS MB |')
    lines.push('|---:|---:|---:|')
    lines.push(`| ${fmtCount(g.before.taskInstances)} | ${fmtStat(g.before.wallS, 2)} | ${fmtStat(g.before.rssMB, 0)} |`)
    lines.push(`| ${fmtCount(g.after.taskInstances)} | ${fmtStat(g.after.wallS, 2)} | ${fmtStat(g.after.rssMB, 0)} |`)
  }
  if (report.deletes.length > 0) {
    lines.push('')
    lines.push(`Deletion: \`zombies -A --delete --yes --max-deletes ${DELETE_COUNT} --concurrency C\` of ${DELETE_COUNT} zombies among ${fmtCount(DELETE_N)} pods, the fake answering every request after ${DELETE_LATENCY_MS} ms; median of ${DELETE_RUNS} runs (min–max), the zombies re-created between runs. ` +
      'The DELETE phase is timed on the server, from the first DELETE received to the last one answered; end to end is the whole command (list, DB, phases, re-check, deletes).')
    lines.push('')
    lines.push('| concurrency | DELETE phase pods/s | end to end pods/s | wall s | peak RSS MB |')
    lines.push('|---:|---:|---:|---:|---:|')
    for (const d of report.deletes) {
      if (d.error) lines.push(`| ${d.concurrency} | **failed**: ${short(d.error)} | – | – | – |`)
      else lines.push(`| ${d.concurrency} | ${fmtStat(d.deleteRate, 0)} | ${fmtStat(d.endToEndRate, 0)} | ${fmtStat(d.wallS, 2)} | ${fmtStat(d.rssMB, 0)} |`)
    }
  }
  lines.push('')
  lines.push('| target | measured | result |')
  lines.push('|---|---|---|')
  for (const v of report.verdicts) lines.push(`| ${v.target} | ${v.measured} | ${v.pass ? 'pass' : '**FAIL**'} |`)
  lines.push('')
  lines.push('Set-up (not timed above): ' + report.sizes.map((s) => `N = ${fmtCount(s.n)}: DB ${s.setupS.db.toFixed(0)} s (COPY task_instance ${((s.setupS.dbSteps['copy task_instance'] ?? 0) / 1000).toFixed(0)} s, indexes ${((s.setupS.dbSteps['indexes and constraints'] ?? 0) / 1000).toFixed(0)} s), fake server ${s.setupS.server.toFixed(0)} s`).join('; ') + '.')
  return lines.join('\n')
}

interface BenchReport {
  startedAt: string
  durationS: number
  machine: Record<string, string | number>
  cli: string
  loadBefore: string
  loadAfter: string
  runs: number
  peerRunsAt50k: number
  sizes: SizeResult[]
  mGrowth?: MGrowth
  deletes: DeleteResult[]
  verdicts: Verdict[]
  startup?: StartupReport
  /** Sizes whose set-up or run failed as a whole (a machine that cannot hold them). */
  sizeErrors: {n: number; error: string}[]
  perPod?: PerPod
}

/** What each listed pod costs: the records' live heap, and the slope of peak RSS over the sizes. */
interface PerPod {
  /** Live heap per pod after a full GC (bench/record-bytes.ts): the whole ObjectMeta (0.2.0) and the PodRecord. */
  heap: {n: number; objectMeta: number; podRecord: number}
  /** Least-squares slope of airflow-reap's median peak RSS over these sizes, in bytes per pod. */
  rssSlope?: {sizes: number[]; bytes: number}
}

function recordBytes(n: number): PerPod['heap'] {
  const out = execFileSync(process.execPath, ['--expose-gc', path.join(repo, 'dist', 'bench', 'record-bytes.js'), String(n)], {encoding: 'utf8'})
  return JSON.parse(out) as PerPod['heap']
}

function rssSlope(sizes: SizeResult[]): PerPod['rssSlope'] {
  const points = sizes.filter((s) => s.n >= 10_000 && !s.tools['airflow-reap'].error).map((s) => [s.n, s.tools['airflow-reap'].rssMB.median * 2 ** 20])
  if (points.length < 2) return undefined
  const mx = points.reduce((a, [x]) => a + x, 0) / points.length
  const my = points.reduce((a, [, y]) => a + y, 0) / points.length
  const slope = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / points.reduce((a, [x]) => a + (x - mx) ** 2, 0)
  return {sizes: points.map(([x]) => x), bytes: slope}
}

function writeReport(report: BenchReport): void {
  writeFileSync(path.join(benchDir, 'results.json'), `${JSON.stringify(report, null, 2)}\n`)
  const readmePath = path.join(benchDir, 'README.md')
  const readme = readFileSync(readmePath, 'utf8')
  const begin = '<!-- results:begin -->'
  const end = '<!-- results:end -->'
  const from = readme.indexOf(begin)
  const to = readme.indexOf(end)
  if (from < 0 || to < 0) throw new Error(`bench/README.md has no ${begin} … ${end} section`)
  writeFileSync(readmePath, `${readme.slice(0, from + begin.length)}\n${markdown(report)}\n${readme.slice(to)}`)
}

// --- the port-forward comparison (issue 13) -------------------------------------------------------------------

interface PortForwardReport extends ComparisonHeader {
  n: number
  pod: string
  variants: Record<'direct' | 'port-forward', {command: string; wallS: Stat; rssMB: Stat}>
  ratio: number
}

/**
 * The same `zombies -A` scan twice: with `--db` naming PostgreSQL directly, and with no DB flag at all,
 * the chart's metadata Secret naming its PostgreSQL Service (`airflow-postgresql.airflow:5432`), which
 * does not resolve here: discovery, then every DB byte through the fake API server's pods/portforward
 * WebSocket to the same PostgreSQL. Runs alternate; each is checked (right zombie count, right path).
 */
async function benchPortForward(n: number): Promise<PortForwardReport> {
  const loadBefore = loadAverage()
  const {plan, server, db, target} = await setUp(n, 0, `pf${n}`)
  try {
    const url = new URL(db.url)
    const connection = `postgresql://${url.username}@airflow-postgresql.airflow:5432${url.pathname}`
    const {pod} = (await server.call({cmd: 'cluster-db', connection, localPort: Number(url.port || 5432)})) as unknown as {pod: string}
    const base = ['kubectl', 'airflow-reap', 'zombies', '-A', '-o', 'json', '--kubeconfig', target.kubeconfig, '--cache', target.cache]
    const variants = {
      direct: [...base, '--db', target.db],
      'port-forward': [...base, '--airflow-namespace', 'airflow'],
    } as const
    const env = cleanEnv({PATH: `${path.join(tmp, 'plugins')}:${process.env.PATH}`})
    const run = async (name: keyof typeof variants): Promise<Sample> => {
      await server.call({cmd: 'expire'})
      const sample = await measure([...variants[name]], env)
      const found = zombiesFound('airflow-reap', sample)
      if (found !== zombieCount(plan)) throw new Error(`${name}: found ${found} zombies, expected ${zombieCount(plan)}`)
      const via = (JSON.parse(sample.stdout) as {db?: {via?: string}}).db?.via ?? ''
      if ((name === 'direct') !== (via === 'direct')) throw new Error(`${name}: the report says via "${via}"`)
      return sample
    }
    const samples = await alternating(['direct', 'port-forward'], run, (name, sample) => `N=${n} ${name.padEnd(12)} ${(sample.wallMs / 1000).toFixed(2)} s ${(sample.rssKb / 1024).toFixed(0)} MB`)
    const result = (name: keyof typeof variants) => variantResult(variants[name], samples[name], [[target.db, 'postgresql://postgres@127.0.0.1:5432/BENCH_DB']])
    const direct = result('direct')
    const forwarded = result('port-forward')
    return {
      ...comparisonHeader(loadBefore),
      n,
      pod,
      variants: {direct, 'port-forward': forwarded},
      ratio: forwarded.wallS.median / direct.wallS.median,
    }
  } finally {
    await server.close().catch(() => undefined)
    await db.drop().catch(() => undefined)
  }
}

function portForwardMarkdown(report: PortForwardReport): string {
  const m = report.machine
  const {direct} = report.variants
  const forwarded = report.variants['port-forward']
  return [
    `Run of ${report.startedAt}, \`node dist/bench/run.js --port-forward --sizes ${report.n} --runs ${report.runs}\`. Machine: ${m.cpu}, ${m.memoryGiB} GiB; Node ${m.node}, PostgreSQL ${m.postgres}. Load average (1, 5, 15 min) before / after: ${report.loadBefore} / ${report.loadAfter}.`,
    '',
    `N = ${fmtCount(report.n)} KPO pods, the same DB; median of ${report.runs} runs after a warm-up (min–max), the two alternating.`,
    '',
    '| path | command | wall s | peak RSS MB |',
    '|---|---|---:|---:|',
    `| direct | \`${direct.command}\` | ${fmtStat(direct.wallS, 2)} | ${fmtStat(direct.rssMB, 0)} |`,
    `| port-forward pod/${report.pod}:5432 | \`${forwarded.command}\` | ${fmtStat(forwarded.wallS, 2)} | ${fmtStat(forwarded.rssMB, 0)} |`,
    '',
    '| target | measured | result |',
    '|---|---|---|',
    `| N = ${fmtCount(report.n)}: through the port-forward ≤ 1.3 × direct wall time | ${report.ratio.toFixed(2)} × | ${report.ratio <= 1.3 ? 'pass' : '**FAIL**'} |`,
  ].join('\n')
}

function writePortForwardReport(report: PortForwardReport): void {
  writeFileSync(path.join(benchDir, 'port-forward.json'), `${JSON.stringify(report, null, 2)}\n`)
  replaceReadmeSection('port-forward', portForwardMarkdown(report))
}

/** Replaces what stands between `<!-- NAME:begin -->` and `<!-- NAME:end -->` in bench/README.md. */
function replaceReadmeSection(name: string, text: string): void {
  const readmePath = path.join(benchDir, 'README.md')
  const readme = readFileSync(readmePath, 'utf8')
  const begin = `<!-- ${name}:begin -->`
  const end = `<!-- ${name}:end -->`
  const from = readme.indexOf(begin)
  const to = readme.indexOf(end)
  if (from < 0 || to < 0) throw new Error(`bench/README.md has no ${begin} … ${end} section`)
  writeFileSync(readmePath, `${readme.slice(0, from + begin.length)}\n${text}\n${readme.slice(to)}`)
}

// --- the real kube-apiserver (issue 22 §3) ------------------------------------------------------------------

/** zombies' default --min-age and the floor's cutoff (bench/floor.ts): younger pods are not judged. */
const MIN_AGE_MS = 5 * 60_000
/**
 * The servers: the real one; the fake serving the real server's own objects (only the server differs);
 * the fake serving the bench's own objects for the same pods (fullPod, as in the table above) with the
 * real UIDs and creation times (the data set's objects differ too).
 */
const REAL_SIDES = ['real', 'fake', 'generated'] as const
type RealSide = (typeof REAL_SIDES)[number]
const REAL_VARIANTS = REAL_SIDES.flatMap((side) => [`floor, ${side}`, `zombies, ${side}`] as const)
type RealVariant = `${'floor' | 'zombies'}, ${RealSide}`
const SIDE_NAMES: Record<RealSide, string> = {real: 'kube-apiserver', fake: "the fake, the real server's objects", generated: "the fake, the bench's objects"}

interface RealSize {
  n: number
  zombies: number
  taskInstances: number
  activeTaskInstances: number
  serverVersion: string
  loadBefore: string
  loadAfter: string
  /**
   * Seconds: creating the pods through the API and writing their status (WRITE_CONCURRENCY in flight),
   * the DB, listing the real pods in full, loading them into the fake, waiting out --min-age.
   */
  setupS: {create: number; status: number; db: number; dump: number; fake: number; minAgeWait: number}
  /** Bytes of JSON metadata per pod (what a metadata-only page carries): the real server's, the bench's own. */
  metadataBytesPerPod: {real: number; generated: number}
  variants: Record<RealVariant, {command: string; wallS: Stat; rssMB: Stat}>
  /** Zombies reported (action none) by the last run against each server, the planned count, and every difference seen (against the plan, against the real server). */
  findings: {planned: number; reported: Record<RealSide, number>; differences: string[]}
  /** Peak RSS of the control plane's processes over the whole size (the load included); etcd's data on disk, and its bbolt file (what its quota counts). */
  controlPlane: {peakRssMB: Record<string, number>; etcdDataMB: number; etcdDbMB: number}
}

interface RealReport extends ComparisonHeader {
  command: string
  etcdVersion: string
  writeConcurrency: number
  sizes: RealSize[]
  sizeErrors: {n: number; error: string}[]
}

type RealModule = typeof import('./real.js')
/** The harness, imported only for --real: on import it asks scripts/real-cluster.sh where the binaries are. */
type Harness = typeof import('../test/support/real-kube.js')

/** The harness under dist/ finds the binaries through the script and the module files it hashes. */
function prepareRealDist(): void {
  const copies = ['scripts/real-cluster.sh', 'test/real/k8s/go.mod', 'test/real/k8s/go.sum', 'test/real/k8s/etcd/main.go']
  for (const file of copies) {
    mkdirSync(path.dirname(path.join(repo, 'dist', file)), {recursive: true})
    copyFileSync(path.join(repo, file), path.join(repo, 'dist', file))
  }
}

/** Ends a process and its descendants by pid (GNU time does not pass a signal on to the command it times). */
function killTree(pid: number): void {
  let children: number[] = []
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      children.push(...readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number))
    }
  } catch {
    children = []
  }
  for (const child of children) killTree(child)
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // already gone
  }
}

/**
 * `--real`: per size, a real kube-apiserver and etcd (the real-server tests' harness), the data set's
 * pods created through its API, the same DB; then the floor and `zombies -A` against it and against
 * the fake serving the real server's own objects, the four rotated run by run. Every floor run must
 * count the planned zombies; every zombies run must report exactly them, and the same findings from
 * both servers (differences are recorded, not thrown: they are the result).
 */
async function benchReal(sizes: number[]): Promise<RealReport> {
  const loadBefore = loadAverage()
  // Builds them when missing (tens of minutes), else says where they are; its output goes to stderr, with the log.
  execFileSync('bash', [path.join(repo, 'scripts', 'real-cluster.sh'), 'build'], {stdio: ['ignore', 2, 2]})
  prepareRealDist()
  const real: RealModule = await import('./real.js')
  const harness: Harness = await import('../test/support/real-kube.js')
  const teardown = new real.Teardown(log)
  let interrupted = false
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = true
    log(`${signal}: stopping the run, the control plane and the fake; dropping the DB`)
    if (measuring?.pid) killTree(measuring.pid)
    void teardown.close().finally(() => {
      rmSync(tmp, {recursive: true, force: true})
      process.exit(signal === 'SIGINT' ? 130 : 143)
    })
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  const report: Omit<RealReport, keyof ComparisonHeader> = {
    command: `node dist/bench/run.js ${process.argv.slice(2).join(' ')}`,
    etcdVersion: commandOutput(path.join(harness.realKubeBinDir, 'etcd'), ['--version']).split('\n')[0].replace(/^etcd Version:\s*/, ''),
    writeConcurrency: real.WRITE_CONCURRENCY,
    sizes: [],
    sizeErrors: [],
  }
  try {
    for (const n of sizes) {
      if (interrupted) break
      try {
        report.sizes.push(await benchRealSize(real, harness, n, teardown))
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        log(`N=${n} (real) FAILED: ${message}`)
        report.sizeErrors.push({n, error: message})
      } finally {
        await teardown.run()
      }
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await teardown.run()
  }
  return {...comparisonHeader(loadBefore), ...report}
}

async function benchRealSize(real: RealModule, harness: Harness, n: number, teardown: InstanceType<RealModule['Teardown']>): Promise<RealSize> {
  const loadBefore = loadAverage()
  const kube = await harness.startRealKube({controllerManager: false})
  teardown.add('stop the real control plane', () => kube.stop())
  const serverVersion = String((await kube.request('GET', '/version')).body.gitVersion)
  const plan = planDataset(n, Math.floor(Date.now() / 1000) * 1000 + real.ANCHOR_AHEAD_MS)
  log(`N=${n}: kube-apiserver ${serverVersion} at ${kube.url}; creating ${n} pods, ${real.WRITE_CONCURRENCY} at a time`)
  const loaded = await real.loadRealPods(kube, plan, log)

  let t0 = performance.now()
  const db = await buildBenchDb(plan, log, (drop) => teardown.add('drop the bench DB', drop))
  const dbS = (performance.now() - t0) / 1000

  t0 = performance.now()
  const files = {real: path.join(tmp, `real-pods-${n}.ndjson`), generated: path.join(tmp, `generated-pods-${n}.ndjson`)}
  const dumped = await real.dumpPods(kube, plan, files)
  if (dumped.pods !== plan.n) throw new Error(`the real server lists ${dumped.pods} pods, ${plan.n} were created`)
  const dumpS = (performance.now() - t0) / 1000
  t0 = performance.now()
  const fakes = {fake: new BenchServer(), generated: new BenchServer()}
  const kubeconfigs = {fake: path.join(tmp, `kubeconfig-fake${n}`), generated: path.join(tmp, `kubeconfig-generated${n}`)}
  for (const side of ['fake', 'generated'] as const) {
    teardown.add(`stop the fake (${side})`, () => fakes[side].close())
    await fakes[side].loadObjects(side === 'fake' ? files.real : files.generated, kubeconfigs[side])
  }
  const fakeS = (performance.now() - t0) / 1000
  for (const file of Object.values(files)) rmSync(file)
  log(`N=${n}: DB in ${dbS.toFixed(0)} s; the real pods listed in full in ${dumpS.toFixed(1)} s and loaded into the two fakes in ${fakeS.toFixed(1)} s`)

  const waitMs = Math.max(0, loaded.lastCreatedMs + MIN_AGE_MS + 15_000 - Date.now())
  if (waitMs > 0) log(`N=${n}: waiting ${(waitMs / 1000).toFixed(0)} s, until the newest pod is past --min-age (5m)`)
  await new Promise((resolve) => setTimeout(resolve, waitMs))

  const target = (side: RealSide, kubeconfig: string): Target => ({kubeconfig, db: db.url, cache: path.join(tmp, `runs-${side}${n}.sqlite`), plan})
  const targets: Record<RealSide, Target> = {
    real: target('real', kube.writeKubeconfig(path.join(tmp, `kubeconfig-real${n}`))),
    fake: target('fake', kubeconfigs.fake),
    generated: target('generated', kubeconfigs.generated),
  }
  const planned = real.plannedZombies(plan)
  const differences = new Set<string>()
  const last: Partial<Record<RealSide, Map<string, import('./real.js').Finding>>> = {}
  const commands = {} as Record<RealVariant, string[]>
  const run = async (name: RealVariant): Promise<Sample> => {
    const tool: Tool = name.startsWith('floor') ? 'floor' : 'airflow-reap'
    const side = name.split(', ')[1] as RealSide
    if (side !== 'real') await fakes[side].call({cmd: 'expire'})
    const {command, env} = commandFor(tool, targets[side])
    commands[name] = command
    const sample = await measure(command, env)
    const found = zombiesFound(tool, sample)
    if (tool === 'floor') {
      if (found !== planned.size) throw new Error(`${name}: the floor counted ${found} zombies, ${planned.size} planned`)
      return sample
    }
    const findings = real.findingsOf(sample.stdout)
    for (const line of real.plannedDifferences(findings, planned)) differences.add(`${side}: ${line}`)
    last[side] = findings
    for (const other of ['fake', 'generated'] as const) {
      const [mine, theirs] = [last.real, last[other]]
      if (mine && theirs) for (const line of real.findingDifferences(mine, theirs, ['real', SIDE_NAMES[other]])) differences.add(line)
    }
    return sample
  }
  const samples = await alternating(REAL_VARIANTS, run, (name, sample) => `N=${n} ${name.padEnd(14)} ${(sample.wallMs / 1000).toFixed(2)} s ${(sample.rssKb / 1024).toFixed(0)} MB`)
  const replacements: Array<[string, string]> = [[`${repo}/`, ''], [db.url, 'postgresql://postgres@127.0.0.1:5432/BENCH_DB']]
  const variants = Object.fromEntries(REAL_VARIANTS.map((name) => [name, variantResult(commands[name], samples[name], replacements)])) as RealSize['variants']
  const zombiesOf = (findings: Map<string, import('./real.js').Finding> | undefined) => [...(findings?.values() ?? [])].filter((item) => item.action === 'none').length
  return {
    n,
    zombies: zombieCount(plan),
    taskInstances: db.rows.taskInstances,
    activeTaskInstances: db.rows.active,
    serverVersion,
    loadBefore,
    loadAfter: loadAverage(),
    setupS: {create: loaded.createMs / 1000, status: loaded.statusMs / 1000, db: dbS, dump: dumpS, fake: fakeS, minAgeWait: waitMs / 1000},
    metadataBytesPerPod: {real: dumped.metadataBytes.real / dumped.pods, generated: dumped.metadataBytes.generated / dumped.pods},
    variants,
    findings: {
      planned: planned.size,
      reported: {real: zombiesOf(last.real), fake: zombiesOf(last.fake), generated: zombiesOf(last.generated)},
      differences: [...differences].slice(0, 20),
    },
    controlPlane: {
      peakRssMB: real.controlPlanePeakRss(kube),
      etcdDataMB: real.directoryBytes(path.join(kube.dir, 'etcd')) / 2 ** 20,
      etcdDbMB: statSync(path.join(kube.dir, 'etcd', 'member', 'snap', 'db')).size / 2 ** 20,
    },
  }
}

function realMarkdown(report: RealReport): string {
  const m = report.machine
  const version = report.sizes[0]?.serverVersion ?? 'unknown'
  const lines = [
    `Run of ${report.startedAt}, \`${report.command}\`. Machine: ${m.cpu}, ${m.memoryGiB} GiB; Node ${m.node}, PostgreSQL ${m.postgres}; ` +
      `kube-apiserver ${version} and etcd ${report.etcdVersion} (\`scripts/real-cluster.sh\`). Load average (1, 5, 15 min) before / after: ${report.loadBefore} / ${report.loadAfter}.`,
    '',
    `Loading the real server (${report.writeConcurrency} requests in flight; the DB set-up and the timed runs came after it):`,
    '',
    '| N pods | creating the pods | writing their status | DB set-up | load average before / after the size |',
    '|---:|---:|---:|---:|---|',
  ]
  for (const s of report.sizes) {
    const rate = (seconds: number) => `${seconds.toFixed(0)} s (${(s.n / seconds).toFixed(0)} pods/s)`
    lines.push(`| ${fmtCount(s.n)} | ${rate(s.setupS.create)} | ${rate(s.setupS.status)} | ${s.setupS.db.toFixed(0)} s | ${s.loadBefore} / ${s.loadAfter} |`)
  }
  lines.push(
    '',
    `Wall time in seconds and peak RSS in MB: median of ${report.runs} runs after a warm-up (min–max), the six rotated run by run. ` +
      "The API servers: the real one; the fake serving the real server's own pods (listed in full after the load: the same UIDs, creation times, managedFields, status), so that only the server differs; " +
      "the fake serving the bench's own objects for the same pods (`fullPod`, what the table above is measured on) with the real UIDs and creation times.",
    '',
    '| N pods | zombies | API server | tool | wall s | peak RSS MB |',
    '|---:|---:|---|---|---:|---:|',
  )
  for (const s of report.sizes) {
    for (const name of REAL_VARIANTS) {
      const [tool, side] = name.split(', ') as [string, RealSide]
      const v = s.variants[name]
      const server = side === 'real' ? `kube-apiserver ${s.serverVersion}` : SIDE_NAMES[side]
      lines.push(`| ${fmtCount(s.n)} | ${s.zombies} | ${server} | ${tool === 'floor' ? 'floor' : 'airflow-reap'} | ${fmtStat(v.wallS, 2)} | ${fmtStat(v.rssMB, 0)} |`)
    }
  }
  lines.push(
    '',
    "Wall-time ratios (medians). *Same objects*: the fake serving the real server's pods; *bench's objects*: the fake serving the bench's own.",
    '',
    "| N pods | floor: real / same objects | floor: real / bench's objects | airflow-reap: real / same objects | airflow-reap: real / bench's objects | airflow-reap / floor: real, same objects, bench's objects | zombies reported: real, same, bench's (planned) | findings against the real server's |",
    '|---:|---:|---:|---:|---:|---|---|---|',
  )
  for (const s of report.sizes) {
    const v = s.variants
    const r = (a: RealVariant, b: RealVariant) => (v[a].wallS.median / v[b].wallS.median).toFixed(2)
    const same = s.findings.differences.length === 0 ? 'identical, item for item (ages aside)' : `**${s.findings.differences.length} differences** (below)`
    const reported = REAL_SIDES.map((side) => s.findings.reported[side]).join(', ')
    lines.push(
      `| ${fmtCount(s.n)} | ${r('floor, real', 'floor, fake')} | ${r('floor, real', 'floor, generated')} | ${r('zombies, real', 'zombies, fake')} | ${r('zombies, real', 'zombies, generated')} | ` +
        `${REAL_SIDES.map((side) => r(`zombies, ${side}`, `floor, ${side}`)).join(', ')} | ${reported} (${s.findings.planned}) | ${same} |`,
    )
  }
  for (const s of report.sizes) {
    const rss = Object.entries(s.controlPlane.peakRssMB).map(([name, mb]) => `${name} ${mb.toFixed(0)} MB`).join(', ')
    lines.push(
      '',
      `N = ${fmtCount(s.n)}: the control plane's peak RSS (load included) ${rss}; etcd's data ${s.controlPlane.etcdDataMB.toFixed(0)} MB on disk, its bbolt file ${s.controlPlane.etcdDbMB.toFixed(0)} MB (the quota: 2 GiB). ` +
        `Metadata per pod (JSON, what a metadata-only page carries): ${s.metadataBytesPerPod.real.toFixed(0)} B from the real server, ${s.metadataBytesPerPod.generated.toFixed(0)} B in the bench's own objects. ` +
        `Listing the ${fmtCount(s.n)} real pods in full took ${s.setupS.dump.toFixed(0)} s, loading them into the two fakes ${s.setupS.fake.toFixed(0)} s` +
        (s.setupS.minAgeWait > 0 ? `; ${s.setupS.minAgeWait.toFixed(0)} s were waited for the newest pod to pass --min-age.` : '.'),
    )
    for (const line of s.findings.differences) lines.push(`- ${line.replace(/\|/g, '/')}`)
  }
  for (const failure of report.sizeErrors) lines.push('', `N = ${fmtCount(failure.n)}: **not measured**: ${short(failure.error)}`)
  const commands = report.sizes[0]?.variants
  if (commands) {
    lines.push(
      '',
      `Commands (N as above, \`$TMP\` the run's temporary directory): the floor \`node ${commands['floor, real'].command}\` (the API server, token, CA and DB in BENCH_SERVER, BENCH_TOKEN, BENCH_CA, BENCH_DB); ` +
        `airflow-reap \`kubectl ${commands['zombies, real'].command}\` (the fakes': kubeconfig-fake… and runs-fake…, kubeconfig-generated… and runs-generated…).`,
    )
  }
  return lines.join('\n')
}

function writeRealReport(report: RealReport): void {
  writeFileSync(path.join(benchDir, 'real.json'), `${JSON.stringify(report, null, 2)}\n`)
  replaceReadmeSection('real', realMarkdown(report))
}

// --- the REST API source ------------------------------------------------------------------------------------

/** REST-API.md §8: the default --airflow-max-requests. */
const API_BUDGET = 2000

/**
 * REST-API.md §8's count for this data: the active task instances listed in pages of 100, then at most
 * three point reads (DAG, run, task instance) per candidate pod and one XCom read per stale try.
 */
function designEstimate(activeTaskInstances: number, zombies: number): number {
  return Math.ceil(activeTaskInstances / 100) + 3 * zombies + Math.ceil(zombies / 5)
}

interface ApiReport extends ComparisonHeader {
  n: number
  personality: string
  fixtureRows: {dagRuns: number; taskInstances: number; activeTaskInstances: number; xcoms: number}
  zombies: number
  variants: Record<'db' | 'api', {command: string; wallS: Stat; rssMB: Stat}>
  requests: Stat
  /** What the last measured API run's requests were, by kind (the fake's request log). */
  requestsByKind: Record<string, number>
  ratio: number
}

/** Kinds of request to the API, by path (below /api/vN), in the order a scan sends them. */
const REQUEST_KINDS: Array<[string, RegExp]> = [
  ['version and auth', /^\/(api\/v\d\/version|auth\/)/],
  ['dag-run lists (~)', /\/dags\/~\/dagRuns$/],
  ['active task-instance list pages (~)', /\/dags\/~\/dagRuns\/~\/taskInstances$/],
  ['batch task-instance list pages (POST …/taskInstances/list)', /\/dags\/~\/dagRuns\/~\/taskInstances\/list$/],
  ["a task's or run's own task-instance list", /\/dags\/[^/]+\/dagRuns\/[^/]+\/taskInstances$/],
  ['pod_name XCom reads', /\/xcomEntries\//],
  ['task-instance point reads', /\/dags\/[^/]+\/dagRuns\/[^/]+\/taskInstances\/[^/]+(\/\d+)?$/],
  ['dag-run point reads', /\/dags\/[^/]+\/dagRuns\/[^/]+$/],
  ['DAG point reads', /\/dags\/[^/]+$/],
]

function requestsByKind(paths: string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const path of paths) {
    const kind = REQUEST_KINDS.find(([, pattern]) => pattern.test(path))?.[0] ?? 'other'
    counts[kind] = (counts[kind] ?? 0) + 1
  }
  return counts
}

/**
 * The same `zombies -A` scan through the DB (--db) and through the REST API (--airflow-url), in one run:
 * the fake Airflow API (test/support/fake-airflow-api, v1 as Airflow 2.10.5 serves it, basic auth) in
 * this process, its fixture read back from the bench DB (every dag run, task instance and pod_name
 * XCom), so both sources judge the same rows. Runs alternate; each is checked (the right zombies). The
 * API runs get --airflow-max-requests high enough to finish, so that the requests a scan needs are
 * measured, not cut off: they are compared with the default budget apart.
 */
async function benchApi(n: number): Promise<ApiReport> {
  const loadBefore = loadAverage()
  const {plan, server, db, target} = await setUp(n, 0, `api${n}`)
  const t0 = performance.now()
  const fixture = await fixtureFromDb(db.url)
  const credentials = {username: 'reaper', password: 'bench-password'}
  const api = await startFakeAirflowApi({personality: 'v1', version: '2.10.5', auth: {kind: 'basic', ...credentials}}, fixture)
  log(`N=${n}: the fake Airflow API serves ${fixture.taskInstances.length} task instances, ${fixture.runs.length} dag runs, ${fixture.xcoms.length} XComs (read in ${((performance.now() - t0) / 1000).toFixed(1)} s)`)
  try {
    const base = ['kubectl', 'airflow-reap', 'zombies', '-A', '-o', 'json', '--kubeconfig', target.kubeconfig, '--cache', target.cache]
    const variants = {
      db: [...base, '--db', target.db],
      api: [...base, '--airflow-url', api.url, '--airflow-max-requests', '1000000'],
    } as const
    const env = cleanEnv({PATH: `${path.join(tmp, 'plugins')}:${process.env.PATH}`, AIRFLOW_REAP_API_USERNAME: credentials.username, AIRFLOW_REAP_API_PASSWORD: credentials.password})
    let lastByKind: Record<string, number> = {}
    const run = async (name: keyof typeof variants): Promise<Sample> => {
      await server.call({cmd: 'expire'})
      api.log.length = 0
      const sample = await measure([...variants[name]], env)
      if (name === 'api') lastByKind = requestsByKind(api.log.map((r) => r.path))
      const found = zombiesFound('airflow-reap', sample)
      if (found !== zombieCount(plan)) throw new Error(`${name}: found ${found} zombies, expected ${zombieCount(plan)}`)
      const source = sourceOf(sample)
      if (source?.kind !== name) throw new Error(`${name}: the report's source is ${JSON.stringify(source)}`)
      return sample
    }
    const sourceOf = (sample: Sample) => (JSON.parse(sample.stdout) as {source?: {kind?: string; requests?: number}}).source
    const samples = await alternating(['db', 'api'], run, (name, sample) => {
      const requests = name === 'api' ? ` ${sourceOf(sample)?.requests} requests` : ''
      return `N=${n} ${name.padEnd(4)} ${(sample.wallMs / 1000).toFixed(2)} s ${(sample.rssKb / 1024).toFixed(0)} MB${requests}`
    })
    const requests = samples.api.map((sample) => sourceOf(sample)?.requests ?? Number.NaN)
    const replacements: Array<[string, string]> = [[target.db, 'postgresql://postgres@127.0.0.1:5432/BENCH_DB'], [api.url, 'http://127.0.0.1:PORT']]
    const result = (name: keyof typeof variants) => variantResult(variants[name], samples[name], replacements)
    const fromDb = result('db')
    const fromApi = result('api')
    return {
      ...comparisonHeader(loadBefore),
      n,
      personality: 'v1 (Airflow 2.10.5), basic auth',
      fixtureRows: {dagRuns: fixture.runs.length, taskInstances: fixture.taskInstances.length, activeTaskInstances: db.rows.active, xcoms: fixture.xcoms.length},
      zombies: zombieCount(plan),
      variants: {db: fromDb, api: fromApi},
      requests: stat(requests),
      requestsByKind: lastByKind,
      ratio: fromApi.wallS.median / fromDb.wallS.median,
    }
  } finally {
    await api.stop()
    await server.close().catch(() => undefined)
    await db.drop().catch(() => undefined)
  }
}

function apiMarkdown(report: ApiReport): string {
  const m = report.machine
  const {db, api} = report.variants
  const requests = report.requests.median
  const estimate = designEstimate(report.fixtureRows.activeTaskInstances, report.zombies)
  return [
    `Run of ${report.startedAt}, \`node dist/bench/run.js --api --sizes ${report.n} --runs ${report.runs}\`. Machine: ${m.cpu}, ${m.memoryGiB} GiB; Node ${m.node}, PostgreSQL ${m.postgres}. Load average (1, 5, 15 min) before / after: ${report.loadBefore} / ${report.loadAfter}.`,
    '',
    `N = ${fmtCount(report.n)} KPO pods; the fake Airflow API (${report.personality}) serves the bench DB's ${fmtCount(report.fixtureRows.taskInstances)} task instances (${fmtCount(report.fixtureRows.activeTaskInstances)} active), ${fmtCount(report.fixtureRows.dagRuns)} dag runs and ${fmtCount(report.fixtureRows.xcoms)} pod_name XComs. Median of ${report.runs} runs after a warm-up (min–max), the two alternating.`,
    '',
    '| source | command | wall s | peak RSS MB | requests |',
    '|---|---|---:|---:|---:|',
    `| DB | \`${db.command}\` | ${fmtStat(db.wallS, 2)} | ${fmtStat(db.rssMB, 0)} | — |`,
    `| REST API | \`${api.command}\` | ${fmtStat(api.wallS, 2)} | ${fmtStat(api.rssMB, 0)} | ${fmtStat(report.requests, 0)} |`,
    '',
    '| target | measured | result |',
    '|---|---|---|',
    `| N = ${fmtCount(report.n)}: through the API ≤ 3 × the DB's wall time | ${report.ratio.toFixed(2)} × | ${report.ratio <= 3 ? 'pass' : '**FAIL**'} |`,
    `| requests within the default budget (--airflow-max-requests ${API_BUDGET}) | ${requests} | ${requests <= API_BUDGET ? 'pass' : '**FAIL**'} |`,
    `| requests against REST-API.md §8's way for these numbers (⌈${report.fixtureRows.activeTaskInstances}/100⌉ list pages + 3 × ${report.zombies} candidates + their stale-try XComs = ${estimate}) | ${(requests / estimate).toFixed(2)} × | ${requests <= estimate ? 'pass' : '**FAIL**'} |`,
    '',
    `The requests of the last API run by kind: ${Object.entries(report.requestsByKind).map(([kind, count]) => `${kind} ${count}`).join(', ')}.`
  ].join('\n')
}

function writeApiReport(report: ApiReport): void {
  writeFileSync(path.join(benchDir, 'api.json'), `${JSON.stringify(report, null, 2)}\n`)
  replaceReadmeSection('api', apiMarkdown(report))
}

/** `--serve N [--latency MS]`: sets up one size and keeps it up until Ctrl-C, for profiling by hand. */
async function serve(n: number): Promise<void> {
  const {server, db, target} = await setUp(n, Number(option('latency') ?? 0), `serve${n}`)
  const floor = commandFor('floor', target)
  const floorEnv = Object.entries(floor.env).filter(([k]) => k.startsWith('BENCH_')).map(([k, v]) => `${k}=${v}`).join(' ')
  process.stdout.write(
    [
      `kubeconfig: ${target.kubeconfig}`,
      `db:         ${target.db}`,
      `airflow-reap: node --cpu-prof bin/run.js zombies -A -o json --kubeconfig ${target.kubeconfig} --db ${target.db} --no-cache`,
      `floor:        ${floorEnv} node --cpu-prof dist/bench/floor.js`,
      `peer:         bash bench/peer.sh ${target.kubeconfig} ${target.db} ${path.join(tmp, 'peer')}`,
      'Ctrl-C (SIGINT/SIGTERM) drops the DB and stops the server.',
      '',
    ].join('\n'),
  )
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  await server.close()
  await db.drop()
  rmSync(tmp, {recursive: true, force: true})
}

/** What every two-way comparison's report opens with: when, where, under which load, how many runs. */
interface ComparisonHeader {
  startedAt: string
  machine: Record<string, string | number>
  loadBefore: string
  loadAfter: string
  runs: number
}

function comparisonHeader(loadBefore: string): ComparisonHeader {
  return {startedAt: new Date(started).toISOString(), machine: machine(), loadBefore, loadAfter: loadAverage(), runs: RUNS}
}

/** One warm-up run of each, then RUNS rounds, the order rotated each round (two: alternating which goes first): each one's measured samples. */
async function alternating<K extends string>(names: readonly K[], run: (name: K) => Promise<Sample>, describe: (name: K, sample: Sample) => string): Promise<Record<K, Sample[]>> {
  const samples = Object.fromEntries(names.map((name) => [name, []])) as unknown as Record<K, Sample[]>
  for (const name of names) await run(name)
  for (let round = 0; round < RUNS; round++) {
    for (const name of names.map((_, i) => names[(round + i) % names.length])) {
      const sample = await run(name)
      samples[name].push(sample)
      log(describe(name, sample))
    }
  }
  return samples
}

/** A variant's command as recorded (the temp dir and `replacements` made generic), wall time and peak RSS. */
function variantResult(command: readonly string[], samples: Sample[], replacements: Array<[string, string]>): {command: string; wallS: Stat; rssMB: Stat} {
  let text = command.slice(1).join(' ').replaceAll(tmp, '$TMP')
  for (const [from, to] of replacements) text = text.replace(from, to)
  return {command: text, wallS: stat(samples.map((s) => s.wallMs / 1000)), rssMB: stat(samples.map((s) => s.rssKb / 1024))}
}

/** One of the two-way comparisons alone (--api, --port-forward): run it, print its table, write its files. */
async function comparisonOnly<R>(bench: () => Promise<R>, markdownOf: (report: R) => string, write: (report: R) => void, written: string): Promise<void> {
  try {
    const report = await bench()
    process.stdout.write(`${markdownOf(report)}\n`)
    if (WRITE) {
      write(report)
      log(`wrote ${written} of bench/README.md`)
    }
  } finally {
    rmSync(tmp, {recursive: true, force: true})
  }
}

async function main(): Promise<void> {
  ensureTools()
  await ensurePostgres()
  prepareDist()
  tmp = mkdtempSync(path.join(os.tmpdir(), 'airflow-reap-bench-'))
  mkdirSync(path.join(tmp, 'plugins'))
  symlinkSync(CLI, path.join(tmp, 'plugins', 'kubectl-airflow_reap'))
  if (option('serve')) return serve(Number(option('serve')))
  if (flag('api')) return comparisonOnly(() => benchApi(Number(option('sizes') ?? 10_000)), apiMarkdown, writeApiReport, 'bench/api.json and the REST API section')
  if (flag('startup-only')) {
    // Only the start-up section, printed (to compare changes quickly; not written).
    try {
      const kubectl = execFileSync('bash', [path.join(repo, 'scripts', 'debian-kubectl.sh')], {encoding: 'utf8'}).trim()
      process.stdout.write(`${startupMarkdown(await benchStartup({repo, tmp, kubectl, rounds: STARTUP_ROUNDS, firstRuns: FIRST_RUNS, log}))}\n`)
    } finally {
      rmSync(tmp, {recursive: true, force: true})
    }
    return
  }
  if (flag('real')) {
    const sizes = (option('sizes') ?? '10000,50000').split(',').map(Number)
    return comparisonOnly(() => benchReal(sizes), realMarkdown, writeRealReport, 'bench/real.json and the real API server section')
  }
  if (flag('port-forward')) {
    return comparisonOnly(() => benchPortForward(Number(option('sizes') ?? 50_000)), portForwardMarkdown, writePortForwardReport, 'bench/port-forward.json and the port-forward section')
  }
  const report: BenchReport = {
    startedAt: new Date(started).toISOString(),
    durationS: 0,
    machine: machine(),
    cli: path.relative(repo, CLI) || CLI,
    loadBefore: loadAverage(),
    loadAfter: '',
    runs: RUNS,
    peerRunsAt50k: Math.min(RUNS, PEER_RUNS_AT_50K),
    sizes: [],
    deletes: [],
    verdicts: [],
    sizeErrors: [],
  }
  log(`machine: ${JSON.stringify(report.machine)}; load ${report.loadBefore}; work dir ${tmp}`)
  try {
    if (!flag('skip-startup')) {
      const kubectl = execFileSync('bash', [path.join(repo, 'scripts', 'debian-kubectl.sh')], {encoding: 'utf8'}).trim()
      report.startup = await benchStartup({repo, tmp, kubectl, rounds: STARTUP_ROUNDS, firstRuns: FIRST_RUNS, log})
      log(startupMarkdown(report.startup))
    }
    report.perPod = {heap: recordBytes(Math.max(...SIZES))}
    log(`bytes per pod (live heap): ${JSON.stringify(report.perPod.heap)}`)
    for (const n of SIZES) {
      try {
        const {result, mGrowth, deletes} = await benchSize(n)
        report.sizes.push(result)
        if (mGrowth) report.mGrowth = mGrowth
        if (deletes) report.deletes = deletes
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        log(`N=${n} FAILED as a whole: ${message}`)
        report.sizeErrors.push({n, error: message})
      }
    }
    report.perPod.rssSlope = rssSlope(report.sizes)
  } finally {
    rmSync(tmp, {recursive: true, force: true})
  }
  report.loadAfter = loadAverage()
  report.durationS = (Date.now() - started) / 1000
  report.verdicts = verdicts(report.sizes, report.mGrowth, report.deletes, report.startup)
  process.stdout.write(`${markdown(report)}\n`)
  if (WRITE) {
    writeReport(report)
    log('wrote bench/results.json and the results section of bench/README.md')
  }
}

await main()
