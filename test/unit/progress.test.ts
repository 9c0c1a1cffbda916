// Progress goes to stderr only: nothing when it is not a terminal, one line per step with AIRFLOW_REAP_TRACE=1.
import {describe, expect, it} from 'vitest'
import {createProgress} from '../../src/reap/progress.js'

function stream(isTTY: boolean) {
  const written: string[] = []
  const fake = {isTTY, write: (text: string) => written.push(text) > 0} as unknown as NodeJS.WriteStream
  return {fake, written}
}

describe('createProgress', () => {
  it('writes nothing but warnings when stderr is not a terminal', async () => {
    const {fake, written} = stream(false)
    const progress = await createProgress(fake, {})
    progress.update('listing pods')
    progress.warn('the store is read-only')
    progress.warn('the store is read-only') // once
    progress.stop()
    expect(written).toEqual(['warning: the store is read-only\n'])
  })

  it('with AIRFLOW_REAP_TRACE=1 writes each step with its time and memory', async () => {
    const {fake, written} = stream(false)
    const progress = await createProgress(fake, {AIRFLOW_REAP_TRACE: '1'})
    progress.update('listing pods')
    progress.warn('slow')
    progress.stop()
    expect(written).toHaveLength(3)
    const stamp = String.raw`\[ *\d+\.\d{3}s rss +\d+ MB heap +\d+ MB\]`
    expect(written[0]).toMatch(new RegExp(`^${stamp} listing pods\\n$`))
    expect(written[1]).toMatch(new RegExp(`^${stamp} warning: slow\\n$`))
    expect(written[2]).toMatch(new RegExp(`^${stamp} done\\n$`))
  })
})
