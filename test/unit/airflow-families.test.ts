// The per-family rules: effective try number (FACTS §4.2) and pod_name XCom decoding (FACTS §3.7).
import {describe, expect, it} from 'vitest'

import {FAMILY_RULES, isPodName, podNameFromJsonText} from '../../src/airflow/queries/families.js'

describe('effectiveTryNumber', () => {
  // [state, column, 2.7 effective, 2.10/3 effective]
  it.each<[string | null, number | null, number, number]>([
    ['running', 2, 2, 2],
    ['deferred', 1, 2, 1], // < 2.10 decrements the column on deferral
    ['up_for_reschedule', 1, 2, 1],
    ['up_for_retry', 2, 3, 2],
    ['queued', 2, 3, 2],
    ['scheduled', 0, 1, 0],
    [null, 0, 1, 0],
    [null, null, 1, 0], // NULL column reads as 0
    ['success', 3, 3, 3], // a finished task instance is reported with the try it ended in
    ['failed', 2, 2, 2],
  ])('%s with column %s → 2.7: %s, 2.10+: %s', (state, column, e27, e210) => {
    expect(FAMILY_RULES['airflow-2.7'].effectiveTryNumber(column, state)).toBe(e27)
    expect(FAMILY_RULES['airflow-2.10'].effectiveTryNumber(column, state)).toBe(e210)
    expect(FAMILY_RULES['airflow-3'].effectiveTryNumber(column, state)).toBe(e210)
  })
})

describe('decodePodName', () => {
  const bytes = (text: string) => Buffer.from(text, 'utf8')

  it.each<[string, unknown, string | null]>([
    ['JSON string bytes', bytes('"kpo-pod-abc"'), 'kpo-pod-abc'],
    ['JSON text (SQLite TEXT)', '"kpo-pod-abc"', 'kpo-pod-abc'],
    ['a string that looks like JSON stays one decode deep', bytes(JSON.stringify('"x-pod"')), null],
    ['not JSON', bytes('kpo-pod-abc'), null],
    ['pickled bytes', Buffer.from([0x80, 0x04, 0x95, 0xff]), null],
    ['an object', bytes('{"name":"p"}'), null],
    ['NULL', null, null],
  ])('2.x: %s', (_title, raw, expected) => {
    expect(FAMILY_RULES['airflow-2.10'].decodePodName(raw)).toBe(expected)
    expect(FAMILY_RULES['airflow-2.7'].decodePodName(raw)).toBe(expected)
  })

  it.each<[string, unknown, string | null]>([
    ['the document itself (task SDK)', '"kpo-pod-abc"', 'kpo-pod-abc'],
    ['a JSON string holding JSON text (ORM serialize_value)', JSON.stringify(JSON.stringify('kpo-pod-abc')), 'kpo-pod-abc'],
    ['an object', '{"name":"p"}', null],
    ['an ORM-encoded object', JSON.stringify(JSON.stringify({name: 'p'})), null],
    ['a number', '42', null],
    ['a custom backend reference', '"s3://bucket/xcom/run/abc.json"', null],
    ['not JSON', 'kpo-pod', null],
    ['NULL', null, null],
  ])('3.x: %s', (_title, raw, expected) => {
    expect(FAMILY_RULES['airflow-3'].decodePodName(raw)).toBe(expected)
  })
})

describe('podNameFromJsonText', () => {
  it('only decodes twice when allowed', () => {
    const double = JSON.stringify(JSON.stringify('p'))
    expect(podNameFromJsonText(double, true)).toBe('p')
    expect(podNameFromJsonText(double, false)).toBe(null)
  })
})

describe('isPodName', () => {
  it.each([
    ['my-pod-abc123', true],
    ['a', true],
    ['pod.with.dots', true],
    ['x'.repeat(253), true],
    ['x'.repeat(254), false],
    ['Upper', false],
    ['-lead', false],
    ['trail-', false],
    ['has space', false],
    ['s3://bucket/key', false],
    ['', false],
  ])('%j → %s', (name, ok) => {
    expect(isPodName(name)).toBe(ok)
  })
})
