// The cronjob command's run: resolve where things live and which Secret holds the DB URL, build the
// manifests, then print them (YAML documents or a v1 List) or server-side apply them.
import {renderDocument} from '../render/output.js'
import type {CronjobOptions} from '../commands/cronjob.js'
import {ConfigError, InterruptedError, ReapError, UsageError} from '../errors.js'
import {type ApplyOutcome, kubectlName, serverSideApply} from '../kube/apply.js'
import {loadKubeTarget} from '../kube/config.js'
import {REPORTING_CONTROLLER} from '../core/events.js'
import {type ApiCredentialsRef, type DbSecretRef, type KubeManifest, PASSWORD_SECRET_KEYS, type ScheduledCommand, buildManifests, readsDb} from '../manifests/cronjob.js'
import {commonScope, scheduledCommand} from '../manifests/plan.js'
import {dbSecretProblem, locateDbSecret} from '../cluster-db/locate.js'
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
    db: commands.some(readsDb) ? await dbSecret(options, home, signal) : undefined,
    apiCredentials: await apiCredentials(options, commands, home, signal),
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

/**
 * The Secret the pod reads the DB URL from: --db-secret, else the one Airflow itself uses in its
 * namespace, found as `zombies` finds it (the scheduler's pod template, else `<release>-airflow-metadata`).
 */
async function dbSecret(options: CronjobOptions, namespace: string, signal: AbortSignal): Promise<DbSecretRef> {
  if (options.dbSecret) {
    if (options.verify) await verifyDbSecret(options, options.dbSecret, namespace, signal)
    return options.dbSecret
  }
  let kube
  try {
    kube = openKube({...options.kube, namespace, allNamespaces: false})
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(`finding the Secret Airflow takes its DB URL from needs the cluster: ${error.message}; or pass --db-secret NAME[:KEY]`)
    throw error
  }
  try {
    return await locateDbSecret(kube.client, namespace, signal)
  } finally {
    kube.client.close()
  }
}

/**
 * A command reading the Airflow API (--airflow-url) in a pod takes its credentials from a Secret, never
 * from a flag value or the manifest: --airflow-token-secret or --airflow-password-secret (verified as
 * --db-secret is). Only a command that runs its own --airflow-token-cmd needs neither.
 */
async function apiCredentials(options: CronjobOptions, commands: ScheduledCommand[], namespace: string, signal: AbortSignal): Promise<ApiCredentialsRef | undefined> {
  const readers = commands.filter((c) => c.taskSource === 'api')
  const given = options.apiCredentials
  if (readers.length === 0) {
    if (given) throw new UsageError('--airflow-token-secret and --airflow-password-secret are for a command that reads the Airflow REST API (--airflow-url); none does')
    return undefined
  }
  if (!given) {
    const bare = readers.find((c) => !c.tokenCommand)
    if (bare) {
      throw new UsageError(
        `${bare.command} --airflow-url in a CronJob needs the API's credentials from a Secret: --airflow-token-secret NAME[:KEY] (a bearer token) or --airflow-password-secret NAME (keys username and password)`,
      )
    }
    return undefined
  }
  if (options.verify) {
    const refs = given.kind === 'token' ? [given.secret] : Object.values(PASSWORD_SECRET_KEYS).map((key) => ({name: given.name, key}))
    const flag = given.kind === 'token' ? '--airflow-token-secret' : '--airflow-password-secret'
    for (const ref of refs) await verifyDbSecret(options, ref, namespace, signal, flag)
  }
  return given
}

/**
 * --db-secret names a Secret that must exist, with its key, or the pod never starts: checked when a
 * cluster is configured (a missing one is exit 1); when it cannot be asked, a warning says so. The
 * API's credential Secrets are checked alike (`flag` names which).
 */
async function verifyDbSecret(options: CronjobOptions, ref: DbSecretRef, namespace: string, signal: AbortSignal, flag = '--db-secret'): Promise<void> {
  const notVerified = (why: string): void => {
    process.stderr.write(`warning: ${flag} ${ref.name}:${ref.key} not verified (${why}); --no-verify skips the check\n`)
  }
  let kube
  try {
    kube = openKube({...options.kube, namespace, allNamespaces: false})
  } catch (error) {
    // No kubeconfig: manifests printed for a GitOps repository, away from any cluster; nothing to ask.
    if (error instanceof ConfigError) return
    throw error
  }
  let problem: string | undefined
  try {
    const hint = flag === '--db-secret' ? undefined : `create it in ${namespace}, the CronJob's namespace, with the API's credentials; kubectl get secrets -n ${namespace} lists them`
    problem = await dbSecretProblem(kube.client, namespace, ref, signal, hint)
  } catch (error) {
    if (error instanceof ReapError && !(error instanceof InterruptedError)) return notVerified(error.message)
    throw error
  } finally {
    kube.client.close()
  }
  if (problem) throw new ReapError(`${problem}; pass --no-verify to write the manifests anyway`)
}

function renderManifests(manifests: KubeManifest[], format: 'yaml' | 'json'): string {
  if (format === 'json') return renderDocument({apiVersion: 'v1', kind: 'List', metadata: {}, items: manifests}, 'json')
  return manifests.map((m) => renderDocument(m, 'yaml')).join('---\n')
}

/** The labels every manifest carries that say which airflow-reap it is (name and instance). */
function ownership(manifest: KubeManifest): Record<string, string> {
  const labels = manifest.metadata.labels ?? {}
  return Object.fromEntries(['app.kubernetes.io/name', 'app.kubernetes.io/instance'].filter((key) => key in labels).map((key) => [key, labels[key]]))
}

/** In order (the account and its roles before the CronJobs that use them); one line per object, as kubectl apply prints. */
async function applyAll(manifests: KubeManifest[], options: CronjobOptions, signal: AbortSignal): Promise<void> {
  const kube = openKube({...options.kube, allNamespaces: false})
  try {
    for (const manifest of manifests) {
      // force takes over fields of an earlier apply (kubectl edit, a changed field manager); ownedBy
      // keeps it from taking over an object of the same name that is not ours.
      const outcome: ApplyOutcome = await serverSideApply(kube.client, manifest, {fieldManager: REPORTING_CONTROLLER, force: true, ownedBy: ownership(manifest), signal})
      process.stdout.write(`${kubectlName(manifest)} ${outcome}\n`)
    }
  } finally {
    kube.client.close()
  }
}
