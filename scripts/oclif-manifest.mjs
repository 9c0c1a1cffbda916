// Writes oclif.manifest.json after a build, so the CLI does not import every command module to find
// its commands (what oclif does without a manifest). `npm run build` regenerates it every time.
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {Plugin} from '@oclif/core'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const plugin = new Plugin({root, type: 'core', isRoot: true, ignoreManifest: true, errorOnManifestCreate: true})
await plugin.load()
const ids = Object.keys(plugin.manifest.commands)
if (ids.length === 0) throw new Error('oclif found no commands in dist/src/commands')
writeFileSync(path.join(root, 'oclif.manifest.json'), JSON.stringify(plugin.manifest, null, 2) + '\n')
