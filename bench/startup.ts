// The start-up section of `npm run bench` (issue 22): how long the release executable takes to answer
// `version`, `--help`, `zombies --help`, and to send a `zombies` run's first API request, against
// `kubectl version --client` on the same machine in the same minutes. The machine is shared, so every
// command is alternated with kubectl, run by run, and the ratio is of the two medians; the same
// commands through plain Node (`node bin/run.js`, what `npm link` runs) are measured beside them.
// The executable's first run of a build (it unpacks the app into the cache) is measured apart.
import {spawn, spawnSync} from 'node:child_process'
import {once} from 'node:events'
import {existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import {build} from 'esbuild'

export interface StartupOptions {
  repo: string
  /** The release archive's executable is extracted here; the run's HOME and cache live here too. */
  tmp: string
  kubectl: string
  rounds: number
  firstRuns: number
  log: (line: string) => void
}

interface Stat {
  median: number
  min: number
  max: number
}

export interface StartupRow {
  command: string
  exe: Stat
  kubectl: Stat
  /** The same command through plain Node (bin/run.js), or undefined for the first-run row. */
  node?: Stat
  ratio: number
  /** A yardstick, not one of the goal's commands: left out of the verdicts. */
  reference?: boolean
}

export interface StartupReport {
  executable: string
  executableMB: number
  kubectlVersion: string
  rounds: number
  loadBefore: string
  loadAfter: string
  rows: StartupRow[]
  firstRun: StartupRow
  /** Why the oclif-alone row is missing, when it is. */
  oclifFloorError?: string
  error?: string
}

export const STARTUP_GOAL = 1.5

function stat(values: number[]): Stat {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return {median: sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2, min: sorted[0], max: sorted[sorted.length - 1]}
}

function loadAverage(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(' ')
}

function archiveName(): string {
  const platform = {linux: 'linux', darwin: 'darwin'}[process.platform as string]
  const arch = {x64: 'amd64', arm64: 'arm64'}[process.arch as string]
  return `kubectl-airflow_reap_${platform}_${arch}.tar.gz`
}

/** The executable of dist/release's archive for this machine, extracted (undefined: no release built). */
function extractExecutable(repo: string, tmp: string): string | undefined {
  const archive = path.join(repo, 'dist', 'release', archiveName())
  if (!existsSync(archive)) return undefined
  const into = path.join(tmp, 'release')
  mkdirSync(into, {recursive: true})
  const untar = spawnSync('tar', ['-xzf', archive, '-C', into], {stdio: 'inherit'})
  if (untar.status !== 0) throw new Error(`tar -xzf ${archive} failed`)
  return path.join(into, 'kubectl-airflow_reap')
}

/** Wall time of one command to its exit, in ms; it must succeed. */
async function timed(command: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const t0 = performance.now()
  const child = spawn(command[0], command.slice(1), {env, stdio: ['ignore', 'ignore', 'pipe']})
  let stderr = ''
  child.stderr!.on('data', (chunk) => (stderr += chunk))
  const [code] = (await once(child, 'close')) as [number | null]
  const ms = performance.now() - t0
  if (code !== 0) throw new Error(`${command.join(' ')} exited with ${code}: ${stderr.slice(-500)}`)
  return ms
}

/**
 * A port that accepts connections and answers nothing: a `zombies` run with both its API server and
 * its DB pointed at it is timed from its start to the moment its first connection arrives (the DB's:
 * a run connects to the DB before it lists pods, and reads it only after), then stopped.
 */
class FirstRequest {
  private server = net.createServer()
  private waiting: ((at: number) => void) | undefined

  async start(): Promise<number> {
    this.server.on('connection', (socket) => {
      const at = performance.now()
      socket.destroy()
      this.waiting?.(at)
      this.waiting = undefined
    })
    this.server.listen(0, '127.0.0.1')
    await once(this.server, 'listening')
    return (this.server.address() as net.AddressInfo).port
  }

  async time(command: string[], env: NodeJS.ProcessEnv): Promise<number> {
    const connected = new Promise<number>((resolve) => (this.waiting = resolve))
    const t0 = performance.now()
    const child = spawn(command[0], command.slice(1), {env, stdio: ['ignore', 'ignore', 'pipe']})
    let stderr = ''
    child.stderr!.on('data', (chunk) => (stderr += chunk))
    const closed = once(child, 'close')
    const exited = closed.then(([code]) => {
      throw new Error(`${command.join(' ')} exited with ${String(code)} before any request: ${stderr.slice(-500)}`)
    })
    try {
      return (await Promise.race([connected, exited])) - t0
    } finally {
      child.kill('SIGKILL')
      await closed
      this.waiting = undefined
    }
  }

  close(): void {
    this.server.close()
  }
}

function kubeconfig(file: string, port: number): void {
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: c, cluster: {server: "https://127.0.0.1:' + port + '", insecure-skip-tls-verify: true}}]',
      'users: [{name: u, user: {token: bench}}]',
      'contexts: [{name: x, context: {cluster: c, user: u}}]',
      'current-context: x',
      '',
    ].join('\n'),
  )
}

/** The Node the release executable embeds, as scripts/release.mjs downloaded it (undefined: not there). */
function releaseNode(repo: string): string | undefined {
  const dir = path.join(repo, '.cache', 'release')
  const platform = {linux: 'linux', darwin: 'darwin'}[process.platform as string]
  const names = existsSync(dir) ? readdirSync(dir).filter((name) => name.startsWith(`node-${platform}-`)).sort() : []
  const node = names.length ? path.join(dir, names[names.length - 1], 'package', 'bin', 'node') : undefined
  return node && existsSync(node) ? node : undefined
}

/**
 * The least any oclif CLI can take here, as a yardstick for the goal: the release's Node, its compile
 * cache on as the executable has it, evaluates @oclif/core bundled into one file (as the release
 * bundles it) and runs `Config.load` on the app the executable unpacked, then exits. None of our code
 * runs. A command that goes through oclif cannot start faster than this.
 */
async function oclifFloorCommand(repo: string, tmp: string, appRoot: string): Promise<string[] | string> {
  const node = releaseNode(repo)
  if (!node) return 'the release\'s Node is not in .cache/release (run `npm run release`)'
  const dir = path.join(tmp, 'oclif-floor')
  mkdirSync(dir, {recursive: true})
  const bundle = path.join(dir, 'oclif-config.cjs')
  await build({
    absWorkingDir: repo,
    stdin: {contents: "require('@oclif/core').Config.load(process.argv[2]).catch((e) => { console.error(e); process.exitCode = 1 })", resolveDir: repo, loader: 'js'},
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['typescript'],
    logLevel: 'warning',
  })
  const main = path.join(dir, 'main.cjs')
  writeFileSync(main, `require('node:module').enableCompileCache?.(${JSON.stringify(path.join(dir, '.compile-cache'))}); require(${JSON.stringify(bundle)})\n`)
  return [node, main, appRoot]
}

/** The app folder the executable unpacked into the run's cache on its first run. */
function unpackedApp(cache: string): string | undefined {
  const dir = path.join(cache, 'airflow-reap')
  const apps = existsSync(dir) ? readdirSync(dir).filter((name) => name.startsWith('app-')) : []
  return apps.length === 1 ? path.join(dir, apps[0]) : undefined
}

export async function benchStartup(options: StartupOptions): Promise<StartupReport> {
  const {repo, tmp, kubectl, rounds, log} = options
  const loadBefore = loadAverage()
  const exe = extractExecutable(repo, tmp)
  const kubectlVersion = spawnSync(kubectl, ['version', '--client'], {encoding: 'utf8'}).stdout.split('\n')[0] ?? 'unknown'
  const empty = (error: string): StartupReport => ({
    executable: '', executableMB: 0, kubectlVersion, rounds, loadBefore, loadAfter: loadAverage(), rows: [],
    firstRun: {command: '', exe: stat([0]), kubectl: stat([0]), ratio: NaN}, error,
  })
  if (!exe) return empty(`no dist/release/${archiveName()}: run \`npm run release\` before the bench`)

  const home = path.join(tmp, 'startup-home')
  const cache = path.join(home, '.cache')
  mkdirSync(home, {recursive: true})
  const env: NodeJS.ProcessEnv = {PATH: '/usr/bin:/bin', HOME: home, XDG_CACHE_HOME: cache, NO_COLOR: '1', LANG: 'C.UTF-8'}
  const first = new FirstRequest()
  const port = await first.start()
  const config = path.join(home, 'kubeconfig')
  kubeconfig(config, port)
  const scan = ['zombies', '-A', '--kubeconfig', config, '--db', `postgresql://airflow@127.0.0.1:${port}/airflow`, '--no-cache']
  const commands: Array<{label: string; argv: string[]; untilRequest?: boolean}> = [
    {label: '`version`', argv: ['version']},
    {label: '`--help`', argv: ['--help']},
    {label: '`zombies --help`', argv: ['zombies', '--help']},
    {label: '`zombies -A …` to its first request (the DB connection)', argv: scan, untilRequest: true},
  ]
  const kube = [kubectl, 'version', '--client']
  const node = [process.execPath, path.join(repo, 'bin', 'run.js')]
  try {
    // First runs of the build: the cache emptied before each, alternated with kubectl.
    const firstExe: number[] = []
    const firstKube: number[] = []
    for (let i = 0; i < options.firstRuns; i++) {
      rmSync(cache, {recursive: true, force: true})
      firstExe.push(await timed([exe, 'version'], env))
      firstKube.push(await timed(kube, env))
    }
    const run = (command: string[], untilRequest?: boolean) => (untilRequest ? first.time(command, env) : timed(command, env))
    for (const c of commands) await run([exe, ...c.argv], c.untilRequest) // warm-up (and the unpack)
    const app = unpackedApp(cache)
    const floor = app ? await oclifFloorCommand(repo, tmp, app) : 'the executable\'s unpacked app was not found in its cache'
    if (Array.isArray(floor)) await timed(floor, env) // warm-up (fills its compile cache)
    await timed(kube, env)
    const samples = commands.map(() => ({exe: [] as number[], kubectl: [] as number[], node: [] as number[]}))
    const floorSamples = {exe: [] as number[], kubectl: [] as number[]}
    for (let round = 0; round < rounds; round++) {
      if (Array.isArray(floor)) {
        const pair = [() => timed(floor, env).then((ms) => floorSamples.exe.push(ms)), () => timed(kube, env).then((ms) => floorSamples.kubectl.push(ms))]
        for (let k = 0; k < pair.length; k++) await pair[(round + k) % pair.length]()
      }
      for (const [i, c] of commands.entries()) {
        // Rotate who goes first, so none always follows the same one.
        const steps: Array<[keyof (typeof samples)[number], () => Promise<number>]> = [
          ['exe', () => run([exe, ...c.argv], c.untilRequest)],
          ['kubectl', () => timed(kube, env)],
          ['node', () => run([...node, ...c.argv], c.untilRequest)],
        ]
        for (let k = 0; k < steps.length; k++) {
          const [name, step] = steps[(round + k) % steps.length]
          samples[i][name].push(await step())
        }
      }
      if (round % 5 === 4) log(`startup: ${round + 1} of ${rounds} rounds`)
    }
    const rows: StartupRow[] = commands.map((c, i) => {
      const row = {command: c.label, exe: stat(samples[i].exe), kubectl: stat(samples[i].kubectl), node: stat(samples[i].node)}
      return {...row, ratio: row.exe.median / row.kubectl.median}
    })
    if (Array.isArray(floor)) {
      const row = {command: 'yardstick: oclif alone (`Config.load` of the unpacked app by the release\'s Node, none of our code)', exe: stat(floorSamples.exe), kubectl: stat(floorSamples.kubectl)}
      rows.push({...row, ratio: row.exe.median / row.kubectl.median, reference: true})
    }
    const firstRow = {command: '`version`, first run of this build (unpacks the app)', exe: stat(firstExe), kubectl: stat(firstKube)}
    return {
      executable: path.relative(repo, path.join(repo, 'dist', 'release', archiveName())),
      executableMB: statSync(exe).size / 1e6,
      kubectlVersion,
      rounds,
      loadBefore,
      loadAfter: loadAverage(),
      rows,
      firstRun: {...firstRow, ratio: firstRow.exe.median / firstRow.kubectl.median},
      ...(Array.isArray(floor) ? {} : {oclifFloorError: floor}),
    }
  } finally {
    first.close()
  }
}

const ms = (s: Stat) => `${s.median.toFixed(0)} (${s.min.toFixed(0)}–${s.max.toFixed(0)})`

export function startupMarkdown(report: StartupReport): string {
  if (report.error) return `Start-up: not measured (${report.error}).`
  const lines = [
    `Start-up: the release executable (${report.executable}, ${report.executableMB.toFixed(0)} MB), \`kubectl version --client\` (${report.kubectlVersion}) and plain Node (\`node bin/run.js\`, as \`npm link\` runs it), ` +
      `alternated run by run (${report.rounds} rounds, the order rotated each round), milliseconds from spawn to exit (median, min–max). ` +
      `Load average (1, 5, 15 min) before / after: ${report.loadBefore} / ${report.loadAfter}.`,
    '',
    '| command | executable ms | kubectl version --client ms | executable / kubectl | plain Node ms |',
    '|---|---:|---:|---:|---:|',
  ]
  for (const row of report.rows) lines.push(`| ${row.command} | ${ms(row.exe)} | ${ms(row.kubectl)} | ${row.ratio.toFixed(2)} | ${row.node ? ms(row.node) : '–'} |`)
  const f = report.firstRun
  lines.push(`| ${f.command} | ${ms(f.exe)} | ${ms(f.kubectl)} | ${f.ratio.toFixed(2)} | – |`)
  if (report.oclifFloorError) lines.push('', `The oclif-alone yardstick was not measured: ${report.oclifFloorError}.`)
  return lines.join('\n')
}

export function startupVerdicts(report: StartupReport): Array<{target: string; measured: string; pass: boolean}> {
  if (report.error) return [{target: `start-up ≤ ${STARTUP_GOAL} × kubectl version --client`, measured: `not measured: ${report.error}`, pass: false}]
  return report.rows.filter((row) => !row.reference).map((row) => ({
    target: `start-up: ${row.command} ≤ ${STARTUP_GOAL} × \`kubectl version --client\``,
    measured: `${row.ratio.toFixed(2)} × (${row.exe.median.toFixed(0)} ms / ${row.kubectl.median.toFixed(0)} ms)`,
    pass: row.ratio <= STARTUP_GOAL,
  }))
}
