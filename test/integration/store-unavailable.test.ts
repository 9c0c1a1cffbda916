import {randomBytes} from 'node:crypto'
import {mkdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {ReapError} from '../../src/errors.js'
import {StoreUnavailableError} from '../../src/store/errors.js'
import {openRunStore} from '../../src/store/run-store.js'
import {makeTempDir} from '../support/store/helpers.js'
import {runCli} from '../support/cli.js'

let dir: string
let cleanup: () => void
beforeEach(() => ({dir, cleanup} = makeTempDir()))
afterEach(() => cleanup())

// Stores that file modes forbid (a 000 file, a 0500 directory) are tested in store-read-only.test.ts,
// through the CLI run as their owner without privileges (test/support/confined.ts), so that they run
// as root too. Every case here is unusable even for root.

function openError(file: string): StoreUnavailableError {
  try {
    openRunStore(file).close()
  } catch (err) {
    expect(err).toBeInstanceOf(StoreUnavailableError)
    expect(err).toBeInstanceOf(ReapError)
    return err as StoreUnavailableError
  }
  throw new Error(`opening ${file} succeeded`)
}

function expectOneLine(err: Error): void {
  expect(err.message).not.toContain('\n')
}

describe('an unusable store is a StoreUnavailableError that says what to do', () => {
  it('garbage bytes: not a SQLite database, move it aside', () => {
    const file = path.join(dir, 'runs.sqlite')
    const garbage = randomBytes(8192)
    writeFileSync(file, garbage)
    const err = openError(file)
    expect(err.message).toContain(`run store ${file} is not a SQLite database, or is corrupt`)
    expect(err.message).toContain(`move it aside: mv ${file} ${file}.broken`)
    expect(err.storePath).toBe(file)
    expectOneLine(err)
    expect(readFileSync(file).equals(garbage)).toBe(true) // we never write over what we cannot read
  })

  it('a few bytes of text: same', () => {
    const file = path.join(dir, 'runs.sqlite')
    writeFileSync(file, 'not a database\n')
    expect(openError(file).message).toMatch(/is not a SQLite database.*mv /)
  })

  it('a directory in place of the file (--cache $HOME): never advises moving it, says --cache must name a file', () => {
    const file = path.join(dir, 'runs.sqlite')
    mkdirSync(file)
    const err = openError(file)
    expect(err.message).toBe(`run store ${file} is a directory, not a SQLite file; --cache (or AIRFLOW_REAP_CACHE) must name a file, e.g. --cache ${file}/runs.sqlite`)
    expect(err.message).not.toContain('mv ')
  })

  it('history --cache DIR (an existing directory, $HOME say): one line, exit 1, nothing about moving the directory', async () => {
    const result = await runCli(['history', '--cache', dir], {env: {HOME: dir}})
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(`error: run store ${dir} is a directory, not a SQLite file; --cache (or AIRFLOW_REAP_CACHE) must name a file, e.g. --cache ${dir}/runs.sqlite\n`)
  })

  it('a file where its directory should be (unusable even for root): move that file aside', () => {
    const blocker = path.join(dir, 'cache')
    writeFileSync(blocker, 'I am a file')
    const file = path.join(blocker, 'airflow-reap', 'runs.sqlite')
    const err = openError(file)
    expect(err.message).toBe(
      `run store ${file} cannot be created: ${blocker} is not a directory; move it aside: mv ${blocker} ${blocker}.broken, or pass --cache PATH`,
    )
  })

  it('the directory itself is a file: same', () => {
    const blocker = path.join(dir, 'airflow-reap')
    writeFileSync(blocker, '')
    const err = openError(path.join(blocker, 'runs.sqlite'))
    expect(err.message).toContain(`${blocker} is not a directory; move it aside: mv ${blocker} ${blocker}.broken`)
  })

  it('a symbolic link loop (unreadable even for root): move it aside', () => {
    const file = path.join(dir, 'runs.sqlite')
    symlinkSync(file, file)
    const err = openError(file)
    expect(err.message).toContain('symbolic link')
    expect(err.message).toContain(`mv ${file} ${file}.broken`)
  })

  it('quotes a path with spaces in the hint, so it can be pasted into a shell', () => {
    const spaced = path.join(dir, "my cache's dir")
    mkdirSync(spaced)
    const file = path.join(spaced, 'runs.sqlite')
    writeFileSync(file, 'garbage')
    expect(openError(file).message).toContain(`mv '${dir}/my cache'\\''s dir/runs.sqlite' '${dir}/my cache'\\''s dir/runs.sqlite.broken'`)
  })
})
