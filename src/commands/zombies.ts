import {Flags} from '@oclif/core'
import {InterruptedError, ReapError, SafetyStopError, UsageError} from '../errors.js'
import type {OutputFormat} from '../render/output.js'
import {renderReport} from '../render/report.js'
import {confirm} from '../reap/confirm.js'
import {createProgress} from '../reap/progress.js'
import {RunRecorder} from '../reap/recorder.js'
import {exitCodeFor, failureOf, runReport} from '../reap/run.js'
import {type KubeOptions, openDb, openKube, scopeName} from '../reap/session.js'
import {type ReapConfig, reapZombies, scanZombies} from '../reap/zombies.js'
import {ReapCommand} from '../cli/base.js'
import {actFlags, dbFlags, durationFlag, kubeFlags, outputFlags, storeFlags} from '../cli/flags.js'

export interface ZombiesOptions {
  kube: KubeOptions
  db?: string
  selector?: string
  output: OutputFormat
  store: {flag?: string; noCache: boolean}
  config: ReapConfig
  delete: boolean
  yes: boolean
  dryRunMode?: 'client' | 'server'
  exitCode: boolean
  force: boolean
  gracePeriod?: number
}

export default class Zombies extends ReapCommand {
  static override summary = 'Find (and with --delete --yes, delete) zombie KubernetesPodOperator pods.'
  static override description = `A KubernetesPodOperator pod is a zombie when no active task instance in the Airflow metadata DB matches
its labels (dag_id, task_id, run_id, map_index), or when it belongs to an older try of an active task
instance and the current try provably runs another pod (its pod_name XCom names a different pod).
Pods of dag runs unknown to the DB, pods younger than --min-age and pods annotated airflow-reap/keep=true
are never reaped. Without --yes nothing is changed.`

  static override examples = [
    {description: 'Report zombies in every namespace', command: 'kubectl airflow-reap zombies -A --db postgresql://airflow:PASSWORD@db:5432/airflow'},
    {description: 'Names only, for piping', command: 'kubectl airflow-reap zombies -n airflow -o name'},
    {description: 'Delete them (from a CronJob)', command: 'kubectl airflow-reap zombies -n airflow --delete --yes --max-deletes 20'},
    {description: 'Check RBAC and admission without changing anything', command: 'kubectl airflow-reap zombies -n airflow --delete --dry-run=server'},
  ]

  static override flags = {
    ...kubeFlags,
    ...dbFlags,
    ...outputFlags,
    ...storeFlags,
    ...actFlags,
    'min-age': durationFlag({description: 'Younger pods are never reaped.', default: '5m'}),
    delete: Flags.boolean({description: 'Delete the zombie pods (needs --yes, or a confirmation on a terminal).', default: false}),
    'grace-period': Flags.integer({description: "Seconds the pod gets to stop (default: the pod's own).", min: 0}),
    force: Flags.boolean({description: 'Delete with a grace period of 0 (the kubelet may not have stopped the containers yet).', default: false}),
    concurrency: Flags.integer({description: 'Deletes (and pod reads) in flight at once.', default: 10, min: 1, max: 200}),
    'include-finished': Flags.boolean({description: 'Also reap pods that already Succeeded or Failed.', default: false}),
    'max-deletes': Flags.integer({description: 'Delete at most this many pods in one run.', default: 100, min: 0}),
    'allow-mass-delete': Flags.boolean({description: 'Allow deleting more than half of the scanned pods.', default: false}),
    'include-unknown': Flags.boolean({description: 'Also judge pods whose dag run is unknown to the DB (another Airflow may own them).', default: false}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Zombies)
    const options = toOptions(flags)
    validate(options)
    await this.execute(options)
  }

  private async execute(options: ZombiesOptions): Promise<void> {
    const acting = options.delete && (options.yes || options.dryRunMode === 'server')
    if (options.delete && !acting && options.dryRunMode !== 'client' && !process.stdin.isTTY) {
      throw new UsageError('refusing to delete without --yes: no terminal to confirm on (pass --yes, or drop --delete for a report)')
    }
    const progress = createProgress()
    if (options.force && acting) progress.warn('--force deletes with a grace period of 0: the kubelet may not have stopped the containers yet')
    const kube = openKube(options.kube)
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
        signal: this.abort.signal,
        work: async (report) => {
          const deps = {kube: kube.client, db, progress, signal: this.abort.signal}
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
      this.writeOut(renderReport(report, options.output))
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
}

type ParsedFlags = Awaited<ReturnType<Zombies['parse']>>['flags'] & Record<string, unknown>

function toOptions(flags: ParsedFlags): ZombiesOptions {
  return {
    kube: {
      kubeconfig: flags.kubeconfig as string | undefined,
      context: flags.context as string | undefined,
      namespace: flags.namespace as string | undefined,
      allNamespaces: flags['all-namespaces'] as boolean,
      requestTimeoutSeconds: flags['request-timeout'] as number | undefined,
    },
    db: flags.db as string | undefined,
    output: flags.output as OutputFormat,
    store: {flag: flags.cache as string | undefined, noCache: flags['no-cache'] as boolean},
    delete: flags.delete as boolean,
    yes: flags.yes as boolean,
    dryRunMode: flags['dry-run'] as ZombiesOptions['dryRunMode'],
    exitCode: flags['exit-code'] as boolean,
    force: flags.force as boolean,
    gracePeriod: flags['grace-period'] as number | undefined,
    config: {
      selector: flags.selector as string | undefined,
      minAgeSeconds: flags['min-age'] as number,
      includeUnknown: flags['include-unknown'] as boolean,
      includeFinished: flags['include-finished'] as boolean,
      concurrency: flags.concurrency as number,
      serverDryRun: flags['dry-run'] === 'server',
      gracePeriodSeconds: flags.force ? 0 : (flags['grace-period'] as number | undefined),
      maxDeletes: flags['max-deletes'] as number,
      allowMassDelete: flags['allow-mass-delete'] as boolean,
    },
  }
}

/** Flag conflicts, checked before anything is opened (pure). */
export function validate(options: ZombiesOptions): void {
  if (options.force && options.gracePeriod !== undefined && options.gracePeriod > 0) {
    throw new UsageError('--force and --grace-period greater than 0 cannot be used together')
  }
  if (options.kube.allNamespaces && options.kube.namespace) throw new UsageError('--all-namespaces and --namespace cannot be used together')
  if (options.yes && !options.delete) throw new UsageError('--yes confirms --delete: add --delete to delete zombie pods')
  if (options.dryRunMode === 'server' && !options.delete) throw new UsageError('--dry-run=server goes with --delete')
}
