import {Flags} from '@oclif/core'
import {UsageError} from '../errors.js'
import type {OutputFormat} from '../render/output.js'
import type {KubeOptions} from '../reap/session.js'
import type {ReapConfig} from '../reap/zombies.js'
import {ReapCommand} from '../cli/base.js'
import {actFlags, dbFlags, durationFlag, kubeFlags, kubeOptionsFrom, outputFlags, storeFlags} from '../cli/flags.js'

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
    // Loaded on demand: --help must not pay for the Kubernetes client and the DB drivers.
    const {executeZombies} = await import('../cli/zombies-run.js')
    await executeZombies(options, this.abort.signal)
  }
}

type ParsedFlags = Awaited<ReturnType<Zombies['parse']>>['flags'] & Record<string, unknown>

function toOptions(flags: ParsedFlags): ZombiesOptions {
  return {
    kube: kubeOptionsFrom(flags),
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
