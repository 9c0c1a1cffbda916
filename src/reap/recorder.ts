// Records a run in the local store without ever blocking the run itself: a store that cannot be
// opened or written is reported once as a warning, and the command goes on without recording.
import type {Report, ReportItem} from '../core/report.js'
import {openRunStore} from '../store/run-store.js'
import {resolveStorePath} from '../store/location.js'
import type {RunStore} from '../store/run-store.js'
import type {StartRunInput} from '../store/types.js'
import type {Progress} from './progress.js'

export type RunMeta = StartRunInput

export type Outcome = 'ok' | 'failed' | 'interrupted'

export class RunRecorder {
  private store?: RunStore
  private runId: number | null = null
  readonly warnings: string[] = []

  constructor(
    private readonly location: {flag?: string; noCache: boolean},
    private readonly progress: Progress,
  ) {}

  get id(): number | null {
    return this.runId
  }

  start(meta: RunMeta): void {
    const path = resolveStorePath({flag: this.location.flag, noCache: this.location.noCache})
    if (!path) return
    this.attempt(() => {
      this.store = openRunStore(path)
      this.runId = this.store.startRun(meta)
    })
  }

  finish(report: Pick<Report, 'summary' | 'items'>, outcome: Outcome, error?: string): void {
    const {store, runId} = this
    if (!store || runId === null) return
    this.attempt(() => {
      store.recordItems(runId, report.items as ReportItem[])
      store.finishRun(runId, {outcome, summary: report.summary, error})
    })
  }

  close(): void {
    try {
      this.store?.close()
    } catch {
      // closing a broken store must not mask the run's own result
    }
    this.store = undefined
  }

  private attempt(work: () => void): void {
    try {
      work()
    } catch (error) {
      const message = `run not recorded in the local store: ${error instanceof Error ? error.message : String(error)}`
      this.warnings.push(message)
      this.progress.warn(message)
      this.close()
      this.runId = null
    }
  }
}
