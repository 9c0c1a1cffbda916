// Writes oclif.manifest.json after a build, so the CLI does not import every command module to find
// its commands (what oclif does without a manifest). `npm run build` regenerates it every time;
// scripts/release.mjs writes the staged app's with `writeOclifManifest`.
//
//   node scripts/oclif-manifest.mjs     (the repository's dist/src)
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {createRequire} from 'node:module'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
/** Marks a flag's `defaultHelp` that returns a constant (src/cli/flags.ts sets it). */
const CONSTANT_DEFAULT_HELP = Symbol.for('airflow-reap.constantDefaultHelp')

/**
 * oclif marks a flag whose `defaultHelp` is a function `hasDynamicHelp`, and then `--help` imports the
 * command's module (all of `zombies`' for instance) only to call it again. Ours return a constant,
 * which the manifest already holds as the flag's `default`, so they are marked static: help reads the
 * manifest alone and prints the same text.
 */
async function markConstantHelpStatic(plugin, manifest) {
  for (const [id, command] of Object.entries(manifest.commands)) {
    if (!command.hasDynamicHelp) continue
    const loaded = await plugin.findCommand(id, {must: true})
    let dynamic = false
    for (const [name, flag] of Object.entries(command.flags)) {
      if (!flag.hasDynamicHelp) continue
      if (loaded.flags?.[name]?.defaultHelp?.[CONSTANT_DEFAULT_HELP] === true) flag.hasDynamicHelp = false
      else dynamic = true
    }
    command.hasDynamicHelp = dynamic
  }
  return manifest
}

/** The manifest of the app at `root`, as `oclif manifest` writes it (with `@oclif/core` of this repository). */
export async function writeOclifManifest(root, {errorOnManifestCreate = true} = {}) {
  const core = createRequire(path.join(ROOT, 'package.json')).resolve('@oclif/core')
  const {Plugin} = await import(pathToFileURL(core).href)
  const plugin = new Plugin({root, type: 'core', isRoot: true, ignoreManifest: true, errorOnManifestCreate})
  await plugin.load()
  const ids = Object.keys(plugin.manifest.commands)
  if (ids.length === 0) throw new Error(`oclif found no commands in ${root}`)
  const manifest = await markConstantHelpStatic(plugin, plugin.manifest)
  writeFileSync(path.join(root, 'oclif.manifest.json'), JSON.stringify(manifest, null, 2) + '\n')
  return ids
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await writeOclifManifest(ROOT)
