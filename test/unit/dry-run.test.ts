// --dry-run as parsed (src/core/dry-run.ts): kubectl's `none` is the same as no --dry-run, never a dry run.
import {describe, expect, it} from 'vitest'
import {dryRunModeOf} from '../../src/core/dry-run.js'

describe('dryRunModeOf', () => {
  it.each([
    [{'dry-run': 'client'}, 'client'],
    [{'dry-run': 'server'}, 'server'],
    [{'dry-run': 'none'}, undefined],
    [{}, undefined],
  ])('%j → %s', (flags, mode) => {
    expect(dryRunModeOf(flags)).toBe(mode)
  })
})
