// The run of a pod-reaping command (zombies, overdue), loaded only when the command runs (its imports
// are the heavy part of the program: the Kubernetes client, the DB drivers, the store, the spinner).
// The commands differ only in how they scan and how they re-check; the frame around it is this one:
// confirm or refuse, open the adapters, record the run, print the report, choose the exit code.
import type {AirflowDb} from '../airflow/types.js'
import type {ReportItem} from '../core/report.js'
import {ReapError, SafetyStopError, UsageError, interruption} from '../errors.js'
import type {KubeClient} from '../kube/client.js'
import {renderReport} from '../render/report.js'
import {confirm} from '../reap/confirm.js'
import {announceActions} from '../reap/events.js'
import {type Progress, createProgress} from '../reap/progress.js'
import {RunRecorder} from '../reap/recorder.js'
import {exitCodeFor, failureOf, runReport} from '../reap/run.js'
import {openKube, scopeName} from '../reap/session.js'
import {type ClusterDb, openClusterDb, originLine} from '../cluster-db/index.js'
import type {PodReapOptions} from './flags.js'

export interface PodReapDeps {
  kube: KubeClient
  db: AirflowDb
  progress: Progress
  signal: AbortSignal
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
  const acting = options.delete && (options.yes || options.dryRunMode === 'server')
  if (options.delete && !acting && options.dryRunMode !== 'client' && !process.stdin.isTTY) {
    throw new UsageError('refusing to delete without --yes: no terminal to confirm on (pass --yes, or drop --delete for a report)')
  }
  const progress = await createProgress()
  if (options.force && acting) progress.warn('--force deletes with a grace period of 0: the kubelet may not have stopped the containers yet')
  progress.update('reading the kubeconfig')
  let kube: ReturnType<typeof openKube>
  try {
    kube = openKube(options.kube)
  } catch (error) {
    progress.stop() // a spinner left running would keep the process alive after the error
    throw error
  }
  progress.update('connecting to the Airflow DB')
  let cluster: ClusterDb
  try {
    cluster = await openClusterDb(options.db, kube, signal)
  } catch (error) {
    progress.stop()
    kube.client.close()
    throw error
  }
  const {db, origin} = cluster
  if (options.output === 'table' || options.output === 'wide') progress.note(originLine(origin))
  // A dropped port-forward stops the work like Ctrl-C would (nothing more is deleted), but the run
  // then fails with the tunnel's error instead of reading as interrupted.
  const work = AbortSignal.any([signal, cluster.lost])
  const recorder = new RunRecorder(options.store, progress)
  try {
    const report = await runReport({
      kind: command.kind,
      recorder,
      progress,
      meta: {
        command: command.command,
        argv: process.argv.slice(2),
        context: kube.target.contextName,
        server: kube.target.server,
        namespace: scopeName(kube),
        dryRun: !(options.delete && options.yes && options.dryRunMode === undefined),
        dryRunMode: options.dryRunMode,
        db: origin,
      },
      signal,
      work: async (report) => {
        const deps = {kube: kube.client, db, progress, signal: work}
        const scan = await failOnLostTunnel(cluster.lost, () => command.scan(deps, kube.namespace))
        report.scanned = scan.scanned
        report.items = scan.findings.map((f) => f.item)
        report.warnings.push(...(scan.warnings ?? []))
        let go = options.delete && options.dryRunMode !== 'client' && (options.yes || options.dryRunMode === 'server')
        if (options.delete && !go && options.dryRunMode !== 'client') {
          progress.stop() // the spinner would redraw over the question and the typed answer
          go = await confirm(report.items.filter((i) => i.action === 'none'), 'Delete', signal)
          report.dryRun = !go
        }
        if (!go) return
        let stop: string | undefined
        try {
          stop = await command.reap(deps, scan, kube.namespace)
        } catch (error) {
          if (!cluster.lost.aborted) throw error
        }
        // What was deleted before the tunnel dropped is reported and recorded; nothing was after it.
        if (cluster.lost.aborted) report.failure = (cluster.lost.reason as Error).message
        else if (stop) report.stopped = stop
      },
      announce: options.events ? (items) => announceActions(kube.client, items, progress) : undefined,
    })
    progress.stop() // the spinner's line must not prefix the table
    process.stdout.write(renderReport(report, options.output))
    if (report.stopped) throw new SafetyStopError(report.stopped)
    if (report.interrupted) throw interruption(signal, 'deletes not yet started were abandoned; the run is recorded as interrupted')
    if (report.failure) throw new ReapError(report.failure)
    const failure = failureOf(report)
    if (failure) throw new ReapError(failure)
    process.exitCode = exitCodeFor(report, options.exitCode)
  } finally {
    progress.stop()
    recorder.close()
    kube.client.close()
    await cluster.close()
  }
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

