import {Flags} from '@oclif/core'
import {UsageError} from '../errors.js'
import type {OutputFormat} from '../render/output.js'
import type {OverdueReapConfig, OverdueScanConfig} from '../reap/overdue.js'
import type {KubeOptions} from '../reap/session.js'
import {ReapCommand} from '../cli/base.js'
import {actFlags, dbFlags, durationFlag, kubeFlags, kubeOptionsFrom, outputFlags, storeFlags} from '../cli/flags.js'

export interface OverdueOptions {
  kube: KubeOptions
  db?: string
  output: OutputFormat
  store: {flag?: string; noCache: boolean}
  scan: OverdueScanConfig
  reap: OverdueReapConfig
  delete: boolean
  yes: boolean
  dryRunMode?: 'client' | 'server'
  exitCode: boolean
  force: boolean
  gracePeriod?: number
}

export default class Overdue extends ReapCommand {
  static override summary = 'Find (and with --delete --yes, delete) pods of KubernetesPodOperator tasks running past their execution_timeout.'
  static override description = `A deferrable KubernetesPodOperator task (deferrable=True) is DEFERRED seconds after its pod starts, and
from then on nobody enforces its execution_timeout: on Airflow 3.x the task stays deferred and its pod
runs on; on Airflow 2.x the scheduler fails the task but leaves the pod running (a zombie: see the
zombies command). This command lists the pods of running or deferred task instances whose try has run
longer than the task's execution_timeout (read from the serialized DAG in the metadata DB) plus --grace,
measured on the database's clock. Deleting such a pod makes Airflow fail the try, as it would have
without deferral; retries then follow the task's retry policy. Pods annotated airflow-reap/keep=true
are never deleted. Without --yes nothing is changed.`

  static override examples = [
    {description: 'Report overdue pods', command: 'kubectl airflow-reap overdue -n airflow --db postgresql://airflow:PASSWORD@db:5432/airflow'},
    {description: 'Allow 10 minutes past the timeout', command: 'kubectl airflow-reap overdue -n airflow --grace 10m -o wide'},
    {description: 'Delete them (from a CronJob)', command: 'kubectl airflow-reap overdue -n airflow --delete --yes'},
    {description: 'Check RBAC and admission without changing anything', command: 'kubectl airflow-reap overdue -n airflow --delete --dry-run=server'},
  ]

  static override flags = {
    ...kubeFlags,
    ...dbFlags,
    ...outputFlags,
    ...storeFlags,
    ...actFlags,
    grace: durationFlag({description: 'Extra time past execution_timeout before a task counts as overdue.', default: '1m'}),
    delete: Flags.boolean({description: 'Delete the overdue pods (needs --yes, or a confirmation on a terminal).', default: false}),
    'grace-period': Flags.integer({description: "Seconds the pod gets to stop (default: the pod's own).", min: 0}),
    force: Flags.boolean({description: 'Delete with a grace period of 0 (the kubelet may not have stopped the containers yet).', default: false}),
    concurrency: Flags.integer({description: 'Deletes (and pod reads) in flight at once.', default: 10, min: 1, max: 200}),
    'max-deletes': Flags.integer({description: 'Delete at most this many pods in one run.', default: 100, min: 0}),
    'allow-mass-delete': Flags.boolean({description: 'Allow deleting more than half of the scanned pods.', default: false}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Overdue)
    const options = toOptions(flags)
    validate(options)
    await this.execute(options)
  }

  private async execute(options: OverdueOptions): Promise<void> {
    // Loaded on demand: --help must not pay for the Kubernetes client and the DB drivers.
    const {executeOverdue} = await import('../cli/overdue-run.js')
    await executeOverdue(options, this.abort.signal)
  }
}

type ParsedFlags = Awaited<ReturnType<Overdue['parse']>>['flags'] & Record<string, unknown>

export function toOptions(flags: ParsedFlags): OverdueOptions {
  return {
    kube: kubeOptionsFrom(flags),
    db: flags.db as string | undefined,
    output: flags.output as OutputFormat,
    store: {flag: flags.cache as string | undefined, noCache: flags['no-cache'] as boolean},
    delete: flags.delete as boolean,
    yes: flags.yes as boolean,
    dryRunMode: flags['dry-run'] as OverdueOptions['dryRunMode'],
    exitCode: flags['exit-code'] as boolean,
    force: flags.force as boolean,
    gracePeriod: flags['grace-period'] as number | undefined,
    scan: {
      selector: flags.selector as string | undefined,
      graceSeconds: flags.grace as number,
      concurrency: flags.concurrency as number,
    },
    reap: {
      serverDryRun: flags['dry-run'] === 'server',
      gracePeriodSeconds: flags.force ? 0 : (flags['grace-period'] as number | undefined),
      maxDeletes: flags['max-deletes'] as number,
      allowMassDelete: flags['allow-mass-delete'] as boolean,
      concurrency: flags.concurrency as number,
    },
  }
}

/** Flag conflicts, checked before anything is opened (pure). */
export function validate(options: OverdueOptions): void {
  if (options.force && options.gracePeriod !== undefined && options.gracePeriod > 0) {
    throw new UsageError('--force and --grace-period greater than 0 cannot be used together')
  }
  if (options.kube.allNamespaces && options.kube.namespace) throw new UsageError('--all-namespaces and --namespace cannot be used together')
  if (options.yes && !options.delete) throw new UsageError('--yes confirms --delete: add --delete to delete overdue pods')
  if (options.dryRunMode === 'server' && !options.delete) throw new UsageError('--dry-run=server goes with --delete')
}
