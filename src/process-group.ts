// A child program and whatever it starts, ended together: programs the CLI runs (a kubeconfig exec
// plugin, an Airflow `*_CMD`) are spawned in a process group of their own (`detached: true`), so that
// a helper they started cannot outlive them holding a pipe open or running on.
import type {ChildProcess} from 'node:child_process'

/** SIGKILL to the child's whole process group (still there when the child itself has exited). */
export function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, 'SIGKILL')
  } catch {
    // the group is gone
  }
}
