// The run frame (src/reap/run.ts) and the recorder (src/reap/recorder.ts) in-process, against a real
// run store in a temporary directory: what each way of ending a run records (ok / failed /
// interrupted, never ok with a failure), what its report says, and when Events are announced.
import {existsSync, mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import os, {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import type {ReportItem} from '../../src/core/report.js'
import {EXIT_FOUND, EXIT_OK, InterruptedError} from '../../src/errors.js'
import {RunRecorder, type RunMeta} from '../../src/reap/recorder.js'
import {type ReportDraft, type RunFrame, exitCodeFor, failureOf, notSentNote, runReport} from '../../src/reap/run.js'
import {HEARTBEAT_INTERVAL_MS, openRunStore} from '../../src/store/run-store.js'
import {recordingProgress} from '../support/recording.js'

const dir = mkdtempSync(path.join(tmpdir(), 'airflow-reap-run-frame-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

let storePath: string
let n = 0
beforeEach(() => {
  storePath = path.join(dir, `store-${++n}`, 'runs.sqlite')
})

const META: RunMeta = {command: 'zombies', argv: ['zombies', '--delete'], context: 'ctx-a', server: 'https://k8s.example:6443', namespace: 'airflow', dryRun: false}

function item(name: string, action: ReportItem['action'], extra: Partial<ReportItem> = {}): ReportItem {
  return {kind: 'Pod', namespace: 'airflow', name, uid: `uid-${name}`, ageSeconds: 600, reason: 'no-active-task-instance', detail: `pod ${name}`, taskInstance: null, action, ...extra}
}

function storedRun(runId: number | null) {
  expect(runId).not.toBeNull()
  const store = openRunStore(storePath)
  try {
    return store.getRun(runId!)!
  } finally {
    store.close()
  }
}

interface FrameOptions {
  meta?: Partial<RunMeta>
  work: (draft: ReportDraft) => Promise<void>
  signal?: AbortSignal
  announce?: RunFrame['announce']
}

function frameOf(options: FrameOptions) {
  const progress = recordingProgress()
  const recorder = new RunRecorder({flag: storePath, noCache: false}, progress)
  const frame: RunFrame = {
    kind: 'ZombieReport',
    recorder,
    progress,
    meta: {...META, ...options.meta},
    signal: options.signal ?? new AbortController().signal,
    work: options.work,
    announce: options.announce,
  }
  return {frame, recorder, progress}
}

const opened: RunRecorder[] = []
afterEach(() => {
  for (const recorder of opened.splice(0)) recorder.close()
  vi.useRealTimers()
})

async function run(options: FrameOptions) {
  const {frame, recorder, progress} = frameOf(options)
  opened.push(recorder)
  const report = await runReport(frame)
  return {report, recorder, progress}
}

describe('runReport: how a run ends is how it is recorded', () => {
  it('a run whose actions all succeeded is ok, and its report says what was done', async () => {
    const announced: ReportItem[][] = []
    const {report, recorder} = await run({
      meta: {source: {kind: 'db', source: 'flag', via: 'direct'}},
      work: async (draft) => {
        draft.scanned = 4
        draft.items.push(item('a', 'deleted'), item('b', 'skipped', {skipReason: 'too-young'}))
        draft.warnings.push('a warning of the work')
      },
      announce: async (items) => {
        announced.push([...items])
        return ['events: one warning']
      },
    })
    expect(report).toMatchObject({
      apiVersion: 'airflow-reap/v1',
      kind: 'ZombieReport',
      runId: recorder.id,
      context: 'ctx-a',
      dryRun: false,
      db: {source: 'flag', via: 'direct'},
      summary: {scanned: 4, found: 1, acted: 1, failed: 0, skipped: 1, unknown: 0},
      warnings: ['a warning of the work', 'events: one warning'],
      interrupted: false,
    })
    expect(report.failure).toBeUndefined()
    expect(report.stopped).toBeUndefined()
    expect(Date.parse(report.generatedAt)).toBeGreaterThan(Date.now() - 60_000)
    expect(announced.map((items) => items.map((i) => i.name))).toEqual([['a', 'b']])
    const stored = storedRun(recorder.id)
    expect(stored.run).toMatchObject({outcome: 'ok', summary: {scanned: 4, acted: 1, skipped: 1}})
    expect(stored.run.error).toBeUndefined()
    expect(stored.items.map((i) => [i.name, i.action])).toEqual([
      ['a', 'deleted'],
      ['b', 'skipped'],
    ])
  })

  it('a report without a DB origin has no db field', async () => {
    const {report} = await run({work: async () => {}})
    expect(report).not.toHaveProperty('db')
  })

  it('a dry run announces nothing (nothing was done)', async () => {
    const announce = vi.fn(async () => ['never'])
    const {report, recorder} = await run({meta: {dryRun: true}, work: async (d) => void d.items.push(item('a', 'none')), announce})
    expect(announce).not.toHaveBeenCalled()
    expect(report.dryRun).toBe(true)
    expect(report.warnings).toEqual([])
    expect(storedRun(recorder.id).run).toMatchObject({outcome: 'ok', dryRun: true})
  })

  it.each([
    ['a failed action', [item('a', 'deleted'), item('b', 'failed', {error: 'boom'})], '1 of 2 actions failed (first: pod/airflow/b: boom)'],
    [
      'an unknown outcome',
      [item('a', 'unknown', {error: 'timed out'}), item('b', 'skipped')],
      '1 of 1 actions have an unknown outcome (they may have been applied) (first: pod/airflow/a: timed out)',
    ],
  ])('%s: failed, never ok, with the failure as the error', async (_what, items, failure) => {
    const announce = vi.fn(async () => [])
    const {report, recorder} = await run({work: async (d) => void d.items.push(...items), announce})
    expect(report.failure).toBe(failure)
    expect(announce).toHaveBeenCalledTimes(1)
    expect(storedRun(recorder.id).run).toMatchObject({outcome: 'failed', error: failure})
  })

  it('a failure the work set itself is recorded as failed even when every action went well', async () => {
    const {report, recorder} = await run({work: async (d) => {
      d.items.push(item('a', 'patched'))
      d.failure = 'the wait timed out'
    }})
    expect(report.failure).toBe('the wait timed out')
    expect(storedRun(recorder.id).run).toMatchObject({outcome: 'failed', error: 'the wait timed out'})
  })

  it('a sanity stop is recorded as failed with its message, and the report keeps it', async () => {
    const {report, recorder} = await run({work: async (d) => void (d.stopped = 'refusing: 3 of 4 pods')})
    expect(report.stopped).toBe('refusing: 3 of 4 pods')
    expect(report.failure).toBeUndefined()
    expect(storedRun(recorder.id).run).toMatchObject({outcome: 'failed', error: 'refusing: 3 of 4 pods'})
  })

  it('work that throws: recorded failed with the error, what was done kept, Events still announced, the error rethrown', async () => {
    const announce = vi.fn(async () => [])
    const {frame, recorder} = frameOf({
      work: async (d) => {
        d.items.push(item('a', 'deleted'))
        throw new Error('the DB went away')
      },
      announce,
    })
    opened.push(recorder)
    await expect(runReport(frame)).rejects.toThrow('the DB went away')
    expect(announce).toHaveBeenCalledTimes(1)
    const stored = storedRun(recorder.id)
    expect(stored.run).toMatchObject({outcome: 'failed', error: 'the DB went away', summary: {acted: 1}})
    expect(stored.items.map((i) => i.action)).toEqual(['deleted'])
  })

  it('a non-Error thrown is recorded as its text', async () => {
    const {frame, recorder} = frameOf({work: async () => Promise.reject('plain string')})
    opened.push(recorder)
    await expect(runReport(frame)).rejects.toBe('plain string')
    expect(storedRun(recorder.id).run).toMatchObject({outcome: 'failed', error: 'plain string'})
  })

  it('interrupted while working: recorded interrupted, the report returned (not thrown), no Events, a warning says so', async () => {
    const controller = new AbortController()
    const announce = vi.fn(async () => [])
    const {report, recorder} = await run({
      signal: controller.signal,
      work: async (d) => {
        d.items.push(item('a', 'deleted'), item('b', 'deleted'), item('c', 'skipped'))
        controller.abort()
        throw new InterruptedError('interrupted by SIGINT')
      },
      announce,
    })
    expect(report.interrupted).toBe(true)
    expect(announce).not.toHaveBeenCalled()
    expect(report.warnings).toEqual(['no Kubernetes Events posted for the 2 actions taken: the run was interrupted'])
    expect(storedRun(recorder.id).run).toMatchObject({outcome: 'interrupted', error: 'interrupted by SIGINT'})
  })

  it('interrupted after acting on nothing: no warning about Events', async () => {
    const controller = new AbortController()
    const {report} = await run({
      signal: controller.signal,
      work: async (d) => {
        d.items.push(item('a', 'skipped'))
        controller.abort()
        throw new InterruptedError('interrupted by SIGTERM')
      },
      announce: async () => [],
    })
    expect(report.warnings).toEqual([])
  })

  it('a signal that came as the work ended: interrupted, not ok', async () => {
    const controller = new AbortController()
    const announce = vi.fn(async () => [])
    const {report, recorder} = await run({
      signal: controller.signal,
      work: async (d) => {
        d.items.push(item('a', 'patched', {kind: 'Job'}))
        controller.abort()
      },
      announce,
    })
    expect(report.interrupted).toBe(true)
    expect(announce).not.toHaveBeenCalled()
    expect(report.warnings).toEqual(['no Kubernetes Events posted for the 1 actions taken: the run was interrupted'])
    expect(storedRun(recorder.id).run).toMatchObject({outcome: 'interrupted', error: 'interrupted'})
  })

  it('a run with no store still reports, with a null run id', async () => {
    const progress = recordingProgress()
    const recorder = new RunRecorder({noCache: true}, progress)
    const report = await runReport({kind: 'UnstickReport', recorder, progress, meta: META, signal: new AbortController().signal, work: async () => {}})
    expect(report).toMatchObject({kind: 'UnstickReport', runId: null, warnings: []})
  })
})

describe('failureOf, notSentNote, exitCodeFor', () => {
  it('names both counts, out of the actions attempted, and the first failure', () => {
    const items = [
      item('ok', 'deleted'),
      item('p', 'patched', {kind: 'Job'}),
      item('s', 'skipped'),
      item('n', 'none'),
      item('u', 'unknown', {error: 'reset'}),
      item('f', 'failed', {error: 'denied', kind: 'Job'}),
      item('g', 'failed', {error: 'again'}),
    ]
    expect(failureOf(items)).toBe(
      '2 of 5 actions failed, 1 of 5 actions have an unknown outcome (they may have been applied) (first: job/airflow/f: denied)',
    )
  })

  it('nothing failed or unknown: no failure', () => {
    expect(failureOf([item('a', 'deleted'), item('b', 'skipped')])).toBeUndefined()
    expect(failureOf([])).toBeUndefined()
  })

  it('RBAC-stopped items are counted as not sent', () => {
    const items = [item('f', 'failed', {error: 'forbidden'}), item('x', 'skipped', {skipReason: 'not-permitted'}), item('y', 'skipped', {skipReason: 'not-permitted'}), item('z', 'skipped', {skipReason: 'too-young'})]
    expect(notSentNote(items)).toBe('; 2 more not sent: grant that permission and run again')
    expect(failureOf(items)).toBe('1 of 1 actions failed (first: pod/airflow/f: forbidden); 2 more not sent: grant that permission and run again')
    expect(notSentNote([item('z', 'skipped', {skipReason: 'too-young'})])).toBe('')
  })

  it('exit 3 only with --exit-code and something left in place', () => {
    const report = (items: ReportItem[]) => ({items}) as Parameters<typeof exitCodeFor>[0]
    expect(exitCodeFor(report([item('a', 'none')]), true)).toBe(EXIT_FOUND)
    expect(exitCodeFor(report([item('a', 'none')]), false)).toBe(EXIT_OK)
    expect(exitCodeFor(report([item('a', 'deleted')]), true)).toBe(EXIT_OK)
  })
})

describe('RunRecorder', () => {
  function recorderOf(location: {flag?: string; noCache: boolean} = {flag: storePath, noCache: false}) {
    const progress = recordingProgress()
    const recorder = new RunRecorder(location, progress)
    opened.push(recorder)
    return {recorder, progress}
  }

  it('meta before start is an error; after start it is the run as known, updates merged in', () => {
    const {recorder} = recorderOf()
    expect(() => recorder.meta).toThrow('RunRecorder.meta read before start')
    recorder.start({...META, context: '', server: ''})
    recorder.update({context: 'ctx-b', server: 'https://other:6443', scanned: 7})
    expect(recorder.meta).toMatchObject({context: 'ctx-b', server: 'https://other:6443', command: 'zombies'})
    expect(recorder.meta).not.toHaveProperty('scanned')
    expect(storedRun(recorder.id).run).toMatchObject({context: 'ctx-b', server: 'https://other:6443', outcome: 'running'})
  })

  it('journals findings, the intent before the request and the outcome after it', () => {
    const {recorder} = recorderOf()
    recorder.start(META)
    const a = item('a', 'none')
    recorder.findings(3, [a, item('b', 'skipped')])
    let stored = storedRun(recorder.id)
    expect(stored.items.map((i) => [i.name, i.action])).toEqual([
      ['a', 'none'],
      ['b', 'skipped'],
    ])
    recorder.intent(a, 'delete')
    stored = storedRun(recorder.id)
    // In flight: a crash now would leave it unknown, never lost.
    expect(stored.items[0]!.actedAt).not.toBeNull()
    a.action = 'deleted'
    recorder.outcome(a)
    expect(storedRun(recorder.id).items[0]).toMatchObject({name: 'a', action: 'deleted'})
    recorder.finish({summary: {scanned: 3, found: 2, acted: 1, failed: 0, skipped: 1, unknown: 0}, items: [a]}, 'ok')
    expect(storedRun(recorder.id).run).toMatchObject({outcome: 'ok', summary: {scanned: 3, acted: 1}})
  })

  it('an intent never followed by an outcome is unknown when the run ends', () => {
    const {recorder} = recorderOf()
    recorder.start(META)
    const a = item('a', 'none')
    recorder.intent(a, 'delete')
    recorder.finish({summary: {scanned: 1, found: 1, acted: 0, failed: 0, skipped: 0, unknown: 0}, items: []}, 'failed', 'crashed mid-way')
    expect(storedRun(recorder.id).items[0]).toMatchObject({name: 'a', action: 'unknown'})
  })

  it('journalFor: the objects listed go to the draft and the store at once', () => {
    const {recorder} = recorderOf()
    recorder.start(META)
    const draft = {scanned: 0}
    const journal = recorder.journalFor(draft)
    journal.listed!(12)
    expect(draft.scanned).toBe(12)
    const a = item('a', 'none')
    journal.intent(a, 'patch')
    a.action = 'patched'
    journal.outcome(a)
    expect(storedRun(recorder.id).items[0]).toMatchObject({name: 'a', action: 'patched'})
    // An intent whose outcome never came: the journal wrote it, so the end of the run makes it unknown.
    journal.intent(item('b', 'none'), 'patch')
    recorder.finish({summary: {scanned: 12, found: 1, acted: 1, failed: 0, skipped: 0, unknown: 0}, items: []}, 'interrupted', 'interrupted')
    expect(storedRun(recorder.id).run.summary?.scanned).toBe(12)
    expect(storedRun(recorder.id).items.map((i) => [i.name, i.action])).toEqual([
      ['a', 'patched'],
      ['b', 'unknown'],
    ])
  })

  // What a crashed run (its process gone before finishing) shows is what was journaled as it went.
  it.each([
    ['the findings', (recorder: RunRecorder) => recorder.findings(7, [item('a', 'none'), item('b', 'skipped')])],
    ['the objects listed', (recorder: RunRecorder) => recorder.journalFor({scanned: 0}).listed!(7)],
  ])('a run that crashed after recording %s still says how many objects it scanned', (_what, record) => {
    const {recorder} = recorderOf()
    // A process that no longer exists on this host.
    recorder.start({...META, process: {pid: 2 ** 22 + 12_345, host: os.hostname(), start: null}})
    record(recorder)
    const store = openRunStore(storePath)
    try {
      const [run] = store.listRuns()
      expect(run).toMatchObject({runId: recorder.id, outcome: 'crashed', summary: {scanned: 7}})
    } finally {
      store.close()
    }
  })

  it('--no-cache: nothing recorded, no ledger, and every write is a no-op', () => {
    const {recorder, progress} = recorderOf({noCache: true})
    recorder.start(META)
    recorder.findings(1, [item('a', 'none')])
    recorder.intent(item('a', 'none'), 'delete')
    recorder.finish({summary: {scanned: 1, found: 1, acted: 0, failed: 0, skipped: 0, unknown: 0}, items: []}, 'ok')
    expect(recorder.id).toBeNull()
    expect(recorder.ledger()).toBeUndefined()
    expect(recorder.warnings).toEqual([])
    expect(existsSync(storePath)).toBe(false)
    expect(progress.warnings).toEqual([])
  })

  it('a store that cannot be opened: one warning, on stderr too, and the run goes on unrecorded (no heartbeat)', () => {
    vi.useFakeTimers({toFake: ['setInterval', 'clearInterval']})
    const blocked = path.join(dir, `blocked-${++n}`)
    mkdirSync(path.join(blocked, 'runs.sqlite'), {recursive: true})
    const {recorder, progress} = recorderOf({flag: path.join(blocked, 'runs.sqlite'), noCache: false})
    recorder.start(META)
    expect(recorder.id).toBeNull()
    expect(recorder.warnings).toHaveLength(1)
    expect(recorder.warnings[0]).toMatch(/^run not recorded in the local store: \S/)
    expect(vi.getTimerCount()).toBe(0)
    expect(progress.warnings).toEqual(recorder.warnings)
    recorder.findings(1, [item('a', 'none')])
    expect(recorder.warnings).toHaveLength(1)
    expect(recorder.ledger()).toBeUndefined()
  })

  it('a write that fails mid-run: warned once, and nothing more is attempted', () => {
    const {recorder, progress} = recorderOf()
    recorder.start(META)
    // The run's row gone under it (another process, a restored backup): the next write fails.
    const store = openRunStore(storePath)
    const runId = recorder.id!
    ;(store as unknown as {db: {prepare(sql: string): {run(...a: unknown[]): void}}}).db.prepare('DELETE FROM runs WHERE id = ?').run(runId)
    store.close()
    recorder.findings(1, [item('a', 'none')])
    expect(recorder.id).toBeNull()
    expect(progress.warnings).toHaveLength(1)
    expect(progress.warnings[0]).toMatch(/^run not recorded in the local store: /)
    recorder.outcome(item('a', 'deleted'))
    expect(progress.warnings).toHaveLength(1)
  })

  it('the ledger lists earlier unknown actions of the same server and records settlements by this run', () => {
    const first = recorderOf().recorder
    first.start(META)
    const a = item('a', 'unknown', {error: 'timed out'})
    first.intent(a, 'delete')
    first.outcome(a)
    first.finish({summary: {scanned: 1, found: 1, acted: 0, failed: 0, skipped: 0, unknown: 1}, items: [a]}, 'failed', 'unknown')
    first.close()

    const {recorder} = recorderOf()
    recorder.start(META)
    const ledger = recorder.ledger()!
    expect(ledger.unsettledActions('https://elsewhere:6443', 10)).toEqual([])
    const [action] = ledger.unsettledActions(META.server, 10)
    expect(action).toMatchObject({runId: first.id, name: 'a', verb: 'delete', uid: 'uid-a'})
    ledger.recordSettlement(action!.itemId, {action: 'deleted', at: new Date().toISOString(), detail: 'gone'})
    expect(storedRun(first.id).items[0]!.settled).toMatchObject({action: 'deleted', byRunId: recorder.id, detail: 'gone'})
    expect(ledger.unsettledActions(META.server, 10)).toEqual([])
  })

  it('a ledger whose store fails reads nothing and settles nothing, without throwing', () => {
    const {recorder} = recorderOf()
    recorder.start(META)
    const ledger = recorder.ledger()!
    recorder.close()
    expect(ledger.unsettledActions(META.server, 10)).toEqual([])
    expect(() => ledger.recordSettlement(1, {action: 'deleted', at: new Date().toISOString(), detail: 'gone'})).not.toThrow()
  })

  it('no heartbeat for a run not recorded', () => {
    vi.useFakeTimers({toFake: ['setInterval', 'clearInterval']})
    const {recorder} = recorderOf({noCache: true})
    recorder.start(META)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('beats while the run goes', () => {
    vi.useFakeTimers({toFake: ['setInterval', 'clearInterval']})
    const {recorder} = recorderOf()
    recorder.start(META)
    const beats = vi.spyOn((recorder as unknown as {store: {heartbeat(id: number): void}}).store, 'heartbeat')
    vi.advanceTimersByTime(HEARTBEAT_INTERVAL_MS * 2 + 1)
    expect(beats).toHaveBeenCalledTimes(2)
    expect(beats).toHaveBeenCalledWith(recorder.id)
    beats.mockImplementation(() => {
      throw new Error('database is locked')
    })
    vi.advanceTimersByTime(HEARTBEAT_INTERVAL_MS)
    expect(recorder.warnings).toEqual([])
    recorder.close()
    beats.mockClear()
    vi.advanceTimersByTime(HEARTBEAT_INTERVAL_MS * 2)
    expect(beats).not.toHaveBeenCalled()
  })
})
