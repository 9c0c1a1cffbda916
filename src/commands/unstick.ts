import {Args, Flags} from '@oclif/core'
import {dryRunModeOf} from '../core/dry-run.js'
import {parseDuration} from '../core/duration.js'
import {UsageError} from '../errors.js'
import {type ResourceType, resolveResource} from '../kube/resources.js'
import type {OutputFormat} from '../render/output.js'
import type {KubeOptions} from '../reap/session.js'
import type {UnstickTarget} from '../reap/unstick.js'
import {ReapCommand} from '../cli/base.js'
import {FlagValueError, flagNameOnly} from '../cli/usage.js'
import {actFlags, durationFlag, kubeFlags, kubeOptionsFrom, outputFlags, storeFlags} from '../cli/flags.js'

export const DEFAULT_TYPES = ['jobs', 'pods'] as const

export interface UnstickOptions {
  kube: KubeOptions
  output: OutputFormat
  store: {flag?: string; noCache: boolean}
  targets: UnstickTarget[]
  selector?: string
  olderThanSeconds: number
  finalizers: string[]
  deleteDependents: boolean
  yes: boolean
  dryRunMode?: 'client' | 'server'
  /** `--dry-run=none` was given: no dry run was asked for (though without --yes nothing acts). */
  dryRunNone?: boolean
  exitCode: boolean
  /** Post a Kubernetes Event for every patch and delete (--no-events: false). */
  events: boolean
  wait: boolean
  /** Only when given on the command line (--wait-timeout or --wait=DURATION). */
  waitTimeoutSeconds?: number
}

export default class Unstick extends ReapCommand {
  static override summary = 'Free Jobs and pods stuck Terminating behind garbage-collector finalizers.'
  static override description = [
    'An object deleted with propagation Orphan (the batch/v1 default for Jobs) or Foreground carries the finalizer orphan or foregroundDeletion until the garbage collector processes it. When that never happens it stays Terminating for ever, and re-creating a Job under the same name fails with 409 AlreadyExists.',
    'Stuck: deletionTimestamp set longer than --older-than ago and a garbage-collector finalizer present. With --yes those finalizers are removed by a JSON patch that first tests the exact finalizer list and resourceVersion read, so a concurrent change makes it fail (changed-concurrently) instead of clobbering it. Other finalizers are never removed unless named with --finalizer; an object holding one is left alone.',
    'Without arguments, jobs and pods are scanned; TYPE scans that type, TYPE/NAME reads one object (types: jobs, pods, cronjobs, deployments, replicasets, statefulsets). Dependents (objects whose ownerReferences name the stuck object) are listed; for a foreground deletion --delete-dependents deletes them first, as the garbage collector would have, each DELETE guarded by the UID.',
    '--wait (or --wait=DURATION) waits after patching until GET answers 404, i.e. the name is free; --wait-timeout DURATION sets how long in all (default 2m). Without --yes nothing is changed.',
  ].join('\n\n')

  static override usage = 'unstick [TYPE[/NAME]...] [FLAGS]'

  static override examples = [
    {description: 'What is stuck in the namespace?', command: 'kubectl airflow-reap unstick -n airflow'},
    {description: 'Free one Job and wait until its name can be used again', command: 'kubectl airflow-reap unstick -n airflow jobs/export-job --yes --wait=1m'},
    {description: 'Check RBAC and admission without changing anything', command: 'kubectl airflow-reap unstick -n airflow --dry-run=server'},
    {description: 'A foreground deletion: also delete the dependents the garbage collector left', command: 'kubectl airflow-reap unstick -n airflow jobs/export-job --delete-dependents --yes'},
    {description: 'Monitoring: exit 3 when something is stuck', command: 'kubectl airflow-reap unstick -A --exit-code -o name'},
  ]

  static override strict = false
  static override args = {
    targets: Args.string({description: 'TYPE or TYPE/NAME (repeatable; default: jobs and pods).', required: false}),
  }

  static override flags = {
    ...kubeFlags,
    ...outputFlags,
    ...storeFlags,
    ...actFlags,
    'older-than': durationFlag({description: 'Only objects whose deletion started longer ago than this are stuck.', default: '5m'}),
    finalizer: Flags.string({
      description: 'Also remove this finalizer (repeatable). Only for finalizers whose controller is known to be gone.',
      helpValue: 'NAME',
      multiple: true,
      multipleNonGreedy: true,
    }),
    'delete-dependents': Flags.boolean({
      description: 'For a stuck foreground deletion, delete its dependents (UID-guarded) before removing the finalizer.',
      default: false,
    }),
    wait: Flags.boolean({description: 'After patching, wait until each object is gone and its name free (--wait=DURATION sets the timeout).', default: false}),
    'wait-timeout': durationFlag({description: 'How long --wait waits in all (default 2m).'}),
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(Unstick, expandWaitValue(this.argv))
    const options = toOptions(flags, argv as string[])
    validate(options)
    await this.execute(options)
  }

  private async execute(options: UnstickOptions): Promise<void> {
    // Loaded on demand: --help must not pay for the Kubernetes client and the run store.
    const {executeUnstick} = await import('../cli/unstick-run.js')
    await executeUnstick(options, this.abort.signal)
  }
}

type ParsedFlags = Awaited<ReturnType<Unstick['parse']>>['flags'] & Record<string, unknown>

export function toOptions(flags: ParsedFlags, args: string[]): UnstickOptions {
  return {
    kube: kubeOptionsFrom(flags),
    output: flags.output as OutputFormat,
    store: {flag: flags.cache as string | undefined, noCache: flags['no-cache'] as boolean},
    targets: parseTargets(args),
    selector: flags.selector as string | undefined,
    olderThanSeconds: flags['older-than'] as number,
    finalizers: [...new Set(((flags.finalizer as string[] | undefined) ?? []).map((f) => f.trim()).filter((f) => f !== ''))],
    deleteDependents: flags['delete-dependents'] as boolean,
    yes: flags.yes as boolean,
    dryRunMode: dryRunModeOf(flags),
    dryRunNone: flags['dry-run'] === 'none',
    exitCode: flags['exit-code'] as boolean,
    events: !flags['no-events'],
    wait: flags.wait as boolean,
    waitTimeoutSeconds: flags['wait-timeout'] as number | undefined,
  }
}

/**
 * `--wait=DURATION` → `--wait --wait-timeout DURATION` (oclif has no optional flag values). A bare
 * `--wait` stays a boolean, so `--wait jobs/x` never takes the target for a timeout.
 */
export function expandWaitValue(argv: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--') {
      out.push(...argv.slice(i))
      break
    }
    const match = /^--wait=(.*)$/.exec(arg)
    if (!match) {
      out.push(arg)
      continue
    }
    if (parseDuration(match[1]) === undefined) throw new FlagValueError('wait', match[1], 'not a duration (examples: 90s, 10m, 2h, 1h30m)')
    out.push('--wait', '--wait-timeout', match[1])
  }
  return out
}

/** `jobs`, `job.batch/NAME`, `po/NAME`: what to scan or read. No argument: the default types. */
export function parseTargets(args: readonly string[]): UnstickTarget[] {
  const words = args.length > 0 ? args : DEFAULT_TYPES
  const targets: UnstickTarget[] = []
  const seen = new Set<string>()
  for (const word of words) {
    if (word.startsWith('-')) throw new UsageError(`unknown flag: ${flagNameOnly(word)}`)
    const [type, ...rest] = word.split('/')
    const name = rest.length > 0 ? rest.join('/') : undefined
    if (name !== undefined && (name === '' || rest.length > 1)) throw new UsageError(`"${word}" is not TYPE or TYPE/NAME`)
    const resource = resolveTarget(type, word)
    const key = `${resource.plural}/${name ?? ''}`
    if (seen.has(key)) continue
    seen.add(key)
    targets.push(name === undefined ? {resource} : {resource, name})
  }
  return targets
}

function resolveTarget(type: string, word: string): ResourceType {
  try {
    return resolveResource(type)
  } catch (error) {
    if (error instanceof UsageError && !word.includes('/')) throw new UsageError(`${error.message}; name objects as TYPE/NAME`)
    throw error
  }
}

/** Flag conflicts, checked before anything is opened (pure). */
export function validate(options: UnstickOptions): void {
  const named = options.targets.some((t) => t.name !== undefined)
  if (options.kube.allNamespaces && options.kube.namespace) throw new UsageError('--all-namespaces and --namespace cannot be used together')
  if (named && options.kube.allNamespaces) throw new UsageError('a named object (TYPE/NAME) cannot be looked up across all namespaces: use -n')
  if (named && options.selector) throw new UsageError('a named object (TYPE/NAME) and --selector cannot be used together')
  if (options.wait && !(options.yes && options.dryRunMode === undefined)) {
    throw new UsageError('--wait waits for the objects --yes frees: add --yes (and no --dry-run)')
  }
  if (options.waitTimeoutSeconds !== undefined && !options.wait) throw new UsageError('--wait-timeout goes with --wait')
}
