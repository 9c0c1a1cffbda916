// Throwaway MySQL/MariaDB databases holding the Airflow 2.10 (or 2.7) schema of mysql-2.10.sql, on
// the local server (127.0.0.1:3306 as root) or wherever AIRFLOW_REAP_TEST_MYSQL_URL points.
import mysql from 'mysql2/promise'

import {parseDbUrl} from '../../../src/airflow/url.js'
import {COLUMNS_ADDED_AFTER_2_7, type TestAirflowDb, alembicDdl, ddlFor, randomName} from './common.js'
import {SqlSeeder} from './seeder.js'

export interface MysqlAirflowDbOptions {
  /** Create a user with this password (SELECT only) and put both in the URL. */
  password?: string
  alembic?: boolean
}

const DEFAULT_ADMIN_URL = 'mysql://root@127.0.0.1:3306'

export async function createMysqlAirflowDb(version: '2.7' | '2.10', options: MysqlAirflowDbOptions = {}): Promise<TestAirflowDb> {
  const admin = adminConfig()
  const database = randomName()
  const user = options.password !== undefined ? `${database}_r` : undefined
  const connection = await mysql.createConnection({...admin, multipleStatements: true, dateStrings: true, timezone: 'Z'})
  try {
    await connection.query(`CREATE DATABASE ${database} CHARACTER SET utf8mb4`)
    await connection.query(`USE ${database}`)
    await connection.query("SET time_zone = '+00:00'")
    await connection.query(ddlFor('mysql', version))
    if (version === '2.7') {
      await connection.query(`ALTER TABLE task_instance ${COLUMNS_ADDED_AFTER_2_7.map((c) => `DROP COLUMN ${c}`).join(', ')}`)
    }
    if (options.alembic !== false) await connection.query(alembicDdl(version))
    if (user) {
      await connection.query(`CREATE USER ?@? IDENTIFIED BY ?`, [user, admin.host, options.password])
      await connection.query(`GRANT SELECT ON ${database}.* TO ?@?`, [user, admin.host])
    }
  } catch (error) {
    await dropAll(connection, database, user, admin.host)
    await connection.end()
    throw error
  }
  const seed = new SqlSeeder(
    {
      dialect: 'mysql',
      exec: async (sql, params = []) => {
        const [result] = await connection.query(sql, params)
        return Array.isArray(result) ? (result as Record<string, unknown>[]) : []
      },
    },
    version,
  )
  const userInfo = user
    ? `${encodeURIComponent(user)}:${encodeURIComponent(options.password!)}@`
    : `${encodeURIComponent(admin.user ?? 'root')}${admin.password ? `:${encodeURIComponent(admin.password)}` : ''}@`
  return {
    dialect: 'mysql',
    version,
    url: `mysql://${userInfo}${admin.host}:${admin.port}/${database}`,
    seed,
    drop: async () => {
      await dropAll(connection, database, user, admin.host).catch(() => undefined)
      await connection.end().catch(() => undefined)
    },
  }
}

async function dropAll(connection: mysql.Connection, database: string, user: string | undefined, host: string): Promise<void> {
  await connection.query(`DROP DATABASE IF EXISTS ${database}`)
  if (user) await connection.query(`DROP USER IF EXISTS ?@?`, [user, host])
}

function adminConfig(): {host: string; port: number; user?: string; password?: string} {
  const url = parseDbUrl(process.env.AIRFLOW_REAP_TEST_MYSQL_URL ?? DEFAULT_ADMIN_URL, 'AIRFLOW_REAP_TEST_MYSQL_URL')
  return {host: url.host ?? '127.0.0.1', port: url.port ?? 3306, user: url.user, password: url.password}
}
