// Running the CLI where the file system says no, whoever runs the tests (root included, as in CI and
// containers), with util-linux's unshare and a user namespace of its own, so no privilege is needed:
// - on a read-only file system: a mount namespace where one directory is bind-mounted read-only
//   (writes fail with EROFS);
// - as an ordinary user: in a user namespace with no uid mapped, root keeps its uid as the files'
//   owner but loses the capabilities that override file modes, so a chmod 000 file or a 0500
//   directory refuses it as they refuse their owner.
// Nothing outside that one process sees the namespace.
import {spawnSync} from 'node:child_process'
import {chmodSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

const MOUNT_READ_ONLY_THEN_RUN = 'mount --bind -o ro "$0" "$0" && exec "$@"'

/** The `wrapper` (test/support/cli.ts) that runs the CLI with `dir` read-only. */
export function readOnlyMountWrapper(dir: string): string[] {
  return ['unshare', '--map-root-user', '--mount', '--propagation', 'private', 'sh', '-c', MOUNT_READ_ONLY_THEN_RUN, dir]
}

/** The `wrapper` that runs the CLI bound by file modes, as their owner without privileges. */
export function fileModesWrapper(): string[] {
  return ['unshare', '--user', '--']
}

/**
 * Why `wrapper` cannot confine a process on this machine (no unshare, user namespaces off), or
 * undefined when it can. In CI always undefined: there the tests must run, and fail if they cannot.
 */
export function unavailable(wrapper: (dir: string) => string[], refusal: RegExp, prepare: (dir: string) => void = () => {}): string | undefined {
  if (process.env.CI) return undefined
  const dir = mkdtempSync(path.join(tmpdir(), 'reap-confined-probe-'))
  try {
    prepare(dir)
    const [command, ...args] = wrapper(dir)
    const probe = spawnSync(command, [...args, 'touch', path.join(dir, 'probe')], {encoding: 'utf8'})
    if (probe.error) return `unshare cannot run: ${probe.error.message}`
    if (!refusal.test(probe.stderr)) return `the confinement did not take: ${probe.stderr.trim() || `exit ${probe.status}`}`
    return undefined
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

export function readOnlyMountUnavailable(): string | undefined {
  return unavailable(readOnlyMountWrapper, /Read-only file system/)
}

export function fileModesUnavailable(): string | undefined {
  return unavailable(fileModesWrapper, /Permission denied/, (dir) => chmodSync(dir, 0o500))
}
