// A run whose process is gone shows as crashed, its in-flight actions as unknown; a run still going,
// or recorded on another host, is left running. Pids are reused: a live process with the recorded pid
// but another start is not the run's.
import {hostname} from 'node:os'
import path from 'node:path'
import Database from 'better-sqlite3'
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import {RunRecorder} from '../../src/reap/recorder.js'
import {currentProcess, liveness} from '../../src/store/process-identity.js'
import {HEARTBEAT_INTERVAL_MS, HEARTBEAT_STALE_MS, IN_FLIGHT, IN_FLIGHT_AT_CRASH, openRunStore} from '../../src/store/run-store.js'
import {deadPid, deletedZombie, makeTempDir, skippedStaleTry, zombiesRun} from '../support/store/helpers.js'

let dir: string
let cleanup: () => void
beforeEach(() => ({dir, cleanup} = makeTempDir()))
afterEach(() => cleanup())

const onLinux = process.platform === 'linux'

describe('liveness of the process that recorded a run', () => {
  it.each<[string, () => Parameters<typeof liveness>[0], string]>([
    ['this process', () => currentProcess(), 'alive'],
    ['an exited process', () => ({pid: deadPid(), host: hostname(), start: null}), 'gone'],
    ['another host', () => ({pid: process.pid, host: `not-${hostname()}`, start: null}), 'unknown'],
    ['a run recorded without a pid (older version)', () => ({pid: null, host: null, start: null}), 'unknown'],
  ])('%s: %s', (_name, recorded, expected) => {
    expect(liveness(recorded())).toBe(expected)
  })

  it.runIf(onLinux)('a live pid that belongs to a process started at another moment (pid reuse) is gone', () => {
    const me = currentProcess()
    expect(me.start).toMatch(/^[0-9a-f-]+:\d+$/)
    expect(liveness({...me, start: `${me.start!.split(':')[0]}:1`})).toBe('gone')
  })
})

describe('crashed runs', () => {
  it('a run whose process died: crashed, its in-flight delete unknown, its summary counted from its items', () => {
    const file = path.join(dir, 'runs.sqlite')
    const store = openRunStore(file)
    const runId = store.startRun(zombiesRun({process: {pid: deadPid(), host: hostname(), start: null}}))
    store.updateRun(runId, {scanned: 12})
    const inFlight = deletedZombie({name: 'in-flight', uid: 'uid-in-flight', action: 'none', actedAt: undefined})
    store.recordItems(runId, [deletedZombie(), skippedStaleTry(), inFlight])
    store.recordIntent(runId, inFlight, 'delete')

    const [run] = store.listRuns()
    expect(run).toMatchObject({runId, outcome: 'crashed', finishedAt: null, summary: {scanned: 12, found: 2, acted: 1, failed: 0, skipped: 1, unknown: 1}})
    expect(run.error).toMatch(/^the process \(pid \d+ on .+\) ended without recording an outcome$/)
    const items = store.getRun(runId)!.items
    expect(items.find((i) => i.name === 'in-flight')).toMatchObject({action: 'unknown', error: IN_FLIGHT_AT_CRASH})
    expect(items.find((i) => i.name === 'in-flight')!.actedAt).not.toBeNull()
    // A late finish from a process that was only presumed dead cannot overwrite the verdict.
    expect(store.finishRun(runId, {outcome: 'ok', summary: run.summary!})).toBe(false)
    store.close()
  })

  it('a run still going is running, its in-flight action shown unknown (in flight), then settled by its outcome', () => {
    const store = openRunStore(path.join(dir, 'runs.sqlite'))
    const runId = store.startRun(zombiesRun())
    const item = deletedZombie({action: 'none', actedAt: undefined})
    store.recordItems(runId, [item])
    store.recordIntent(runId, item, 'delete')
    expect(store.listRuns()[0].outcome).toBe('running')
    expect(store.getRun(runId)!.items[0]).toMatchObject({action: 'unknown', error: IN_FLIGHT})
    store.recordItems(runId, [{...item, action: 'deleted'}])
    expect(store.getRun(runId)!.items[0]).toMatchObject({action: 'deleted'})
    expect(store.getRun(runId)!.items[0].error).toBeUndefined()
    store.close()
  })

  it('an action still in flight when the run finishes is recorded unknown, never lost', () => {
    const store = openRunStore(path.join(dir, 'runs.sqlite'))
    const runId = store.startRun(zombiesRun())
    const item = deletedZombie({action: 'none', actedAt: undefined})
    store.recordIntent(runId, item, 'delete')
    store.finishRun(runId, {outcome: 'interrupted', summary: {scanned: 1, found: 1, acted: 0, failed: 0, skipped: 0, unknown: 1}})
    expect(store.getRun(runId)!.items[0]).toMatchObject({action: 'unknown', error: IN_FLIGHT_AT_CRASH})
    store.close()
  })

  it('updateRun: the target once the kubeconfig is read, a prompt confirmation that makes it a real run', () => {
    const store = openRunStore(path.join(dir, 'runs.sqlite'))
    const runId = store.startRun(zombiesRun({context: '', server: '', dryRun: true}))
    store.updateRun(runId, {context: 'prod-eks', server: 'https://k8s.example:6443', namespace: '*'})
    expect(store.getRun(runId)!.run).toMatchObject({context: 'prod-eks', server: 'https://k8s.example:6443', namespace: '*', dryRun: true, dryRunMode: 'client'})
    store.updateRun(runId, {dryRun: false})
    expect(store.getRun(runId)!.run).toMatchObject({context: 'prod-eks', dryRun: false, dryRunMode: null})
    store.close()
  })
})

// A CronJob's runs each have a pod (a host) of their own, sharing the store on a volume: a pid cannot
// be checked from the next pod, but a heartbeat that stopped can.
describe('crashed runs of another host', () => {
  const otherHost = {pid: 7, host: `not-${hostname()}`, start: null}
  const startedAt = new Date('2026-11-30T10:00:00.000Z')
  const minutes = (n: number) => new Date(startedAt.getTime() + n * 60_000)

  /** A store whose clock reads `at()`. */
  const storeAt = (at: () => Date) => openRunStore(path.join(dir, 'runs.sqlite'), {now: at})

  it('a heartbeat gone quiet for longer than HEARTBEAT_STALE_MS: crashed, saying when it stopped, its in-flight delete unknown', () => {
    let now = startedAt
    const store = storeAt(() => now)
    const runId = store.startRun(zombiesRun({process: otherHost}))
    const inFlight = deletedZombie({action: 'none', actedAt: undefined})
    store.recordItems(runId, [inFlight])
    store.recordIntent(runId, inFlight, 'delete')
    now = minutes(1)
    store.heartbeat(runId)

    now = new Date(minutes(1).getTime() + HEARTBEAT_STALE_MS)
    expect(store.listRuns()[0].outcome).toBe('running') // exactly at the limit: still allowed
    now = new Date(minutes(1).getTime() + HEARTBEAT_STALE_MS + 1000)
    const [run] = store.listRuns()
    expect(run).toMatchObject({runId, outcome: 'crashed', summary: {found: 1, unknown: 1}})
    expect(run.error).toBe(`the process (pid 7 on not-${hostname()}) stopped reporting at 2026-11-30T10:01:00.000Z without recording an outcome`)
    expect(store.getRun(runId)!.items[0]).toMatchObject({action: 'unknown', error: IN_FLIGHT_AT_CRASH})
    store.close()
  })

  it('a run that keeps beating is running, however long it takes', () => {
    let now = startedAt
    const store = storeAt(() => now)
    const runId = store.startRun(zombiesRun({process: otherHost}))
    for (let minute = 1; minute <= 60; minute++) {
      now = minutes(minute)
      store.heartbeat(runId)
    }
    now = minutes(61)
    expect(store.listRuns()[0].outcome).toBe('running')
    store.close()
  })

  it('a run of another host recorded before heartbeats existed cannot be checked: running', () => {
    let now = startedAt
    const store = storeAt(() => now)
    const runId = store.startRun(zombiesRun({process: otherHost}))
    const raw = new Database(path.join(dir, 'runs.sqlite'))
    raw.prepare('UPDATE runs SET heartbeat_at = NULL WHERE id = ?').run(runId)
    raw.close()
    now = minutes(24 * 60)
    expect(store.listRuns()[0].outcome).toBe('running')
    store.close()
  })

  it('a finished run is never touched by a late heartbeat', () => {
    let now = startedAt
    const store = storeAt(() => now)
    const runId = store.startRun(zombiesRun({process: otherHost}))
    store.finishRun(runId, {outcome: 'ok', summary: {scanned: 1, found: 0, acted: 0, failed: 0, skipped: 0, unknown: 0}})
    now = minutes(60)
    store.heartbeat(runId)
    expect(store.listRuns()[0]).toMatchObject({outcome: 'ok', finishedAt: startedAt.toISOString()})
    store.close()
  })
})

describe("the recorder's heartbeat", () => {
  afterEach(() => vi.useRealTimers())

  const quiet = {update() {}, warn() {}, note() {}, stop() {}}
  const heartbeatOf = (file: string, runId: number) => {
    const raw = new Database(file, {readonly: true})
    try {
      return (raw.prepare('SELECT heartbeat_at FROM runs WHERE id = ?').get(runId) as {heartbeat_at: string}).heartbeat_at
    } finally {
      raw.close()
    }
  }

  it('beats every HEARTBEAT_INTERVAL_MS while the run goes, and stops when it is closed', () => {
    vi.useFakeTimers({now: new Date('2026-11-30T10:00:00.000Z'), toFake: ['setInterval', 'clearInterval', 'Date']})
    const file = path.join(dir, 'runs.sqlite')
    const recorder = new RunRecorder({flag: file, noCache: false}, quiet)
    recorder.start(zombiesRun())
    const runId = recorder.id!
    expect(heartbeatOf(file, runId)).toBe('2026-11-30T10:00:00.000Z')
    vi.advanceTimersByTime(HEARTBEAT_INTERVAL_MS)
    expect(heartbeatOf(file, runId)).toBe('2026-11-30T10:00:30.000Z')
    vi.advanceTimersByTime(2 * HEARTBEAT_INTERVAL_MS)
    expect(heartbeatOf(file, runId)).toBe('2026-11-30T10:01:30.000Z')
    recorder.close()
    vi.advanceTimersByTime(10 * HEARTBEAT_INTERVAL_MS)
    expect(heartbeatOf(file, runId)).toBe('2026-11-30T10:01:30.000Z')
  })
})
