// Where scripts/real-airflow.sh put the real Airflow of a line (2.10, 3): the same cache directory
// and the same key (sha256 of the constraints file followed by the requirements file, 16 hex digits).
import {createHash} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {repoRoot} from '../paths.js'

export type AirflowLine = '2.10' | '3'

export const REAL_AIRFLOW_DIR = path.join(repoRoot, 'test', 'real', 'airflow')

export interface AirflowVenv {
  line: AirflowLine
  dir: string
  python: string
  /** The `airflow` console script. */
  airflow: string
}

export function venvDir(line: AirflowLine): string {
  const hash = createHash('sha256')
  for (const file of [`constraints-${line}.txt`, `requirements-${line}.txt`]) hash.update(readFileSync(path.join(REAL_AIRFLOW_DIR, file)))
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache')
  return path.join(cache, 'airflow-reap', 'airflow-venvs', `${line}-${hash.digest('hex').slice(0, 16)}`)
}

/**
 * The venv of this line, or why it is missing. Under CI a missing venv is an error (the suite must
 * fail, not skip: .ci/run creates it); elsewhere the tests skip with this reason.
 */
export function findVenv(line: AirflowLine): {venv: AirflowVenv} | {missing: string} {
  const dir = venvDir(line)
  if (!existsSync(path.join(dir, '.complete'))) {
    const missing = `no Airflow ${line} venv at ${dir}: run \`bash scripts/real-airflow.sh ${line}\``
    if (process.env.CI) throw new Error(`${missing} (CI must not skip the real-Airflow tests)`)
    return {missing}
  }
  return {venv: {line, dir, python: path.join(dir, 'bin', 'python'), airflow: path.join(dir, 'bin', 'airflow')}}
}
