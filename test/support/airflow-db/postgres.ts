// Throwaway PostgreSQL databases holding an Airflow schema, on the local server (127.0.0.1:5432 as
// `postgres`, trust auth) or wherever AIRFLOW_REAP_TEST_PG_URL points (an admin URL).
import pg from 'pg'

import {parseDbUrl} from '../../../src/airflow/url.js'
import {COLUMNS_ADDED_AFTER_2_7, type TestAirflowDb, alembicDdl, ddlFor, randomName, toDollarPlaceholders} from './common.js'
import {type AirflowVersion, SqlSeeder} from './seeder.js'

export interface PostgresAirflowDbOptions {
  /** Create a login role with this password and put both in the URL (to check it never leaks). */
  password?: string
  /** Put the tables in this schema instead of public; the URL gets `options=-csearch_path=<schema>`. */
  schema?: string
  /** Write alembic_version (default true). */
  alembic?: boolean
}

const DEFAULT_ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres'

export async function createPostgresAirflowDb(version: AirflowVersion, options: PostgresAirflowDbOptions = {}): Promise<TestAirflowDb> {
  const admin = adminConfig()
  const database = randomName()
  const role = options.password !== undefined ? `${database}_reader` : undefined
  await withClient({...admin, database: admin.database ?? 'postgres'}, async (client) => {
    await client.query(`CREATE DATABASE ${database}`)
    if (role) await client.query(`CREATE ROLE ${role} LOGIN PASSWORD ${pg.escapeLiteral(options.password!)}`)
  })
  const seedClient = new pg.Client({...admin, database})
  await seedClient.connect()
  try {
    await loadSchema(seedClient, version, options)
    if (role) await grantRead(seedClient, database, role, options.schema ?? 'public')
  } catch (error) {
    await seedClient.end()
    await dropDatabase(admin, database, role)
    throw error
  }
  const seed = new SqlSeeder(
    {
      dialect: 'postgresql',
      exec: async (sql, params = []) => (await seedClient.query(toDollarPlaceholders(sql), params)).rows,
    },
    version,
  )
  return {
    dialect: 'postgresql',
    version,
    url: readerUrl(admin, database, role, options),
    seed,
    drop: async () => {
      await seedClient.end().catch(() => undefined)
      await dropDatabase(admin, database, role)
    },
  }
}

async function loadSchema(client: pg.Client, version: AirflowVersion, options: PostgresAirflowDbOptions): Promise<void> {
  if (options.schema) await client.query(`CREATE SCHEMA ${options.schema}; SET search_path TO ${options.schema}`)
  await client.query(ddlFor('postgresql', version))
  if (version === '2.7') {
    await client.query(`ALTER TABLE task_instance ${COLUMNS_ADDED_AFTER_2_7.map((c) => `DROP COLUMN ${c}`).join(', ')}`)
  }
  if (options.alembic !== false) await client.query(alembicDdl(version))
}

async function grantRead(client: pg.Client, database: string, role: string, schema: string): Promise<void> {
  await client.query(`GRANT CONNECT ON DATABASE ${database} TO ${role};
                      GRANT USAGE ON SCHEMA ${schema} TO ${role};
                      GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${role}`)
}

function readerUrl(admin: pg.ClientConfig, database: string, role: string | undefined, options: PostgresAirflowDbOptions): string {
  const userInfo = role
    ? `${encodeURIComponent(role)}:${encodeURIComponent(options.password!)}@`
    : admin.user
      ? `${encodeURIComponent(admin.user)}${admin.password ? `:${encodeURIComponent(String(admin.password))}` : ''}@`
      : ''
  const query = options.schema ? `?options=${encodeURIComponent(`-csearch_path=${options.schema}`)}` : ''
  return `postgresql://${userInfo}${admin.host}:${admin.port}/${database}${query}`
}

async function dropDatabase(admin: pg.ClientConfig, database: string, role: string | undefined): Promise<void> {
  await withClient({...admin, database: admin.database ?? 'postgres'}, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
    if (role) await client.query(`DROP ROLE IF EXISTS ${role}`)
  })
}

function adminConfig(): pg.ClientConfig & {host: string; port: number} {
  const url = parseDbUrl(process.env.AIRFLOW_REAP_TEST_PG_URL ?? DEFAULT_ADMIN_URL, 'AIRFLOW_REAP_TEST_PG_URL')
  return {host: url.host ?? '127.0.0.1', port: url.port ?? 5432, user: url.user, password: url.password, database: url.database}
}

/** One admin client for `body`, always ended. */
export async function withClient<T>(config: pg.ClientConfig, body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(config)
  await client.connect()
  try {
    return await body(client)
  } finally {
    await client.end()
  }
}
