// The read-only copy `history` falls back to when the store cannot be written: the same runs a
// writable store shows (crashed runs settled, older schemas migrated), and the file never changes.
import {readFileSync, writeFileSync} from 'node:fs'
import {hostname} from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {StoreTooNewError, StoreUnavailableError} from '../../src/store/errors.js'
import {migrations, SCHEMA_VERSION, schemaVersion} from '../../src/store/migrations.js'
import {IN_FLIGHT_AT_CRASH, openRunStore} from '../../src/store/run-store.js'
import {openRunStoreSnapshot} from '../../src/store/snapshot.js'
import {deadPid, deletedZombie, makeTempDir, skippedStaleTry, storeFingerprint, zombiesRun} from '../support/store/helpers.js'

let dir: string
let file: string
let cleanup: () => void
beforeEach(() => {
  ;({dir, cleanup} = makeTempDir())
  file = path.join(dir, 'runs.sqlite')
})
afterEach(() => cleanup())

/** A store holding one finished run and one whose process died with a delete in flight. */
function storeWithCrashedRun(): {finished: number; crashed: number} {
  const store = openRunStore(file)
  const finished = store.startRun(zombiesRun())
  store.recordItems(finished, [deletedZombie()])
  store.finishRun(finished, {outcome: 'ok', summary: {scanned: 3, found: 1, acted: 1, failed: 0, skipped: 0, unknown: 0}})
  const crashed = store.startRun(zombiesRun({process: {pid: deadPid(), host: hostname(), start: null}}))
  const inFlight = deletedZombie({name: 'in-flight', uid: 'uid-in-flight', action: 'none', actedAt: undefined})
  store.recordItems(crashed, [skippedStaleTry(), inFlight])
  store.recordIntent(crashed, inFlight, 'delete')
  store.close()
  return {finished, crashed}
}

describe('a snapshot of the run store', () => {
  it('shows a crashed run as crashed and its in-flight delete as unknown, without writing the file', () => {
    const {finished, crashed} = storeWithCrashedRun()
    const before = storeFingerprint(file)

    const snapshot = openRunStoreSnapshot(file)
    const runs = snapshot.listRuns()
    expect(runs.map((run) => [run.runId, run.outcome])).toEqual([
      [crashed, 'crashed'],
      [finished, 'ok'],
    ])
    expect(runs[0].summary).toMatchObject({found: 1, acted: 0, skipped: 1, unknown: 1}) // found: the unknown one; the skipped one apart
    expect(snapshot.getRun(crashed)!.items.find((item) => item.name === 'in-flight')).toMatchObject({action: 'unknown', error: IN_FLIGHT_AT_CRASH})
    snapshot.close()

    expect(storeFingerprint(file)).toBe(before)
    // The file still says running: only a writable open records the verdict.
    const raw = new Database(file, {readonly: true})
    expect(raw.prepare('SELECT outcome FROM runs WHERE id = ?').get(crashed)).toEqual({outcome: 'running'})
    raw.close()
  })

  it('reads runs still in the write-ahead log of a writer that never closed', () => {
    const store = openRunStore(file)
    const runId = store.startRun(zombiesRun())
    store.finishRun(runId, {outcome: 'ok', summary: {scanned: 1, found: 0, acted: 0, failed: 0, skipped: 0, unknown: 0}})
    // Left open: its commits are in runs.sqlite-wal, not yet in runs.sqlite.
    expect(readFileSync(`${file}-wal`).length).toBeGreaterThan(0)

    const snapshot = openRunStoreSnapshot(file)
    expect(snapshot.listRuns().map((run) => run.runId)).toEqual([runId])
    snapshot.close()
    store.close()
  })

  it('migrates a store of an older version in memory only', () => {
    const old = new Database(file)
    migrations[0].up(old)
    old.pragma('user_version = 1')
    old.prepare(
      `INSERT INTO runs (started_at, command, argv, context, server, namespace, dry_run, outcome, scanned, found, acted, failed, skipped)
       VALUES ('2026-11-01T00:00:00.000Z', 'zombies', '["zombies"]', 'prod', 'https://k8s', 'airflow', 1, 'ok', 4, 0, 0, 0, 0)`,
    ).run()
    old.close()
    const before = storeFingerprint(file)

    const snapshot = openRunStoreSnapshot(file)
    const [run] = snapshot.listRuns()
    expect(run).toMatchObject({command: 'zombies', outcome: 'ok', summary: {scanned: 4, unknown: 0}})
    expect(snapshot.getRun(run.runId)!.run.db).toBeNull()
    snapshot.close()

    expect(storeFingerprint(file)).toBe(before)
    const raw = new Database(file, {readonly: true})
    expect(schemaVersion(raw)).toBe(1)
    raw.close()
  })

  it('refuses a store of a newer version, naming the file', () => {
    const newer = new Database(file)
    newer.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
    newer.close()
    expect(() => openRunStoreSnapshot(file)).toThrow(StoreTooNewError)
    expect(() => openRunStoreSnapshot(file)).toThrow(`run store ${file} was written by a newer airflow-reap`)
  })

  it('refuses garbage with the usual one-line error', () => {
    writeFileSync(file, 'not a database, just text that is long enough to have a header\n'.repeat(4))
    expect(() => openRunStoreSnapshot(file)).toThrow(StoreUnavailableError)
    expect(() => openRunStoreSnapshot(file)).toThrow(/is not a SQLite database, or is corrupt/)
  })
})
