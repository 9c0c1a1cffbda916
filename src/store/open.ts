// Opening the store's SQLite file safely: private modes from the first byte, WAL, a busy timeout,
// and every way it can fail turned into one StoreUnavailableError with a fix.
import {accessSync, chmodSync, closeSync, constants, existsSync, fchmodSync, mkdirSync, openSync, statSync} from 'node:fs'
import path from 'node:path'
import Database from 'better-sqlite3'
import {moveAsideHint, StoreUnavailableError} from './errors.js'

export const DIR_MODE = 0o700
export const FILE_MODE = 0o600
/** Long enough for another airflow-reap (a CronJob and a human at once) to finish its write. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000

/** Prepare the directory and file, open them and configure the connection. Does not migrate. */
export function openDatabase(storePath: string, busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS): Database.Database {
  try {
    ensurePrivateDirectory(path.dirname(storePath))
    ensurePrivateFile(storePath)
    const db = new Database(storePath, {fileMustExist: true, timeout: busyTimeoutMs})
    try {
      configure(db, busyTimeoutMs)
    } catch (err) {
      db.close()
      throw err
    }
    return db
  } catch (err) {
    throw toStoreError(err, storePath)
  }
}

function configure(db: Database.Database, busyTimeoutMs: number): void {
  // First, so that everything below (journal_mode needs a lock) waits for other writers instead of failing.
  db.pragma(`busy_timeout = ${busyTimeoutMs}`)
  // WAL: readers (`history`) never block a running reap, and writers queue on the busy timeout. Where
  // SQLite cannot switch, it keeps (and returns) its rollback journal mode; the store still works.
  // This is also the first read of the file, so garbage bytes fail here (SQLITE_NOTADB).
  db.pragma('journal_mode = WAL')
  // NORMAL is durable in WAL mode except for the last commits on power loss: fine for a history.
  db.pragma('synchronous = NORMAL')
  db.pragma('foreign_keys = ON')
}

/**
 * Create the store's directory 0700. Only directories we create are chmod-ed: an existing parent such
 * as ~/.cache belongs to the user. One level at a time, each chmod-ed right after mkdir: mkdir's mode
 * is filtered by the umask, and a strict umask would otherwise leave a parent we cannot create into.
 */
function ensurePrivateDirectory(dir: string): void {
  for (const missing of missingDirectories(dir)) {
    try {
      mkdirSync(missing, {mode: DIR_MODE})
    } catch (err) {
      // Another process created it meanwhile: then it is theirs to set up.
      if (errnoCode(err) === 'EEXIST' && isDirectory(missing)) continue
      throw err
    }
    chmodSync(missing, DIR_MODE)
  }
}

/** The directories of `dir`'s path that do not exist yet, outermost first. */
function missingDirectories(dir: string): string[] {
  const missing: string[] = []
  for (let current = dir; !existsSync(current) && current !== path.dirname(current); current = path.dirname(current))
    missing.unshift(current)
  return missing
}

/**
 * Create the file 0600 before SQLite opens it, so there is no moment it is world-readable. SQLite then
 * creates the -wal and -shm files with the database file's mode (and fchmods them past the umask).
 * An existing file is left as it is, but must be a file we can use.
 */
function ensurePrivateFile(file: string): void {
  let fd: number
  try {
    fd = openSync(file, constants.O_CREAT | constants.O_EXCL | constants.O_RDWR, FILE_MODE)
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err
    // stat follows symlinks: a loop or a dangling link fails here with its own code.
    if (statSync(file).isDirectory()) throw directoryError(file)
    ensureAccessible(file)
    return
  }
  try {
    fchmodSync(fd, FILE_MODE)
  } finally {
    closeSync(fd)
  }
}

// Checked up front because SQLite reports both as a vague "unable to open database file" or
// "readonly database", which would not tell the user which of the two to fix.
function ensureAccessible(file: string): void {
  accessSync(file, constants.R_OK | constants.W_OK)
  // In WAL mode SQLite creates the -wal and -shm files beside the database.
  accessSync(path.dirname(file), constants.W_OK | constants.X_OK)
}

/** Whatever went wrong, as the one error the command layer catches. */
export function toStoreError(err: unknown, storePath: string): StoreUnavailableError {
  if (err instanceof StoreUnavailableError) return err
  const options = {cause: err}
  if (err instanceof Database.SqliteError) return fromSqlite(err, storePath, options)
  const code = errnoCode(err)
  if (code) return fromErrno(err as NodeJS.ErrnoException, code, storePath, options)
  return new StoreUnavailableError(storePath, `failed: ${messageOf(err)}`, undefined, options)
}

function fromSqlite(err: InstanceType<typeof Database.SqliteError>, storePath: string, options: {cause: unknown}): StoreUnavailableError {
  const code = err.code
  const detail = `(${err.message})`
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT'))
    return new StoreUnavailableError(storePath, `is not a SQLite database, or is corrupt ${detail}`, undefined, options)
  if (code.startsWith('SQLITE_READONLY'))
    return new StoreUnavailableError(storePath, `cannot be written ${detail}`, permissionsHint(storePath), options)
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
    return new StoreUnavailableError(storePath, `stayed locked by another process ${detail}`, 'try again, or pass --no-cache', options)
  if (code === 'SQLITE_FULL')
    return new StoreUnavailableError(storePath, `cannot grow: the disk is full`, 'free some space, or pass --cache PATH to put it elsewhere', options)
  return new StoreUnavailableError(storePath, `cannot be used ${detail}`, undefined, options)
}

function fromErrno(
  err: NodeJS.ErrnoException,
  code: string,
  storePath: string,
  options: {cause: unknown},
): StoreUnavailableError {
  switch (code) {
    case 'EISDIR':
      return directoryError(storePath, options)
    case 'EACCES':
    case 'EPERM': {
      // mkdir names the directory it could not create; the one to fix is the existing one above it.
      const culprit = nearestExisting(err.path ?? storePath)
      return new StoreUnavailableError(storePath, `cannot be opened: permission denied on ${culprit}`, permissionsHint(culprit), options)
    }
    case 'ENOTDIR':
    case 'EEXIST': {
      // mkdir met a file where a directory of the path should be.
      const blocker = firstNonDirectory(path.dirname(storePath)) ?? err.path ?? storePath
      return new StoreUnavailableError(
        storePath,
        `cannot be created: ${blocker} is not a directory`,
        `${moveAsideHint(blocker)}, or pass --cache PATH`,
        options,
      )
    }
    case 'ELOOP':
      return new StoreUnavailableError(storePath, 'is a symbolic link that loops', undefined, options)
    case 'EROFS':
      return new StoreUnavailableError(storePath, 'is on a read-only file system', 'pass --cache PATH to put it elsewhere', options)
    default:
      return new StoreUnavailableError(storePath, `cannot be opened: ${messageOf(err)}`, undefined, options)
  }
}

/**
 * The store path names a directory (`--cache $HOME`): the directory is not the tool's, so the advice is
 * never to move it, but that the path must name a file.
 */
function directoryError(storePath: string, options?: {cause: unknown}): StoreUnavailableError {
  const example = path.join(storePath, 'runs.sqlite')
  return new StoreUnavailableError(storePath, 'is a directory, not a SQLite file', `--cache (or AIRFLOW_REAP_CACHE) must name a file, e.g. --cache ${example}`, options)
}

function permissionsHint(target: string): string {
  if (isDirectory(target)) return `make ${target} writable by you, or pass --cache PATH`
  return `make ${target} readable and writable by you, or ${moveAsideHint(target)}`
}

function nearestExisting(target: string): string {
  let current = target
  while (!existsSync(current) && current !== path.dirname(current)) current = path.dirname(current)
  return current
}

function isDirectory(target: string): boolean {
  try {
    return statSync(target).isDirectory()
  } catch {
    return false
  }
}

function firstNonDirectory(dir: string): string | undefined {
  for (let current = dir; current !== path.dirname(current); current = path.dirname(current)) {
    try {
      if (!statSync(current).isDirectory()) return current
    } catch {
      // Not there (or not reachable): keep looking further up.
    }
  }
  return undefined
}

function errnoCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : undefined
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
