// The cronjob command's run: resolve where things live and which Secret holds the DB URL, build the
// manifests, then print them (YAML documents or a v1 List) or server-side apply them.
import yaml from 'js-yaml'
import type {CronjobOptions} from '../commands/cronjob.js'
import {ConfigError, UsageError} from '../errors.js'
import {type ApplyOutcome, kubectlName, serverSideApply} from '../kube/apply.js'
import {loadKubeTarget} from '../kube/config.js'
import {REPORTING_CONTROLLER} from '../core/events.js'
import {type DbSecretRef, type KubeManifest, buildManifests} from '../manifests/cronjob.js'
import {commonScope, scheduledCommand} from '../manifests/plan.js'
import {openKube} from '../reap/session.js'

export async function executeCronjob(options: CronjobOptions, signal: AbortSignal): Promise<void> {
  const {home, scope} = resolveNamespaces(options)
  const commands = options.commands.map((parsed) => scheduledCommand(parsed, scope))
  const manifests = buildManifests({
    prefix: options.prefix,
    namespace: home,
    image: options.image,
    version: options.version,
    schedule: options.schedule,
    suspend: options.suspend,
    db: dbSecret(options),
    historyPvc: options.historyPvc,
    commands,
  })
  if (!options.apply) {
    process.stdout.write(renderManifests(manifests, options.output))
    return
  }
  await applyAll(manifests, options, signal)
}

/**
 * `home`: where the account and the CronJobs live — the namespace of the DB Secret, since a
 * secretKeyRef reads from the pod's own namespace (--airflow-namespace, else -n, else the context's).
 * `scope`: where the commands act (-n, -A, else home).
 */
function resolveNamespaces(options: CronjobOptions): {home: string; scope: string | undefined} {
  const first = options.commands[0].flags
  const given = first['all-namespaces'] ? undefined : (first.namespace as string | undefined)
  const home = options.airflowNamespace ?? given ?? contextNamespace(options)
  return {home, scope: commonScope(options.commands, home)}
}

function contextNamespace(options: CronjobOptions): string {
  try {
    return loadKubeTarget({kubeconfig: options.kube.kubeconfig, context: options.kube.context}).namespace
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(`which namespace? pass -n NAMESPACE or --airflow-namespace NS (${error.message})`)
    throw error
  }
}

function dbSecret(options: CronjobOptions): DbSecretRef {
  if (options.dbSecret) return options.dbSecret
  throw new UsageError(
    'the CronJob reads the DB URL from the Secret Airflow uses: pass --db-secret NAME[:KEY] (the official chart names it <release>-airflow-metadata, key connection)',
  )
}

export function renderManifests(manifests: KubeManifest[], format: 'yaml' | 'json'): string {
  if (format === 'json') return `${JSON.stringify({apiVersion: 'v1', kind: 'List', metadata: {}, items: manifests}, null, 2)}\n`
  return manifests.map((m) => yaml.dump(m, {noRefs: true, lineWidth: -1, sortKeys: false})).join('---\n')
}

/** In order (the account and its roles before the CronJobs that use them); one line per object, as kubectl apply prints. */
async function applyAll(manifests: KubeManifest[], options: CronjobOptions, signal: AbortSignal): Promise<void> {
  const kube = openKube({...options.kube, allNamespaces: false})
  try {
    for (const manifest of manifests) {
      const outcome: ApplyOutcome = await serverSideApply(kube.client, manifest, {fieldManager: REPORTING_CONTROLLER, force: true, signal})
      process.stdout.write(`${kubectlName(manifest)} ${outcome}\n`)
    }
  } finally {
    kube.client.close()
  }
}
