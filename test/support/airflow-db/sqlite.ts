// Throwaway SQLite files holding an Airflow schema.
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import Database from 'better-sqlite3'

import {COLUMNS_ADDED_AFTER_2_7, type TestAirflowDb, alembicDdl, ddlFor} from './common.js'
import {type AirflowVersion, SqlSeeder} from './seeder.js'

export interface SqliteTestAirflowDb extends TestAirflowDb {
  /** Absolute path of the database file. */
  path: string
}

/** Creates `airflow.db` in `dir` (default: a new temporary directory, removed again by drop()). */
export async function createSqliteAirflowDb(
  version: AirflowVersion,
  dir?: string,
  options: {alembic?: boolean} = {},
): Promise<SqliteTestAirflowDb> {
  const ownDir = dir === undefined
  const folder = dir ?? mkdtempSync(path.join(os.tmpdir(), 'reap-airflow-'))
  const file = path.resolve(folder, 'airflow.db')
  const db = new Database(file)
  db.pragma('foreign_keys = ON') // as Airflow does for its own SQLite connections
  db.exec(ddlFor('sqlite', version))
  if (version === '2.7') for (const column of COLUMNS_ADDED_AFTER_2_7) db.exec(`ALTER TABLE task_instance DROP COLUMN ${column}`)
  if (options.alembic !== false) db.exec(alembicDdl(version))
  const seed = new SqlSeeder(
    {
      dialect: 'sqlite',
      exec: async (sql, params = []) => {
        const statement = db.prepare(sql)
        const values = params.map((v) => (typeof v === 'boolean' ? Number(v) : v))
        return statement.reader ? (statement.all(...values) as Record<string, unknown>[]) : (statement.run(...values), [])
      },
    },
    version,
  )
  return {
    dialect: 'sqlite',
    version,
    path: file,
    url: `sqlite:///${file}`, // file is absolute, so this is the four-slash form
    seed,
    drop: async () => {
      db.close()
      if (ownDir) rmSync(folder, {recursive: true, force: true})
      else rmSync(file, {force: true})
    },
  }
}
