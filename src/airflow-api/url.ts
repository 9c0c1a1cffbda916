// The base URL of an Airflow API server and the request URLs built on it. The base may carry a path
// prefix (Astronomer's deployment URLs do), so request URLs are joined as strings: `new URL('/api/v2',
// base)` would drop the prefix. Every path segment is percent-encoded (run ids hold `+` and `:`, XCom
// keys may hold `/`), except `~`, which the API reads as "every DAG / every run".
import {UsageError} from '../errors.js'

export interface ApiBaseUrl {
  /** scheme://host[:port][/prefix], without a trailing slash. */
  base: string
  /** Safe to print and store: the URL carries no user info, query or fragment (refused). */
  redacted: string
  /** http: on a host other than loopback, credentials would travel in clear text. */
  plainHttpRemote: boolean
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/** Parses --airflow-url / AIRFLOW_REAP_API_URL; `from` names where it came from in errors. */
export function parseApiUrl(text: string, from: string): ApiBaseUrl {
  let url: URL
  try {
    url = new URL(text.trim())
  } catch {
    throw new UsageError(`${from}: not a URL (expected https://HOST[/PREFIX])`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError(`${from}: the scheme must be https or http, not ${url.protocol.slice(0, -1)}`)
  // Credentials never travel in the URL: they would be printed, stored and sent on every request.
  if (url.username || url.password) {
    throw new UsageError(`${from}: user info in the URL is refused; give credentials through AIRFLOW_REAP_API_TOKEN, --airflow-token-cmd or AIRFLOW_REAP_API_USERNAME/PASSWORD`)
  }
  if (url.search || url.hash) throw new UsageError(`${from}: the URL must not carry a query or fragment`)
  const prefix = url.pathname.replace(/\/+$/, '')
  if (/\/api\/v\d+$/.test(prefix)) throw new UsageError(`${from}: give the server's base URL, without ${prefix.slice(prefix.lastIndexOf('/api/'))}`)
  const base = `${url.protocol}//${url.host}${prefix}`
  return {base, redacted: base, plainHttpRemote: url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname) && !url.hostname.startsWith('127.')}
}

export type QueryValue = string | number | boolean | readonly (string | number)[] | undefined

/** `segments` joined onto the base, each percent-encoded except `~`; array query values repeat the key. */
export function requestUrl(base: ApiBaseUrl, segments: readonly string[], query: Record<string, QueryValue> = {}): string {
  const path = segments.map((segment) => (segment === '~' ? '~' : encodeURIComponent(segment))).join('/')
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue
    for (const one of Array.isArray(value) ? value : [value]) params.append(key, String(one))
  }
  const search = params.toString()
  return `${base.base}/${path}${search ? `?${search}` : ''}`
}
