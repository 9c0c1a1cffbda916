import {describe, expect, it} from 'vitest'
import {checkSanity} from '../../src/core/sanity.js'

describe('checkSanity', () => {
  it.each([
    ['nothing to do', {scanned: 10, candidates: 0, maxDeletes: 100, allowMassDelete: false}, {ok: true, allowed: 0, heldBack: 0}],
    ['a few zombies', {scanned: 10, candidates: 3, maxDeletes: 100, allowMassDelete: false}, {ok: true, allowed: 3, heldBack: 0}],
    ['exactly half is allowed', {scanned: 10, candidates: 5, maxDeletes: 100, allowMassDelete: false}, {ok: true, allowed: 5, heldBack: 0}],
    ['max-deletes caps the count', {scanned: 100, candidates: 40, maxDeletes: 3, allowMassDelete: false}, {ok: true, allowed: 3, heldBack: 37}],
    ['mass delete with override, capped', {scanned: 10, candidates: 10, maxDeletes: 3, allowMassDelete: true}, {ok: true, allowed: 3, heldBack: 7}],
  ])('%s', (_name, input, expected) => {
    expect(checkSanity(input)).toEqual(expected)
  })

  it('refuses when more than half of the scanned pods would be reaped', () => {
    const verdict = checkSanity({scanned: 10, candidates: 6, maxDeletes: 100, allowMassDelete: false})
    expect(verdict.ok).toBe(false)
    expect(!verdict.ok && verdict.message).toMatch(/more than half.*--allow-mass-delete/)
  })
})
