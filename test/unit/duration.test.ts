import {describe, expect, it} from 'vitest'
import {formatAge, parseDuration, parseTimeout} from '../../src/core/duration.js'

describe('parseDuration', () => {
  it.each([
    ['90s', 90],
    ['10m', 600],
    ['2h', 7200],
    ['1h30m', 5400],
    ['1.5h', 5400],
    ['250ms', 0.25],
    ['0', 0],
    ['0s', 0],
  ])('%s = %s seconds', (text, seconds) => {
    expect(parseDuration(text)).toBeCloseTo(seconds)
  })
  it.each(['', '5', '5 m', 'm', '-5m', '5x', '1h30', 'abc'])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined()
  })
})

// client-go's clientcmd.ParseTimeout, which kubectl's --request-timeout goes through.
describe('parseTimeout', () => {
  it.each([
    ['5', 5],
    ['0', 0],
    ['90s', 90],
    ['1h30m', 5400],
    ['250ms', 0.25],
  ])('%j is %d seconds', (text, seconds) => {
    expect(parseTimeout(text)).toBe(seconds)
  })

  it.each(['', '-5', '5x', '1.5', 'abc'])('%j is not a timeout', (text) => {
    expect(parseTimeout(text)).toBeUndefined()
  })
})

describe('formatAge', () => {
  it.each([
    [5, '5s'],
    [119, '119s'],
    [150, '2m30s'],
    [600, '10m'],
    [3600, '60m'],
    [5400, '90m'],
    [3 * 3600, '3h'],
    [5 * 3600 + 1800, '5h30m'],
    [36000, '10h'],
    [3 * 86400 + 3600, '3d1h'],
    [30 * 86400, '30d'],
    [3 * 365 * 86400 + 10 * 86400, '3y10d'],
    [9 * 365 * 86400, '9y'],
  ])('%s seconds → %s', (seconds, text) => {
    expect(formatAge(seconds)).toBe(text)
  })
})
