// The tests read their copy of the shared facts (test/fixtures/shared) so that a fresh clone passes
// on its own. Where ../shared is present (the project's workspace, CI with it checked out beside),
// the copies must be identical to it, so drift is caught; elsewhere this test is skipped, saying why.
import {readFileSync, readdirSync, statSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {fixturesSharedDir, sharedOriginalDir} from '../support/paths.js'

function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry)
    return statSync(full).isDirectory() ? filesUnder(full, path.join(prefix, entry)) : [path.join(prefix, entry)]
  })
}

const copies = filesUnder(fixturesSharedDir).sort()
const original = sharedOriginalDir()

describe('test/fixtures/shared', () => {
  it('holds the label vectors and the DDL of every dialect the tests build', () => {
    expect(copies).toEqual(
      expect.arrayContaining([
        path.join('airflow', 'label-vectors.json'),
        ...['postgres-2.10', 'postgres-3.x', 'sqlite-2.10', 'sqlite-3.x'].map((name) => path.join('airflow', 'ddl', `${name}.sql`)),
      ]),
    )
  })

  it.for(copies)('%s is identical to ../shared', (relative, context) => {
    if (!original) {
      context.skip('../shared is not beside the repository (a fresh clone): nothing to compare the copy with')
      return
    }
    const copy = readFileSync(path.join(fixturesSharedDir, relative), 'utf8')
    const source = readFileSync(path.join(original, relative), 'utf8')
    expect(copy, `test/fixtures/shared/${relative} differs from ${path.join(original, relative)}: copy it again`).toBe(source)
  })
})
