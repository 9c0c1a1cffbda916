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
