// The run of a pod-reaping command (zombies, overdue), loaded only when the command runs (its imports
// are the heavy part of the program: the Kubernetes client, the DB drivers, the store, the spinner).
// The commands differ only in how they scan and how they re-check; the frame around it is this one:
// confirm or refuse, open the adapters, record the run, print the report, choose the exit code.
import type {AirflowDb} from '../airflow/types.js'
import type {ReportItem} from '../core/report.js'
import {InterruptedError, ReapError, SafetyStopError, UsageError} from '../errors.js'
import type {KubeClient} from '../kube/client.js'
import {renderReport} from '../render/report.js'
import {nothingFound} from './nothing-found.js'
import {confirm} from '../reap/confirm.js'
import {type Progress, createProgress} from '../reap/progress.js'
import {RunRecorder} from '../reap/recorder.js'
import {exitCodeFor, failureOf, runReport} from '../reap/run.js'
import {openDb, openKube, scopeName} from '../reap/session.js'
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
  const kube = openKube(options.kube)
  progress.update('connecting to the Airflow DB')
  const db = await openDb(options.db)
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
      },
      signal,
      work: async (report) => {
        const deps = {kube: kube.client, db, progress, signal}
        const scan = await command.scan(deps, kube.namespace)
        report.scanned = scan.scanned
        report.items = scan.findings.map((f) => f.item)
        report.warnings.push(...(scan.warnings ?? []))
        let go = options.delete && options.dryRunMode !== 'client' && (options.yes || options.dryRunMode === 'server')
        if (options.delete && !go && options.dryRunMode !== 'client') {
          go = await confirm(report.items.filter((i) => i.action === 'none'), 'Delete')
          report.dryRun = !go
        }
        if (!go) return
        const stop = await command.reap(deps, scan, kube.namespace)
        if (stop) report.stopped = stop
      },
    })
    process.stdout.write(renderReport(report, options.output, {allNamespaces: kube.namespace === undefined}))
    process.stderr.write(await nothingFound(report, options.output, kube.client, kube.namespace, signal))
    if (report.stopped) throw new SafetyStopError(report.stopped)
    if (report.interrupted) throw new InterruptedError('interrupted: deletes not yet started were abandoned; the run is recorded as interrupted')
    const failure = failureOf(report)
    if (failure) throw new ReapError(failure)
    process.exitCode = exitCodeFor(report, options.exitCode)
  } finally {
    progress.stop()
    recorder.close()
    kube.client.close()
    await db.close()
  }
}
