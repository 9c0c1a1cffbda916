// A run store that can be read but not written still serves `history` and `history show`, through the
// built CLI on a read-only file system (EROFS) and as an ordinary user bound by file modes (both bind
// root too, test/support/confined.ts): the runs as a writable store would show them (a crashed run
// crashed, its in-flight delete unknown), one warning that says why and what to do, and not a byte
// of the store changed. A reap with such a store warns, saying what to fix, and goes on; a store that
// cannot be read at all is an error that says so.
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {hostname, tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import type {Report} from '../../src/core/report.js'
import type {RunDocument, RunListDocument} from '../../src/store/documents.js'
import {IN_FLIGHT_AT_CRASH, openRunStore, type RunStore} from '../../src/store/run-store.js'
import {type TestAirflowDb, createSqliteAirflowDb} from '../support/airflow-db/index.js'
import {runCli} from '../support/cli.js'
import {type FakeKube, startFakeKube} from '../support/fake-kube/index.js'
import {addKpoPod} from '../support/kpo.js'
import {fileModesUnavailable, fileModesWrapper, readOnlyMountUnavailable, readOnlyMountWrapper} from '../support/confined.js'
import {deadPid, deletedZombie, holdWriteLock, storeFingerprint, zombiesRun} from '../support/store/helpers.js'

const unavailable = readOnlyMountUnavailable()
const modesUnavailable = fileModesUnavailable()
const skipped = (why: string | undefined) => (why ? ` (skipped: ${why})` : '')

let dir: string
let file: string
let kubeconfig: string
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'reap-history-ro-'))
  file = path.join(dir, 'runs.sqlite')
  kubeconfig = kube.writeKubeconfig(path.join(dir, 'kubeconfig'), {contexts: [{name: 'prod', namespace: 'airflow'}]})
})
afterEach(() => {
  // A directory of the test made 0500 could not be emptied by its owner otherwise.
  chmodSync(dir, 0o700)
  rmSync(dir, {recursive: true, force: true})
})

// One zombie pod, for the reaps.
let kube: FakeKube
let db: TestAirflowDb
beforeAll(async () => {
  kube = await startFakeKube()
  db = await createSqliteAirflowDb('2.10')
  await db.seed.dagRun({dagId: 'etl', runId: 'manual__1'})
  await db.seed.taskInstance({dagId: 'etl', taskId: 'extract', runId: 'manual__1', state: 'success', tryNumber: 1})
  addKpoPod(kube, {name: 'etl-extract-zombie', dagId: 'etl', taskId: 'extract', runId: 'manual__1', tryNumber: 1})
})
afterAll(async () => {
  await kube?.close()
  await db?.drop()
})

function zombies(cache: string, wrapper: string[]) {
  return runCli(['zombies', '-o', 'json', '--cache', cache], {wrapper, env: {HOME: dir, KUBECONFIG: kubeconfig, AIRFLOW_REAP_DB: db.url}})
}

/** The report a reap printed although it could not record itself. */
function expectUnrecordedReport(result: {code: number | null; stdout: string}): void {
  expect(result.code).toBe(0)
  expect(JSON.parse(result.stdout) as Report).toMatchObject({runId: null, summary: {found: 1}})
}

/** One finished run, and one whose process died with a delete in flight. */
function recordRuns(store: RunStore): {finished: number; crashed: number} {
  const finished = store.startRun(zombiesRun())
  store.recordItems(finished, [deletedZombie()])
  store.finishRun(finished, {outcome: 'ok', summary: {scanned: 3, found: 1, acted: 1, failed: 0, skipped: 0, unknown: 0}})
  const crashed = store.startRun(zombiesRun({process: {pid: deadPid(), host: hostname(), start: null}}))
  const inFlight = deletedZombie({name: 'in-flight', uid: 'uid-in-flight', action: 'none', actedAt: undefined})
  store.recordItems(crashed, [inFlight])
  store.recordIntent(crashed, inFlight, 'delete')
  return {finished, crashed}
}

function readOnly(args: string[]) {
  return runCli([...args, '--cache', file], {wrapper: readOnlyMountWrapper(dir), env: {HOME: dir}})
}

const warning = (fileName: string) =>
  `warning: run store ${fileName} is on a read-only file system: showing it read-only; to record runs: pass --cache PATH to put it elsewhere\n`

describe.skipIf(unavailable !== undefined)(`history of a store on a read-only file system${skipped(unavailable)}`, () => {
  it('lists the runs, the crashed one crashed, with one warning, and writes nothing', async () => {
    const store = openRunStore(file)
    const {finished, crashed} = recordRuns(store)
    store.close()
    const before = storeFingerprint(file)

    const result = await readOnly(['history', '-o', 'json'])
    expect(result.stderr).toBe(warning(file))
    expect(result.code).toBe(0)
    const list = JSON.parse(result.stdout) as RunListDocument
    expect(list.items.map((run) => [run.runId, run.outcome])).toEqual([
      [crashed, 'crashed'],
      [finished, 'ok'],
    ])
    expect(storeFingerprint(file)).toBe(before)
  })

  it('history show: every item, the in-flight delete unknown', async () => {
    const store = openRunStore(file)
    const {crashed} = recordRuns(store)
    store.close()

    const result = await readOnly(['history', 'show', String(crashed), '-o', 'json'])
    expect(result.stderr).toBe(warning(file))
    expect(result.code).toBe(0)
    const run = JSON.parse(result.stdout) as RunDocument
    expect(run.outcome).toBe('crashed')
    expect(run.items).toEqual([expect.objectContaining({name: 'in-flight', action: 'unknown', error: IN_FLIGHT_AT_CRASH})])
  })

  it('reads the runs a writer still holds in its write-ahead log', async () => {
    const writer = openRunStore(file)
    try {
      const {crashed} = recordRuns(writer)
      expect(readFileSync(`${file}-wal`).length).toBeGreaterThan(0)
      const result = await readOnly(['history'])
      expect(result.code).toBe(0)
      expect(result.stdout.split('\n')[1]).toMatch(new RegExp(`^${crashed}\\s.*\\scrashed\\s`))
    } finally {
      writer.close()
    }
  })

  it('an unreadable store is still an error, saying what is wrong with it', async () => {
    writeFileSync(file, 'these bytes are not a SQLite database at all, only some text\n'.repeat(4))
    const result = await readOnly(['history'])
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe(`error: run store ${file} is not a SQLite database, or is corrupt (file is not a database); move it aside: mv ${file} ${file}.broken\n`)
    expect(result.code).toBe(1)
  })
})

describe.skipIf(unavailable !== undefined)(`a reap whose run store is on a read-only file system${skipped(unavailable)}`, () => {
  it.each([
    ['an existing store', () => file],
    ['a store to be created in a directory that does not exist yet', () => path.join(dir, 'cache', 'airflow-reap', 'runs.sqlite')],
  ])('%s: one warning that says to pass --cache, and the report all the same', async (_case, cache) => {
    if (cache() === file) openRunStore(file).close()
    const result = await zombies(cache(), readOnlyMountWrapper(dir))
    expect(result.stderr).toBe(`warning: run not recorded in the local store: run store ${cache()} is on a read-only file system; pass --cache PATH to put it elsewhere\n`)
    expectUnrecordedReport(result)
  })
})

describe.skipIf(modesUnavailable !== undefined)(`a run store that file modes forbid to write${skipped(modesUnavailable)}`, () => {
  const asOwner = fileModesWrapper()

  it('a read-only file (0444): history shows it, with one warning saying how to fix it', async () => {
    const store = openRunStore(file)
    const {crashed} = recordRuns(store)
    store.close()
    chmodSync(file, 0o444)
    const before = storeFingerprint(file)
    const result = await runCli(['history', '-o', 'json', '--cache', file], {wrapper: asOwner, env: {HOME: dir}})
    expect(result.stderr).toBe(
      `warning: run store ${file} cannot be opened: permission denied on ${file}: showing it read-only; to record runs: make ${file} readable and writable by you, or move it aside: mv ${file} ${file}.broken\n`,
    )
    expect(result.code).toBe(0)
    expect((JSON.parse(result.stdout) as RunListDocument).items[0]).toMatchObject({runId: crashed, outcome: 'crashed'})
    expect(storeFingerprint(file)).toBe(before)
  })

  it('a directory that cannot be written (0500, where SQLite keeps its -wal and -shm): history shows the store; a reap warns naming the directory', async () => {
    const storeDir = path.join(dir, 'store')
    mkdirSync(storeDir)
    const inside = path.join(storeDir, 'runs.sqlite')
    const store = openRunStore(inside)
    recordRuns(store)
    store.close()
    chmodSync(storeDir, 0o500)
    try {
      const history = await runCli(['history', '--cache', inside], {wrapper: asOwner, env: {HOME: dir}})
      expect(history.code).toBe(0)
      expect(history.stderr).toMatch(new RegExp(`^warning: run store ${inside} cannot be opened: permission denied on ${storeDir}: showing it read-only; to record runs: make ${storeDir} writable by you, or pass --cache PATH\n$`))
      expect(history.stdout.split('\n')[1]).toMatch(/\scrashed\s/)

      const reap = await zombies(inside, asOwner)
      expect(reap.stderr).toBe(`warning: run not recorded in the local store: run store ${inside} cannot be opened: permission denied on ${storeDir}; make ${storeDir} writable by you, or pass --cache PATH\n`)
      expectUnrecordedReport(reap)

      // A store to be created in a new directory under it: the directory that refused is named.
      const below = path.join(storeDir, 'sub', 'runs.sqlite')
      const create = await zombies(below, asOwner)
      expect(create.stderr).toMatch(new RegExp(`^warning: run not recorded in the local store: run store ${below} cannot be \\w+: permission denied on ${storeDir}; `))
      expectUnrecordedReport(create)
    } finally {
      chmodSync(storeDir, 0o700)
    }
  })

  it('a file that cannot be read (000): an error that says so, exit 1', async () => {
    openRunStore(file).close()
    chmodSync(file, 0o000)
    const result = await runCli(['history', '--cache', file], {wrapper: asOwner, env: {HOME: dir}})
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe(`error: run store ${file} cannot be opened: permission denied on ${file}; make ${file} readable and writable by you, or move it aside: mv ${file} ${file}.broken\n`)
    expect(result.code).toBe(1)
  })
})

// Listing runs writes when a run has crashed (it is recorded so); a store another process keeps
// locked past the busy timeout must not keep history from being shown.
describe('a store locked by another process past the busy timeout', () => {
  it('history settles crashed runs in a copy instead, with one warning', {timeout: 60_000}, async () => {
    const store = openRunStore(file)
    const {crashed} = recordRuns(store)
    store.close()
    // Held until the CLI is done, however long a loaded machine makes it take.
    const lock = await holdWriteLock(file, 600_000)
    try {
      const result = await runCli(['history', '-o', 'json', '--cache', file], {env: {HOME: dir}})
      expect(result.stderr).toMatch(new RegExp(`^warning: run store ${file} stayed locked by another process \\(database is locked\\): showing it read-only; to record runs: try again, or pass --no-cache\\n$`))
      expect(result.code).toBe(0)
      expect((JSON.parse(result.stdout) as RunListDocument).items[0]).toMatchObject({runId: crashed, outcome: 'crashed'})
    } finally {
      await lock.release()
    }
  })
})
