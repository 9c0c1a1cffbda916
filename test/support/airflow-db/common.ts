// Shared by the database builders: the DDL files, the alembic revision each version reports, and
// the handle a test gets back.
import {randomBytes} from 'node:crypto'
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import type {Dialect} from '../../../src/core/types.js'
import {sharedFixture} from '../paths.js'
import type {AirflowVersion, Seeder} from './seeder.js'

export interface TestAirflowDb {
  dialect: Dialect
  version: AirflowVersion
  /** A SQLAlchemy URL for the reader under test (with user and password when one was asked for). */
  url: string
  seed: Seeder
  /** Closes the seeder's connection and removes the database (and any role/user created for it). */
  drop(): Promise<void>
}

/** alembic_version.version_num written into each test DB (heads from FACTS §3). */
export const ALEMBIC_REVISION: Record<AirflowVersion, string> = {
  '2.7': '405de8318b3a', // 2.7.0 head
  '2.10': '5f2621c13b39', // 2.10.3
  '3.x': 'eaf332f43c7c', // 3.1.0 head
}

/** Columns that 2.8–2.10 added to task_instance; dropping them from the 2.10 DDL gives a 2.7 schema. */
export const COLUMNS_ADDED_AFTER_2_7 = ['executor', 'rendered_map_index', 'task_display_name'] as const

const here = path.dirname(fileURLToPath(import.meta.url))

/** The DDL text for a dialect and version; 2.7 loads the 2.10 file (columns are dropped afterwards). */
export function ddlFor(dialect: Dialect, version: AirflowVersion): string {
  const fileVersion = version === '3.x' ? '3.x' : '2.10'
  if (dialect === 'mysql') {
    if (fileVersion !== '2.10') throw new Error('there is no MySQL DDL for Airflow 3.x (only 2.7 and 2.10)')
    return readFileSync(path.join(here, 'mysql-2.10.sql'), 'utf8')
  }
  const prefix = dialect === 'postgresql' ? 'postgres' : 'sqlite'
  return readFileSync(sharedFixture(`airflow/ddl/${prefix}-${fileVersion}.sql`), 'utf8')
}

export function alembicDdl(version: AirflowVersion): string {
  return `CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
INSERT INTO alembic_version (version_num) VALUES ('${ALEMBIC_REVISION[version]}');`
}

export function randomName(prefix = 'reap_test'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`
}

/** Rewrite `?` placeholders to `$1..$n`, leaving quoted strings and identifiers alone. */
export function toDollarPlaceholders(sql: string): string {
  let out = ''
  let n = 0
  let quote: string | null = null
  for (const ch of sql) {
    if (quote) {
      if (ch === quote) quote = null
      out += ch
    } else if (ch === "'" || ch === '"') {
      quote = ch
      out += ch
    } else if (ch === '?') {
      out += `$${++n}`
    } else {
      out += ch
    }
  }
  return out
}
