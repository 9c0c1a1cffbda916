// src/cli/help-class.ts skips oclif's ejs pass for strings without a tag: the help it prints must be
// oclif's own, byte for byte, for every command, topic and the root, at any terminal width.
import {format} from 'node:util'
import {Config, Help} from '@oclif/core'
import {beforeAll, describe, expect, it} from 'vitest'
import ReapHelp, {skipTemplateWhenPlain} from '../../src/cli/help-class.js'

const WIDTHS = [40, 57, 80, 100, 123, 200, 400]

/** The text a help class prints for `argv` at `maxWidth` columns, or the error it throws (oclif's own
 * Help throws for `history` at 40 columns: it wraps the USAGE line inside its `<%= command.id %>`). */
async function rendered(HelpClass: typeof Help, config: Config, argv: string[], maxWidth: number): Promise<string> {
  const lines: string[] = []
  const help = new (class extends HelpClass {
    override log(...args: string[]): void {
      lines.push(format(...args))
    }
  })(config, {maxWidth})
  try {
    await help.showHelp(argv)
  } catch (error) {
    lines.push(`thrown: ${(error as Error).message}`)
  }
  return lines.join('\n')
}

describe('help class', () => {
  let config: Config
  // oclif's help changes state in its Config as it renders (a second `history` help in one process
  // has no COMMANDS section), so each class renders the same sequence with its own Config.
  let oclifConfig: Config

  beforeAll(async () => {
    config = await Config.load(process.cwd())
    oclifConfig = await Config.load(process.cwd())
  })

  it('is the one oclif loads (package.json oclif.helpClass)', async () => {
    const {loadHelpClass} = await import('@oclif/core')
    expect((await loadHelpClass(config)).name).toBe(ReapHelp.name)
  })

  it("prints oclif's own help for the root, every topic and every command, at every width", async () => {
    const subjects = [[], ...config.topics.map((t) => [t.name]), ...config.commands.map((c) => [c.id])]
    expect(subjects.length).toBeGreaterThan(8)
    for (const argv of subjects) {
      for (const width of WIDTHS) {
        const ours = await rendered(ReapHelp, config, argv, width)
        expect(ours.length, `${argv.join(' ')} at ${width}`).toBeGreaterThan(50)
        expect(ours, `${argv.join(' ')} at ${width}`).toBe(await rendered(Help, oclifConfig, argv, width))
      }
    }
  })

  it("needs no command's module: constant flag defaults are not dynamic help (scripts/oclif-manifest.mjs)", () => {
    // A command marked hasDynamicHelp is imported, with all its dependencies, only to print its help.
    const dynamic = config.commands.filter((c) => c.hasDynamicHelp).map((c) => c.id)
    expect(dynamic).toEqual([])
    expect(config.findCommand('zombies')?.flags['request-timeout']?.default).toBe('60s')
  })

  it('still renders a string with an ejs tag, and returns one without as it is', () => {
    const render = skipTemplateWhenPlain((input) => `ejs(${input})`)
    expect(render('<%= config.bin %> zombies')).toBe('ejs(<%= config.bin %> zombies)')
    expect(render('stray %> closes')).toBe('ejs(stray %> closes)')
    expect(render('plain text, 5 pods')).toBe('plain text, 5 pods')
  })
})
