// State filters as SQL. State names are our own constants, never user input, so they are written into
// the statement. (The reaping commands filter task-instance states in code: core/types isActiveState.)

/** dag_run states that are not final (dag runs have no NULL in practice, but 2.x allows it). */
export const UNFINISHED_RUN_STATES = ['queued', 'running'] as const

export function unfinishedRunCondition(stateColumn: string, endColumn: string): string {
  const list = UNFINISHED_RUN_STATES.map((state) => `'${state}'`).join(', ')
  return `(${stateColumn} IS NULL OR ${stateColumn} IN (${list}) OR ${endColumn} IS NULL)`
}

/** Task instances per state, for these states (through the ti_state index); the same SQL in every dialect. */
export function taskInstanceStateCountsSql(states: readonly string[]): string {
  const list = states.map((state) => `'${state.replace(/'/g, "''")}'`).join(', ')
  return `SELECT state, COUNT(*) AS n FROM task_instance WHERE state IN (${list}) GROUP BY state`
}
