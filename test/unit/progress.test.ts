// Progress goes to stderr only: nothing when it is not a terminal, one line per step with AIRFLOW_REAP_TRACE=1.
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
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

  it('the trace stamp is in seconds and MB (not ms, not bytes)', async () => {
    const {fake, written} = stream(false)
    const progress = await createProgress(fake, {AIRFLOW_REAP_TRACE: '1'})
    progress.update('step')
    const [, seconds, rss, heap] = /^\[ *(\d+\.\d{3})s rss +(\d+) MB heap +(\d+) MB\]/.exec(written[0]!)!
    expect(Number(seconds)).toBeLessThan(24 * 3600)
    expect(Number(seconds) * 1000).toBeCloseTo(performance.now(), -4)
    expect(Number(rss)).toBeGreaterThan(0)
    expect(Number(rss)).toBeLessThan(100_000)
    expect(Number(heap)).toBeLessThan(100_000)
    progress.note('DB: flag')
    expect(written[1]).toBe('DB: flag\n')
  })
})

describe('the spinner on a terminal', () => {
  const SHOW_CURSOR = '\u001B[?25h'
  const HIDE_CURSOR = '\u001B[?25l'
  // ora draws no spinner where the CI variable is set (is-interactive), as CI sets it for .ci/run:
  // these tests are of the terminal, so they run without it.
  const ci = process.env.CI
  beforeEach(() => {
    delete process.env.CI
  })
  afterEach(() => {
    if (ci !== undefined) process.env.CI = ci
  })

  function terminal(columns = 80) {
    const written: string[] = []
    const fake = {isTTY: true, columns, write: (text: string) => written.push(text) > 0} as unknown as NodeJS.WriteStream
    return {fake, written, text: () => written.join('')}
  }

  it('hides the cursor while it spins and shows it again on stop, and on exit only while spinning', async () => {
    const {fake, written, text} = terminal()
    const exitListeners = process.listenerCount('exit')
    const progress = await createProgress(fake, {})
    expect(written[0]).toBe(HIDE_CURSOR)
    // Before the first step it spins with no text.
    expect(text().replace(/\u001B\[[0-9;?]*[A-Za-z]/g, '')).not.toMatch(/[A-Za-z]/)
    expect(process.listenerCount('exit')).toBe(exitListeners + 1)
    progress.update('listing pods')
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(text()).toContain('listing pods')
    progress.stop()
    expect(written.at(-1)).toBe(SHOW_CURSOR)
    expect(process.listenerCount('exit')).toBe(exitListeners)
    const count = written.length
    progress.stop()
    expect(written).toHaveLength(count)
    // update() after stop() starts it again, hiding the cursor again.
    progress.update('deleting 1/2')
    expect(written.slice(count)).toContain(HIDE_CURSOR)
    expect(process.listenerCount('exit')).toBe(exitListeners + 1)
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(written.slice(count).join('')).toContain('deleting 1/2')
    progress.stop()
    expect(process.listenerCount('exit')).toBe(exitListeners)
  })

  it('a warning clears the spinner line, stays, and the spinner is drawn again after it', async () => {
    const {fake, written} = terminal()
    const progress = await createProgress(fake, {})
    progress.update('listing pods')
    const before = written.length
    progress.warn('slow API server')
    const after = written.slice(before)
    const line = after.indexOf('warning: slow API server\n')
    expect(line).toBeGreaterThanOrEqual(0)
    expect(after.slice(line + 1).join('')).toContain('listing pods')
    progress.stop()
    const stopped = written.length
    progress.note('DB: flag')
    // Stopped: the note is not followed by a spinner redrawn.
    expect(written.at(-1)).toBe('DB: flag\n')
    expect(written.slice(stopped).join('')).not.toContain('listing pods')
  })

  it('clears its line between frames, and a line longer than the terminal as the lines it takes', async () => {
    const up = '\u001B[1A'
    const clearLine = '\u001B[0K'
    const toColumn1 = '\u001B[1G'
    const narrow = terminal(40)
    let progress = await createProgress(narrow.fake, {})
    progress.update('x'.repeat(70))
    await new Promise((resolve) => setTimeout(resolve, 250))
    progress.stop()
    expect(narrow.text()).toContain(clearLine)
    expect(narrow.text()).toContain(toColumn1)
    expect(narrow.text()).toContain(up)
    // The same line fits in 80 columns, the width assumed when the terminal reports 0.
    const unknown = terminal(0)
    progress = await createProgress(unknown.fake, {})
    progress.update('x'.repeat(70))
    await new Promise((resolve) => setTimeout(resolve, 250))
    progress.stop()
    expect(unknown.text()).not.toContain(up)
  })

  it('draws within the terminal\'s width, and within 80 columns when it reports none', async () => {
    for (const columns of [0, 40]) {
      const {fake, text} = terminal(columns)
      const progress = await createProgress(fake, {})
      progress.update('x'.repeat(200))
      await new Promise((resolve) => setTimeout(resolve, 120))
      progress.stop()
      expect(text()).toContain('x'.repeat(10))
    }
  })
})
