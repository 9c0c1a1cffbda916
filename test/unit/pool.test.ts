// forEachLimited (src/reap/pool.ts): never more than `limit` at once, every item once, and nothing new
// started once the signal aborts.
import {describe, expect, it} from 'vitest'
import {forEachLimited} from '../../src/reap/pool.js'

const tick = () => new Promise((resolve) => setTimeout(resolve, 5))

describe('forEachLimited', () => {
  it.each([
    [10, 3, 3],
    [2, 5, 2],
    [4, 0, 1],
  ])('%i items, limit %i: at most %i at once, each once', async (count, limit, most) => {
    let running = 0
    let peak = 0
    const seen: number[] = []
    await forEachLimited(Array.from({length: count}, (_, i) => i), limit, async (item, index) => {
      expect(index).toBe(item)
      running++
      peak = Math.max(peak, running)
      await tick()
      seen.push(item)
      running--
    })
    expect(peak).toBe(most)
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({length: count}, (_, i) => i))
  })

  it('starts nothing after the signal aborts', async () => {
    const controller = new AbortController()
    const seen: number[] = []
    await forEachLimited([1, 2, 3, 4], 1, async (item) => {
      seen.push(item)
      if (item === 2) controller.abort()
    }, controller.signal)
    expect(seen).toEqual([1, 2])
  })
})
