// Entry of the release executable's one-file bundle (scripts/release/bundle.mjs, esbuild): every
// command and the hook in one CommonJS file, so a run loads one file instead of a few hundred (oclif
// alone is about 160). The staged package.json points oclif's explicit command discovery and the hook
// at the exports below. `npm link` and `npm install -g` keep using bin/run.js and dist/src.
import {execute} from '@oclif/core'
import Cronjob from '../commands/cronjob.js'
import Doctor from '../commands/doctor.js'
import Help from '../commands/help.js'
import History from '../commands/history/index.js'
import HistoryShow from '../commands/history/show.js'
import Overdue from '../commands/overdue.js'
import Unstick from '../commands/unstick.js'
import Version from '../commands/version.js'
import Zombies from '../commands/zombies.js'

export const COMMANDS = {
  cronjob: Cronjob,
  doctor: Doctor,
  help: Help,
  history: History,
  'history:show': HistoryShow,
  overdue: Overdue,
  unstick: Unstick,
  version: Version,
  zombies: Zombies,
}

/** The command_not_found hook (the staged package.json names this export). */
export {default as commandNotFound} from './hooks/command-not-found.js'

/** Runs the CLI; `dir` is a path inside the app (oclif finds package.json above it). */
export async function run(dir: string): Promise<void> {
  await execute({dir})
}
