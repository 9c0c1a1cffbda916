// One entry point from a parsed URL to a connected driver. Each driver module is imported only for
// its own dialect: a PostgreSQL run need not load mysql2 or the SQLite addon.
import type {DbUrl} from '../types.js'
import type {DriverOptions, SqlDriver} from './types.js'

export async function openDriver(url: DbUrl, options: DriverOptions = {}): Promise<SqlDriver> {
  switch (url.dialect) {
    case 'postgresql':
      return (await import('./postgres.js')).openPostgres(url, options)
    case 'mysql':
      return (await import('./mysql.js')).openMysql(url, options)
    case 'sqlite':
      return (await import('./sqlite.js')).openSqlite(url, options)
  }
}
