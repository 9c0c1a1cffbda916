// The overdue command's run: the shared pod-reaping frame with the overdue scan and re-check.
import type {OverdueOptions} from '../commands/overdue.js'
import {reapOverdue, scanOverdue} from '../reap/overdue.js'
import {executePodReap} from './pod-reap-run.js'

export function executeOverdue(options: OverdueOptions, signal: AbortSignal): Promise<void> {
  return executePodReap(
    options,
    {
      command: 'overdue',
      kind: 'OverdueReport',
      scan: (deps, namespace) => scanOverdue(deps, {...options.scan, namespace}),
      reap: (deps, scan) => reapOverdue(deps, scan, options.deletion),
    },
    signal,
  )
}
