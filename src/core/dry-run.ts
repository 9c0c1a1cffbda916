// --dry-run as parsed: `client`, `server` or `none` (kubectl's values), kept apart so that a report
// never calls a run the user asked not to be one a dry run.

/** The dry-run mode of parsed flags: `client`, `server`, or undefined (no --dry-run, or --dry-run=none). */
export function dryRunModeOf(flags: Record<string, unknown>): 'client' | 'server' | undefined {
  const mode = flags['dry-run'] as 'client' | 'server' | 'none' | undefined
  return mode === 'none' ? undefined : mode
}
