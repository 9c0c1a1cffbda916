// Parsing SQLAlchemy database URLs the way Airflow's `sql_alchemy_conn` is written (FACTS §7.3).
// The grammar follows SQLAlchemy's own URL pattern so that any URL Airflow accepts parses the same
// way here. The password is kept for the driver but never appears in `redacted` or in an error.
import path from 'node:path'

import type {Dialect} from '../core/types.js'
import {EXIT_RUNTIME, EXIT_USAGE, ReapError} from '../errors.js'
import type {DbUrl} from './types.js'

/**
 * A DB URL that cannot be used. The message says what is wrong and where the URL came from, never
 * the URL itself: a rejected value may be a password typed in the wrong place (`--db S3cretPW`).
 * On the command line (--db) it is a usage error (exit 2, like any bad flag value); from the
 * environment or a *_CMD it is a configuration error (exit 1).
 */
export class InvalidDbUrlError extends ReapError {
  override readonly exitCode: number
  constructor(
    readonly source: string,
    readonly reason: string,
  ) {
    super(`invalid ${source} URL: ${reason}`)
    this.exitCode = source === '--db' ? EXIT_USAGE : EXIT_RUNTIME
  }
}

// SQLAlchemy's pattern (sqlalchemy/engine/url.py, _parse_url), unchanged apart from JS syntax. The
// `d` flag gives group offsets so the password can be cut out of the original text exactly.
const SQLALCHEMY_URL =
  /^(?<name>[\w+]+):\/\/(?:(?<username>[^:/]*)(?::(?<password>[^@]*))?@)?(?:(?:\[(?<ipv6host>[^/?]+)\]|(?<ipv4host>[^/:?]+))?(?::(?<port>[^/?]*))?)?(?:\/(?<database>[^?]*))?(?:\?(?<query>.*))?$/ds

const BACKENDS: Record<string, Dialect> = {
  postgresql: 'postgresql',
  postgres: 'postgresql', // rewritten by Airflow ≥2.3 with a warning, but still found in the wild
  mysql: 'mysql',
  mariadb: 'mysql',
  sqlite: 'sqlite',
}

/** Query-string keys whose values are secrets (libpq and MySQL drivers accept a password there too). */
const SECRET_PARAM = /pass/i

/**
 * Parse a SQLAlchemy URL. `source` names where it came from (`--db`, `AIRFLOW_REAP_DB`, ...) so the
 * error can say so; errors never contain the password.
 */
export function parseDbUrl(text: string, source = '--db'): DbUrl {
  const trimmed = text.trim()
  const fail = (reason: string): never => {
    throw new InvalidDbUrlError(source, reason)
  }
  if (trimmed === '') return fail('the URL is empty')
  const match = SQLALCHEMY_URL.exec(trimmed)
  if (!match?.groups) return fail('not a URL of the form dialect[+driver]://user:password@host:port/database')
  const g = match.groups
  const [backend, driver] = splitName(g.name!)
  const dialect = BACKENDS[backend.toLowerCase()]
  const redacted = redactMatched(trimmed, match)
  if (!dialect) return fail(`unsupported database "${backend}" (use postgresql, mysql or sqlite)`)
  const host = g.ipv6host ?? g.ipv4host
  if (host?.includes('@')) {
    return fail('the user name or password contains an unencoded "@" (write it as %40)')
  }
  const params = parseQuery(g.query, (reason) => fail(reason))
  const decode = (value: string | undefined, what: string): string | undefined =>
    value === undefined ? undefined : percentDecode(value, () => fail(`bad percent-encoding in the ${what}`))

  if (dialect === 'sqlite') {
    if (host || g.port || g.username !== undefined) return fail('a sqlite URL has no host, port or user')
    return {dialect, driver, params, redacted, database: sqliteDatabase(decode(g.database, 'path'))}
  }
  return {
    dialect,
    driver,
    host: host === undefined || host === '' ? undefined : host,
    port: parsePort(g.port, (reason) => fail(reason)),
    user: emptyToUndefined(decode(g.username, 'user name')),
    password: decode(g.password, 'password'),
    database: emptyToUndefined(decode(g.database, 'database name')),
    params,
    redacted,
  }
}

/** `postgresql+psycopg2` → ['postgresql', 'psycopg2']. */
function splitName(name: string): [string, string | undefined] {
  const plus = name.indexOf('+')
  return plus < 0 ? [name, undefined] : [name.slice(0, plus), name.slice(plus + 1) || undefined]
}

function parsePort(port: string | undefined, fail: (reason: string) => never): number | undefined {
  if (port === undefined || port === '') return undefined
  if (!/^\d+$/.test(port)) return fail('port is not a number')
  const value = Number(port)
  if (value < 1 || value > 65535) return fail('port is out of range (1-65535)')
  return value
}

/** Like Python's parse_qsl: `+` is a space, values are percent-decoded, the last repeated key wins. */
function parseQuery(query: string | undefined, fail: (reason: string) => never): Record<string, string> {
  const params: Record<string, string> = {}
  if (!query) return params
  for (const pair of query.split('&')) {
    if (pair === '') continue
    const eq = pair.indexOf('=')
    const rawKey = eq < 0 ? pair : pair.slice(0, eq)
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1)
    const key = percentDecode(rawKey.replace(/\+/g, ' '), () => fail('bad percent-encoding in the query string'))
    params[key] = percentDecode(rawValue.replace(/\+/g, ' '), () => fail(`bad percent-encoding in query parameter ${key}`))
  }
  return params
}

function percentDecode(value: string, fail: () => never): string {
  try {
    return decodeURIComponent(value)
  } catch {
    return fail()
  }
}

/** sqlite:// is in-memory; sqlite:///rel.db is relative to the working directory; sqlite:////abs.db is absolute. */
function sqliteDatabase(database: string | undefined): string {
  if (database === undefined || database === '' || database === ':memory:') return ':memory:'
  return path.resolve(database)
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === '' ? undefined : value
}

/** The original text with the password (and any password-like query value) replaced by `***`. */
function redactMatched(text: string, match: RegExpExecArray): string {
  const span = match.indices?.groups?.password
  const withoutPassword = span ? text.slice(0, span[0]) + '***' + text.slice(span[1]) : text
  return redactQuery(withoutPassword)
}

function redactQuery(text: string): string {
  const q = text.indexOf('?')
  if (q < 0) return text
  const query = text
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=')
      return eq >= 0 && SECRET_PARAM.test(pair.slice(0, eq)) ? `${pair.slice(0, eq)}=***` : pair
    })
    .join('&')
  return `${text.slice(0, q + 1)}${query}`
}

/**
 * Best-effort redaction for text that did not parse: everything between the first `:` after the
 * scheme and the last `@` is hidden. It may hide more than the password (a port), never less.
 */
export function redactLoosely(text: string): string {
  const schemeEnd = text.indexOf('://')
  const start = schemeEnd < 0 ? 0 : schemeEnd + 3
  const at = text.lastIndexOf('@')
  const colon = text.indexOf(':', start)
  if (at < 0 || colon < 0 || colon > at) return redactQuery(text)
  return redactQuery(`${text.slice(0, colon + 1)}***${text.slice(at)}`)
}
