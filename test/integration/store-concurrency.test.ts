// Two airflow-reap processes at once (a CronJob and a human, two terminals): both must record their
// runs, and neither may see SQLITE_BUSY. The writers are real `node` processes running the real store.
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {openRunStore} from '../../src/store/run-store.js'
import {deletedZombie, holdWriteLock, makeTempDir, runWritersTogether, zombiesRun} from '../support/store/helpers.js'

let dir: string
let cleanup: () => void
beforeEach(() => ({dir, cleanup} = makeTempDir()))
afterEach(() => cleanup())

describe('processes writing at once', () => {
  it('three processes open a fresh store at once (one migrates, the others wait) and every run is recorded', async () => {
    const file = path.join(dir, 'cache', 'runs.sqlite')
    const labels = ['alpha', 'beta', 'gamma']
    const runsEach = 150
    const {results, runIds} = await runWritersTogether(file, labels, runsEach)

    for (const result of results) {
      expect(result.stderr).toBe('') // no SQLITE_BUSY, no "table runs already exists"
      expect(result.code).toBe(0)
    }
    expect(new Set(runIds.flat()).size).toBe(labels.length * runsEach)
    // The writers really overlapped: some writer's runs are interleaved with another's.
    expect(runIds.some((ids) => ids.at(-1)! - ids[0]! + 1 > ids.length)).toBe(true)

    const store = openRunStore(file)
    try {
      const runs = store.listRuns({limit: 1000})
      expect(runs).toHaveLength(labels.length * runsEach)
      expect(runs.every((run) => run.outcome === 'ok')).toBe(true)
      for (const [index, label] of labels.entries()) {
        const stored = store.getRun(runIds[index]!.at(-1)!)!
        expect(stored.run.context).toBe(label)
        expect(stored.items.map((item) => item.detail)).toEqual(Array(3).fill(`written by ${label}`))
      }
    } finally {
      store.close()
    }
  })

  it('a writer waits for another process holding the write lock instead of failing', async () => {
    const file = path.join(dir, 'runs.sqlite')
    const store = openRunStore(file)
    try {
      const holdMs = 2000
      const {released} = await holdWriteLock(file, holdMs)
      const started = Date.now()
      // Blocks on the busy timeout until the other process commits.
      const runId = store.startRun(zombiesRun())
      store.recordItems(runId, [deletedZombie()])
      const waited = Date.now() - started
      expect((await released).code).toBe(0)
      expect(waited).toBeGreaterThan(200) // there really was contention
      expect(store.getRun(runId)?.items).toHaveLength(1)
    } finally {
      store.close()
    }
  })
})
