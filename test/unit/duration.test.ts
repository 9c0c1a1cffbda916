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

// The edges of apimachinery's duration.HumanDuration, each unit's first and last value.
describe('formatAge at each boundary', () => {
  const m = 60
  const h = 3600
  const d = 86400
  const y = 365 * d
  it.each([
    [0, '0s'],
    [119.9, '119s'],
    [120, '2m'],
    [121, '2m1s'],
    [9 * m + 59, '9m59s'],
    [10 * m, '10m'],
    [10 * m + 59, '10m'],
    [180 * m - 1, '179m'],
    [3 * h, '3h'],
    [3 * h + 59, '3h'],
    [3 * h + 30 * m, '3h30m'],
    [8 * h - 1, '7h59m'],
    [8 * h, '8h'],
    [8 * h + 30 * m, '8h'],
    [48 * h - 1, '47h'],
    [48 * h, '2d'],
    [49 * h, '2d1h'],
    [8 * d - 1, '7d23h'],
    [8 * d, '8d'],
    [8 * d + 5 * h, '8d'],
    [2 * y - 1, '729d'],
    [2 * y, '2y'],
    [2 * y + d, '2y1d'],
    [8 * y - 1, '7y364d'],
    [8 * y, '8y'],
    [8 * y + 3 * d, '8y'],
  ])('%s seconds → %s', (seconds, text) => {
    expect(formatAge(seconds)).toBe(text)
  })
})

describe('parseDuration and parseTimeout: spaces, fractions, anchors', () => {
  it.each([
    [' 5m ', 300],
    ['.5s', 0.5],
    ['.55s', 0.55],
    ['1.25h', 4500],
    ['1.05s', 1.05],
    ['100us', 0.0001],
    ['100µs', 0.0001],
    ['1000ns', 0.000001],
    ['2h45m30s', 9930],
  ])('%j = %s seconds', (text, seconds) => {
    expect(parseDuration(text)).toBeCloseTo(seconds, 9)
  })

  it.each(['x5m', '5m x', '1.5.5s', '.s', '1..5s', '5m5'])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined()
  })

  it.each([
    [' 12 ', 12],
    ['120', 120],
    [' 2m ', 120],
  ])('timeout %j is %d seconds', (text, seconds) => {
    expect(parseTimeout(text)).toBe(seconds)
  })
})
