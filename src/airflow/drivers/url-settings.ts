// DB URL parameters read the same way by both network drivers (PostgreSQL and MySQL).
import {readFileSync} from 'node:fs'
import {ConfigError} from '../../errors.js'
import type {DriverOptions} from './types.js'

/** The connect limit: the URL's `connect_timeout` (seconds, as libpq and mysqlclient read it), else the option, else `timeoutMs`. */
export function connectTimeout(param: string | undefined, options: DriverOptions, timeoutMs: number): number {
  const seconds = Number(param)
  if (param && Number.isFinite(seconds) && seconds > 0) return seconds * 1000
  return options.connectTimeoutMs ?? timeoutMs
}

/** A certificate or key file named in the URL; a file that cannot be read is a configuration error naming it. */
export function readSslFile(param: string, file: string): Buffer {
  try {
    return readFileSync(file)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable'
    throw new ConfigError(`cannot read the ${param} file ${file} given in the DB URL (${code})`)
  }
}
