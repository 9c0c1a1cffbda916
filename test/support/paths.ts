// Paths the tests need: the repository root, the test data copied from the project's shared facts
// (test/fixtures/shared, so a fresh clone has everything), and ../shared itself when it is there
// (only the test that checks the copies have not drifted reads it).
import {existsSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

/**
 * The repository: two levels above this file, whether vitest runs it from test/support or the bench
 * (`node dist/bench/run.js --real`) imports its compiled copy from dist/test/support.
 */
const twoUp = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
export const repoRoot = path.basename(twoUp) === 'dist' && existsSync(path.join(twoUp, '..', 'scripts')) ? path.dirname(twoUp) : twoUp

/** The in-repository copy of the shared facts (label vectors, DDL). */
export const fixturesSharedDir = path.join(repoRoot, 'test', 'fixtures', 'shared')

/** A file of the in-repository copy of ../shared, e.g. `airflow/label-vectors.json`. */
export function sharedFixture(relative: string): string {
  return path.join(fixturesSharedDir, relative)
}

/** ../shared (or AIRFLOW_REAP_SHARED) when present beside the repository, else undefined. */
export function sharedOriginalDir(): string | undefined {
  const candidates = [process.env.AIRFLOW_REAP_SHARED, path.join(repoRoot, '..', 'shared')].filter(Boolean) as string[]
  return candidates.find((dir) => existsSync(dir))
}
