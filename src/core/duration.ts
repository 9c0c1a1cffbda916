// kubectl-style durations ("90s", "10m", "2h", "1h30m", "250ms"), as Go's time.ParseDuration reads them.

const UNIT_SECONDS: Record<string, number> = {ns: 1e-9, us: 1e-6, 'µs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600}
const PART = /(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h)/y

/** Seconds in a duration, or undefined when the text is not one. "0" alone is allowed, as in Go. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim()
  if (trimmed === '0') return 0
  if (trimmed === '') return undefined
  let seconds = 0
  PART.lastIndex = 0
  while (PART.lastIndex < trimmed.length) {
    const start = PART.lastIndex
    const match = PART.exec(trimmed)
    if (!match || match.index !== start) return undefined
    seconds += Number(match[1]) * UNIT_SECONDS[match[2]]
  }
  return seconds
}

/** Age as kubectl prints it: 45s, 12m, 5h, 3d (two units while small: 1h30m). */
export function formatAge(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds))
  if (s < 120) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`
  if (m < 60) return `${m}m`
  if (m < 180) return m % 60 === 0 ? `${m / 60}h` : `${Math.floor(m / 60)}h${m % 60}m`
  const h = Math.floor(m / 60)
  if (h < 48) return `${h}h`
  const d = Math.floor(h / 24)
  if (d < 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`
  if (d < 365 * 2) return `${d}d`
  return `${Math.floor(d / 365)}y`
}
