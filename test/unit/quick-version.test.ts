// `version` and `--version` are answered without oclif (src/cli/quick-version.ts): the line must be
// oclif's own user agent, and every other command line must go to oclif.
import {execFileSync} from 'node:child_process'
import path from 'node:path'
import {Config} from '@oclif/core'
import {describe, expect, it, vi} from 'vitest'
import {answerVersion, userAgent} from '../../src/cli/quick-version.js'

const ROOT = process.cwd()

describe('version without oclif', () => {
  it("is oclif's user agent for this package", async () => {
    const config = await Config.load(ROOT)
    expect(userAgent(ROOT)).toBe(config.userAgent)
  })

  it('answers only `version` and `--version` alone, and leaves DEBUG runs to oclif', () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
    try {
      for (const argv of [[], ['version', '--help'], ['version', 'x'], ['-v'], ['zombies'], ['help', 'version'], ['--version', 'zombies']]) {
        expect(answerVersion(argv, ROOT, {}), argv.join(' ')).toBe(false)
      }
      expect(answerVersion(['version'], ROOT, {DEBUG: '*'})).toBe(false)
      expect(write).not.toHaveBeenCalled()
      expect(answerVersion(['version'], ROOT, {})).toBe(true)
      expect(answerVersion(['--version'], ROOT, {})).toBe(true)
      expect(write.mock.calls.map(([text]) => text)).toEqual([`${userAgent(ROOT)}\n`, `${userAgent(ROOT)}\n`])
    } finally {
      write.mockRestore()
    }
  })

  it('bin/run.js prints the same line as the version command run by oclif (DEBUG set: oclif answers)', () => {
    const bin = path.join(ROOT, 'bin', 'run.js')
    const env = {PATH: process.env.PATH, HOME: process.env.HOME}
    const quick = execFileSync(process.execPath, [bin, 'version'], {encoding: 'utf8', env})
    const oclif = execFileSync(process.execPath, [bin, 'version'], {encoding: 'utf8', env: {...env, DEBUG: 'none'}})
    expect(quick).toBe(oclif)
    expect(execFileSync(process.execPath, [bin, '--version'], {encoding: 'utf8', env})).toBe(oclif)
  })
})
