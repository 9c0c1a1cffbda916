// Paths the tests need: the repository root and the shared/ folder beside it (CI clones main with
// shared/ beside it as ../shared).
import {existsSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

export function sharedPath(relative: string): string {
  const candidates = [process.env.AIRFLOW_REAP_SHARED, path.join(repoRoot, '..', 'shared')].filter(Boolean) as string[]
  const base = candidates.find((dir) => existsSync(dir))
  if (!base) throw new Error(`shared/ not found beside the repository (looked in ${candidates.join(', ')})`)
  return path.join(base, relative)
}
