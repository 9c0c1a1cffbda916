// The contract's global flags, grouped so each command takes only the groups it needs.
import {Flags} from '@oclif/core'
import {EMPTY_DB_FLAG} from '../airflow/resolve.js'
import {InvalidDbUrlError, parseDbUrl} from '../airflow/url.js'
import {parseDuration, parseTimeout} from '../core/duration.js'
import {DEFAULT_DB_TIMEOUT_SECONDS, DEFAULT_REQUEST_TIMEOUT_SECONDS} from '../core/timeouts.js'
import {dryRunModeOf} from '../core/dry-run.js'
import {UsageError} from '../errors.js'
import {FlagValueError} from './usage.js'
import type {PodDeletion} from '../reap/guarded-delete.js'
import type {KubeOptions} from '../reap/session.js'
import {OUTPUT_FORMATS, type OutputFormat} from '../render/output.js'
import {PORT_FORWARD_MODES} from '../cluster-db/reach.js'
import {API_URL_ENV, API_VERSIONS, type AirflowApiOptions, type DbOptions, TASK_SOURCES, type TaskSourceOptions, chooseTaskSource} from '../task-source/choice.js'

/** Marks a `defaultHelp` as constant, for scripts/oclif-manifest.mjs (the symbol is registered there too). */
export const CONSTANT_DEFAULT_HELP = Symbol.for('airflow-reap.constantDefaultHelp')

/**
 * The help's default as typed (`60s`, where `default` gives the parsed 60). oclif accepts only a
 * function here and then treats the help as dynamic, importing the command's module for `--help`; the
 * mark lets the manifest say it is not (the manifest already holds the value).
 */
export function constantDefaultHelp(text: string): () => Promise<string> {
  return Object.assign(async () => text, {[CONSTANT_DEFAULT_HELP]: true})
}

/** A kubectl-style duration flag, parsed into seconds (a bad value is a usage error, exit 2). */
export function durationFlag(options: {description: string; default?: string; parse?: (text: string) => number | undefined; examples?: string}) {
  const parse = options.parse ?? parseDuration
  return Flags.custom<number>({
    description: options.description,
    helpValue: 'DURATION',
    default: options.default === undefined ? undefined : async () => parse(options.default!)!,
    defaultHelp: options.default === undefined ? undefined : constantDefaultHelp(options.default),
    parse: async (input, _context, flag) => {
      const seconds = parse(input)
      if (seconds === undefined) throw new FlagValueError(flag.name, input, `not a duration (examples: ${options.examples ?? '90s, 10m, 2h, 1h30m'})`)
      return seconds
    },
  })()
}

export const kubeFlags = {
  kubeconfig: Flags.string({description: 'Path to the kubeconfig file (else KUBECONFIG, ~/.kube/config, in-cluster).', helpValue: 'PATH'}),
  context: Flags.string({description: 'Kubeconfig context to use (default: the current context).', helpValue: 'NAME'}),
  namespace: Flags.string({char: 'n', description: "Namespace to scan (default: the context's namespace, else default).", helpValue: 'NS'}),
  'all-namespaces': Flags.boolean({char: 'A', description: 'Scan every namespace.', default: false}),
  selector: Flags.string({char: 'l', description: "Extra label selector, ANDed with the command's own.", helpValue: 'SEL'}),
  'request-timeout': durationFlag({
    description: 'Timeout of each API request, like kubectl: a duration, or a bare number of seconds (0: none). The default is kube-apiserver\'s own limit for a request.',
    default: `${DEFAULT_REQUEST_TIMEOUT_SECONDS}s`,
    // As kubectl reads it: `--request-timeout=5` is 5 seconds.
    parse: parseTimeout,
    examples: '5, 90s, 10m, 1h30m',
  }),
}

/** The kube flag group as typed options (shared by every command that talks to a cluster). */
export function kubeOptionsFrom(flags: Record<string, unknown>): KubeOptions {
  return {
    kubeconfig: flags.kubeconfig as string | undefined,
    context: flags.context as string | undefined,
    namespace: flags.namespace as string | undefined,
    allNamespaces: flags['all-namespaces'] as boolean,
    requestTimeoutSeconds: flags['request-timeout'] as number | undefined,
  }
}

export const dbFlags = {
  db: Flags.string({
    description:
      'Airflow metadata DB URL (SQLAlchemy form). Else AIRFLOW_REAP_DB, AIRFLOW__DATABASE__SQL_ALCHEMY_CONN, ' +
      'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD, AIRFLOW__CORE__SQL_ALCHEMY_CONN, else found in the cluster.',
    helpValue: 'URL',
  }),
  'airflow-namespace': Flags.string({
    description: "Namespace where Airflow runs, to find its DB in (default: the -n namespace, else the context's).",
    helpValue: 'NS',
  }),
  'db-secret': Flags.string({
    description: 'Secret in the Airflow namespace whose KEY (default connection) holds the DB URL.',
    helpValue: 'NAME[:KEY]',
  }),
  'port-forward': Flags.string({
    description: 'Reach a DB host that is a Service of the cluster through a port-forward: auto (when it does not resolve here), always, never.',
    options: [...PORT_FORWARD_MODES],
    helpValue: 'auto|always|never',
    default: 'auto',
  }),
  'db-timeout': durationFlag({
    description: 'Bound on connecting to the Airflow DB and on each query (0: none); also its server-side statement timeout.',
    default: `${DEFAULT_DB_TIMEOUT_SECONDS}s`,
  }),
}

export function dbOptionsFrom(flags: Record<string, unknown>): DbOptions {
  return {
    db: flags.db as string | undefined,
    airflowNamespace: flags['airflow-namespace'] as string | undefined,
    dbSecret: flags['db-secret'] as string | undefined,
    portForward: (flags['port-forward'] as DbOptions['portForward'] | undefined) ?? 'auto',
    timeoutSeconds: flags['db-timeout'] as number | undefined,
  }
}

/** The REST API flags' defaults and bounds (cli-contract.md, "Task-instance source: the REST API"). */
export const DEFAULT_API_TIMEOUT = '30s'
export const DEFAULT_API_PAGE_SIZE = 100
export const MAX_API_PAGE_SIZE = 1000
export const DEFAULT_API_MAX_REQUESTS = 2000

export const airflowApiFlags = {
  'airflow-url': Flags.string({
    description: `Airflow's REST API server (base URL; a path prefix is kept, no /api/vN): task instances come from the API, no DB access needed. Else ${API_URL_ENV}.`,
    helpValue: 'URL',
  }),
  'airflow-api': Flags.string({
    description: 'Which REST API: v2 (Airflow 3.x), v1 (2.7-2.10), or auto (asks /api/v2/version, then /api/v1/version).',
    options: [...API_VERSIONS],
    helpValue: 'auto|v1|v2',
    default: 'auto',
  }),
  'airflow-token-cmd': Flags.string({
    description:
      'A command printing a bearer token (or an ExecCredential JSON) for the API, run without a shell. Else AIRFLOW_REAP_API_TOKEN_CMD, AIRFLOW_REAP_API_TOKEN, AIRFLOW_REAP_API_USERNAME + AIRFLOW_REAP_API_PASSWORD.',
    helpValue: 'CMD',
  }),
  'airflow-timeout': durationFlag({description: 'Timeout of each request to the Airflow API (0: none).', default: DEFAULT_API_TIMEOUT}),
  'airflow-page-size': Flags.integer({description: 'Rows asked per page of an API list (pages advance by the rows received).', helpValue: 'N', default: DEFAULT_API_PAGE_SIZE, min: 1, max: MAX_API_PAGE_SIZE}),
  'airflow-max-requests': Flags.integer({description: 'Request budget of a run: exceeded before any action, nothing is deleted (exit 1).', helpValue: 'N', default: DEFAULT_API_MAX_REQUESTS, min: 1}),
  'task-source': Flags.string({
    description: 'Where task instances come from: db, api, or auto (the API when --airflow-url or AIRFLOW_REAP_API_URL gives a URL, else the DB).',
    options: [...TASK_SOURCES],
    helpValue: 'auto|db|api',
    default: 'auto',
  }),
}

export function airflowApiOptionsFrom(flags: Record<string, unknown>): AirflowApiOptions {
  return {
    url: flags['airflow-url'] as string | undefined,
    api: (flags['airflow-api'] as AirflowApiOptions['api'] | undefined) ?? 'auto',
    tokenCmd: flags['airflow-token-cmd'] as string | undefined,
    timeoutSeconds: (flags['airflow-timeout'] as number | undefined) ?? 30,
    pageSize: (flags['airflow-page-size'] as number | undefined) ?? DEFAULT_API_PAGE_SIZE,
    maxRequests: (flags['airflow-max-requests'] as number | undefined) ?? DEFAULT_API_MAX_REQUESTS,
  }
}

export const outputFlags = {
  output: Flags.string({char: 'o', description: 'Output format.', helpValue: 'FORMAT', options: [...OUTPUT_FORMATS], default: 'table'}),
}

export const storeFlags = {
  cache: Flags.string({description: 'Local run store (SQLite). Else AIRFLOW_REAP_CACHE, else $XDG_CACHE_HOME/airflow-reap/runs.sqlite.', helpValue: 'PATH'}),
  'no-cache': Flags.boolean({description: 'Record nothing locally.', default: false}),
}

export const actFlags = {
  yes: Flags.boolean({char: 'y', description: 'Really act (without it every command is a dry run).', default: false}),
  'dry-run': Flags.custom<'client' | 'server' | 'none'>({
    description:
      'client: report only (the default without --yes); server: send the requests with dryRun=All (RBAC and admission are checked, nothing changes); none: no dry run, as kubectl reads it (acting still needs --yes).',
    options: ['none', 'client', 'server'],
    helpValue: 'none|client|server',
    parse: async (input, _context, flag) => parseDryRun(input, flag.name),
  })(),
  'exit-code': Flags.boolean({description: 'Exit 3 when something was found and left in place (for monitoring).', default: false}),
  'no-events': Flags.boolean({description: 'Post no Kubernetes Event for the objects deleted or patched.', default: false}),
}

/**
 * `--dry-run` as kubectl reads it (cmdutil.GetDryRunStrategy): `client`, `server`, or `none`, which is
 * no dry run at all. The parsed flag keeps `none` (the report must not call a run the user asked not
 * to be one a dry run); dryRunModeOf gives the mode, where `none` is the same as leaving the flag out.
 */
export function parseDryRun(input: string, flag = 'dry-run'): 'client' | 'server' | 'none' {
  if (input === 'client' || input === 'server' || input === 'none') return input
  throw new FlagValueError(flag, input, 'must be "none", "server", or "client"')
}


/** --delete and the flags that shape a pod deletion, for the commands that delete pods (zombies, overdue). */
export function podDeleteFlags(noun: string) {
  return {
    delete: Flags.boolean({description: `Delete the ${noun} pods (needs --yes, or a confirmation on a terminal).`, default: false}),
    'grace-period': Flags.integer({description: "Seconds the pod gets to stop (default: the pod's own).", helpValue: 'SECONDS', min: 0}),
    force: Flags.boolean({description: 'Delete with a grace period of 0 (the kubelet may not have stopped the containers yet).', default: false}),
    concurrency: Flags.integer({description: 'Deletes (and pod reads) in flight at once.', helpValue: 'N', default: 10, min: 1, max: 200}),
    'max-deletes': Flags.integer({description: 'Delete at most this many pods in one run.', helpValue: 'N', default: 100, min: 0}),
    'allow-mass-delete': Flags.boolean({description: 'Allow deleting more than half of the scanned pods.', default: false}),
  }
}

/** Every flag of a pod-deleting command but its own judging flags. */
export function podReapFlags(noun: string) {
  return {...kubeFlags, ...dbFlags, ...airflowApiFlags, ...outputFlags, ...storeFlags, ...actFlags, ...podDeleteFlags(noun)}
}

/** What every pod-deleting command is given, whatever it judges pods by. */
export interface PodReapOptions extends TaskSourceOptions {
  kube: KubeOptions
  output: OutputFormat
  store: {flag?: string; noCache: boolean}
  delete: boolean
  yes: boolean
  dryRunMode?: 'client' | 'server'
  /** `--dry-run=none` was given: no dry run was asked for (though without --delete --yes nothing acts). */
  dryRunNone?: boolean
  exitCode: boolean
  /** Post a Kubernetes Event for every delete (--no-events: false). */
  events: boolean
  force: boolean
  gracePeriod?: number
  deletion: PodDeletion
}

export function podReapOptionsFrom(flags: Record<string, unknown>): PodReapOptions {
  return {
    kube: kubeOptionsFrom(flags),
    db: dbOptionsFrom(flags),
    api: airflowApiOptionsFrom(flags),
    taskSource: (flags['task-source'] as PodReapOptions['taskSource'] | undefined) ?? 'auto',
    output: flags.output as OutputFormat,
    store: {flag: flags.cache as string | undefined, noCache: flags['no-cache'] as boolean},
    delete: flags.delete as boolean,
    yes: flags.yes as boolean,
    dryRunMode: dryRunModeOf(flags),
    dryRunNone: flags['dry-run'] === 'none',
    exitCode: flags['exit-code'] as boolean,
    events: !flags['no-events'],
    force: flags.force as boolean,
    gracePeriod: flags['grace-period'] as number | undefined,
    deletion: {
      serverDryRun: flags['dry-run'] === 'server',
      gracePeriodSeconds: flags.force ? 0 : (flags['grace-period'] as number | undefined),
      maxDeletes: flags['max-deletes'] as number,
      allowMassDelete: flags['allow-mass-delete'] as boolean,
      concurrency: flags.concurrency as number,
    },
  }
}

/** Flag conflicts, checked before anything is opened (pure). */
export function validatePodReap(options: PodReapOptions, noun: string): void {
  if (options.force && options.gracePeriod !== undefined && options.gracePeriod > 0) {
    throw new UsageError('--force and --grace-period greater than 0 cannot be used together')
  }
  if (options.kube.allNamespaces && options.kube.namespace) throw new UsageError('--all-namespaces and --namespace cannot be used together')
  if (options.yes && !options.delete) throw new UsageError(`--yes confirms --delete: add --delete to delete ${noun} pods`)
  if (options.dryRunMode === 'server' && !options.delete) throw new UsageError('--dry-run=server goes with --delete')
  // A bad --db is a bad flag value: refused before the kubeconfig is read, like the others.
  if (options.db.db !== undefined) checkDbFlag(options.db.db)
  chooseTaskSource(options)
}

/** `--db ''` and a malformed --db alike: exit 2, the value never echoed (it may be a password). */
export function checkDbFlag(value: string): void {
  if (value === '') throw new InvalidDbUrlError('--db', EMPTY_DB_FLAG)
  parseDbUrl(value, '--db')
}
