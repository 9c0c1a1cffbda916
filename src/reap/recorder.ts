// Records a run in the local store as it happens, without ever blocking the run itself: the run is
// written before anything can fail, its findings once scanned, each action before its request is sent
// and again with its outcome, then the end. A store that cannot be opened or written is reported once
// as a warning, and the command goes on without recording.
import type {Report, ReportItem} from '../core/report.js'
import {resolveStorePath} from '../store/location.js'
import {HEARTBEAT_INTERVAL_MS, openRunStore} from '../store/run-store.js'
import type {RunStore} from '../store/run-store.js'
import type {ActionVerb, RunUpdate, StartRunInput} from '../store/types.js'
import type {Progress} from './progress.js'
import type {SettlementLedger} from './settle.js'

export type RunMeta = StartRunInput

export type Outcome = 'ok' | 'failed' | 'interrupted'

/** Where the actions of a run are journaled: the intent before the request, the outcome after it. */
export interface ActionJournal {
  intent(item: ReportItem, verb: ActionVerb): void
  outcome(item: ReportItem): void
  /** The objects listed, as soon as they are (a run interrupted later still says how many it scanned). */
  listed?(scanned: number): void
}

export class RunRecorder implements ActionJournal {
  private store?: RunStore
  private runId: number | null = null
  private current?: RunMeta
  private heartbeat?: NodeJS.Timeout
  readonly warnings: string[] = []

  constructor(
    private readonly location: {flag?: string; noCache: boolean},
    private readonly progress: Progress,
  ) {}

  get id(): number | null {
    return this.runId
  }

  /** The run as known so far (its context once the kubeconfig is read). */
  get meta(): RunMeta {
    if (!this.current) throw new Error('RunRecorder.meta read before start')
    return this.current
  }

  start(meta: RunMeta): void {
    this.current = {...meta}
    const path = resolveStorePath({flag: this.location.flag, noCache: this.location.noCache})
    if (!path) return
    this.attempt(() => {
      this.store = openRunStore(path)
      this.runId = this.store.startRun(meta)
    })
    if (this.runId !== null) this.startHeartbeat()
  }

  /** What is learnt after the start: the target once the kubeconfig is read, a confirmation that makes it a real run. */
  update(update: RunUpdate): void {
    const {scanned: _scanned, ...meta} = update
    this.current = {...this.meta, ...meta}
    this.write((store, runId) => store.updateRun(runId, update))
  }

  /** The scan's findings, before anything is done about them. */
  findings(scanned: number, items: readonly ReportItem[]): void {
    this.write((store, runId) => {
      store.updateRun(runId, {scanned})
      store.recordItems(runId, items)
    })
  }

  intent(item: ReportItem, verb: ActionVerb): void {
    this.write((store, runId) => store.recordIntent(runId, item, verb))
  }

  outcome(item: ReportItem): void {
    this.write((store, runId) => store.recordItems(runId, [item]))
  }

  /**
   * The journal of a run's work: each write as it happens, and the objects listed as soon as they
   * are, into the store and into `draft` (the report an interrupt prints) alike.
   */
  journalFor(draft: {scanned: number}): ActionJournal {
    return {
      intent: (item, verb) => this.intent(item, verb),
      outcome: (item) => this.outcome(item),
      listed: (scanned) => {
        draft.scanned = scanned
        this.update({scanned})
      },
    }
  }

  finish(report: Pick<Report, 'summary' | 'items'>, outcome: Outcome, error?: string): void {
    this.write((store, runId) => {
      store.recordItems(runId, report.items as ReportItem[])
      store.finishRun(runId, {outcome, summary: report.summary, error})
    })
  }

  /**
   * The unknown actions of earlier runs, settled in this run's name; undefined without a store. A store
   * that fails here only means nothing is settled this time: the run's own recording goes on.
   */
  ledger(): SettlementLedger | undefined {
    const {store, runId} = this
    if (!store || runId === null) return undefined
    return {
      unsettledActions: (server, limit) => {
        try {
          return store.unsettledActions(server, limit)
        } catch {
          return []
        }
      },
      recordSettlement: (itemId, settlement) => {
        try {
          store.recordSettlement(itemId, {...settlement, byRunId: runId})
        } catch {
          // left unsettled: the next run looks again
        }
      },
    }
  }

  close(): void {
    clearInterval(this.heartbeat)
    try {
      this.store?.close()
    } catch {
      // closing a broken store must not mask the run's own result
    }
    this.store = undefined
  }

  /**
   * Beats while the run goes, so that a `history` on another host (a CronJob's next pod, sharing the
   * store on a volume) can tell this run died when it stops. Never keeps the process alive, and a beat
   * that fails (the store locked a moment) is simply missed: HEARTBEAT_STALE_MS allows for many.
   */
  private startHeartbeat(): void {
    this.heartbeat = setInterval(() => {
      const {store, runId} = this
      if (!store || runId === null) return
      try {
        store.heartbeat(runId)
      } catch {
        // Missed; the next write that matters reports a store that stays broken.
      }
    }, HEARTBEAT_INTERVAL_MS)
    this.heartbeat.unref()
  }

  private write(work: (store: RunStore, runId: number) => void): void {
    const {store, runId} = this
    if (!store || runId === null) return
    this.attempt(() => work(store, runId))
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
