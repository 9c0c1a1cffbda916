// Holds the store's write lock for a while through raw better-sqlite3, to make real lock contention:
// `node lock-holder.mjs STORE_PATH HOLD_MS`. Prints "locked" once it holds the lock.
import Database from 'better-sqlite3'

const [storePath, holdMs] = process.argv.slice(2)
const db = new Database(storePath, {fileMustExist: true})
db.exec('BEGIN IMMEDIATE')
db.prepare("UPDATE runs SET context = context WHERE id = -1").run()
process.stdout.write('locked\n')
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(holdMs))
db.exec('COMMIT')
db.close()
