// Entry of the release executable's one-file bundle (scripts/release/bundle.mjs, esbuild): every
// command and the hook in one CommonJS file, so a run loads one file instead of a few hundred (oclif
// alone is about 160). The staged package.json points oclif's explicit command discovery and the hook
// at the exports below. `npm link` and `npm install -g` keep using bin/run.js and dist/src.
//
// Start-up: a command's modules are evaluated only when oclif asks for that command (a getter per
// command, which oclif reads as `COMMANDS[id]` once it has chosen the command), so `version` and
// `--help` do not evaluate the Kubernetes client, the DB drivers or the other commands. The getters
// use `require`, which esbuild turns into the lazy initialiser of the bundled module; this file runs
// only inside the bundle (tsc compiles it, nothing imports it from dist/src).
import {execute} from '@oclif/core'
import type {Command} from '@oclif/core'

type CommandClass = Command.Class

/** The default export of a command module, evaluated on first access. */
function commandOf(load: () => {default: CommandClass}): CommandClass {
  return load().default
}

export const COMMANDS = {
  get cronjob() {
    return commandOf(() => require('../commands/cronjob.js'))
  },
  get doctor() {
    return commandOf(() => require('../commands/doctor.js'))
  },
  get help() {
    return commandOf(() => require('../commands/help.js'))
  },
  get history() {
    return commandOf(() => require('../commands/history/index.js'))
  },
  get 'history:show'() {
    return commandOf(() => require('../commands/history/show.js'))
  },
  get overdue() {
    return commandOf(() => require('../commands/overdue.js'))
  },
  get unstick() {
    return commandOf(() => require('../commands/unstick.js'))
  },
  get version() {
    return commandOf(() => require('../commands/version.js'))
  },
  get zombies() {
    return commandOf(() => require('../commands/zombies.js'))
  },
}

/** oclif's help class (src/cli/help-class.ts; the staged package.json names this export). */
export {default as HelpClass} from './help-class.js'

/** The command_not_found hook (the staged package.json names this export). */
export {default as commandNotFound} from './hooks/command-not-found.js'

/** Runs the CLI; `dir` is a path inside the app (oclif finds package.json above it). */
export async function run(dir: string): Promise<void> {
  await execute({dir})
}
