// Where the run store lives (cli-contract.md, `--cache` / `--no-cache`). Pure: the caller passes the
// environment and the home directory, so the resolution order is table-tested without touching disk.
import os from 'node:os'
import path from 'node:path'
import {UsageError} from '../errors.js'

export const STORE_DIR_NAME = 'airflow-reap'
export const STORE_FILE_NAME = 'runs.sqlite'

export interface StoreLocationInput {
  /** The `--cache PATH` flag. */
  flag?: string
  /** The `--no-cache` flag: record nothing. Wins over everything else. */
  noCache?: boolean
  env?: NodeJS.ProcessEnv
  homeDir?: string
  /** Relative paths are resolved against this (default: the process's working directory). */
  cwd?: string
}

/**
 * The run store's file: `--cache`, else `AIRFLOW_REAP_CACHE`, else `$XDG_CACHE_HOME/airflow-reap/runs.sqlite`,
 * else `~/.cache/airflow-reap/runs.sqlite`. `null` with `--no-cache`.
 */
export function resolveStorePath(input: StoreLocationInput): string | null {
  const {flag, noCache, env = process.env, homeDir = os.homedir(), cwd = process.cwd()} = input
  if (noCache) return null
  if (flag !== undefined) {
    if (flag.trim() === '') throw new UsageError('--cache needs a file path (or use --no-cache)')
    return absolute(flag, homeDir, cwd)
  }
  // An empty variable counts as unset, as the XDG spec says for XDG_CACHE_HOME; a CronJob manifest
  // with `value: ""` should not put the store in the working directory.
  const fromEnv = nonEmpty(env.AIRFLOW_REAP_CACHE)
  if (fromEnv) return absolute(fromEnv, homeDir, cwd)
  return path.join(cacheHome(env, homeDir), STORE_DIR_NAME, STORE_FILE_NAME)
}

function cacheHome(env: NodeJS.ProcessEnv, homeDir: string): string {
  const xdg = nonEmpty(env.XDG_CACHE_HOME)
  // The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
  if (xdg && path.isAbsolute(xdg)) return xdg
  return path.join(homeDir, '.cache')
}

// `--cache=~/x` reaches us unexpanded (the shell expands `~` only at the start of a word), and so does
// a `~` in an environment variable set by a manifest; expand it rather than create a directory named `~`.
function absolute(p: string, homeDir: string, cwd: string): string {
  const expanded = p === '~' || p.startsWith('~/') ? path.join(homeDir, p.slice(1)) : p
  return path.resolve(cwd, expanded)
}

function nonEmpty(value: string | undefined): string | undefined {
  return value && value.trim() !== '' ? value : undefined
}
