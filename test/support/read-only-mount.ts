// A directory that the CLI sees on a read-only file system: the CLI runs in a mount namespace of its
// own (util-linux's unshare, in a user namespace so that no privilege is needed) where the directory
// is bind-mounted read-only. Writes fail with EROFS, which binds root too, so this tests what an
// unwritable store does to every user; nothing outside that one process sees the mount.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

const MOUNT_READ_ONLY_THEN_RUN = 'mount --bind -o ro "$0" "$0" && exec "$@"'

/** The `wrapper` (test/support/cli.ts) that runs the CLI with `dir` read-only. */
export function readOnlyMountWrapper(dir: string): string[] {
  return ['unshare', '--map-root-user', '--mount', '--propagation', 'private', 'sh', '-c', MOUNT_READ_ONLY_THEN_RUN, dir]
}

/** Why read-only mounts cannot be made on this machine (no unshare, user namespaces off), or undefined when they can. */
export function readOnlyMountUnavailable(): string | undefined {
  const dir = mkdtempSync(path.join(tmpdir(), 'reap-ro-probe-'))
  try {
    const probe = spawnSync(readOnlyMountWrapper(dir)[0], [...readOnlyMountWrapper(dir).slice(1), 'touch', path.join(dir, 'probe')], {encoding: 'utf8'})
    if (probe.error) return `unshare cannot run: ${probe.error.message}`
    if (!/Read-only file system/.test(probe.stderr)) return `a read-only bind mount could not be made: ${probe.stderr.trim() || `exit ${probe.status}`}`
    return undefined
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}
