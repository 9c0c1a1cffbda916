// What `kubectl krew install airflow-reap` does, on this machine, with the archive `npm run release`
// built: unpack it into an empty directory, check its sha256 against krew-manifest.yaml, move the
// files as the manifest says into a krew-style store, link bin into a bin directory, and put only
// that directory on PATH: no Node.js, no node_modules. Then kubectl discovers the plugin and runs
// `--help`, `history` and a `zombies` dry run against the fake API server and a SQLite Airflow DB.
//
// Run by `npm run test:release` (which builds the release first if it is missing). kubectl is
// AIRFLOW_REAP_KUBECTL, else the one on PATH (.ci/run installs Debian's kubernetes-client if none).
import {spawnSync} from 'node:child_process'
import {type CliResult, runProcess} from '../support/cli.js'
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {type SqliteTestAirflowDb, createSqliteAirflowDb} from '../support/airflow-db/index.js'
import {type FakeKube, startFakeKube} from '../support/fake-kube/index.js'
import {addKpoPod} from '../support/kpo.js'
import {EXECUTABLE, hostArchive, hostPlatform, loadManifest, packageVersion, selectorMatches} from '../support/release/index.js'
import {krewInstallLayout} from '../support/release/krew.js'

const DAG = 'kpo_dag'
const RUN = 'manual__2026-01-01T00:00:00+00:00'

function findKubectl(): string | null {
  if (process.env.AIRFLOW_REAP_KUBECTL) return process.env.AIRFLOW_REAP_KUBECTL
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const file = path.join(dir, 'kubectl')
    if (dir && existsSync(file) && statSync(file).isFile()) return file
  }
  return null
}


/** Asynchronous on purpose: the fake API server lives in this process and must answer meanwhile. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<CliResult> {
  return runProcess(command, args, {env, cwd, timeoutMs: 60_000})
}

function listFiles(root: string, relative = ''): string[] {
  return readdirSync(path.join(root, relative), {withFileTypes: true}).flatMap((entry) => {
    const rel = relative ? `${relative}/${entry.name}` : entry.name
    return entry.isDirectory() ? [rel, ...listFiles(root, rel)] : [rel]
  })
}

const host = hostPlatform()
const kubectl = findKubectl()

describe.runIf(host?.os === 'linux')('krew-style install of the release archive', () => {
  let tmp: string
  let binDir: string
  let installDir: string
  let kube: FakeKube
  let db: SqliteTestAirflowDb
  let env: NodeJS.ProcessEnv

  beforeAll(async () => {
    if (!kubectl) throw new Error('kubectl not found: install Debian\'s kubernetes-client (apt-get install kubernetes-client) or set AIRFLOW_REAP_KUBECTL')
    const archive = hostArchive()
    if (!archive) throw new Error('no release archive for this machine: run `npm run release` (or `npm run test:release`, which builds it)')
    tmp = mkdtempSync(path.join(tmpdir(), 'reap-krew-'))

    // 1. Download (here: copy) into an empty directory and verify the checksum against the manifest.
    const platform = (loadManifest().spec?.platforms ?? []).find((p) => selectorMatches(p.selector, {os: host!.os, arch: host!.arch}))
    if (!platform) throw new Error(`krew-manifest.yaml has no platform for ${host!.os}/${host!.arch}`)
    const bytes = readFileSync(archive)
    expect(createHash('sha256').update(bytes).digest('hex'), 'the archive sha256 in krew-manifest.yaml').toBe(platform.sha256)
    expect(path.basename(new URL(platform.uri!).pathname)).toBe(path.basename(archive))

    // 2. Unpack into an empty directory (with the system's tar, not our own reader).
    const download = path.join(tmp, 'download')
    mkdirSync(download)
    const untar = spawnSync('tar', ['-xzf', archive, '-C', download], {encoding: 'utf8'})
    expect(untar.status, untar.stderr).toBe(0)

    // 3. krew's file operations into the store, then the bin link: ~/.krew/bin/kubectl-airflow_reap.
    const version = `v${packageVersion()}`
    installDir = path.join(tmp, 'krew', 'store', 'airflow-reap', version)
    mkdirSync(installDir, {recursive: true})
    for (const [to, from] of krewInstallLayout(listFiles(download), platform.files)) {
      mkdirSync(path.dirname(path.join(installDir, to)), {recursive: true})
      renameSync(path.join(download, from), path.join(installDir, to))
    }
    binDir = path.join(tmp, 'krew', 'bin')
    mkdirSync(binDir)
    symlinkSync(path.join(installDir, platform.bin!), path.join(binDir, EXECUTABLE))

    kube = await startFakeKube()
    db = await createSqliteAirflowDb('2.10')
    await db.seed.dagRun({dagId: DAG, runId: RUN, state: 'running'})
    await db.seed.taskInstance({dagId: DAG, taskId: 'done_task', runId: RUN, state: 'success', tryNumber: 1})
    addKpoPod(kube, {name: 'done-task-zombie', dagId: DAG, taskId: 'done_task', runId: RUN, tryNumber: 1})
    await db.seed.taskInstance({dagId: DAG, taskId: 'running_task', runId: RUN, state: 'running', tryNumber: 1})
    addKpoPod(kube, {name: 'running-task-pod', dagId: DAG, taskId: 'running_task', runId: RUN, tryNumber: 1})
    const kubeconfig = kube.writeKubeconfig(path.join(tmp, 'kubeconfig'), {contexts: [{name: 'krew-test', namespace: 'airflow'}]})

    // Nothing of this machine's: only the krew bin directory on PATH, a fresh home and cache.
    env = {
      PATH: binDir,
      HOME: path.join(tmp, 'home'),
      XDG_CACHE_HOME: path.join(tmp, 'cache'),
      KUBECONFIG: kubeconfig,
      NO_COLOR: '1',
      LANG: 'C.UTF-8',
    }
    mkdirSync(env.HOME!)
  }, 120_000)

  afterAll(async () => {
    await kube?.close()
    await db?.drop()
    if (tmp) rmSync(tmp, {recursive: true, force: true})
  })

  it('installs exactly the executable and LICENSE, and finds no Node.js on PATH', () => {
    expect(listFiles(installDir).sort()).toEqual(['LICENSE', EXECUTABLE])
    expect(statSync(path.join(installDir, EXECUTABLE)).mode & 0o111).toBe(0o111)
    expect(readdirSync(binDir)).toEqual([EXECUTABLE])
    expect(spawnSync('node', ['--version'], {env}).error).toBeDefined() // ENOENT: no node to fall back on
  })

  it('is discovered by kubectl as the plugin airflow-reap', async () => {
    const result = await run(kubectl!, ['plugin', 'list'], env, tmp)
    expect(result.stdout).toContain(path.join(binDir, EXECUTABLE))
    expect(result.stderr).not.toMatch(/warning/i)
  })

  it('kubectl airflow-reap --help', async () => {
    const result = await run(kubectl!, ['airflow-reap', '--help'], env, tmp)
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('zombies')
    expect(result.stdout).toContain('history')
    expect(result.stdout).toMatch(/node-v24\./) // the embedded runtime, not this machine's Node
    // Unpacked once into the cache directory, per version.
    const apps = readdirSync(path.join(env.XDG_CACHE_HOME!, 'airflow-reap')).filter((name) => name.startsWith('app-'))
    expect(apps).toHaveLength(1)
    expect(apps[0]).toMatch(new RegExp(`^app-${packageVersion().replace(/\./g, '\\.')}-[0-9a-f]{12}$`))
  })

  it('kubectl airflow-reap zombies: a dry run against the fake API server and a SQLite Airflow DB', async () => {
    const result = await run(kubectl!, ['airflow-reap', 'zombies', '--db', db.url, '-o', 'json'], env, tmp)
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const report = JSON.parse(result.stdout)
    expect(report).toMatchObject({kind: 'ZombieReport', context: 'krew-test', dryRun: true})
    expect(report.items.map((item: {name: string; reason: string; action: string}) => [item.name, item.reason, item.action])).toEqual([
      ['done-task-zombie', 'no-active-task-instance', 'none'],
    ])
    expect(kube.requests.filter((request) => request.method !== 'GET')).toEqual([])
    expect(kube.getObject('pods', 'airflow', 'done-task-zombie')).toBeDefined()
  })

  it('kubectl airflow-reap history: the run store in the cache directory (better-sqlite3 inside the executable)', async () => {
    const result = await run(kubectl!, ['airflow-reap', 'history', '-o', 'json'], env, tmp)
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const list = JSON.parse(result.stdout)
    expect(list.kind).toBe('RunList')
    expect(list.items.map((item: {command: string; dryRun: boolean}) => [item.command, item.dryRun])).toEqual([['zombies', true]])
    expect(existsSync(path.join(env.XDG_CACHE_HOME!, 'airflow-reap', 'runs.sqlite'))).toBe(true)

    const table = await run(kubectl!, ['airflow-reap', 'history'], env, tmp)
    expect(table.code).toBe(0)
    expect(table.stdout).toMatch(/zombies/)
  })

  it('starts again from the unpacked app, and unpacks it anew when the cache was emptied', async () => {
    rmSync(path.join(env.XDG_CACHE_HOME!, 'airflow-reap'), {recursive: true, force: true})
    const results = await Promise.all([1, 2, 3].map(() => run(kubectl!, ['airflow-reap', '--version'], env, tmp)))
    for (const result of results) {
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
      expect(result.stdout).toContain(`kubectl-airflow-reap/${packageVersion()}`)
    }
    const left = readdirSync(path.join(env.XDG_CACHE_HOME!, 'airflow-reap'))
    expect(left.filter((name) => name.startsWith('app-'))).toHaveLength(1) // three first runs at once, one app, no leftovers
  })

  it('unpacks into AIRFLOW_REAP_APP_CACHE, or into $TMPDIR when the cache directory cannot be written', async () => {
    const chosen = path.join(tmp, 'chosen')
    const own = await run(kubectl!, ['airflow-reap', '--version'], {...env, AIRFLOW_REAP_APP_CACHE: chosen}, tmp)
    expect(own.code).toBe(0)
    expect(readdirSync(chosen).filter((name) => name.startsWith('app-'))).toHaveLength(1)

    const blocked = path.join(tmp, 'not-a-directory')
    writeFileSync(blocked, '')
    const fallbackTmp = path.join(tmp, 'tmpdir')
    mkdirSync(fallbackTmp)
    const result = await run(kubectl!, ['airflow-reap', '--version'], {...env, XDG_CACHE_HOME: path.join(blocked, 'cache'), TMPDIR: fallbackTmp}, tmp)
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const uid = process.getuid?.() ?? 'user'
    expect(readdirSync(path.join(fallbackTmp, `airflow-reap-${uid}`)).filter((name) => name.startsWith('app-'))).toHaveLength(1)
  })
})
