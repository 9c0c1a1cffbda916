// The run of a pod-reaping command (zombies, overdue), loaded only when the command runs (its imports
// are the heavy part of the program: the Kubernetes client, the DB drivers, the store, the spinner).
// The commands differ only in how they scan and how they re-check; the frame around it is this one:
// confirm or refuse, open the adapters, record the run, print the report, choose the exit code.
import type {TaskInstanceSource} from '../airflow/types.js'
import type {ReportItem} from '../core/report.js'
import {ReapError, SafetyStopError, UsageError, interruption} from '../errors.js'
import type {KubeClient} from '../kube/client.js'
import {renderReport} from '../render/report.js'
import {sourceLine} from '../render/source-line.js'
import {nothingFound} from './nothing-found.js'
import {confirm} from '../reap/confirm.js'
import {announceActions} from '../reap/events.js'
import {type Progress, createProgress} from '../reap/progress.js'
import {type ActionJournal, RunRecorder} from '../reap/recorder.js'
import {settleEarlierRuns} from '../reap/settle.js'
import {type ReportDraft, exitCodeFor, runReport} from '../reap/run.js'
import {type KubeSession, openKubeRecorded, runMetaFromFlags} from '../reap/session.js'
import {type OpenedTaskSource, openTaskSource} from '../task-source/open.js'
import type {PodReapOptions} from './flags.js'

export interface PodReapDeps {
  kube: KubeClient
  db: TaskInstanceSource
  progress: Progress
  signal: AbortSignal
  /** Where each delete is journaled as it happens. */
  journal: ActionJournal
}

export interface PodScan {
  scanned: number
  findings: Array<{item: ReportItem}>
  warnings?: string[]
}

/** What one command contributes: its report kind, its scan and its reap (sanity stop message or undefined). */
export interface PodReapCommand<S extends PodScan> {
  command: 'zombies' | 'overdue'
  kind: 'ZombieReport' | 'OverdueReport'
  scan(deps: PodReapDeps, namespace: string | undefined): Promise<S>
  reap(deps: PodReapDeps, scan: S, namespace: string | undefined): Promise<string | undefined>
}

export async function executePodReap<S extends PodScan>(options: PodReapOptions, command: PodReapCommand<S>, signal: AbortSignal): Promise<void> {
  // Deletes without asking: --delete --yes, or a server dry run; --dry-run=client never deletes.
  const deletesUnasked = options.delete && options.dryRunMode !== 'client' && (options.yes || options.dryRunMode === 'server')
  // --delete alone asks on a terminal and refuses without one.
  const asks = options.delete && !deletesUnasked && options.dryRunMode !== 'client'
  if (asks && !process.stdin.isTTY) {
    throw new UsageError('refusing to delete without --yes: no terminal to confirm on (pass --yes, or drop --delete for a report)')
  }
  const progress = await createProgress()
  const run: RunState = {options, command, progress, recorder: new RunRecorder(options.store, progress), signal, deletesUnasked, asks}
  try {
    const report = await runReport({
      kind: command.kind,
      recorder: run.recorder,
      progress,
      meta: runMetaFromFlags(command.command, options.kube, {
        dryRun: !(options.delete && options.yes && options.dryRunMode === undefined),
        dryRunMode: options.dryRunMode,
      }),
      signal,
      work: async (report) => {
        try {
          await reapWork(run, report)
        } finally {
          // The requests made up to the end (or the failure): what reports and history record.
          if (run.opened) run.recorder.update({source: run.opened.describe()})
        }
      },
      // No Events when the kubeconfig could not even be read (nothing was acted on then).
      announce: options.events ? async (items) => (run.kube ? announceActions(run.kube.client, items, progress) : []) : undefined,
    })
    progress.stop() // the spinner's line must not prefix the table
    // The table's header line, on stderr: the source its verdicts come from. Not above "No resources
    // found" (there is no table), nor before an error (one line).
    if ((options.output === 'table' || options.output === 'wide') && run.opened && report.items.length > 0) progress.note(sourceLine(run.opened.describe()))
    process.stdout.write(renderReport(report, options.output, {allNamespaces: options.kube.allNamespaces, serverDryRun: options.dryRunMode === 'server', dryRunNone: options.dryRunNone}))
    if (run.kube && !report.interrupted) process.stderr.write(await nothingFound(report, options.output, run.kube.client, run.kube.namespace, signal))
    if (report.stopped) throw new SafetyStopError(report.stopped)
    if (report.interrupted) throw interruption(signal, 'deletes not yet started were abandoned; the run is recorded as interrupted')
    if (report.failure) throw new ReapError(report.failure)
    process.exitCode = exitCodeFor(report, options.exitCode)
  } finally {
    progress.stop()
    run.recorder.close()
    run.kube?.client.close()
    await run.opened?.close()
  }
}

/** One run's inputs, and the adapters it opened (closed by executePodReap whatever happens). */
interface RunState {
  options: PodReapOptions
  command: PodReapCommand<PodScan>
  progress: Progress
  recorder: RunRecorder
  signal: AbortSignal
  deletesUnasked: boolean
  asks: boolean
  kube?: KubeSession
  opened?: OpenedTaskSource
}

/** Open the cluster and the task-instance source, scan, confirm, reap: the draft says what happened. */
async function reapWork(run: RunState, report: ReportDraft): Promise<void> {
  const {options, command, progress, recorder, signal} = run
  if (options.force && run.deletesUnasked) progress.warn('--force deletes with a grace period of 0: the kubelet may not have stopped the containers yet')
  progress.update('reading the kubeconfig')
  const session = openKubeRecorded(options.kube, recorder, progress)
  run.kube = session
  await settleEarlierRuns(session.client, recorder, progress, signal)
  progress.update('connecting to the Airflow task-instance source')
  const reached = await openTaskSource(options, session, signal)
  run.opened = reached
  recorder.update({source: reached.describe()})
  report.warnings.push(...reached.warnings)
  // A dropped port-forward stops the work like Ctrl-C would (nothing more is deleted), but the run
  // then fails with the tunnel's error instead of reading as interrupted.
  const journal = recorder.journalFor(report)
  const deps = {kube: session.client, db: reached.source, progress, signal: AbortSignal.any([signal, reached.lost]), journal}
  const scan = await failOnLostTunnel(reached.lost, () => command.scan(deps, session.namespace))
  report.scanned = scan.scanned
  report.items = scan.findings.map((f) => f.item)
  report.warnings.push(...(scan.warnings ?? []))
  recorder.findings(report.scanned, report.items)
  let go = run.deletesUnasked
  if (run.asks) {
    progress.stop() // the spinner would redraw over the question and the typed answer
    go = await confirm(report.items.filter((i) => i.action === 'none'), 'Delete', signal)
    report.dryRun = !go
    // Confirmed at the prompt: a real run from here on, recorded as one before the first delete.
    if (go) recorder.update({dryRun: false})
  }
  if (!go) return
  let stop: string | undefined
  try {
    stop = await command.reap(deps, scan, session.namespace)
  } catch (error) {
    if (!reached.lost.aborted) throw error
  }
  // What was deleted before the tunnel dropped is reported and recorded; nothing was after it.
  if (reached.lost.aborted) report.failure = (reached.lost.reason as Error).message
  else if (stop) report.stopped = stop
}

/** Whatever the scan threw or returned, a tunnel that dropped meanwhile is the run's failure. */
async function failOnLostTunnel<T>(lost: AbortSignal, work: () => Promise<T>): Promise<T> {
  try {
    const result = await work()
    if (lost.aborted) throw lost.reason
    return result
  } catch (error) {
    throw lost.aborted ? lost.reason : error
  }
}

