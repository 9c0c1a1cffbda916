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

type CommandModule = {default: Command.Class}

/** Each command's module by oclif id (a literal `require` each, so that esbuild bundles it). */
const COMMAND_MODULES: Record<string, () => CommandModule> = {
  cronjob: () => require('../commands/cronjob.js'),
  doctor: () => require('../commands/doctor.js'),
  help: () => require('../commands/help.js'),
  history: () => require('../commands/history/index.js'),
  'history:show': () => require('../commands/history/show.js'),
  overdue: () => require('../commands/overdue.js'),
  unstick: () => require('../commands/unstick.js'),
  version: () => require('../commands/version.js'),
  zombies: () => require('../commands/zombies.js'),
}

/** The command classes by id, each module evaluated on first access. */
export const COMMANDS: Record<string, Command.Class> = Object.defineProperties(
  {},
  Object.fromEntries(Object.entries(COMMAND_MODULES).map(([id, load]) => [id, {enumerable: true, get: () => load().default}])),
)

/** oclif's help class (src/cli/help-class.ts; the staged package.json names this export). */
export {default as HelpClass} from './help-class.js'

/** The command_not_found hook (the staged package.json names this export). */
export {default as commandNotFound} from './hooks/command-not-found.js'

/** Runs the CLI; `dir` is a path inside the app (oclif finds package.json above it). */
export async function run(dir: string): Promise<void> {
  await execute({dir})
}
