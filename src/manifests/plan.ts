// From the commands as the user typed them (each parsed by its own command's flag parser) to the
// scheduled commands of the manifests: the container's arguments, the RBAC rules those flags need
// (the table `doctor` checks against), and the Job's deadline. Pure.
import {type PermissionQuery, podWrites, requiredRules, unstickWrites} from '../core/permissions.js'
import {dryRunModeOf} from '../core/dry-run.js'
import {DEFAULT_WAIT_TIMEOUT_SECONDS} from '../core/timeouts.js'
import {UsageError} from '../errors.js'
import type {ResourceType} from '../kube/resources.js'
import type {FlagShapes} from './argv.js'
import type {CronJobCommandName, ScheduledCommand} from './cronjob.js'

/** A command's part of the command line, parsed by that command's own parser. */
export interface ParsedCommand {
  command: CronJobCommandName
  flags: Record<string, unknown>
  /** In order as given: flags by name with the value typed, and positional arguments. */
  raw: Array<{type: 'flag'; flag: string; input: string} | {type: 'arg'; input: string}>
  shapes: FlagShapes
  /** unstick's TYPE[/NAME] targets, resolved. */
  targets?: Array<{resource: ResourceType; name?: string}>
}

/** Flags the CronJob sets itself: the report format (JSON, to the log) and the run store (--history-pvc). */
const SET_BY_CRONJOB = new Set(['output', 'cache', 'no-cache', 'port-forward'])
/** The least time a run gets before the Job is stopped (a 50k-pod scan takes seconds). */
export const MIN_DEADLINE_SECONDS = 600

/** Refuses what cannot work unattended in a pod, or would write a secret into a manifest. */
export function validateScheduled(parsed: ParsedCommand): void {
  const {command, flags} = parsed
  if (flags.db !== undefined) {
    throw new UsageError('--db would write the DB URL (and its password) into the manifest: the CronJob reads it from the Secret Airflow uses (--db-secret NAME[:KEY])')
  }
  if (flags.cache !== undefined) throw new UsageError('--cache: the CronJob records nothing locally unless --history-pvc NAME gives it a volume')
  if (flags.kubeconfig !== undefined || flags.context !== undefined) {
    throw new UsageError('--kubeconfig and --context are for this machine: the CronJob uses its own service account')
  }
  if (flags['task-source'] === 'api' && flags['airflow-url'] === undefined) {
    throw new UsageError('--task-source api in a CronJob needs --airflow-url URL: the pod has no AIRFLOW_REAP_API_URL')
  }
  if (command !== 'unstick' && flags.delete && !flags.yes && dryRunModeOf(flags) === undefined) {
    throw new UsageError(`${command} --delete in a CronJob has no terminal to confirm on: add --yes (or --dry-run=server), or drop --delete for a report`)
  }
}

/** The namespace the command acts in; undefined: every namespace (-A). */
export function scopeOf(parsed: ParsedCommand, fallback: string | undefined): string | undefined {
  if (parsed.flags['all-namespaces']) return undefined
  return (parsed.flags.namespace as string | undefined) ?? fallback
}

/**
 * The command's arguments for the container, from the tokens given (values as typed, flags by their
 * long names), without the flags the CronJob sets itself; `-n NS` made explicit, and --port-forward
 * never when the command has it (in the cluster the DB host resolves).
 */
export function containerCommandArgs(parsed: ParsedCommand, namespace: string | undefined): string[] {
  const args: string[] = []
  for (const token of parsed.raw) {
    if (token.type === 'arg') {
      args.push(token.input)
      continue
    }
    if (SET_BY_CRONJOB.has(token.flag) || token.flag === 'namespace' || token.flag === 'all-namespaces') continue
    args.push(`--${token.flag}`)
    if (parsed.shapes[token.flag]?.type === 'option') args.push(token.input)
  }
  const scope = namespace === undefined ? ['-A'] : ['-n', namespace]
  const tunnel = 'port-forward' in parsed.shapes ? ['--port-forward', 'never'] : []
  return [...scope, ...args, ...tunnel]
}

/** The permission query of the command with these flags. The DB URL comes from env: no discovery, no port-forward. */
export function permissionQuery(parsed: ParsedCommand, namespace: string | undefined): PermissionQuery {
  const {command, flags} = parsed
  const dryRunMode = dryRunModeOf(flags)
  const events = !flags['no-events']
  if (command === 'unstick') {
    return {
      command,
      namespace,
      writes: unstickWrites({yes: Boolean(flags.yes), dryRunMode}),
      events,
      unstick: {targets: parsed.targets ?? [], deleteDependents: Boolean(flags['delete-dependents']), wait: Boolean(flags.wait)},
    }
  }
  return {command, namespace, writes: podWrites({delete: Boolean(flags.delete), dryRunMode}), events}
}

/** Where the command's task instances come from in the pod: the API when it names one (--airflow-url), else the DB. */
export function taskSourceOf(parsed: ParsedCommand): ScheduledCommand['taskSource'] {
  if (parsed.command === 'unstick') return 'none'
  const source = parsed.flags['task-source']
  if (source === 'db') return 'db'
  return source === 'api' || parsed.flags['airflow-url'] !== undefined ? 'api' : 'db'
}

/**
 * Longer than every bound of the command's own: at least 10 minutes, or three times its longest
 * timeout (--request-timeout, --db-timeout, --airflow-timeout), plus unstick's --wait time.
 */
export function activeDeadlineFor(parsed: ParsedCommand): number {
  const bounds = ['request-timeout', 'db-timeout', 'airflow-timeout'].map((name) => parsed.flags[name]).filter((v): v is number => typeof v === 'number')
  const base = Math.max(MIN_DEADLINE_SECONDS, 3 * Math.max(0, ...bounds))
  const wait = parsed.flags.wait ? ((parsed.flags['wait-timeout'] as number | undefined) ?? DEFAULT_WAIT_TIMEOUT_SECONDS) : 0
  return base + wait
}

export function scheduledCommand(parsed: ParsedCommand, namespace: string | undefined): ScheduledCommand {
  validateScheduled(parsed)
  return {
    command: parsed.command,
    args: containerCommandArgs(parsed, namespace),
    rules: requiredRules(permissionQuery(parsed, namespace)),
    activeDeadlineSeconds: activeDeadlineFor(parsed),
    taskSource: taskSourceOf(parsed),
    ...(parsed.flags['airflow-token-cmd'] !== undefined ? {tokenCommand: true} : {}),
  }
}

/** Every command of one cronjob acts in the same namespaces (they share one account and its Role). */
export function commonScope(parsed: ParsedCommand[], fallback: string | undefined): string | undefined {
  const scopes = new Set(parsed.map((p) => scopeOf(p, fallback) ?? '*'))
  if (scopes.size > 1) {
    throw new UsageError(`the commands of one cronjob share a service account, so they act in the same namespace: give -n (or -A) once, before the first command (got ${[...scopes].join(', ')})`)
  }
  const [scope] = scopes
  return scope === '*' ? undefined : scope
}
