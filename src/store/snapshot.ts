// A run store that can be read but not written (a read-only file, directory or file system, a store
// of another user) still answers `history`. Its file is copied into memory once and the copy is
// migrated and settled there, so history shows exactly what a writable store would show (runs whose
// process died marked crashed, in-flight actions unknown) while the file itself is never touched.
import {existsSync, readFileSync, statSync} from 'node:fs'
import Database from 'better-sqlite3'
import {StoreTooNewError} from './errors.js'
import {migrate} from './migrations.js'
import {DEFAULT_BUSY_TIMEOUT_MS, toStoreError} from './open.js'
import {type OpenRunStoreOptions, RunStore} from './run-store.js'

/** Open an in-memory copy of the store at `storePath`; writes to it are lost on close. Throws StoreUnavailableError. */
export function openRunStoreSnapshot(storePath: string, options: OpenRunStoreOptions = {}): RunStore {
  let db: Database.Database
  try {
    db = new Database(asRollbackJournal(readImage(storePath, options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS)))
  } catch (err) {
    throw toStoreError(err, storePath)
  }
  try {
    migrate(db)
    return new RunStore(db, storePath, options.now ?? (() => new Date()))
  } catch (err) {
    db.close()
    // The copy has no path of its own: name the file in the error.
    if (err instanceof StoreTooNewError) throw new StoreTooNewError(storePath, err.foundVersion, err.knownVersion)
    throw toStoreError(err, storePath)
  }
}

/** The database as one image, with whatever its write-ahead log holds. */
function readImage(storePath: string, busyTimeoutMs: number): Buffer {
  // With no log beside it (the last writer closed cleanly and checkpointed it), the file alone is the
  // whole database: read as bytes, so that nothing is created beside a store that is not ours. SQLite
  // would create a -shm and a -wal file even for reading, and cannot at all in a read-only directory.
  if (!hasWriteAheadLog(storePath)) return readFileSync(storePath)
  // A log (a writer still open, or one that crashed) comes with its -shm: SQLite reads through both.
  const file = new Database(storePath, {readonly: true, fileMustExist: true, timeout: busyTimeoutMs})
  try {
    return file.serialize()
  } finally {
    file.close()
  }
}

function hasWriteAheadLog(storePath: string): boolean {
  const log = `${storePath}-wal`
  return existsSync(log) && statSync(log).size > 0
}

// Bytes 18 and 19 of the header are the file format's write and read versions: 2 means WAL, which a
// database in memory cannot use (SQLite refuses to open it). 1 is the rollback journal.
// https://www.sqlite.org/fileformat2.html#the_database_header
const WRITE_VERSION_OFFSET = 18
const READ_VERSION_OFFSET = 19
const WAL_FORMAT = 2
const ROLLBACK_FORMAT = 1

function asRollbackJournal(image: Buffer): Buffer {
  for (const offset of [WRITE_VERSION_OFFSET, READ_VERSION_OFFSET]) {
    if (image.length > offset && image[offset] === WAL_FORMAT) image[offset] = ROLLBACK_FORMAT
  }
  return image
}
