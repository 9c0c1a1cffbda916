// Secrets never reach the run store (cli-contract.md: "Passwords are never printed, logged or
// stored"). These functions err on the side of hiding too much: a mangled port in history is a
// small price, a DB password in a file under ~/.cache is not.

export const MASK = '***'

/** Flags whose whole value is a secret: --token, --password, --db-password, --api-key, --client-secret... */
const SECRET_FLAG = /^--?[a-z0-9-]*(?:token|password|passwd|secret|api-?key|credentials?)$/i

const SCHEME = String.raw`[a-z][a-z0-9+.\-]*://`

/**
 * A URL with a password inside free text: `scheme://user:pass@`. The password runs to the LAST `@`
 * before whitespace, because users paste unencoded passwords that contain `@`, `:` or `/`.
 */
const URL_PASSWORD_IN_TEXT = new RegExp(String.raw`\b(${SCHEME})([^\s:@/]*):\S*@`, 'gi')

/** The same, for a value that is one whole argv element: there the password may even contain spaces. */
const URL_PASSWORD_IN_VALUE = new RegExp(String.raw`^(${SCHEME})([^:@/]*):.*@`, 'is')

/** `password=...`, `sslpassword=...` (libpq keywords, URL query strings), `api_key=...`, `token=...`. */
const SECRET_ASSIGNMENT = /\b([\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key)[\w.-]*)(\s*=\s*)("[^"]*"|'[^']*'|[^\s&;,]+)/gi

/** JSON-ish `"password": "..."`, as found in serialized connection extras and API error bodies. */
const SECRET_JSON_FIELD = /("[\w.-]*(?:password|passwd|secret|token|api[_-]?key)[\w.-]*"\s*:\s*)"(?:[^"\\]|\\.)*"/gi

/** HTTP bearer tokens (a kube service-account token in an error message). */
const BEARER = /\b(bearer\s+)[A-Za-z0-9._~+/=-]+/gi

/** Hide every password, token or secret found in free text: error messages, details, URLs. */
export function redactText(text: string): string {
  return text
    .replace(URL_PASSWORD_IN_TEXT, `$1$2:${MASK}@`)
    .replace(SECRET_JSON_FIELD, `$1"${MASK}"`)
    .replace(SECRET_ASSIGNMENT, `$1$2${MASK}`)
    .replace(BEARER, `$1${MASK}`)
}

/**
 * The command line with secrets hidden: the password of any URL (`--db URL`, `--db=URL`, a positional
 * URL) becomes `***`, and the value of a `--token`/`--password`-like flag is replaced by `***` whole.
 */
export function redactArgv(argv: readonly string[]): string[] {
  const redacted: string[] = []
  let nextIsSecret = false
  for (const arg of argv) {
    if (nextIsSecret) {
      redacted.push(MASK)
      nextIsSecret = false
      continue
    }
    const {flag, value} = splitFlag(arg)
    if (flag !== undefined && SECRET_FLAG.test(flag)) {
      // `--token X` hides the next element; `--token=X` hides its own value.
      if (value === undefined) nextIsSecret = true
      redacted.push(value === undefined ? arg : `${flag}=${MASK}`)
      continue
    }
    redacted.push(flag !== undefined && value !== undefined ? `${flag}=${redactValue(value)}` : redactValue(arg))
  }
  return redacted
}

function splitFlag(arg: string): {flag?: string; value?: string} {
  if (!arg.startsWith('-')) return {}
  const eq = arg.indexOf('=')
  return eq === -1 ? {flag: arg} : {flag: arg.slice(0, eq), value: arg.slice(eq + 1)}
}

function redactValue(value: string): string {
  return redactText(value.replace(URL_PASSWORD_IN_VALUE, `$1$2:${MASK}@`))
}
