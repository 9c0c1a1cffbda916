// The release executable finds its commands only as exports of the bundle entry (oclif's explicit
// discovery): a command added to src/commands but not to the entry would be missing from the release.
import {readdirSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {COMMANDS} from '../../src/cli/bundle-entry.js'

function commandIds(dir: string, prefix: string[] = []): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((entry) => {
    if (entry.isDirectory()) return commandIds(path.join(dir, entry.name), [...prefix, entry.name])
    if (!entry.name.endsWith('.ts')) return []
    const name = entry.name.slice(0, -3)
    return [(name === 'index' ? prefix : [...prefix, name]).join(':')]
  })
}

describe('bundle entry', () => {
  it('exports every command of src/commands under its oclif id', () => {
    expect(Object.keys(COMMANDS).sort()).toEqual(commandIds(path.resolve('src', 'commands')).sort())
  })

  it('exports the command classes themselves', async () => {
    const {default: Zombies} = await import('../../src/commands/zombies.js')
    expect(COMMANDS.zombies).toBe(Zombies)
  })
})
