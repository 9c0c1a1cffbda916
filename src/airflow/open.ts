// Open the Airflow metadata DB named by a URL: connect read-only, check the schema, pick the queries.
import {openDriver} from './drivers/open.js'
import type {DriverOptions} from './drivers/types.js'
import {detectSchema} from './schema.js'
import {SqlAirflowDb, queriesFor} from './sql-airflow-db.js'
import type {DbUrl} from './types.js'

export type OpenAirflowDbOptions = DriverOptions

/**
 * Throws UnreachableError (cannot connect / log in), SchemaError (not an Airflow 2.7–3.x DB),
 * ConfigError (unreadable certificate file) or ConfigError (unsupported sslmode).
 */
export async function openAirflowDb(url: DbUrl, options: OpenAirflowDbOptions = {}): Promise<SqlAirflowDb> {
  const driver = await openDriver(url, options)
  try {
    const schema = await detectSchema(driver, url)
    return new SqlAirflowDb(driver, schema, await queriesFor(driver))
  } catch (error) {
    await driver.close()
    throw error
  }
}
