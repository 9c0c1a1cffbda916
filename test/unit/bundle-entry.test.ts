// The release executable finds its commands only as exports of the bundle entry (oclif's explicit
// discovery): a command added to src/commands but not to the entry would be missing from the release.
// The entry's getters load a command's modules only when oclif asks for it, so they are checked in
// the bundle itself (esbuild turns their `require` into the bundled module's initialiser).
import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

function commandIds(dir: string, prefix: string[] = []): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((entry) => {
    if (entry.isDirectory()) return commandIds(path.join(dir, entry.name), [...prefix, entry.name])
    if (!entry.name.endsWith('.ts')) return []
    const name = entry.name.slice(0, -3)
    return [(name === 'index' ? prefix : [...prefix, name]).join(':')]
  })
}

interface Probe {
  ids: string[]
  /** Node's http module loaded by requiring the bundle (the Kubernetes client and the DB drivers load it). */
  httpAtLoad: boolean
  summaries: Record<string, string>
  httpAfterZombies: boolean
  helpClass: string
}

// Runs in a fresh Node: what requiring the bundle evaluates, then each command's class.
const PROBE = `
const http = () => process.moduleLoadList.includes('NativeModule http')
const bundle = require(process.argv[1])
const httpAtLoad = http()
const ids = Object.keys(bundle.COMMANDS)
const summaries = {}
const zombies = bundle.COMMANDS.zombies
const httpAfterZombies = http()
for (const id of ids) summaries[id] = bundle.COMMANDS[id].summary
process.stdout.write(JSON.stringify({ids, httpAtLoad, summaries, httpAfterZombies, helpClass: bundle.HelpClass.name}))
`

describe('bundle entry', () => {
  let dir: string
  let probe: Probe

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'airflow-reap-bundle-'))
    const outfile = path.join(dir, 'cli.cjs')
    execFileSync(process.execPath, [path.resolve('scripts', 'release', 'bundle.mjs'), outfile], {stdio: 'pipe'})
    // The modules left outside the bundle (better-sqlite3, parts of the Kubernetes client) resolve from the repository.
    const env = {...process.env, NODE_PATH: path.resolve('node_modules')}
    probe = JSON.parse(execFileSync(process.execPath, ['-e', PROBE, outfile], {encoding: 'utf8', env})) as Probe
  }, 120_000)

  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  it('exports every command of src/commands under its oclif id', () => {
    expect(probe.ids.sort()).toEqual(commandIds(path.resolve('src', 'commands')).sort())
  })

  it('exports the command classes themselves', async () => {
    for (const id of probe.ids) {
      const file = path.resolve('src', 'commands', ...id.split(':'))
      const {default: command} = await import(existsSync(`${file}.ts`) ? `${file}.ts` : path.join(file, 'index.ts'))
      expect(probe.summaries[id], id).toBe(command.summary)
    }
    expect(probe.helpClass).toBe('ReapHelp')
  })

  it('evaluates a command and its dependencies only when oclif asks for it', () => {
    expect(probe.httpAtLoad).toBe(false)
    expect(probe.httpAfterZombies).toBe(true)
  })
})
