import type {OverdueScanConfig} from '../reap/overdue.js'
import {ReapCommand} from '../cli/base.js'
import {UsageError} from '../errors.js'
import {type PodReapOptions, durationFlag, podReapFlags, podReapOptionsFrom, validatePodReap} from '../cli/flags.js'

/** Airflow's own environment override of `[core] default_task_execution_timeout`. */
export const DEFAULT_TIMEOUT_ENV = 'AIRFLOW__CORE__DEFAULT_TASK_EXECUTION_TIMEOUT'

export interface OverdueOptions extends PodReapOptions {
  scan: OverdueScanConfig
}

export default class Overdue extends ReapCommand {
  static override summary = 'Find (and with --delete --yes, delete) pods of KubernetesPodOperator tasks running past their execution_timeout.'
  static override description = `A deferrable KubernetesPodOperator task (deferrable=True) is DEFERRED seconds after its pod starts, and from then on nobody enforces its execution_timeout: on Airflow 3.x the task stays deferred and its pod runs on; on Airflow 2.x the scheduler fails the task but leaves the pod running (a zombie: see the zombies command). This command lists the pods of running or deferred task instances whose try has run longer than the task's execution_timeout (read from the serialized DAG in the metadata DB) plus --grace, measured on the database's clock. Deleting such a pod makes Airflow fail the try, as it would have without deferral; retries then follow the task's retry policy. Pods annotated airflow-reap/keep=true are never deleted. Without --yes nothing is changed.`

  static override examples = [
    {description: 'Report overdue pods', command: 'kubectl airflow-reap overdue -n airflow --db postgresql://airflow:PASSWORD@db:5432/airflow'},
    {description: 'Allow 10 minutes past the timeout', command: 'kubectl airflow-reap overdue -n airflow --grace 10m -o wide'},
    {description: 'Delete them (from a CronJob)', command: 'kubectl airflow-reap overdue -n airflow --delete --yes'},
    {description: 'Check RBAC and admission without changing anything', command: 'kubectl airflow-reap overdue -n airflow --delete --dry-run=server'},
  ]

  static override flags = {
    ...podReapFlags('overdue'),
    grace: durationFlag({description: 'Extra time past execution_timeout before a task counts as overdue.', default: '1m'}),
    'default-execution-timeout': durationFlag({
      description: `Airflow 2.x's [core] default_task_execution_timeout, for tasks that use it (2.x serializes them without the field). Default: ${DEFAULT_TIMEOUT_ENV} (seconds), as Airflow reads it; 0: none.`,
    }),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Overdue)
    const options = toOptions(flags)
    validatePodReap(options, 'overdue')
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
    ...podReapOptionsFrom(flags),
    scan: {
      selector: flags.selector as string | undefined,
      graceSeconds: flags.grace as number,
      concurrency: flags.concurrency as number,
      defaultTimeoutSeconds: (flags['default-execution-timeout'] as number | undefined) ?? defaultTimeoutFromEnv(process.env),
    },
  }
}

/**
 * The option as Airflow reads it (conf.gettimedelta): an integer number of seconds, empty for none.
 * Anything else is refused, as Airflow itself refuses it, rather than guessed.
 */
export function defaultTimeoutFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const text = env[DEFAULT_TIMEOUT_ENV]?.trim()
  if (!text) return undefined
  if (!/^[+-]?\d+$/.test(text)) throw new UsageError(`${DEFAULT_TIMEOUT_ENV}="${text}" is not an integer number of seconds (as Airflow reads it)`)
  return Number(text)
}
