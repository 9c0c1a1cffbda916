import {Flags} from '@oclif/core'
import {UsageError} from '../errors.js'
import type {DoctorOptions} from '../doctor/run.js'
import {DOCTOR_OUTPUT_FORMATS, type DoctorOutputFormat} from '../render/doctor.js'
import {ReapCommand} from '../cli/base.js'
import {type TaskSourceOptions, chooseTaskSource} from '../task-source/choice.js'
import {
  airflowApiFlags,
  airflowApiOptionsFrom,
  checkDbFlag,
  dbFlags,
  dbOptionsFrom,
  kubeFlags,
  kubeOptionsFrom,
  storeFlags,
} from '../cli/flags.js'

export interface DoctorCommandOptions extends DoctorOptions {
  output: DoctorOutputFormat
  /** Where the task instances come from (the Airflow API's checks replace the DB's when it is the API). */
  taskSource: TaskSourceOptions
}

export default class Doctor extends ReapCommand {
  static override summary = 'Check everything the other commands need: cluster, RBAC, the Airflow DB, clocks and the run store.'
  static override description = [
    'One line per check, ok / warn / fail, with what to do: the kubeconfig and context; the API server (reachable, version); RBAC for every verb each command uses, asked with SelfSubjectAccessReviews for the exact resource, subresource and namespace; where the DB URL comes from and how it is reached (directly or through a port-forward) and that it connects; the schema family and the Airflow release its alembic revision matches; clock skew between this machine, the API server and the DB; the KubernetesPodOperator pods and unfinished task instances; the run store.',
    'When the task instances come from the Airflow REST API (--airflow-url), its checks stand where the DB\'s would: the server answers as Airflow 2.7+ (v1) or 3.x (v2), the credentials are accepted, task instances and XCom entries can be read, how many rows a page really holds (Airflow 3.2+ clamps it to [api] maximum_page_limit), and its clock.',
    'A permission missing for doctor itself or for the zombies and overdue reports fails; one missing only for deleting (--delete --yes), for unstick, or one that only costs an Event, is a warning naming the commands that need it. A check that depends on a failed one is skipped.',
    'Exit 0 when nothing fails, 1 when a check fails. Nothing waits for ever: each API request is bounded by --request-timeout, the DB by --db-timeout.',
  ].join('\n\n')

  static override examples = [
    {description: 'Before the first run', command: 'kubectl airflow-reap doctor -n airflow'},
    {description: 'In a script: the DoctorReport document', command: 'kubectl airflow-reap doctor -n airflow -o json'},
    {description: 'With the DB Secret named', command: 'kubectl airflow-reap doctor -n airflow --db-secret airflow-airflow-metadata'},
    {description: 'Without DB access: the Airflow REST API (token from a command)', command: 'kubectl airflow-reap doctor -n airflow --airflow-url https://airflow.example.com --airflow-token-cmd "gcloud auth print-access-token"'},
  ]

  static override flags = {
    kubeconfig: kubeFlags.kubeconfig,
    context: kubeFlags.context,
    namespace: kubeFlags.namespace,
    'all-namespaces': kubeFlags['all-namespaces'],
    'request-timeout': kubeFlags['request-timeout'],
    ...dbFlags,
    ...airflowApiFlags,
    output: Flags.string({char: 'o', description: 'Output format.', options: [...DOCTOR_OUTPUT_FORMATS], default: 'table'}),
    ...storeFlags,
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Doctor)
    const options = toOptions(flags)
    validate(options)
    // Loaded on demand: --help must not pay for the Kubernetes client and the DB drivers.
    const {executeDoctor} = await import('../cli/doctor-run.js')
    await executeDoctor(options, this.abort.signal)
  }
}

type ParsedFlags = Awaited<ReturnType<Doctor['parse']>>['flags'] & Record<string, unknown>

export function toOptions(flags: ParsedFlags): DoctorCommandOptions {
  const db = dbOptionsFrom(flags)
  return {
    kube: kubeOptionsFrom(flags),
    db,
    taskSource: {taskSource: flags['task-source'] as TaskSourceOptions['taskSource'], db, api: airflowApiOptionsFrom(flags)},
    store: {flag: flags.cache as string | undefined, noCache: flags['no-cache'] as boolean},
    output: flags.output as DoctorOutputFormat,
  }
}

/** Flag conflicts, checked before anything is opened (pure). */
export function validate(options: DoctorCommandOptions): void {
  if (options.kube.allNamespaces && options.kube.namespace) throw new UsageError('--all-namespaces and --namespace cannot be used together')
  if (options.db.db !== undefined && options.db.dbSecret !== undefined) throw new UsageError('--db and --db-secret cannot be used together')
  // As zombies and overdue refuse it: before the kubeconfig is read, and never echoed.
  if (options.db.db !== undefined) checkDbFlag(options.db.db)
  // The task source's refusals (--db with --airflow-url, user info in the URL, ...), as zombies has them.
  chooseTaskSource(options.taskSource)
}
