import {describe, expect, it} from 'vitest'
import {cronScheduleError} from '../../src/core/cron.js'

describe('cronScheduleError: what the CronJob controller (robfig/cron ParseStandard) runs', () => {
  it.each([
    '*/15 * * * *',
    '0 * * * *',
    '0 3 * * 1-5',
    '5,35 */2 1-15/3 jan-jun mon,wed,FRI',
    '0 0 ? * SUN',
    '30 4 1 1 *',
    '59 23 31 12 6',
    '@hourly',
    '@daily',
    '@every 1h30m',
  ])('accepts %s', (schedule) => {
    expect(cronScheduleError(schedule)).toBeUndefined()
  })

  it.each([
    ['', /empty/],
    ['*/15 * * *', /expected 5 fields.*found 4/],
    ['* * * * * *', /found 6/],
    ['60 * * * *', /minute "60"/],
    ['* 24 * * *', /hour "24"/],
    ['* * 0 * *', /day of month "0"/],
    ['* * * 13 *', /month "13"/],
    ['* * * * 7', /day of week "7"/],
    ['*/0 * * * *', /step of 0/],
    ['10-5 * * * *', /ends before it starts/],
    ['? * * * *', /minute "\?"/],
    ['a * * * *', /minute "a"/],
    ['TZ=UTC 0 * * * *', /spec.timeZone/],
    ['@fortnightly', /unknown descriptor/],
    ['@every soon', /@every takes a duration/],
  ])('refuses %j', (schedule, message) => {
    expect(cronScheduleError(schedule)).toMatch(message)
  })
})

describe('cronScheduleError: names, ranges and the exact messages', () => {
  const months = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
  const days = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']

  it.each(months.map((m, i) => [m, i + 1]))('month %s is month %i', (name, number) => {
    expect(cronScheduleError(`0 0 1 ${name} *`)).toBeUndefined()
    expect(cronScheduleError(`0 0 1 ${name}-${number} *`)).toBeUndefined()
    if (number > 1) expect(cronScheduleError(`0 0 1 ${name}-${number - 1} *`)).toBe(`month "${name}-${number - 1}": the range ${name}-${number - 1} ends before it starts`)
  })

  it.each(days.map((d, i) => [d, i]))('day %s is day %i', (name, number) => {
    expect(cronScheduleError(`0 0 * * ${name.toUpperCase()}`)).toBeUndefined()
    expect(cronScheduleError(`0 0 * * ${number}-${name}`)).toBeUndefined()
    expect(cronScheduleError(`0 0 * * ${name}-${number}`)).toBeUndefined()
  })

  it.each([
    ['  0 * * * *  ', undefined],
    ['0  *\t* * *', undefined],
    ['@yearly', undefined],
    ['@annually', undefined],
    ['@monthly', undefined],
    ['@weekly', undefined],
    ['@midnight', undefined],
    [' @every 15m ', undefined],
    ['@every  15m', undefined],
    ['0 0 ? * *', undefined],
    ['0 0 * * ?', undefined],
    ['0 0 5-5 * *', undefined],
    ['   ', 'the schedule is empty'],
    ['CRON_TZ=UTC 0 * * * *', 'TZ= and CRON_TZ= are not allowed in a CronJob schedule (Kubernetes uses spec.timeZone)'],
    ['0 * * * * TZ=UTC', 'expected 5 fields (minute hour day-of-month month day-of-week), found 6'],
    ['@every 0s', '"@every 0s": @every takes a duration such as 15m or 1h30m'],
    ['@fortnightly', 'unknown descriptor "@fortnightly" (known: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, @every DURATION)'],
    ['*/5/2 * * * *', 'minute "*/5/2": too many slashes'],
    ['*/x * * * *', 'minute "*/x": step "x" is not a number'],
    ['*/5x * * * *', 'minute "*/5x": step "5x" is not a number'],
    ['*/x5 * * * *', 'minute "*/x5": step "x5" is not a number'],
    ['0 0 * ? *', 'month "?": "?" is not a month (1-12 or a name)'],
    ['1-2-3 * * * *', 'minute "1-2-3": "1-2-3" is not a range'],
    ['x1 * * * *', 'minute "x1": "x1" is not a minute (0-59)'],
    ['1x * * * *', 'minute "1x": "1x" is not a minute (0-59)'],
    ['0 0 * * 8', 'day of week "8": "8" is not a day of week (0-6 or a name)'],
    ['0 0 1,32 * *', 'day of month "1,32": "32" is not a day of month (1-31)'],
    ['0 0 * * sat-sun', 'day of week "sat-sun": the range sat-sun ends before it starts'],
  ])('%j → %j', (schedule, error) => {
    expect(cronScheduleError(schedule)).toBe(error)
  })
})

describe('cronScheduleError: values robfig/cron would not read as numbers', () => {
  it.each([
    ['-5 * * * *', 'minute "-5": "" is not a minute (0-59)'],
    ['0x1 * * * *', 'minute "0x1": "0x1" is not a minute (0-59)'],
    ['1e1 * * * *', 'minute "1e1": "1e1" is not a minute (0-59)'],
    ['5- * * * *', 'minute "5-": "" is not a minute (0-59)'],
  ])('%j → %j', (schedule, error) => {
    expect(cronScheduleError(schedule)).toBe(error)
  })
})
