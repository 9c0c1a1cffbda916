// What became of a write recorded `unknown`, judged from the object as it is now (issue 21 §1).
import {describe, expect, it} from 'vitest'
import {type ObjectNow, SETTLE_AS_FAILED_AFTER_MS, settleUnknown} from '../../src/core/settle.js'

const NOW = new Date('2026-12-07T12:00:00Z')
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString()
const gone: ObjectNow = {kind: 'gone'}
const untouched: ObjectNow = {kind: 'present', terminating: false, finalizers: []}
const terminating: ObjectNow = {kind: 'present', terminating: true, finalizers: []}
const stuck: ObjectNow = {kind: 'present', terminating: true, finalizers: ['orphan', 'example.com/keep']}
const freed: ObjectNow = {kind: 'present', terminating: true, finalizers: ['example.com/keep']}
const LONG_AGO = ago(SETTLE_AS_FAILED_AFTER_MS + 1000)
const JUST_NOW = ago(5000)

describe('settleUnknown', () => {
  it.each([
    ['delete, the UID gone', 'delete', JUST_NOW, gone, 'deleted'],
    ['delete, the UID terminating', 'delete', JUST_NOW, terminating, 'deleted'],
    ['delete, untouched, just now: it may still apply', 'delete', JUST_NOW, untouched, undefined],
    ['delete, untouched, long after the request', 'delete', LONG_AGO, untouched, 'failed'],
    ['delete, untouched, no time recorded: never judged failed', 'delete', null, untouched, undefined],
    ['patch, the UID gone', 'patch', JUST_NOW, gone, 'patched'],
    ['patch, no GC finalizer left', 'patch', JUST_NOW, freed, 'patched'],
    ['patch, still holding orphan, just now', 'patch', JUST_NOW, stuck, undefined],
    ['patch, still holding orphan, long after', 'patch', LONG_AGO, stuck, 'failed'],
  ] as const)('%s: %s', (_case, verb, actedAt, object, expected) => {
    expect(settleUnknown({verb, actedAt}, object, NOW)?.action).toBe(expected)
  })

  it('a failed settlement says how long after the request the object was still untouched', () => {
    expect(settleUnknown({verb: 'delete', actedAt: ago(60 * 60_000)}, untouched, NOW)?.detail).toBe(
      'that object (its UID) is still there and not being deleted 60m after the request: it did not apply',
    )
  })
})

describe('settleUnknown: what each settlement says (history shows it)', () => {
  it.each([
    ['delete', JUST_NOW, gone, 'that object (its UID) is gone'],
    ['patch', JUST_NOW, gone, 'that object (its UID) is gone: its finalizers no longer held it'],
    ['delete', JUST_NOW, terminating, 'that object (its UID) is terminating'],
    ['patch', JUST_NOW, freed, 'that object (its UID) no longer holds a garbage-collector finalizer'],
    ['patch', ago(60 * 60_000), {kind: 'present', terminating: true, finalizers: ['orphan', 'foregroundDeletion']}, 'that object (its UID) is still there, holding orphan, foregroundDeletion 60m after the request: it did not apply'],
  ] as const)('%s %s', (verb, actedAt, object, detail) => {
    expect(settleUnknown({verb, actedAt}, object as ObjectNow, NOW)?.detail).toBe(detail)
  })

  it('exactly at the settling age an untouched object is judged; a recorded time that is not one never is', () => {
    expect(settleUnknown({verb: 'delete', actedAt: ago(SETTLE_AS_FAILED_AFTER_MS)}, untouched, NOW)?.action).toBe('failed')
    expect(settleUnknown({verb: 'delete', actedAt: 'not a time'}, untouched, NOW)).toBeUndefined()
  })
})
