// A CronJob schedule, checked the way Kubernetes checks it: the CronJob controller parses
// spec.schedule with robfig/cron's ParseStandard (five fields: minute, hour, day of month, month,
// day of week; or a descriptor such as @hourly or @every 1h), and the API server refuses a TZ= or
// CRON_TZ= prefix (the time zone goes in spec.timeZone). A schedule the controller cannot parse is
// accepted by the API server and then never runs, so it is checked here, before anything is generated.
import {parseDuration} from './duration.js'

interface Field {
  name: string
  min: number
  max: number
  names?: readonly string[]
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']

const FIELDS: readonly Field[] = [
  {name: 'minute', min: 0, max: 59},
  {name: 'hour', min: 0, max: 23},
  {name: 'day of month', min: 1, max: 31},
  {name: 'month', min: 1, max: 12, names: MONTHS},
  {name: 'day of week', min: 0, max: 6, names: DAYS},
]

const DESCRIPTORS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']

/** Why the schedule is not one Kubernetes runs, or undefined when it is. */
export function cronScheduleError(schedule: string): string | undefined {
  const text = schedule.trim()
  if (text === '') return 'the schedule is empty'
  if (/^(CRON_)?TZ=/.test(text)) return 'TZ= and CRON_TZ= are not allowed in a CronJob schedule (Kubernetes uses spec.timeZone)'
  if (text.startsWith('@')) return descriptorError(text)
  const fields = text.split(/\s+/)
  if (fields.length !== 5) return `expected 5 fields (minute hour day-of-month month day-of-week), found ${fields.length}`
  for (let i = 0; i < 5; i++) {
    const error = fieldError(fields[i], FIELDS[i])
    if (error) return `${FIELDS[i].name} "${fields[i]}": ${error}`
  }
  return undefined
}

function descriptorError(text: string): string | undefined {
  if (DESCRIPTORS.includes(text)) return undefined
  if (text.startsWith('@every ')) {
    const seconds = parseDuration(text.slice('@every '.length).trim())
    return seconds !== undefined && seconds > 0 ? undefined : `"${text}": @every takes a duration such as 15m or 1h30m`
  }
  return `unknown descriptor "${text}" (known: ${DESCRIPTORS.join(', ')}, @every DURATION)`
}

/** One field: a comma-separated list of `*`, `?`, N, N-M, each optionally followed by /STEP. */
function fieldError(text: string, field: Field): string | undefined {
  for (const part of text.split(',')) {
    const error = partError(part, field)
    if (error) return error
  }
  return undefined
}

function partError(part: string, field: Field): string | undefined {
  const [range, step, ...extra] = part.split('/')
  if (extra.length > 0) return 'too many slashes'
  if (step !== undefined && !/^\d+$/.test(step)) return `step "${step}" is not a number`
  if (step !== undefined && Number(step) === 0) return 'a step of 0 never advances'
  if (range === '*' || (range === '?' && (field.name === 'day of month' || field.name === 'day of week'))) return undefined
  const bounds = range.split('-')
  if (bounds.length > 2) return `"${range}" is not a range`
  const values: number[] = []
  for (const bound of bounds) {
    const value = valueOf(bound, field)
    if (value === undefined) return `"${bound}" is not a ${field.name}${field.names ? ` (${field.min}-${field.max} or a name)` : ` (${field.min}-${field.max})`}`
    values.push(value)
  }
  if (values.length === 2 && values[0] > values[1]) return `the range ${range} ends before it starts`
  return undefined
}

function valueOf(text: string, field: Field): number | undefined {
  const byName = field.names?.indexOf(text.toLowerCase()) ?? -1
  if (byName >= 0) return byName + (field.name === 'month' ? 1 : 0)
  if (!/^\d+$/.test(text)) return undefined
  const value = Number(text)
  return value >= field.min && value <= field.max ? value : undefined
}
