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

  it('on a terminal reporting 0 columns, spins without flooding it (ora divided by the width)', async () => {
    const written: string[] = []
    // The old failure was an endless synchronous loop: the fake breaks it rather than hang the suite.
    const write = (text: string) => {
      if (written.length > 10_000) throw new Error('the spinner floods a 0-column terminal')
      return written.push(text) > 0
    }
    const terminal = {isTTY: true, columns: 0, write} as unknown as NodeJS.WriteStream
    const progress = await createProgress(terminal, {})
    progress.update('listing pods in a namespace whose name is long enough to need more than one line anywhere')
    await new Promise((resolve) => setTimeout(resolve, 300))
    progress.stop()
    const bytes = written.join('').length
    expect(bytes).toBeGreaterThan(0)
    expect(bytes).toBeLessThan(5_000)
  })

  it('the spinner adds no signal handler of its own (one that killed the process on Ctrl-C before the run was recorded)', async () => {
    const before = {int: process.listenerCount('SIGINT'), term: process.listenerCount('SIGTERM')}
    const terminal = {isTTY: true, columns: 80, write: () => true} as unknown as NodeJS.WriteStream
    const progress = await createProgress(terminal, {})
    progress.update('listing pods')
    expect({int: process.listenerCount('SIGINT'), term: process.listenerCount('SIGTERM')}).toEqual(before)
    progress.stop()
  })

  it('stop() clears the spinner once and can be called again; update() after it spins again', async () => {
    const {fake, written} = stream(false)
    const progress = await createProgress(fake, {AIRFLOW_REAP_TRACE: '1'})
    progress.stop()
    progress.stop()
    expect(written).toHaveLength(1)
    progress.update('next step')
    progress.stop()
    expect(written).toHaveLength(3)
  })
})
