// The shape of the tables airflow-reap reads (columns with type and nullability, and every index on
// those tables), as comparable lines, from a PostgreSQL or SQLite DB: to hold the DDL files of
// test/fixtures/shared against what `airflow db migrate` really produces.
import Database from 'better-sqlite3'
import pg from 'pg'

export const READ_TABLES = ['task_instance', 'dag_run', 'xcom', 'serialized_dag', 'dag_version'] as const
/** Columns read by src/airflow/queries (REQUIRED_COLUMNS plus what overdue and doctor read). */
export const READ_COLUMNS = new Set([
  'dag_id', 'task_id', 'run_id', 'map_index', 'state', 'try_number', 'start_date', 'operator', 'end_date',
  'key', 'value', 'data', 'data_compressed', 'dag_version_id', 'created_dag_version_id', 'id', 'version_number',
])

export async function postgresShape(url: string): Promise<Set<string>> {
  const client = new pg.Client({connectionString: url})
  await client.connect()
  try {
    const columns = await client.query<{line: string}>(
      `SELECT table_name || '.' || column_name || ' ' || data_type || CASE WHEN is_nullable = 'NO' THEN ' NOT NULL' ELSE '' END AS line
         FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ANY($1) AND column_name = ANY($2)`,
      [[...READ_TABLES], [...READ_COLUMNS]],
    )
    const indexes = await client.query<{line: string}>(
      `SELECT tablename || ' index ' || regexp_replace(indexdef, '^.* USING ', '') AS line
         FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ANY($1)`,
      [[...READ_TABLES]],
    )
    return new Set([...columns.rows, ...indexes.rows].map((row) => row.line))
  } finally {
    await client.end()
  }
}

export function sqliteShape(file: string): Set<string> {
  const db = new Database(file, {readonly: true})
  try {
    const lines = new Set<string>()
    for (const table of READ_TABLES) {
      for (const column of db.prepare(`SELECT name, type, "notnull" FROM pragma_table_info(?)`).all(table) as {name: string; type: string; notnull: number}[]) {
        if (READ_COLUMNS.has(column.name)) lines.add(`${table}.${column.name} ${column.type}${column.notnull ? ' NOT NULL' : ''}`)
      }
      for (const index of db.prepare(`SELECT name, "unique", partial FROM pragma_index_list(?)`).all(table) as {name: string; unique: number; partial: number}[]) {
        const columns = (db.prepare(`SELECT name FROM pragma_index_info(?)`).all(index.name) as {name: string}[]).map((c) => c.name)
        lines.add(`${table} index${index.unique ? ' unique' : ''}${index.partial ? ' partial' : ''} (${columns.join(', ')})`)
      }
    }
    return lines
  } finally {
    db.close()
  }
}

/** What only `a` has and what only `b` has, sorted. */
export function shapeDifference(a: Set<string>, b: Set<string>): {onlyFixture: string[]; onlyAirflow: string[]} {
  return {onlyFixture: [...a].filter((line) => !b.has(line)).sort(), onlyAirflow: [...b].filter((line) => !a.has(line)).sort()}
}
