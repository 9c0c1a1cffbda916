import {chmodSync, existsSync, mkdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {StoreUnavailableError} from '../../src/store/errors.js'
import {openRunStore, type RunStore} from '../../src/store/run-store.js'
import {ALL_NAMESPACES} from '../../src/store/types.js'
import {DB_PASSWORD, deletedZombie, makeTempDir, skippedStaleTry, zombiesRun} from '../support/store/helpers.js'

let dir: string
let cleanup: () => void
let store: RunStore | undefined
beforeEach(() => ({dir, cleanup} = makeTempDir()))
afterEach(() => {
  store?.close()
  store = undefined
  cleanup()
})

const clock = (iso: string) => () => new Date(iso)
const modeOf = (p: string) => statSync(p).mode & 0o777

describe('countRuns', () => {
  it('counts every run, finished or not', () => {
    store = openRunStore(path.join(dir, 'runs.sqlite'))
    expect(store.countRuns()).toBe(0)
    store.startRun(zombiesRun())
    const second = store.startRun(zombiesRun())
    store.finishRun(second, {outcome: 'ok', summary: {scanned: 1, found: 0, acted: 0, failed: 0, skipped: 0, unknown: 0}})
    expect(store.countRuns()).toBe(2)
  })
})

describe('a run round-trips', () => {
  it('through getRun and listRuns with every field', () => {
    store = openRunStore(path.join(dir, 'runs.sqlite'), {now: clock('2026-11-23T10:00:09.000Z')})
    const runId = store.startRun(
      zombiesRun({
        argv: ['zombies', '-A', '--dry-run=server', '--delete'],
        namespace: ALL_NAMESPACES,
        dryRun: true,
        dryRunMode: 'server',
        source: {kind: 'db', source: 'secret airflow/airflow-airflow-metadata:connection', via: 'port-forward pod/airflow-pgbouncer-0:6543'},
        startedAt: new Date('2026-11-23T10:00:00Z'),
      }),
    )
    const failedDelete = deletedZombie({name: 'etl-transform-x', uid: 'uid-3', action: 'failed', error: 'pods "etl-transform-x" is forbidden', actedAt: undefined})
    store.recordItems(runId, [deletedZombie(), skippedStaleTry(), failedDelete])
    const summary = {scanned: 1200, found: 3, acted: 1, failed: 1, skipped: 1, unknown: 0}
    expect(store.finishRun(runId, {outcome: 'failed', summary, error: 'RBAC: cannot delete pods'})).toBe(true)

    const listed = store.listRuns()
    expect(listed).toEqual([
      {
        runId,
        startedAt: '2026-11-23T10:00:00.000Z',
        finishedAt: '2026-11-23T10:00:09.000Z',
        command: 'zombies',
        context: 'prod-eks',
        server: 'https://ABCD.gr7.eu-west-1.eks.amazonaws.com',
        namespace: '*',
        dryRun: true,
        outcome: 'failed',
        summary,
        error: 'RBAC: cannot delete pods',
      },
    ])
    const {actedAt: _given, ...deleted} = deletedZombie()
    const {actedAt: _none, ...failed} = failedDelete
    expect(store.getRun(runId)).toEqual({
      run: {
        ...listed[0],
        argv: ['zombies', '-A', '--dry-run=server', '--delete'],
        dryRunMode: 'server',
        db: {source: 'secret airflow/airflow-airflow-metadata:connection', via: 'port-forward pod/airflow-pgbouncer-0:6543'},
        source: {kind: 'db', source: 'secret airflow/airflow-airflow-metadata:connection', via: 'port-forward pod/airflow-pgbouncer-0:6543'},
      },
      items: [
        {...deleted, actedAt: '2026-11-23T10:00:05.000Z'},
        {...skippedStaleTry(), actedAt: null}, // nothing was done: no action time
        {...failed, actedAt: '2026-11-23T10:00:09.000Z'}, // attempted, no time given: the time it was recorded
      ],
    })
  })

  it('survives closing and reopening the store', () => {
    const file = path.join(dir, 'runs.sqlite')
    store = openRunStore(file)
    const runId = store.startRun(zombiesRun())
    store.recordItems(runId, [deletedZombie()])
    store.close()
    store = openRunStore(file)
    expect(store.getRun(runId)?.items.map((i) => i.name)).toEqual(['etl-extract-abc123'])
  })

  it('records a non-dry run without a dry-run mode, and a dry run as client by default', () => {
    store = openRunStore(path.join(dir, 'runs.sqlite'))
    const real = store.startRun(zombiesRun({dryRun: false, dryRunMode: 'server'}))
    const dry = store.startRun(zombiesRun({dryRun: true}))
    expect(store.getRun(real)?.run).toMatchObject({dryRun: false, dryRunMode: null})
    expect(store.getRun(dry)?.run).toMatchObject({dryRun: true, dryRunMode: 'client'})
  })
})

describe('a run that never finishes', () => {
  it('stays `running` with no summary, so a crash leaves an honest trace', () => {
    const file = path.join(dir, 'runs.sqlite')
    store = openRunStore(file)
    const runId = store.startRun(zombiesRun())
    store.recordItems(runId, [deletedZombie()])
    store.close() // the process died here
    store = openRunStore(file)
    expect(store.listRuns()[0]).toMatchObject({runId, outcome: 'running', finishedAt: null, summary: null})
    expect(store.getRun(runId)?.items).toHaveLength(1)
  })
})

describe('listRuns', () => {
  it('returns the newest first, 20 by default, and honours limit', () => {
    store = openRunStore(path.join(dir, 'runs.sqlite'))
    const ids = Array.from({length: 25}, (_, i) => store!.startRun(zombiesRun({context: `ctx-${i}`})))
    const listed = store.listRuns()
    expect(listed).toHaveLength(20)
    expect(listed.map((r) => r.runId)).toEqual(ids.slice(5).reverse())
    expect(store.listRuns({limit: 3}).map((r) => r.context)).toEqual(['ctx-24', 'ctx-23', 'ctx-22'])
    expect(() => store!.listRuns({limit: 0})).toThrow(RangeError)
  })

  it('is empty for a new store, and getRun is undefined for an unknown id', () => {
    store = openRunStore(path.join(dir, 'runs.sqlite'))
    expect(store.listRuns()).toEqual([])
    expect(store.getRun(42)).toBeUndefined()
  })
})

describe('recording as the run goes', () => {
  it('updates an object recorded again and keeps its place and first action time', () => {
    let now = '2026-11-23T10:00:01.000Z'
    store = openRunStore(path.join(dir, 'runs.sqlite'), {now: () => new Date(now)})
    const runId = store.startRun(zombiesRun())
    store.recordItems(runId, [deletedZombie({action: 'none', actedAt: undefined}), skippedStaleTry()])
    now = '2026-11-23T10:00:02.000Z'
    store.recordItems(runId, [deletedZombie({actedAt: undefined})]) // deleted now
    now = '2026-11-23T10:00:09.000Z'
    store.recordItems(runId, [deletedZombie({actedAt: undefined}), skippedStaleTry()]) // the final report
    const items = store.getRun(runId)!.items
    expect(items.map((i) => [i.name, i.action, i.actedAt])).toEqual([
      ['etl-extract-abc123', 'deleted', '2026-11-23T10:00:02.000Z'],
      ['etl-load-def456', 'skipped', null],
    ])
  })

  it('keeps the first ending: a late finish does not overwrite `interrupted`', () => {
    store = openRunStore(path.join(dir, 'runs.sqlite'))
    const runId = store.startRun(zombiesRun())
    const summary = {scanned: 1, found: 0, acted: 0, failed: 0, skipped: 0, unknown: 0}
    expect(store.finishRun(runId, {outcome: 'interrupted', summary})).toBe(true)
    expect(store.finishRun(runId, {outcome: 'ok', summary})).toBe(false)
    expect(store.getRun(runId)?.run.outcome).toBe('interrupted')
  })

  it('refuses items and endings for a run it does not have, with the store error', () => {
    store = openRunStore(path.join(dir, 'runs.sqlite'))
    const summary = {scanned: 0, found: 0, acted: 0, failed: 0, skipped: 0, unknown: 0}
    expect(() => store!.recordItems(99, [deletedZombie()])).toThrow(StoreUnavailableError)
    expect(() => store!.finishRun(99, {outcome: 'ok', summary})).toThrow(/has no run 99/)
  })

  it('records nothing of a batch that fails half-way', () => {
    store = openRunStore(path.join(dir, 'runs.sqlite'))
    const runId = store.startRun(zombiesRun())
    const broken = {...skippedStaleTry(), detail: undefined as unknown as string} // NOT NULL column
    expect(() => store!.recordItems(runId, [deletedZombie(), broken])).toThrow(StoreUnavailableError)
    expect(store.getRun(runId)?.items).toEqual([])
  })
})

// A permissive umask (0) proves the modes do not come from the environment's umask; a strict one
// (0277, which would leave files unwritable by their owner) proves they are set exactly, not masked.
describe.each([0o000, 0o277])('file modes under umask %o', (umask) => {
  let savedUmask: number
  beforeEach(() => (savedUmask = process.umask(umask)))
  afterEach(() => void process.umask(savedUmask))

  it('creates the directories 0700 and the file and its -wal/-shm 0600', () => {
    const storeDir = path.join(dir, 'cache', 'airflow-reap')
    const file = path.join(storeDir, 'runs.sqlite')
    store = openRunStore(file)
    store.recordItems(store.startRun(zombiesRun()), [deletedZombie()])
    expect(modeOf(storeDir).toString(8)).toBe('700')
    expect(modeOf(path.dirname(storeDir)).toString(8)).toBe('700')
    expect(modeOf(file).toString(8)).toBe('600')
    expect(existsSync(`${file}-wal`) && existsSync(`${file}-shm`)).toBe(true)
    expect(modeOf(`${file}-wal`).toString(8)).toBe('600')
    expect(modeOf(`${file}-shm`).toString(8)).toBe('600')
  })

  it('does not chmod a directory that already existed', () => {
    const existing = path.join(dir, 'shared-cache')
    mkdirSync(existing)
    chmodSync(existing, 0o755)
    store = openRunStore(path.join(existing, 'airflow-reap', 'runs.sqlite'))
    expect(modeOf(existing).toString(8)).toBe('755')
    expect(modeOf(path.join(existing, 'airflow-reap')).toString(8)).toBe('700')
  })
})

describe('the connection', () => {
  it('uses WAL journaling, a busy timeout and foreign keys', () => {
    store = openRunStore(path.join(dir, 'runs.sqlite'))
    const db = (store as unknown as {db: import('better-sqlite3').Database}).db
    expect(db.pragma('journal_mode', {simple: true})).toBe('wal')
    expect(db.pragma('busy_timeout', {simple: true})).toBe(5000)
    expect(db.pragma('foreign_keys', {simple: true})).toBe(1)
  })
})

describe('secrets never reach the store', () => {
  const dbUrl = `postgresql+psycopg2://airflow:${DB_PASSWORD}@db.internal:5432/airflow`
  const storeFiles = (file: string) => [file, `${file}-wal`, `${file}-shm`].filter((f) => existsSync(f))
  const leaks = (file: string) => storeFiles(file).filter((f) => readFileSync(f).includes(Buffer.from(DB_PASSWORD)))

  it('not from argv, item details and errors, nor the run error, even when the caller forgets to redact', () => {
    const file = path.join(dir, 'runs.sqlite')
    store = openRunStore(file)
    // Unredacted on purpose: the store itself must redact.
    const runId = store.startRun(zombiesRun({argv: ['zombies', '--db', dbUrl, `--db=${dbUrl}`, '--token', DB_PASSWORD, '--yes']}))
    store.recordItems(runId, [
      deletedZombie({detail: `task instance looked up in ${dbUrl}`}),
      skippedStaleTry({action: 'failed', skipReason: undefined, error: `could not connect: ${dbUrl}: password=${DB_PASSWORD}`}),
    ])
    store.finishRun(runId, {outcome: 'failed', summary: {scanned: 2, found: 2, acted: 1, failed: 1, skipped: 0, unknown: 0}, error: `DB unreachable: ${dbUrl}`})

    // While open, the WAL holds the freshest pages: look there too.
    expect(storeFiles(file).length).toBeGreaterThan(1)
    expect(leaks(file)).toEqual([])
    const stored = store.getRun(runId)!
    expect(stored.run.argv).toEqual(['zombies', '--db', 'postgresql+psycopg2://airflow:***@db.internal:5432/airflow', '--db=postgresql+psycopg2://airflow:***@db.internal:5432/airflow', '--token', '***', '--yes'])
    expect(stored.run.error).toBe('DB unreachable: postgresql+psycopg2://airflow:***@db.internal:5432/airflow')
    store.close()
    expect(leaks(file)).toEqual([])
    expect(readFileSync(file).includes(Buffer.from('db.internal'))).toBe(true) // the check reads real content
  })
})
