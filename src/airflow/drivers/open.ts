// One entry point from a parsed URL to a connected driver.
import type {DbUrl} from '../types.js'
import {openMysql} from './mysql.js'
import {openPostgres} from './postgres.js'
import {openSqlite} from './sqlite.js'
import type {DriverOptions, SqlDriver} from './types.js'

export function openDriver(url: DbUrl, options: DriverOptions = {}): Promise<SqlDriver> {
  switch (url.dialect) {
    case 'postgresql':
      return openPostgres(url, options)
    case 'mysql':
      return openMysql(url, options)
    case 'sqlite':
      return openSqlite(url)
  }
}
