// Timestamps without an offset are UTC, whatever the laptop's time zone.
import {describe, expect, it} from 'vitest'

import {formatUtcTimestamp, parseUtcTimestamp, toUtcDate} from '../../src/airflow/timestamps.js'

describe('parseUtcTimestamp', () => {
  it.each([
    ['2025-06-01 12:00:00.123456', '2025-06-01T12:00:00.123Z'], // SQLite / MySQL text, microseconds cut to ms
    ['2025-06-01 12:00:00', '2025-06-01T12:00:00.000Z'],
    ['2025-06-01T12:00:00.5', '2025-06-01T12:00:00.500Z'],
    ['2025-06-01 12:00', '2025-06-01T12:00:00.000Z'],
    ['2025-06-01', '2025-06-01T00:00:00.000Z'],
    ['2025-06-01 12:00:00+00:00', '2025-06-01T12:00:00.000Z'],
    ['2025-06-01 14:00:00+02', '2025-06-01T12:00:00.000Z'],
    ['2025-06-01 07:30:00.25-04:30', '2025-06-01T12:00:00.250Z'],
    ['2025-06-01T12:00:00Z', '2025-06-01T12:00:00.000Z'],
  ])('%s → %s', (text, iso) => {
    expect(parseUtcTimestamp(text).toISOString()).toBe(iso)
  })

  it('rejects non-timestamps', () => {
    expect(() => parseUtcTimestamp('yesterday')).toThrow('not a timestamp')
  })

  it('formats what it parses', () => {
    const date = new Date('2025-06-01T12:00:00.123Z')
    expect(formatUtcTimestamp(date)).toBe('2025-06-01 12:00:00.123000')
    expect(parseUtcTimestamp(formatUtcTimestamp(date))).toEqual(date)
  })

  it('toUtcDate passes Dates and NULLs through', () => {
    const date = new Date()
    expect(toUtcDate(date)).toBe(date)
    expect(toUtcDate(null)).toBeNull()
    expect(toUtcDate(undefined)).toBeNull()
  })
})
