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

/**
 * A request timeout as kubectl reads `--request-timeout` (client-go's clientcmd.ParseTimeout): a bare
 * integer is seconds (`--request-timeout=5`), anything else a duration.
 */
export function parseTimeout(text: string): number | undefined {
  const trimmed = text.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed)
  return parseDuration(trimmed)
}

/** Age exactly as kubectl prints it (apimachinery's duration.HumanDuration). */
export function formatAge(totalSeconds: number): string {
  const seconds = Math.max(0, Math.floor(totalSeconds))
  if (seconds < 120) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`
  if (minutes < 180) return `${minutes}m`
  const hours = Math.floor(minutes / 60)
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`
  if (hours < 48) return `${hours}h`
  const days = Math.floor(hours / 24)
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`
  if (hours < 24 * 365 * 2) return `${days}d`
  const years = Math.floor(days / 365)
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`
  return `${years}y`
}
