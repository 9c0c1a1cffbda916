// Which Airflow schema family a database holds (FACTS §4.2): the columns of task_instance tell,
// without parsing the alembic chain. The tables we read must have every column we use.
import type {Dialect, SchemaFamily} from '../core/types.js'
import {SchemaError} from '../errors.js'
import type {SqlDriver} from './drivers/types.js'
import type {AirflowSchema, DbUrl} from './types.js'

/** The columns the queries read; anything else may vary between versions. */
export const REQUIRED_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  dag_run: ['dag_id', 'run_id', 'state', 'end_date'],
  task_instance: ['dag_id', 'task_id', 'run_id', 'map_index', 'state', 'try_number', 'start_date', 'operator'],
  xcom: ['dag_id', 'task_id', 'run_id', 'map_index', 'key', 'value'],
  // overdue reads execution_timeout from here; every 2.x and 3.x DB has it (serialization is mandatory).
  serialized_dag: ['dag_id', 'data', 'data_compressed'],
}

const TABLES = [...Object.keys(REQUIRED_COLUMNS), 'alembic_version']

interface ColumnRow {
  table_name: string
  column_name: string
}

export async function detectSchema(driver: SqlDriver, url: DbUrl): Promise<AirflowSchema> {
  const columns = await readColumns(driver)
  for (const [table, required] of Object.entries(REQUIRED_COLUMNS)) {
    const present = columns.get(table)
    if (!present) throw notAirflow(url, `table ${table} not found`)
    const missing = required.find((column) => !present.has(column))
    if (missing) throw notAirflow(url, `table ${table} has no column ${missing}`)
  }
  const family = familyOf(columns.get('task_instance')!)
  const revision = columns.has('alembic_version') ? await readRevision(driver) : undefined
  return {family, dialect: driver.dialect, ...(revision ? {revision} : {})}
}

/** `id` arrived with 3.0 (uuid7 per try); `executor` with 2.10.0, the release that changed try_number. */
export function familyOf(taskInstanceColumns: ReadonlySet<string>): SchemaFamily {
  if (taskInstanceColumns.has('id')) return 'airflow-3'
  if (taskInstanceColumns.has('executor')) return 'airflow-2.10'
  return 'airflow-2.7'
}

function notAirflow(url: DbUrl, problem: string): SchemaError {
  return new SchemaError(`the database at ${url.redacted} does not look like an Airflow 2.7–3.x metadata DB: ${problem}`)
}

async function readColumns(driver: SqlDriver): Promise<Map<string, Set<string>>> {
  // SQLite names each table twice per branch of its UNION; the others once.
  const params = driver.dialect === 'sqlite' ? TABLES.flatMap((table) => [table, table]) : driver.dialect === 'postgresql' ? [TABLES] : TABLES
  const rows = await driver.query<ColumnRow>(columnsSql(driver.dialect), params)
  const columns = new Map<string, Set<string>>()
  for (const {table_name: table, column_name: column} of rows) {
    const key = table.toLowerCase()
    if (!columns.has(key)) columns.set(key, new Set())
    columns.get(key)!.add(column.toLowerCase())
  }
  return columns
}

/** One statement listing the columns of the tables that unqualified names resolve to. */
function columnsSql(dialect: Dialect): string {
  switch (dialect) {
    case 'postgresql':
      // to_regclass resolves through the search_path exactly as our unqualified queries will.
      return `SELECT c.relname AS table_name, a.attname AS column_name
                FROM unnest($1::text[]) AS t(name)
                JOIN pg_catalog.pg_class c ON c.oid = to_regclass(quote_ident(t.name))
                JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped`
    case 'sqlite':
      return TABLES.map(() => `SELECT ? AS table_name, name AS column_name FROM pragma_table_info(?)`).join(' UNION ALL ')
    case 'mysql':
      return `SELECT table_name AS table_name, column_name AS column_name
                FROM information_schema.columns
               WHERE table_schema = DATABASE() AND table_name IN (${TABLES.map(() => '?').join(', ')})`
  }
}

async function readRevision(driver: SqlDriver): Promise<string | undefined> {
  const rows = await driver.query<{version_num: string}>('SELECT version_num FROM alembic_version')
  const versions = rows.map((row) => row.version_num).filter(Boolean)
  return versions.length > 0 ? versions.sort().join(',') : undefined
}
