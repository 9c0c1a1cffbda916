// Comparing what two task-instance sources (the metadata DB, the REST API) answer on the same data:
// rows in a stable order, and without the DAG-version ids, which each source spells its own way (the
// DB as stored, e.g. SQLite's 32 hex digits; the API as a hyphenated UUID; the API has no
// dag_run.created_dag_version_id) and which each source compares only with its own.
import type {ExecutingTaskInstanceRow} from '../../src/core/overdue.js'

export const sortRows = <T extends object>(rows: T[]): string[] => rows.map((r) => JSON.stringify(r)).sort()

export const withoutVersions = (rows: ExecutingTaskInstanceRow[]) => rows.map(({dagVersionId: _v, runDagVersionId: _r, ...rest}) => rest)

/** A map's entries in a stable order. */
export const sortedEntries = <K, V>(map: Map<K, V>): Array<[K, V]> => [...map.entries()].sort(([a], [b]) => String(a).localeCompare(String(b)))
