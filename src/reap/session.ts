// Opening the adapters a command needs, from its typed options. Each opener fails with a typed error
// that says what is wrong in one line; nothing is opened that the command does not use.
import {KubeClient} from '../kube/client.js'
import {DEFAULT_REQUEST_TIMEOUT_SECONDS} from '../core/timeouts.js'
import {type KubeTarget, loadKubeTarget} from '../kube/config.js'
import {ALL_NAMESPACES, type RunCommand, type StartRunInput} from '../store/types.js'

export interface KubeOptions {
  kubeconfig?: string
  context?: string
  namespace?: string
  allNamespaces: boolean
  /** --request-timeout; default DEFAULT_REQUEST_TIMEOUT_SECONDS, 0: no limit. */
  requestTimeoutSeconds?: number
}

export interface KubeSession {
  target: KubeTarget
  client: KubeClient
  /** undefined: all namespaces. */
  namespace: string | undefined
}

/** Where a throttled request says it waits (stderr; a spinner's progress when there is one). */
export type ThrottleNotice = (text: string) => void

const warnOnStderr: ThrottleNotice = (text) => process.stderr.write(`warning: ${text}\n`)

export function openKube(options: KubeOptions, onThrottle: ThrottleNotice = warnOnStderr): KubeSession {
  const target = loadKubeTarget({
    kubeconfig: options.kubeconfig,
    context: options.context,
    namespace: options.namespace,
    requestTimeoutMs: (options.requestTimeoutSeconds ?? DEFAULT_REQUEST_TIMEOUT_SECONDS) * 1000,
  })
  const client = new KubeClient(target, {onThrottle})
  return {target, client, namespace: options.allNamespaces ? undefined : target.namespace}
}

/** The namespace scope as recorded and shown: a name, or * for all namespaces. */
export function scopeName(session: KubeSession): string {
  return session.namespace ?? ALL_NAMESPACES
}

/**
 * A run as recorded before the kubeconfig is read (so that its failures are in history too): the
 * target as the flags give it, empty where they give none.
 */
export function runMetaFromFlags(command: RunCommand, kube: KubeOptions, dryRun: Pick<StartRunInput, 'dryRun' | 'dryRunMode'>): StartRunInput {
  return {
    command,
    argv: process.argv.slice(2),
    context: kube.context ?? '',
    server: '',
    namespace: kube.allNamespaces ? ALL_NAMESPACES : (kube.namespace ?? ''),
    ...dryRun,
  }
}

/** Opens the cluster for a run, recording its target as soon as the kubeconfig says what it is. */
export function openKubeRecorded(
  options: KubeOptions,
  recorder: {update(update: {context: string; server: string; namespace: string}): void},
  progress?: {note(text: string): void},
): KubeSession {
  const session = openKube(options, progress ? (text) => progress.note(`warning: ${text}`) : undefined)
  recorder.update({context: session.target.contextName, server: session.target.server, namespace: scopeName(session)})
  return session
}
