import {Flags, Parser} from '@oclif/core'
import {describeError} from '../cli/usage.js'
import {parseDbSecretFlag} from '../cluster-db/locate.js'
import {cronScheduleError} from '../core/cron.js'
import {UsageError} from '../errors.js'
import {ReapCommand} from '../cli/base.js'
import {validatePodReap} from '../cli/flags.js'
import {type FlagShapes, splitCronjobArgv} from '../manifests/argv.js'
import type {ApiCredentialsRef, CronJobCommandName} from '../manifests/cronjob.js'
import {IMAGE_REPOSITORY, defaultImage} from '../manifests/image.js'
import type {ParsedCommand} from '../manifests/plan.js'
import Overdue, {toOptions as overdueOptions} from './overdue.js'
import Unstick, {expandWaitValue, parseTargets, toOptions as unstickOptions, validate as validateUnstick} from './unstick.js'
import Zombies, {toOptions as zombiesOptions} from './zombies.js'

export interface CronjobOptions {
  commands: ParsedCommand[]
  output: 'yaml' | 'json'
  schedule: string
  image: string
  version: string
  prefix: string
  suspend: boolean
  historyPvc?: string
  apply: boolean
  dbSecret?: {name: string; key: string}
  /** --airflow-token-secret / --airflow-password-secret: where the pod takes the Airflow API's credentials from. */
  apiCredentials?: ApiCredentialsRef
  airflowNamespace?: string
  /** --verify (default) / --no-verify: check that the --db-secret Secret and key exist when the cluster can be asked. */
  verify: boolean
  kube: {kubeconfig?: string; context?: string}
}

/** Each schedulable command: its class (whose own parser reads its flags) and its own validation. */
const SCHEDULABLE = {
  zombies: {command: Zombies, prepare: (argv: string[]) => argv, validate: (flags: Record<string, unknown>) => validatePodReap(zombiesOptions(flags as never), 'zombie')},
  overdue: {command: Overdue, prepare: (argv: string[]) => argv, validate: (flags: Record<string, unknown>) => validatePodReap(overdueOptions(flags as never), 'overdue')},
  unstick: {
    command: Unstick,
    prepare: expandWaitValue,
    validate: (flags: Record<string, unknown>, args: string[]) => validateUnstick(unstickOptions(flags as never, args)),
  },
} as const

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
// CronJob names are at most 52 characters (the controller appends an 11-character suffix to its Jobs).
const MAX_PREFIX = 52 - '-overdue'.length

export default class Cronjob extends ReapCommand {
  static override summary = 'Print (or --apply) the manifests that run a command in the cluster on a schedule, with least-privilege RBAC.'
  static override description = [
    'Prints a ServiceAccount, the Role and RoleBinding holding exactly the permissions COMMAND uses with its flags (a ClusterRole and ClusterRoleBinding with -A), and a CronJob running it with this version\'s container image. Pipe it to `kubectl apply -f -`, or pass --apply.',
    'Several commands give several CronJobs sharing the account and its Role: name each command followed by its flags (`cronjob zombies --delete --yes unstick --yes`). Flags before the first command (-n) go to every command. The cronjob\'s own flags (below) may come anywhere.',
    "The DB URL is never written into a manifest: the pod reads it from the Secret Airflow uses (found in the cluster as zombies finds it, or --db-secret NAME[:KEY]) through a secretKeyRef, which the kubelet resolves, so the account needs no access to secrets. The run's JSON report goes to the pod's log; the run store is off unless --history-pvc gives it a volume.",
    "--apply uses server-side apply with field manager airflow-reap and takes over any field another manager changed (force): these objects are airflow-reap's own; change them by running cronjob again.",
  ].join('\n\n')

  static override usage = 'cronjob COMMAND [flags of COMMAND] [COMMAND [flags of COMMAND]...] [FLAGS]'
  static override strict = false

  static override examples = [
    {description: 'Reap zombies every 15 minutes', command: 'kubectl airflow-reap cronjob zombies --delete --yes -n airflow --db-secret airflow-airflow-metadata | kubectl apply -f -'},
    {description: 'Zombies, overdue tasks and stuck Jobs, hourly, created directly', command: 'kubectl airflow-reap cronjob -n airflow zombies --delete --yes overdue --delete --yes unstick --yes --schedule "0 * * * *" --apply'},
    {
      description: 'Without DB access: the Airflow REST API, its token from a Secret',
      command: 'kubectl airflow-reap cronjob zombies --delete --yes -n airflow --airflow-url https://airflow.example.com --airflow-token-secret airflow-reap-api:token',
    },
    {description: 'Keep the run history on a volume', command: 'kubectl airflow-reap cronjob zombies --delete --yes -n airflow --history-pvc airflow-reap-history'},
  ]

  static override flags = {
    output: Flags.string({char: 'o', description: 'Manifest format (json: a v1 List).', options: ['yaml', 'json'], default: 'yaml'}),
    schedule: Flags.string({description: 'Cron schedule of the CronJob(s), as Kubernetes reads it.', default: '*/15 * * * *', helpValue: 'CRON'}),
    image: Flags.string({description: `Container image (default: ${IMAGE_REPOSITORY}:<this version>).`, helpValue: 'REF'}),
    'name-prefix': Flags.string({description: 'Name of the account and roles, and prefix of the CronJobs (<prefix>-<command>).', default: 'airflow-reap', helpValue: 'NAME'}),
    suspend: Flags.boolean({description: 'Create the CronJob(s) suspended.', default: false}),
    'history-pvc': Flags.string({description: 'Keep the run store on this PersistentVolumeClaim (default: no run store, --no-cache).', helpValue: 'NAME'}),
    apply: Flags.boolean({description: 'Create or update the objects with server-side apply (field manager airflow-reap) instead of printing them.', default: false}),
    'db-secret': Flags.string({
      description: "The Secret (in Airflow's namespace) whose KEY (default connection) holds the DB URL (default: the one Airflow's scheduler uses, found in the cluster).",
      helpValue: 'NAME[:KEY]',
    }),
    'airflow-token-secret': Flags.string({
      description: 'For a command reading the Airflow REST API (--airflow-url): the Secret (in the CronJob\'s namespace) whose KEY (default token) holds a bearer token, given to the pod as AIRFLOW_REAP_API_TOKEN.',
      helpValue: 'NAME[:KEY]',
      exclusive: ['airflow-password-secret'],
    }),
    'airflow-password-secret': Flags.string({
      description: 'For a command reading the Airflow REST API (--airflow-url): the Secret whose keys username and password the pod gets as AIRFLOW_REAP_API_USERNAME and AIRFLOW_REAP_API_PASSWORD.',
      helpValue: 'NAME',
    }),
    'no-verify': Flags.boolean({
      description: 'Do not check that the --db-secret (or --airflow-*-secret) Secret and its keys exist (checked by default when a kubeconfig gives a cluster).',
      default: false,
    }),
    'airflow-namespace': Flags.string({description: 'Where Airflow and its DB Secret are, and so the CronJob (default: -n, else the context\'s namespace).', helpValue: 'NS'}),
    kubeconfig: Flags.string({description: 'Kubeconfig for --apply.', helpValue: 'PATH'}),
    context: Flags.string({description: 'Kubeconfig context for --apply.', helpValue: 'NAME'}),
  }

  async run(): Promise<void> {
    const commandShapes = Object.fromEntries(Object.entries(SCHEDULABLE).map(([name, s]) => [name, s.command.flags as unknown as FlagShapes]))
    // Parsed here in parts (the split, then each part by its own parser), not by one this.parse call.
    this.parsed = true
    const split = splitCronjobArgv(this.argv, Cronjob.flags as unknown as FlagShapes, commandShapes)
    const {flags} = await this.parse(Cronjob, split.own)
    const commands: ParsedCommand[] = []
    for (const segment of split.segments) commands.push(await parseCommand(segment.command as CronJobCommandName, segment.argv))
    const options: CronjobOptions = {
      commands,
      output: flags.output as 'yaml' | 'json',
      schedule: validSchedule(flags.schedule),
      image: flags.image ?? defaultImage(this.config.version),
      version: this.config.version,
      prefix: validPrefix(flags['name-prefix']),
      suspend: flags.suspend,
      historyPvc: flags['history-pvc'] === undefined ? undefined : validName(flags['history-pvc'], '--history-pvc'),
      apply: flags.apply,
      dbSecret: flags['db-secret'] === undefined ? undefined : parseDbSecretFlag(flags['db-secret']),
      apiCredentials: apiCredentialsFrom(flags['airflow-token-secret'], flags['airflow-password-secret']),
      airflowNamespace: flags['airflow-namespace'],
      verify: !flags['no-verify'],
      kube: {kubeconfig: flags.kubeconfig, context: flags.context},
    }
    // Loaded on demand, as every command's run.
    const {executeCronjob} = await import('../cli/cronjob-run.js')
    await executeCronjob(options, this.abort.signal)
  }
}

/** A command's flags, read by that command's own parser: a typo fails here, not in the cluster at 3 a.m. */
async function parseCommand(name: CronJobCommandName, argv: string[]): Promise<ParsedCommand> {
  const schedulable = SCHEDULABLE[name]
  const {command} = schedulable
  let output
  try {
    const definitions = {flags: command.flags, args: command.args ?? {}, strict: command.strict ?? true} as Parameters<typeof Parser.parse>[1]
    output = await Parser.parse(schedulable.prepare(argv), definitions)
  } catch (error) {
    // The command's own parse error, worded as the command itself words it (src/cli/usage.ts).
    throw new UsageError(`${name}: ${describeError(error)?.line ?? String(error)}`)
  }
  const flags = output.flags as Record<string, unknown>
  const args = (output.argv as string[]).map(String)
  schedulable.validate(flags, args)
  const raw = output.raw.map((token) => (token.type === 'flag' ? {type: 'flag' as const, flag: token.flag, input: token.input} : {type: 'arg' as const, input: token.input}))
  return {command: name, flags, raw, shapes: command.flags as unknown as FlagShapes, targets: name === 'unstick' ? parseTargets(args) : undefined}
}

/** At most one of the two (oclif's `exclusive` refuses both); the Secret's name checked as --db-secret's is. */
function apiCredentialsFrom(tokenSecret: string | undefined, passwordSecret: string | undefined): ApiCredentialsRef | undefined {
  if (tokenSecret !== undefined) return {kind: 'token', secret: parseDbSecretFlag(tokenSecret, '--airflow-token-secret', 'token')}
  if (passwordSecret !== undefined) return {kind: 'password', name: validName(passwordSecret, '--airflow-password-secret')}
  return undefined
}

function validSchedule(schedule: string): string {
  const error = cronScheduleError(schedule)
  if (error) throw new UsageError(`--schedule "${schedule}": ${error}`)
  return schedule.trim()
}

function validPrefix(prefix: string): string {
  validName(prefix, '--name-prefix')
  if (!DNS_LABEL.test(prefix) || prefix.length > MAX_PREFIX) {
    throw new UsageError(`--name-prefix "${prefix}": at most ${MAX_PREFIX} lower-case letters, digits and '-', starting and ending with a letter or digit`)
  }
  return prefix
}

function validName(name: string, flag: string): string {
  if (name.length > 253 || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) throw new UsageError(`${flag} "${name}" is not a valid object name`)
  return name
}

