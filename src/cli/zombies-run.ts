// The zombies command's run, loaded only when the command runs (its imports are the heavy part of
// the program: the Kubernetes client, the DB drivers, the store, the spinner).
import type {ZombiesOptions} from '../commands/zombies.js'
import {InterruptedError, ReapError, SafetyStopError, UsageError} from '../errors.js'
import {renderReport} from '../render/report.js'
import {confirm} from '../reap/confirm.js'
import {createProgress} from '../reap/progress.js'
import {RunRecorder} from '../reap/recorder.js'
import {exitCodeFor, failureOf, runReport} from '../reap/run.js'
import {openDb, openKube, scopeName} from '../reap/session.js'
import {reapZombies, scanZombies} from '../reap/zombies.js'

export async function executeZombies(options: ZombiesOptions, signal: AbortSignal): Promise<void> {
  const acting = options.delete && (options.yes || options.dryRunMode === 'server')
  if (options.delete && !acting && options.dryRunMode !== 'client' && !process.stdin.isTTY) {
    throw new UsageError('refusing to delete without --yes: no terminal to confirm on (pass --yes, or drop --delete for a report)')
  }
  const progress = createProgress()
  if (options.force && acting) progress.warn('--force deletes with a grace period of 0: the kubelet may not have stopped the containers yet')
  progress.update('reading the kubeconfig')
  const kube = openKube(options.kube)
  progress.update('connecting to the Airflow DB')
  const db = await openDb(options.db)
  const recorder = new RunRecorder(options.store, progress)
  try {
    const report = await runReport({
      kind: 'ZombieReport',
      recorder,
      progress,
      meta: {
        command: 'zombies',
        argv: process.argv.slice(2),
        context: kube.target.contextName,
        server: kube.target.server,
        namespace: scopeName(kube),
        dryRun: !(options.delete && options.yes && options.dryRunMode === undefined),
        dryRunMode: options.dryRunMode,
      },
      signal: signal,
      work: async (report) => {
        const deps = {kube: kube.client, db, progress, signal: signal}
        const scan = await scanZombies(deps, {...options.config, namespace: kube.namespace})
        report.scanned = scan.scanned
        report.items = scan.findings.map((f) => f.item)
        let go = options.delete && options.dryRunMode !== 'client' && (options.yes || options.dryRunMode === 'server')
        if (options.delete && !go && options.dryRunMode !== 'client') {
          go = await confirm(report.items.filter((i) => i.action === 'none'), 'Delete')
          report.dryRun = !go
        }
        if (!go) return
        const stop = await reapZombies(deps, scan, {...options.config, namespace: kube.namespace})
        if (stop) report.stopped = stop
      },
    })
    process.stdout.write(renderReport(report, options.output))
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
