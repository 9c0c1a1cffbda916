// The confirmation asked before a destructive action taken without --yes (src/reap/confirm.ts): only
// "yes" proceeds; anything else, the end of input or a signal does not.
import {PassThrough} from 'node:stream'
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import type {ReportItem} from '../../src/core/report.js'
import {InterruptedError} from '../../src/errors.js'
import {confirm} from '../../src/reap/confirm.js'

// The interface confirm() opens, to send it what a terminal sends on Ctrl-C.
const opened = vi.hoisted(() => ({interfaces: [] as import('node:readline/promises').Interface[]}))
vi.mock('node:readline/promises', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:readline/promises')>()
  return {
    ...original,
    createInterface: (...args: Parameters<typeof original.createInterface>) => {
      const rl = original.createInterface(...args)
      opened.interfaces.push(rl)
      return rl
    },
  }
})

let input: PassThrough
let stderr: string[]
const realStdin = Object.getOwnPropertyDescriptor(process, 'stdin')!

beforeEach(() => {
  input = new PassThrough()
  Object.defineProperty(process, 'stdin', {value: input, configurable: true})
  stderr = []
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => stderr.push(String(chunk)) > 0)
})

afterEach(() => {
  Object.defineProperty(process, 'stdin', realStdin)
  vi.restoreAllMocks()
})

function items(count: number): ReportItem[] {
  return Array.from({length: count}, (_, i) => ({
    kind: 'Pod',
    namespace: 'airflow',
    name: `pod-${i}`,
    uid: `u${i}`,
    ageSeconds: 600,
    reason: 'no-active-task-instance',
    detail: '',
    taskInstance: null,
    action: 'none',
  }))
}

/**
 * Answers once the question is asked: the list, then the prompt, are the two writes to stderr (counted,
 * not matched, so that a changed prompt fails the test at once rather than leaving it waiting).
 */
function answer(text: string | null): void {
  const timer = setInterval(() => {
    if (stderr.length < 2) return
    clearInterval(timer)
    if (text === null) input.end()
    else input.write(text)
  }, 5)
}

describe('confirm', () => {
  it.each([
    ['yes', true],
    ['  YES  ', true],
    ['Yes', true],
    ['y', false],
    ['no', false],
    ['', false],
    ['yes please', false],
  ])('answer %j → %s', async (text, expected) => {
    answer(`${text}\n`)
    expect(await confirm(items(1), 'Delete')).toBe(expected)
  })

  it('says what it will act on: the verb, the count, each object and why, then asks for "yes"', async () => {
    answer('no\n')
    await confirm(items(1), 'Delete')
    expect(stderr[0]).toBe('Delete 1 object?\n  pod/airflow/pod-0  (no-active-task-instance)\n')
    expect(stderr[1]).toBe('Type "yes" to proceed: ')
  })

  it('lists at most 10, then how many more', async () => {
    answer('no\n')
    await confirm(items(12), 'Patch')
    const lines = stderr[0]!.split('\n')
    expect(lines[0]).toBe('Patch 12 objects?')
    expect(lines.slice(1, 11)).toEqual(items(10).map((i) => `  pod/airflow/${i.name}  (no-active-task-instance)`))
    expect(lines[11]).toBe('  … and 2 more')
    expect(lines).toHaveLength(13)
  })

  it('exactly 10: no "more" line', async () => {
    answer('no\n')
    await confirm(items(10), 'Delete')
    expect(stderr[0]).not.toContain('more')
  })

  it('nothing to act on: false, and nothing asked', async () => {
    expect(await confirm([], 'Delete')).toBe(false)
    expect(stderr).toEqual([])
  })

  it('end of input (Ctrl-D) is a no', async () => {
    answer(null)
    expect(await confirm(items(2), 'Delete')).toBe(false)
  })

  it('a signal ends the question with its InterruptedError', async () => {
    const controller = new AbortController()
    const reason = new InterruptedError('interrupted by SIGTERM')
    setTimeout(() => controller.abort(reason), 30)
    await expect(confirm(items(1), 'Delete', controller.signal)).rejects.toBe(reason)
  })

  it('a signal without an InterruptedError reason still ends it as interrupted', async () => {
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 30)
    const error = await confirm(items(1), 'Delete', controller.signal).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InterruptedError)
    expect((error as Error).message).toBe('interrupted at the confirmation')
  })

  it('Ctrl-C read as a key on a terminal is sent to the process as SIGINT, which ends the run as anywhere', async () => {
    const kill = vi.spyOn(process, 'kill').mockImplementation(() => true)
    const controller = new AbortController()
    const asked = confirm(items(1), 'Delete', controller.signal)
    await new Promise((resolve) => setTimeout(resolve, 20))
    opened.interfaces.at(-1)!.emit('SIGINT')
    expect(kill).toHaveBeenCalledWith(process.pid, 'SIGINT')
    controller.abort(new InterruptedError('interrupted by SIGINT'))
    await expect(asked).rejects.toThrow('interrupted by SIGINT')
  })

  it('the question is closed afterwards: input written later is not read', async () => {
    answer('yes\n')
    expect(await confirm(items(1), 'Delete')).toBe(true)
    expect(input.listenerCount('data') + input.listenerCount('readable')).toBe(0)
  })
})
