import {describe, expect, it} from 'vitest'
import {formatAge, parseDuration} from '../../src/core/duration.js'

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

describe('formatAge', () => {
  it.each([
    [5, '5s'],
    [119, '119s'],
    [150, '2m30s'],
    [600, '10m'],
    [5400, '1h30m'],
    [7200, '2h'],
    [36000, '10h'],
    [3 * 86400 + 3600, '3d1h'],
    [30 * 86400, '30d'],
  ])('%s seconds → %s', (seconds, text) => {
    expect(formatAge(seconds)).toBe(text)
  })
})
