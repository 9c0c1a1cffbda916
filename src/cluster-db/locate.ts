// Where the Airflow metadata DB URL is: --db, then the environment (src/airflow/resolve.ts), then the
// cluster, the way a user with kubectl access would find it by hand (CLI contract, "Finding the
// Airflow DB in the cluster"): --db-secret, else the Secret (or literal value) the scheduler's pod
// template gives AIRFLOW__DATABASE__SQL_ALCHEMY_CONN, else the one `<release>-airflow-metadata`.
// The official chart's shapes (chart/templates/_helpers.yaml `standard_airflow_environment`,
// scheduler-deployment.yaml, secrets/metadata-connection-secret.yaml) are matched exactly.
import {findDbUrl} from '../airflow/resolve.js'
import type {DbUrl} from '../airflow/types.js'
import {parseDbUrl} from '../airflow/url.js'
import {ForbiddenError, UsageError} from '../errors.js'
import type {KubeClient} from '../kube/client.js'
import type {KubeObject} from '../kube/convert.js'
import {DEFAULT_DB_TIMEOUT_SECONDS} from '../core/timeouts.js'
import type {DbSource} from './source.js'
import {describeSource} from './source.js'

export interface LocateDbOptions {
  /** --db */
  db?: string
  /** --airflow-namespace; default: the -n namespace, else the context's. */
  airflowNamespace?: string
  /** --db-secret NAME[:KEY] */
  dbSecret?: string
  env?: NodeJS.ProcessEnv
  /** --db-timeout: bounds the connect, each query, and a `*_CMD`; 0: no limit. Default DEFAULT_DB_TIMEOUT_SECONDS. */
  timeoutSeconds?: number
}

/** What locateDb needs of the cluster: a client and the namespace `-n` (else the context) names. */
export interface ClusterAccess {
  client: KubeClient
  target: {namespace: string}
}

export interface LocatedDb {
  url: DbUrl
  source: DbSource
  /** Where Airflow runs: a bare Service name in the URL's host is looked up here. */
  namespace: string
}

/** The chart's variables, [database] before the deprecated [core] spelling (Airflow's own precedence). */
export const CONN_VARIABLES = ['AIRFLOW__DATABASE__SQL_ALCHEMY_CONN', 'AIRFLOW__CORE__SQL_ALCHEMY_CONN'] as const
/** How the official chart labels its scheduler Deployment / StatefulSet. */
export const SCHEDULER_SELECTOR = 'component=scheduler'
/** The chart's metadata Secret: `<release>-airflow-metadata`, key `connection`. */
export const METADATA_SECRET_SUFFIX = '-airflow-metadata'
export const DEFAULT_SECRET_KEY = 'connection'

const HOW_TO_CHOOSE = 'pass --db-secret NAME[:KEY] (or --db URL)'

export async function locateDb(options: LocateDbOptions, kube: ClusterAccess, signal?: AbortSignal): Promise<LocatedDb> {
  const namespace = options.airflowNamespace || kube.target.namespace
  if (options.db !== undefined && options.dbSecret !== undefined) throw new UsageError('--db and --db-secret cannot be used together')
  // An explicit --db-secret wins over the environment: it is the user's choice for this run.
  if (options.dbSecret === undefined) {
    const given = await locateGivenDb(options, namespace, signal)
    if (given) return given
  }
  const reference = options.dbSecret !== undefined ? secretFlag(options.dbSecret, namespace) : await discover(kube.client, namespace, signal)
  return {...(await readReference(kube.client, reference, signal)), namespace}
}

/** The URL given here (--db, or the environment), with where it came from; undefined when none is. */
export async function locateGivenDb(
  options: Pick<LocateDbOptions, 'db' | 'env' | 'timeoutSeconds'>,
  namespace: string,
  signal?: AbortSignal,
): Promise<LocatedDb | undefined> {
  const timeoutMs = (options.timeoutSeconds ?? DEFAULT_DB_TIMEOUT_SECONDS) * 1000
  const given = await findDbUrl({flag: options.db, env: options.env, command: {timeoutMs, signal}})
  if (!given) return undefined
  return {url: given.url, source: given.source === '--db' ? {kind: 'flag'} : {kind: 'env', variable: given.source}, namespace}
}

/**
 * The Secret Airflow takes its DB URL from (the discovery of locateDb, without reading the value),
 * for manifests that hand the same Secret to a pod as a secretKeyRef (`cronjob`). A URL the
 * scheduler sets as a literal value has no Secret to refer to: a usage error.
 */
export async function locateDbSecret(client: KubeClient, namespace: string, signal?: AbortSignal): Promise<{name: string; key: string}> {
  const reference = await discover(client, namespace, signal)
  if (reference.kind === 'secret') return {name: reference.name, key: reference.key}
  throw new UsageError(
    `${describeSource(reference)} sets the DB URL as a literal value, not from a Secret, and a CronJob would have to carry it in its manifest: ` +
      'put the URL in a Secret and pass --db-secret NAME[:KEY]',
  )
}

/** A place the URL may be read from in the cluster. */
type Reference =
  | {kind: 'secret'; namespace: string; name: string; key: string}
  | {kind: 'pod-template'; namespace: string; workload: string; variable: string; value: string}

function secretFlag(text: string, namespace: string): Reference {
  return {kind: 'secret', namespace, ...parseDbSecretFlag(text)}
}

/** `--db-secret NAME[:KEY]`, the key defaulting to the chart's `connection`: what every command reads. */
/** A `NAME[:KEY]` Secret reference given to `flag` (--db-secret, or cronjob's --airflow-token-secret with its own default key). */
export function parseDbSecretFlag(text: string, flag = '--db-secret', defaultKey = DEFAULT_SECRET_KEY): {name: string; key: string} {
  const [name, key = defaultKey, ...rest] = text.split(':')
  if (rest.length > 0 || !name || !key) throw new UsageError(`${flag} "${text}" is not of the form NAME or NAME:KEY`)
  if (name.length > 253 || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) throw new UsageError(`${flag} "${name}" is not a valid object name`)
  if (!/^[-._a-zA-Z0-9]+$/.test(key)) throw new UsageError(`${flag} "${text}": "${key}" is not a valid Secret key`)
  return {name, key}
}

async function discover(client: KubeClient, namespace: string, signal?: AbortSignal): Promise<Reference> {
  const schedulers = await listSchedulers(client, namespace, signal)
  const fromEnv = unique(schedulers.flatMap((workload) => referencesOf(workload, namespace)))
  if (fromEnv.length === 1) return fromEnv[0]!
  if (fromEnv.length > 1) throw ambiguous(namespace, fromEnv, `the scheduler pod templates name ${fromEnv.length} different DB URLs`)
  const secrets = await metadataSecrets(client, namespace, schedulers, signal)
  if (secrets.length === 1) return secrets[0]!
  if (secrets.length > 1) throw ambiguous(namespace, secrets, `${secrets.length} Secrets named *${METADATA_SECRET_SUFFIX}`)
  const looked =
    schedulers.length === 0
      ? `no Deployment or StatefulSet labelled ${SCHEDULER_SELECTOR} and no Secret named *${METADATA_SECRET_SUFFIX}`
      : `the scheduler (${schedulers.map(workloadName).join(', ')}) sets no ${CONN_VARIABLES[0]} and no Secret named *${METADATA_SECRET_SUFFIX} exists`
  throw new UsageError(`cannot find the Airflow DB in namespace "${namespace}": ${looked}; ${HOW_TO_CHOOSE}, or --airflow-namespace NS`)
}

function ambiguous(namespace: string, candidates: Reference[], what: string): UsageError {
  const names = candidates.map((c) => describeSource(c)).join(', ')
  return new UsageError(`cannot choose the Airflow DB in namespace "${namespace}": ${what} (${names}); ${HOW_TO_CHOOSE}`)
}

interface EnvVar {
  name?: string
  value?: string
  valueFrom?: {secretKeyRef?: {name?: string; key?: string}}
}

interface Container {
  name?: string
  env?: EnvVar[]
}

async function listSchedulers(client: KubeClient, namespace: string, signal?: AbortSignal): Promise<KubeObject[]> {
  const lists = await Promise.all(
    (['deployments', 'statefulsets'] as const).map((plural) =>
      kubeCall(`list ${plural}.apps`, namespace, () =>
        client.request<{items?: KubeObject[]}>({
          method: 'GET',
          path: `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/${plural}`,
          query: {labelSelector: SCHEDULER_SELECTOR},
          signal,
        }),
      ).then((response) => (response.body.items ?? []).map((item) => ({...item, kind: plural === 'deployments' ? 'Deployment' : 'StatefulSet'}))),
    ),
  )
  return lists.flat().sort((a, b) => workloadName(a).localeCompare(workloadName(b)))
}

function workloadName(workload: KubeObject): string {
  return `${(workload.kind ?? 'deployment').toLowerCase()}/${workload.metadata.name ?? ''}`
}

/**
 * What a workload's pod template gives the connection variable: in each container the last entry
 * of a name wins (as the kubelet builds the environment), [database] before [core].
 */
function referencesOf(workload: KubeObject, namespace: string): Reference[] {
  const template = workload.spec?.template as {spec?: {containers?: Container[]}} | undefined
  const references: Reference[] = []
  for (const container of template?.spec?.containers ?? []) {
    for (const variable of CONN_VARIABLES) {
      const entry = (container.env ?? []).filter((e) => e.name === variable).at(-1)
      if (!entry) continue
      const ref = entry.valueFrom?.secretKeyRef
      if (ref?.name) references.push({kind: 'secret', namespace, name: ref.name, key: ref.key || DEFAULT_SECRET_KEY})
      else if (entry.value) references.push({kind: 'pod-template', namespace, workload: workloadName(workload), variable, value: entry.value})
      break
    }
  }
  return references
}

/** Same place twice (two schedulers of one release, two containers) is one candidate. */
function unique(references: Reference[]): Reference[] {
  const seen = new Map<string, Reference>()
  for (const reference of references) {
    const key = reference.kind === 'secret' ? describeSource(reference) : `${reference.namespace}\u0000${reference.value}`
    if (!seen.has(key)) seen.set(key, reference)
  }
  return [...seen.values()]
}

/**
 * `<release>-airflow-metadata` Secrets: by the schedulers' `release` label when there are schedulers
 * (one `get` each), otherwise by listing the namespace's Secrets (names only).
 */
async function metadataSecrets(client: KubeClient, namespace: string, schedulers: KubeObject[], signal?: AbortSignal): Promise<Reference[]> {
  const releases = [...new Set(schedulers.map((s) => s.metadata.labels?.release).filter((r): r is string => Boolean(r)))]
  let names: string[]
  if (releases.length > 0) {
    const found = await Promise.all(releases.map(async (release) => ((await getSecret(client, namespace, `${release}${METADATA_SECRET_SUFFIX}`, signal)) ? release : undefined)))
    names = found.filter((r): r is string => r !== undefined).map((release) => `${release}${METADATA_SECRET_SUFFIX}`)
  } else {
    const response = await kubeCall('list secrets', namespace, () =>
      client.request<{items?: KubeObject[]}>({
        method: 'GET',
        path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`,
        // Names only: the values of every other Secret of the namespace are none of our business.
        accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1',
        signal,
      }),
    )
    names = (response.body.items ?? []).map((item) => item.metadata.name ?? '').filter((name) => name.endsWith(METADATA_SECRET_SUFFIX) && name !== METADATA_SECRET_SUFFIX)
  }
  return names.sort().map((name) => ({kind: 'secret', namespace, name, key: DEFAULT_SECRET_KEY}))
}

async function readReference(client: KubeClient, reference: Reference, signal?: AbortSignal): Promise<{url: DbUrl; source: DbSource}> {
  const source: DbSource =
    reference.kind === 'secret'
      ? {kind: 'secret', namespace: reference.namespace, name: reference.name, key: reference.key}
      : {kind: 'pod-template', namespace: reference.namespace, workload: reference.workload, variable: reference.variable}
  const label = describeSource(source)
  const text = reference.kind === 'secret' ? await secretValue(client, reference, signal) : reference.value
  const url = parseDbUrl(text, label)
  if (url.dialect === 'sqlite') {
    throw new UsageError(
      `${label} holds a sqlite URL: it names a file inside the Airflow pods, which cannot be read from here; ` +
        'pass --db with a URL of a PostgreSQL or MySQL DB this machine can reach',
    )
  }
  return {url, source}
}

async function secretValue(client: KubeClient, reference: Extract<Reference, {kind: 'secret'}>, signal?: AbortSignal): Promise<string> {
  const {namespace, name, key} = reference
  const secret = await getSecret(client, namespace, name, signal)
  if (!secret) throw new UsageError(`secret "${name}" not found in namespace "${namespace}"; ${HOW_TO_CHOOSE}, or --airflow-namespace NS`)
  const data = secret.data ?? {}
  const encoded = data[key]
  if (encoded === undefined) {
    // Key names only: never a value.
    const keys = Object.keys(data).sort()
    const listing = keys.length > 0 ? `its keys: ${keys.join(', ')}` : 'it has no data'
    throw new UsageError(`secret ${namespace}/${name} has no key "${key}" (${listing}); pass --db-secret ${name}:KEY`)
  }
  const value = Buffer.from(encoded, 'base64').toString('utf8').trim()
  if (value === '') throw new UsageError(`secret ${namespace}/${name} key "${key}" is empty`)
  return value
}

/**
 * What is wrong with a Secret a CronJob's pod would read the DB URL from (`cronjob --db-secret`): it
 * does not exist, or lacks the key; undefined when it is there. Reads key names only, never a value.
 */
export async function dbSecretProblem(
  client: KubeClient,
  namespace: string,
  ref: {name: string; key: string},
  signal?: AbortSignal,
  /** Where such a Secret usually is: the DB's by default; the Airflow API credentials' Secret is the user's own. */
  hint = `the official chart names it <release>${METADATA_SECRET_SUFFIX}; kubectl get secrets -n ${namespace} lists them; without --db-secret it is found in the cluster`,
): Promise<string | undefined> {
  const secret = await getSecret(client, namespace, ref.name, signal)
  if (!secret) return `secret ${namespace}/${ref.name} does not exist, so the CronJob's pod would never start (${hint})`
  const keys = Object.keys(secret.data ?? {}).sort()
  if (keys.includes(ref.key)) return undefined
  return `secret ${namespace}/${ref.name} has no key "${ref.key}" (${keys.length > 0 ? `its keys: ${keys.join(', ')}` : 'it has no data'}), so the CronJob's pod would never start`
}

async function getSecret(client: KubeClient, namespace: string, name: string, signal?: AbortSignal): Promise<{data?: Record<string, string>} | undefined> {
  const response = await kubeCall('get secrets', namespace, () =>
    client.request<{data?: Record<string, string>}>({
      method: 'GET',
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`,
      allowStatus: [404],
      signal,
    }),
  )
  return response.status === 404 ? undefined : response.body
}

/** An RBAC denial says what finding the DB needed and how to do without it. */
async function kubeCall<T>(what: string, namespace: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    if (!(error instanceof ForbiddenError)) throw error
    const [verb, resource] = what.split(' ')
    throw new ForbiddenError(
      `finding the Airflow DB needs "${what}" in namespace "${namespace}": ${error.message}; grant it, or ${HOW_TO_CHOOSE}`,
      error.verb ?? verb,
      error.resource ?? resource,
    )
  }
}
