// The "unfinished" dag run filter as SQL. State names are our own constants, never user input, so they
// are written into the statement. (Task-instance states are filtered in code: core/types isActiveState.)

/** dag_run states that are not final (dag runs have no NULL in practice, but 2.x allows it). */
export const UNFINISHED_RUN_STATES = ['queued', 'running'] as const

export function unfinishedRunCondition(stateColumn: string, endColumn: string): string {
  const list = UNFINISHED_RUN_STATES.map((state) => `'${state}'`).join(', ')
  return `(${stateColumn} IS NULL OR ${stateColumn} IN (${list}) OR ${endColumn} IS NULL)`
}
