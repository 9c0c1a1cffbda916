// The zombies command's run: the shared pod-reaping frame with the zombie scan and re-check.
import type {ZombiesOptions} from '../commands/zombies.js'
import {reapZombies, scanZombies} from '../reap/zombies.js'
import {executePodReap} from './pod-reap-run.js'

export function executeZombies(options: ZombiesOptions, signal: AbortSignal): Promise<void> {
  return executePodReap(
    options,
    {
      command: 'zombies',
      kind: 'ZombieReport',
      scan: (deps, namespace) => scanZombies(deps, {...options.config, namespace}),
      reap: (deps, scan, namespace) => reapZombies(deps, scan, {...options.config, namespace}, options.deletion),
    },
    signal,
  )
}
