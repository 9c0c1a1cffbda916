// The manifests that run airflow-reap commands in the cluster on a schedule: a ServiceAccount, the
// RBAC the commands use and nothing more (a Role + RoleBinding per namespace, or a ClusterRole +
// ClusterRoleBinding across all namespaces), and one CronJob per command, all sharing the account.
// Pure: the same spec always gives the same objects (the tests validate them against the Kubernetes
// OpenAPI schemas, and apply them to the fake API server).
//
// What the pod needs, and why it needs nothing else:
// - The DB URL comes from the Secret Airflow itself uses, as a secretKeyRef env. The kubelet reads
//   that Secret with the node's identity when it starts the container, so the service account needs
//   no RBAC on secrets at all, and the URL is never written into a manifest.
// - In the cluster the URL's host (a Service name) resolves, so the command runs with
//   --port-forward never when it has that flag: no port-forward, no RBAC for services, endpoints or
//   pods/portforward.
// - Its API token is mounted only into this pod (the ServiceAccount itself opts out of automounting).
// - A command that reads Airflow's REST API instead (--airflow-url) takes the API's credentials from a
//   Secret the same way (a token, or a username and password, as the variables the CLI reads), and
//   no DB Secret at all; the URL itself is no secret and stays in the arguments.
import {PASSWORD_ENV, TOKEN_ENV, USERNAME_ENV} from '../airflow-api/auth.js'
import {REPORTING_CONTROLLER} from '../core/events.js'
import {type ApiRule, policyRulesByNamespace} from '../core/permissions.js'

export type CronJobCommandName = 'zombies' | 'overdue' | 'unstick'

export interface ScheduledCommand {
  command: CronJobCommandName
  /** The command's arguments as the container runs them (after the command name). */
  args: string[]
  /** The API permissions the command uses with these flags (core/permissions.ts). */
  rules: ApiRule[]
  /** Job.spec.activeDeadlineSeconds: longer than every bound of the command's own. */
  activeDeadlineSeconds: number
  /** Where its task instances come from: the DB, Airflow's REST API (--airflow-url), or nowhere (unstick). */
  taskSource: 'db' | 'api' | 'none'
  /** It runs --airflow-token-cmd, which needs no credentials from a Secret. */
  tokenCommand?: boolean
}

/** Whether the command reads the Airflow DB (zombies, overdue on the DB); unstick only talks to the API server. */
export function readsDb(command: Pick<ScheduledCommand, 'taskSource'>): boolean {
  return command.taskSource === 'db'
}

export interface DbSecretRef {
  name: string
  key: string
}

/** Where the pod takes the Airflow API's credentials from (cronjob --airflow-token-secret / --airflow-password-secret). */
export type ApiCredentialsRef = {kind: 'token'; secret: DbSecretRef} | {kind: 'password'; name: string}

/** The keys of an --airflow-password-secret Secret. */
export const PASSWORD_SECRET_KEYS = {username: 'username', password: 'password'} as const

export interface ManifestSpec {
  /** Names of the objects: `<prefix>` (account, roles) and `<prefix>-<command>` (CronJobs). */
  prefix: string
  /** Where the ServiceAccount and the CronJobs live: the namespace of the DB Secret (a secretKeyRef is namespace-local). */
  namespace: string
  image: string
  /** This airflow-reap's version (a label of every object). */
  version: string
  schedule: string
  suspend: boolean
  /** The Secret holding the DB URL; undefined when no command reads the DB (unstick alone, or the API). */
  db?: DbSecretRef
  /** The Secret holding the Airflow API's credentials; undefined when no command reads the API (or it runs a token command). */
  apiCredentials?: ApiCredentialsRef
  /** A PersistentVolumeClaim for the run store; undefined: the run store is off (--no-cache). */
  historyPvc?: string
  commands: ScheduledCommand[]
}

export interface KubeManifest {
  apiVersion: string
  kind: string
  metadata: {name: string; namespace?: string; labels?: Record<string, string>}
  [field: string]: unknown
}

/** The Dockerfile's user (distroless `nonroot`). */
export const RUN_AS_USER = 65532
export const HISTORY_MOUNT = '/var/lib/airflow-reap'
/** The single executable unpacks the app here on its first start (a writable emptyDir: the root file system is read-only). */
export const APP_CACHE = '/tmp/airflow-reap'
export const DB_ENV = 'AIRFLOW_REAP_DB'

/**
 * Sized from bench/README.md (0.3.0, pods with a real server's managedFields): `zombies -A` peaks at
 * 180 MB RSS over 50,000 pods and 131 MB over 10,000, 301 MB (at most 310 MB) over 150,000, Kubernetes'
 * largest supported cluster; a run takes about 6 s of one core at 50k. The request covers clusters to
 * about 100,000 pods; the limit, twice the request, covers 150,000 pods with room for the first
 * start's unpacking of the app (37 MB). No CPU limit: a throttled scan only takes longer while holding
 * its memory.
 */
export const POD_RESOURCES = {
  requests: {cpu: '100m', memory: '256Mi', 'ephemeral-storage': '128Mi'},
  limits: {memory: '512Mi', 'ephemeral-storage': '256Mi'},
}

/** A missed start (controller down, cluster busy) is still made up within 5 minutes, never later. */
export const STARTING_DEADLINE_SECONDS = 300
/** Finished Jobs (and their pods, with the report in the log) are kept a day, then deleted by the TTL controller. */
export const TTL_SECONDS_AFTER_FINISHED = 86_400

export function buildManifests(spec: ManifestSpec): KubeManifest[] {
  const rules = spec.commands.flatMap((c) => c.rules)
  const clusterWide = rules.some((r) => r.namespace === undefined)
  return [
    serviceAccount(spec),
    ...(clusterWide ? clusterRbac(spec, rules) : namespacedRbac(spec, rules)),
    ...spec.commands.map((command) => cronJob(spec, command)),
  ]
}

function labels(spec: ManifestSpec, component?: string): Record<string, string> {
  const result: Record<string, string> = {
    'app.kubernetes.io/name': REPORTING_CONTROLLER,
    'app.kubernetes.io/instance': spec.prefix,
    'app.kubernetes.io/version': spec.version,
  }
  if (component) result['app.kubernetes.io/component'] = component
  return result
}

function serviceAccount(spec: ManifestSpec): KubeManifest {
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: {name: spec.prefix, namespace: spec.namespace, labels: labels(spec)},
    // Its token goes only into the pods that ask for it: ours (the CronJob's pod template).
    automountServiceAccountToken: false,
  }
}

const subject = (spec: ManifestSpec) => ({kind: 'ServiceAccount', name: spec.prefix, namespace: spec.namespace})

/** A Role and RoleBinding in every namespace the commands act in. */
function namespacedRbac(spec: ManifestSpec, rules: ApiRule[]): KubeManifest[] {
  return policyRulesByNamespace(rules).flatMap(({namespace, rules: policyRules}) => [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: {name: spec.prefix, namespace: namespace!, labels: labels(spec)},
      rules: policyRules,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: {name: spec.prefix, namespace: namespace!, labels: labels(spec)},
      roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: spec.prefix},
      subjects: [subject(spec)],
    },
  ])
}

/** -A: one ClusterRole and ClusterRoleBinding, named after the account's namespace too (they are cluster-wide). */
function clusterRbac(spec: ManifestSpec, rules: ApiRule[]): KubeManifest[] {
  const name = `${spec.prefix}-${spec.namespace}`
  const everywhere = rules.map((r) => ({...r, namespace: undefined}))
  const [{rules: policyRules}] = policyRulesByNamespace(everywhere)
  return [
    {apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: {name, labels: labels(spec)}, rules: policyRules},
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: {name, labels: labels(spec)},
      roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name},
      subjects: [subject(spec)],
    },
  ]
}

/** The container's arguments: the command's own, the JSON report to the log, and the run store (a PVC, or none). */
export function containerArgs(spec: Pick<ManifestSpec, 'historyPvc'>, command: ScheduledCommand): string[] {
  const store = spec.historyPvc ? ['--cache', `${HISTORY_MOUNT}/runs.sqlite`] : ['--no-cache']
  return [command.command, ...command.args, '-o', 'json', ...store]
}

/** A variable the kubelet fills from a Secret when it starts the container: never a value in the manifest. */
function secretEnv(name: string, ref: DbSecretRef): Record<string, unknown> {
  return {name, valueFrom: {secretKeyRef: {name: ref.name, key: ref.key}}}
}

/** The variables the CLI reads its API credentials from (src/airflow-api/auth.ts), each from the Secret. */
function apiCredentialEnv(credentials: ApiCredentialsRef): Record<string, unknown>[] {
  if (credentials.kind === 'token') return [secretEnv(TOKEN_ENV, credentials.secret)]
  return [
    secretEnv(USERNAME_ENV, {name: credentials.name, key: PASSWORD_SECRET_KEYS.username}),
    secretEnv(PASSWORD_ENV, {name: credentials.name, key: PASSWORD_SECRET_KEYS.password}),
  ]
}

function cronJob(spec: ManifestSpec, command: ScheduledCommand): KubeManifest {
  const component = command.command
  const volumes: Record<string, unknown>[] = [{name: 'tmp', emptyDir: {sizeLimit: '128Mi'}}]
  const mounts: Record<string, unknown>[] = [{name: 'tmp', mountPath: '/tmp'}]
  if (spec.historyPvc) {
    volumes.push({name: 'history', persistentVolumeClaim: {claimName: spec.historyPvc}})
    mounts.push({name: 'history', mountPath: HISTORY_MOUNT})
  }
  const podLabels = labels(spec, component)
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: {name: `${spec.prefix}-${command.command}`, namespace: spec.namespace, labels: podLabels},
    spec: {
      schedule: spec.schedule,
      suspend: spec.suspend,
      // A run still going when the next one is due: the next one is skipped, never run beside it.
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: STARTING_DEADLINE_SECONDS,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        metadata: {labels: podLabels},
        spec: {
          // A failed run is reported by the next one; retrying at once would only repeat it.
          backoffLimit: 0,
          activeDeadlineSeconds: command.activeDeadlineSeconds,
          ttlSecondsAfterFinished: TTL_SECONDS_AFTER_FINISHED,
          template: {
            metadata: {labels: podLabels},
            spec: {
              serviceAccountName: spec.prefix,
              automountServiceAccountToken: true,
              restartPolicy: 'Never',
              securityContext: {
                runAsNonRoot: true,
                runAsUser: RUN_AS_USER,
                runAsGroup: RUN_AS_USER,
                // The history volume is writable by the run's group.
                ...(spec.historyPvc ? {fsGroup: RUN_AS_USER} : {}),
                seccompProfile: {type: 'RuntimeDefault'},
              },
              containers: [
                {
                  name: REPORTING_CONTROLLER,
                  image: spec.image,
                  imagePullPolicy: 'IfNotPresent',
                  args: containerArgs(spec, command),
                  env: [
                    // unstick reads no DB: its pod must not wait on a Secret it never uses.
                    ...(spec.db && readsDb(command) ? [secretEnv(DB_ENV, spec.db)] : []),
                    ...(spec.apiCredentials && command.taskSource === 'api' ? apiCredentialEnv(spec.apiCredentials) : []),
                    {name: 'AIRFLOW_REAP_APP_CACHE', value: APP_CACHE},
                  ],
                  resources: POD_RESOURCES,
                  securityContext: {
                    allowPrivilegeEscalation: false,
                    readOnlyRootFilesystem: true,
                    runAsNonRoot: true,
                    capabilities: {drop: ['ALL']},
                  },
                  volumeMounts: mounts,
                },
              ],
              volumes,
            },
          },
        },
      },
    },
  }
}
