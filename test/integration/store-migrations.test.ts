import path from 'node:path'
import Database from 'better-sqlite3'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {StoreTooNewError, StoreUnavailableError} from '../../src/store/errors.js'
import {migrate, migrations, SCHEMA_VERSION, schemaVersion, type Migration} from '../../src/store/migrations.js'
import {openRunStore} from '../../src/store/run-store.js'
import {deletedZombie, makeTempDir, zombiesRun} from '../support/store/helpers.js'

let dir: string
let cleanup: () => void
beforeEach(() => ({dir, cleanup} = makeTempDir()))
afterEach(() => cleanup())

function rawStore(file: string, setup: (db: Database.Database) => void): void {
  const db = new Database(file)
  setup(db)
  db.close()
}

function tablesOf(file: string): string[] {
  const db = new Database(file, {readonly: true})
  try {
    return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as {name: string}[]).map((t) => t.name)
  } finally {
    db.close()
  }
}

describe('opening migrates', () => {
  it('a store at user_version 0 (an empty SQLite file) up to the current schema', () => {
    const file = path.join(dir, 'runs.sqlite')
    rawStore(file, (db) => db.pragma('user_version = 0'))
    const store = openRunStore(file)
    const runId = store.startRun(zombiesRun())
    store.recordItems(runId, [deletedZombie()])
    expect(store.getRun(runId)?.items).toHaveLength(1)
    store.close()
    expect(SCHEMA_VERSION).toBe(migrations.length)
    rawStore(file, (db) => expect(schemaVersion(db)).toBe(SCHEMA_VERSION))
    expect(tablesOf(file)).toEqual(['run_items', 'runs'])
  })

  it('nothing when the store is current', () => {
    const file = path.join(dir, 'runs.sqlite')
    openRunStore(file).close()
    openRunStore(file).close() // "table runs already exists" if migration 1 ran again
    rawStore(file, (db) => expect(schemaVersion(db)).toBe(SCHEMA_VERSION))
  })
})

describe('a store written by a newer airflow-reap', () => {
  it('is refused with a clear error and left untouched', () => {
    const file = path.join(dir, 'runs.sqlite')
    const newer = SCHEMA_VERSION + 5
    rawStore(file, (db) => db.pragma(`user_version = ${newer}`))
    let error: unknown
    try {
      openRunStore(file)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(StoreTooNewError)
    expect(error).toBeInstanceOf(StoreUnavailableError) // so the command layer's one catch covers it
    expect((error as Error).message).toBe(
      `run store ${file} was written by a newer airflow-reap (schema version ${newer}; this version knows up to ${SCHEMA_VERSION}); upgrade airflow-reap, or pass --cache PATH to use another store`,
    )
    rawStore(file, (db) => expect(schemaVersion(db)).toBe(newer))
    expect(tablesOf(file)).toEqual([])
  })
})

describe('migrate', () => {
  const recording = (log: string[]): Migration[] =>
    ['one', 'two', 'three'].map((name) => ({description: name, up: (db) => (log.push(name), db.exec(`CREATE TABLE ${name} (x)`))}))

  it('applies the missing steps in order, from where the store stopped', () => {
    const db = new Database(':memory:')
    db.pragma('user_version = 1')
    const log: string[] = []
    migrate(db, recording(log))
    expect(log).toEqual(['two', 'three'])
    expect(schemaVersion(db)).toBe(3)
    migrate(db, recording(log))
    expect(log).toEqual(['two', 'three'])
    db.close()
  })

  it('leaves the store as it was when a step fails', () => {
    const db = new Database(':memory:')
    const steps: Migration[] = [
      {description: 'ok', up: (d) => d.exec('CREATE TABLE a (x)')},
      {description: 'fails', up: () => {
        throw new Error('boom')
      }},
    ]
    expect(() => migrate(db, steps)).toThrow('boom')
    expect(schemaVersion(db)).toBe(0)
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'a'").get()).toEqual({n: 0})
    db.close()
  })

  it('holds the write lock before reading the version it migrates from (BEGIN IMMEDIATE)', () => {
    const file = path.join(dir, 'probe.sqlite')
    const db = new Database(file)
    db.pragma('journal_mode = WAL')
    const otherProcess = new Database(file, {timeout: 0})
    let otherWriterError: string | undefined = 'not probed'
    const probe: Migration = {
      description: 'probe',
      up: () => {
        try {
          otherProcess.exec('BEGIN IMMEDIATE; ROLLBACK')
          otherWriterError = undefined
        } catch (err) {
          otherWriterError = (err as {code?: string}).code
        }
      },
    }
    migrate(db, [probe])
    // With a deferred transaction the version is read under no write lock, and a second process
    // could migrate in between.
    expect(otherWriterError).toBe('SQLITE_BUSY')
    otherProcess.close()
    db.close()
  })
})
