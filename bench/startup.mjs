#!/usr/bin/env node
// Start-up time of the single executable built by `npm run release`, as a user of the krew plugin
// sees it: `kubectl-airflow_reap --help` (the goal: under 300 ms), measured apart from the first run
// of a build, which unpacks the app into the cache directory once.
//
//   node bench/startup.mjs [--runs N] [--warmup N] [--first-runs N] [--exe PATH] [--write]
//
// Runs the executable directly (not through kubectl, whose own start-up is not ours) with an empty
// environment but for PATH=/nonexistent, HOME and XDG_CACHE_HOME in a temporary folder. Prints the
// median, mean, min, p90 and max of N timed runs after the warm-up, and of the first runs (each with
// an emptied cache); with --write also records them in bench/README.md between its markers.
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const option = (name, fallback) => {
  const i = args.indexOf(name)
  return i === -1 ? fallback : args[i + 1]
}
const runs = Number(option('--runs', 30))
const warmup = Number(option('--warmup', 3))
const firstRuns = Number(option('--first-runs', 5))
const write = args.includes('--write')
const GOAL_MS = 300

function hostArchiveName() {
  const os_ = {linux: 'linux', darwin: 'darwin'}[process.platform]
  const arch = {x64: 'amd64', arm64: 'arm64'}[process.arch]
  return `kubectl-airflow_reap_${os_}_${arch}.tar.gz`
}

function findExecutable(tmp) {
  const given = option('--exe')
  if (given) return path.resolve(given)
  const archive = path.join(ROOT, 'dist', 'release', hostArchiveName())
  if (!existsSync(archive)) {
    console.error(`no ${path.relative(ROOT, archive)}: run \`npm run release\` first (or pass --exe PATH)`)
    process.exit(2)
  }
  const into = path.join(tmp, 'install')
  spawnSync('mkdir', ['-p', into])
  const untar = spawnSync('tar', ['-xzf', archive, '-C', into], {stdio: 'inherit'})
  if (untar.status !== 0) process.exit(1)
  return path.join(into, 'kubectl-airflow_reap')
}

function timeRun(exe, argv, env) {
  const start = process.hrtime.bigint()
  const result = spawnSync(exe, argv, {env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8'})
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  if (result.status !== 0) throw new Error(`${exe} ${argv.join(' ')} exited with ${result.status}: ${result.stderr}`)
  return ms
}

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b)
  const pick = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1) + 0.5))]
  const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2
  return {n: sorted.length, median, mean: sorted.reduce((a, b) => a + b, 0) / sorted.length, min: sorted[0], p90: pick(0.9), max: sorted.at(-1)}
}

const fmt = (ms) => `${ms.toFixed(0)} ms`
const row = (label, s) => `| ${label} | ${s.n} | ${fmt(s.median)} | ${fmt(s.mean)} | ${fmt(s.min)} | ${fmt(s.p90)} | ${fmt(s.max)} |`

const tmp = mkdtempSync(path.join(os.tmpdir(), 'airflow-reap-bench-'))
try {
  const exe = findExecutable(tmp)
  const cache = path.join(tmp, 'cache')
  const env = {PATH: '/nonexistent', HOME: tmp, XDG_CACHE_HOME: cache, NO_COLOR: '1', LANG: 'C.UTF-8'}

  const first = []
  for (let i = 0; i < firstRuns; i++) {
    rmSync(cache, {recursive: true, force: true})
    first.push(timeRun(exe, ['--help'], env))
  }
  for (let i = 0; i < warmup; i++) timeRun(exe, ['--help'], env)
  const help = []
  for (let i = 0; i < runs; i++) help.push(timeRun(exe, ['--help'], env))
  const version = []
  for (let i = 0; i < Math.min(runs, 10); i++) version.push(timeRun(exe, ['--version'], env))

  const helpStats = stats(help)
  const lines = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${process.platform}/${process.arch}, load average ${os.loadavg()[0].toFixed(2)}; executable ${(readFileSync(exe).length / 1e6).toFixed(0)} MB.`,
    '',
    '| command | runs | median | mean | min | p90 | max |',
    '|---|---|---|---|---|---|---|',
    row('`--help` (app already unpacked)', helpStats),
    row('`--version` (app already unpacked)', stats(version)),
    row('`--help`, first run of a build (unpacks the app)', stats(first)),
    '',
    `Goal: \`--help\` under ${GOAL_MS} ms (median): ${helpStats.median < GOAL_MS ? 'met' : 'NOT met'}.`,
  ]
  console.log(lines.join('\n'))

  if (write) {
    const readme = path.join(ROOT, 'bench', 'README.md')
    const begin = '<!-- startup:begin -->'
    const end = '<!-- startup:end -->'
    const text = readFileSync(readme, 'utf8')
    const from = text.indexOf(begin)
    const to = text.indexOf(end)
    if (from === -1 || to === -1) throw new Error(`${readme} has no ${begin} … ${end} section`)
    writeFileSync(readme, `${text.slice(0, from + begin.length)}\n${lines.join('\n')}\n${text.slice(to)}`)
    console.log(`\nwritten to ${path.relative(ROOT, readme)}`)
  }
  process.exitCode = helpStats.median < GOAL_MS ? 0 : 3
} finally {
  rmSync(tmp, {recursive: true, force: true})
}
