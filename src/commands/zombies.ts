import {Flags} from '@oclif/core'
import type {ZombieScanConfig} from '../reap/zombies.js'
import {ReapCommand} from '../cli/base.js'
import {type PodReapOptions, durationFlag, podReapFlags, podReapOptionsFrom, validatePodReap} from '../cli/flags.js'

export interface ZombiesOptions extends PodReapOptions {
  config: ZombieScanConfig
}

export default class Zombies extends ReapCommand {
  static override summary = 'Find (and with --delete --yes, delete) zombie KubernetesPodOperator pods.'
  static override description = `A KubernetesPodOperator pod is a zombie when no active task instance in Airflow (its metadata DB, or its REST API with --airflow-url) matches its labels (dag_id, task_id, run_id, map_index), or when it belongs to an older try of an active task instance and the current try provably runs another pod (its pod_name XCom names a different pod). Pods of dag runs unknown to Airflow, pods of DAGs the API credentials may not read, pods younger than --min-age and pods annotated airflow-reap/keep=true are never reaped. Without --yes nothing is changed.`

  static override examples = [
    {description: 'Report zombies in every namespace', command: 'kubectl airflow-reap zombies -A --db postgresql://airflow:PASSWORD@db:5432/airflow'},
    {description: 'Names only, for piping', command: 'kubectl airflow-reap zombies -n airflow -o name'},
    {description: 'Delete them (from a CronJob)', command: 'kubectl airflow-reap zombies -n airflow --delete --yes --max-deletes 20'},
    {description: 'Check RBAC and admission without changing anything', command: 'kubectl airflow-reap zombies -n airflow --delete --dry-run=server'},
  ]

  static override flags = {
    ...podReapFlags('zombie'),
    'min-age': durationFlag({description: 'Younger pods are never reaped.', default: '5m'}),
    'include-finished': Flags.boolean({description: 'Also reap pods that already Succeeded or Failed.', default: false}),
    'include-unknown': Flags.boolean({description: 'Also judge pods whose dag run is unknown to Airflow (another Airflow may own them).', default: false}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Zombies)
    const options = toOptions(flags)
    validatePodReap(options, 'zombie')
    await this.execute(options)
  }

  private async execute(options: ZombiesOptions): Promise<void> {
    // Loaded on demand: --help must not pay for the Kubernetes client and the DB drivers.
    const {executeZombies} = await import('../cli/zombies-run.js')
    await executeZombies(options, this.abort.signal)
  }
}

type ParsedFlags = Awaited<ReturnType<Zombies['parse']>>['flags'] & Record<string, unknown>

export function toOptions(flags: ParsedFlags): ZombiesOptions {
  return {
    ...podReapOptionsFrom(flags),
    config: {
      selector: flags.selector as string | undefined,
      minAgeSeconds: flags['min-age'] as number,
      includeUnknown: flags['include-unknown'] as boolean,
      includeFinished: flags['include-finished'] as boolean,
      concurrency: flags.concurrency as number,
    },
  }
}
