// Timestamps from the three dialects, turned into JS Dates in UTC. Airflow writes every timestamp in
// UTC; where the column carries no offset (SQLite TEXT, MySQL with dateStrings, 2.x Postgres
// `trigger_timeout`) the wall-clock text is UTC and must not be read in the laptop's time zone.

const TIMESTAMP_TEXT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i

/** Parse `YYYY-MM-DD[ HH:MM[:SS[.ffffff]]][offset]`; no offset means UTC. Throws on anything else. */
export function parseUtcTimestamp(text: string): Date {
  const trimmed = text.trim()
  if (trimmed === 'infinity') return new Date(8.64e15)
  if (trimmed === '-infinity') return new Date(-8.64e15)
  const m = TIMESTAMP_TEXT.exec(trimmed)
  if (!m) throw new Error(`not a timestamp: ${JSON.stringify(text)}`)
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', offset] = m
  const millis = Number(fraction.padEnd(3, '0').slice(0, 3)) // microseconds are truncated to ms
  const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), millis)
  return new Date(utc - offsetMinutes(offset) * 60_000)
}

function offsetMinutes(offset: string | undefined): number {
  if (!offset || offset.toUpperCase() === 'Z') return 0
  const digits = offset.slice(1).replace(':', '')
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0')
  return offset.startsWith('-') ? -minutes : minutes
}

/** A timestamp column value as any driver returns it (Date, text, or NULL) → Date in UTC or null. */
export function toUtcDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null
  if (value instanceof Date) return value
  if (typeof value === 'string') return parseUtcTimestamp(value)
  throw new Error(`unexpected timestamp value of type ${typeof value}`)
}

/** `YYYY-MM-DD HH:MM:SS.ffffff` in UTC: the text form SQLite (Airflow via SQLAlchemy) and MySQL use. */
export function formatUtcTimestamp(date: Date): string {
  const iso = date.toISOString() // YYYY-MM-DDTHH:MM:SS.mmmZ
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}000`
}
