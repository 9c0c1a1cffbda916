// The Kubernetes API permissions each command needs, from the flags that change what it calls: one
// table shared by `doctor` (which asks the API server about each rule with a SelfSubjectAccessReview)
// and `cronjob` (which grants exactly these rules in the Role it generates, and no more).
//
// Read from the calls the commands make (src/kube/, src/reap/, the DB discovery of src/cluster-db/):
// - zombies, overdue: list pods (metadata only, and by phase above 100 findings), get pods (the phase
//   of each finding), delete pods (UID-guarded; also with --dry-run=server, which sends dryRun=All).
// - unstick: list (scanned types) or get (named objects) each type; get jobs (the spec of each stuck
//   Job, for advice); list the dependent types (pods of a Job, jobs of a CronJob...); patch the
//   finalizers; delete dependents (--delete-dependents); get again to wait (--wait).
// - events: create events.k8s.io events about each delete or patch really applied (not dry runs).
// - DB discovery: get the Secret (by name when it is known), list deployments and statefulsets (the
//   scheduler's pod template), list secrets (the `<release>-airflow-metadata` fallback); the
//   port-forward: get services, list endpointslices, get and create pods/portforward (a WebSocket
//   port-forward is a GET; Kubernetes 1.35 checks `create` too), get pods (only for a named
//   targetPort the EndpointSlice does not resolve).
// `/version` and SelfSubjectAccessReviews are open to every authenticated user (the default
// ClusterRoles system:public-info-viewer and system:basic-user): they are not listed.
import {DEPENDENT_RESOURCES, DEPENDENT_TYPES} from './unstick.js'

export type CommandName = 'zombies' | 'overdue' | 'unstick' | 'doctor' | 'history'

/** The commands that read the Airflow DB (unstick and history do not). */
const DB_COMMANDS: readonly CommandName[] = ['zombies', 'overdue', 'doctor']

export type Verb = 'get' | 'list' | 'create' | 'patch' | 'delete'

/** One verb on one resource: what a SelfSubjectAccessReview asks and a PolicyRule grants. */
export interface ApiRule {
  verb: Verb
  /** '' for the core group. */
  group: string
  /** Plural: `pods`, `jobs`. */
  resource: string
  /** `portforward` for `pods/portforward`. */
  subresource?: string
  /** Only these objects (sorted); undefined: any. */
  resourceNames?: string[]
  /** Where: one namespace; undefined: every namespace (a ClusterRole). */
  namespace?: string
  /** Why the command calls it, as a phrase (`list KubernetesPodOperator pods`). */
  purpose: string
  /**
   * Without it the command still runs and only loses something (an advice, an Event), with a
   * warning; a missing rule without this flag makes the command fail.
   */
  bestEffort?: boolean
}

/** A resource type as the table needs it (src/kube/resources.ts's ResourceType fits). */
export interface ResourceRef {
  kind: string
  group: string
  plural: string
}

export interface UnstickTargetRef {
  resource: ResourceRef
  /** A named object (TYPE/NAME); undefined: the type is scanned. */
  name?: string
}

/**
 * What a run sends beyond reads: nothing (a report, the default), its writes with dryRun=All
 * (--dry-run=server), or real writes (which also post Events).
 */
export type Writes = 'none' | 'server-dry-run' | 'real'

/** Where the DB URL comes from when the cluster is asked for it (nothing to ask: a flag or env URL). */
export interface DbAccess {
  /** The Secret holding the URL: `name` known (--db-secret, or found once), else discovered at run time. */
  secret?: {namespace: string; name?: string}
  /** The DB host is a Service reached through a port-forward over the API server. */
  portForward?: {namespace: string; service?: string}
}

export interface PermissionQuery {
  command: CommandName
  /** The -n namespace; undefined: every namespace (-A). */
  namespace?: string
  writes?: Writes
  /** Events about applied writes (default true; --no-events: false). */
  events?: boolean
  unstick?: {targets: UnstickTargetRef[]; deleteDependents: boolean; wait: boolean}
  db?: DbAccess
}

/** The pod-deleting commands' flags → Writes. `--delete` alone may write after a confirmation on a terminal. */
export function podWrites(flags: {delete: boolean; dryRunMode?: 'client' | 'server'}): Writes {
  if (!flags.delete || flags.dryRunMode === 'client') return 'none'
  return flags.dryRunMode === 'server' ? 'server-dry-run' : 'real'
}

/** unstick's flags → Writes: it patches with --yes (or --dry-run=server). */
export function unstickWrites(flags: {yes: boolean; dryRunMode?: 'client' | 'server'}): Writes {
  if (flags.dryRunMode === 'server') return 'server-dry-run'
  return flags.yes && flags.dryRunMode === undefined ? 'real' : 'none'
}

const POD: ResourceRef = {kind: 'Pod', group: '', plural: 'pods'}

type RuleInput = Omit<ApiRule, 'purpose' | 'bestEffort'>

function rule(on: ResourceRef, verb: Verb, namespace: string | undefined, purpose: string, extra: Partial<ApiRule> = {}): ApiRule {
  return {verb, group: on.group, resource: on.plural, namespace, purpose, ...extra}
}

/** Every rule the command needs with these flags, in a stable order, one per verb/resource/scope. */
export function requiredRules(query: PermissionQuery): ApiRule[] {
  const readsDb = DB_COMMANDS.includes(query.command)
  const rules = [...commandRules(query), ...eventRules(query), ...(readsDb ? dbRules(query.db) : [])]
  return mergeRules(rules)
}

function commandRules(query: PermissionQuery): ApiRule[] {
  const ns = query.namespace
  switch (query.command) {
    case 'zombies':
    case 'overdue': {
      const rules = [
        rule(POD, 'list', ns, 'list KubernetesPodOperator pods (metadata only)'),
        rule(POD, 'get', ns, 'read the phase of each finding'),
      ]
      if ((query.writes ?? 'none') !== 'none') rules.push(rule(POD, 'delete', ns, `delete ${query.command === 'zombies' ? 'zombie' : 'overdue'} pods (UID-guarded)`))
      return rules
    }
    case 'unstick':
      return unstickRules(query)
    case 'doctor':
      return [rule(POD, 'list', ns, 'count KubernetesPodOperator pods')]
    case 'history':
      return []
  }
}

function unstickRules(query: PermissionQuery): ApiRule[] {
  const ns = query.namespace
  const writes = query.writes ?? 'none'
  const {targets = [], deleteDependents = false, wait = false} = query.unstick ?? {}
  const rules: ApiRule[] = []
  for (const resource of uniqueResources(targets)) {
    const ofType = targets.filter((t) => t.resource.plural === resource.plural && t.resource.group === resource.group)
    const scanned = ofType.some((t) => t.name === undefined)
    // Only named objects of this type: the reads and writes concern those names alone.
    const names = scanned ? undefined : {resourceNames: [...new Set(ofType.map((t) => t.name!))].sort()}
    if (scanned) rules.push(rule(resource, 'list', ns, `list ${resource.plural} being deleted (metadata only)`))
    else rules.push(rule(resource, 'get', ns, `read the named ${resource.plural}`, names))
    if (resource.kind === 'Job' && scanned) {
      rules.push(rule(resource, 'get', ns, 'read stuck Jobs for advice on ttlSecondsAfterFinished', {bestEffort: true}))
    }
    for (const plural of DEPENDENT_TYPES[resource.kind] ?? []) {
      const dependent = {...DEPENDENT_RESOURCES[plural], plural}
      rules.push(rule(dependent, 'list', ns, `list the ${plural} a stuck ${resource.kind} owns`))
      if (writes !== 'none' && deleteDependents) rules.push(rule(dependent, 'delete', ns, `delete the ${plural} of a foreground deletion (--delete-dependents)`))
    }
    if (writes !== 'none') rules.push(rule(resource, 'patch', ns, 'remove garbage-collector finalizers (guarded JSON patch)', names))
    if (writes === 'real' && wait) rules.push(rule(resource, 'get', ns, 'wait until the name is free (--wait)', names))
  }
  return rules
}

function uniqueResources(targets: readonly UnstickTargetRef[]): ResourceRef[] {
  const seen = new Map<string, ResourceRef>()
  for (const {resource} of targets) seen.set(`${resource.group}/${resource.plural}`, resource)
  return [...seen.values()]
}

function eventRules(query: PermissionQuery): ApiRule[] {
  if (query.writes !== 'real' || query.events === false || !['zombies', 'overdue', 'unstick'].includes(query.command)) return []
  const events = {kind: 'Event', group: 'events.k8s.io', plural: 'events'}
  return [rule(events, 'create', query.namespace, 'post an Event about each delete or patch', {bestEffort: true})]
}

function dbRules(db: DbAccess | undefined): ApiRule[] {
  const rules: ApiRule[] = []
  const secrets = {kind: 'Secret', group: '', plural: 'secrets'}
  if (db?.secret?.name !== undefined) {
    rules.push(rule(secrets, 'get', db.secret.namespace, 'read the DB URL from its Secret', {resourceNames: [db.secret.name]}))
  } else if (db?.secret) {
    const ns = db.secret.namespace
    rules.push(
      rule({kind: 'Deployment', group: 'apps', plural: 'deployments'}, 'list', ns, "find the scheduler's DB connection setting"),
      rule({kind: 'StatefulSet', group: 'apps', plural: 'statefulsets'}, 'list', ns, "find the scheduler's DB connection setting"),
      rule(secrets, 'get', ns, 'read the DB URL from the Secret the scheduler uses'),
      rule(secrets, 'list', ns, 'find the <release>-airflow-metadata Secret when no scheduler workload exists', {bestEffort: true}),
    )
  }
  if (db?.portForward) {
    const {namespace: ns, service} = db.portForward
    const names = service ? {resourceNames: [service]} : {}
    rules.push(
      rule({kind: 'Service', group: '', plural: 'services'}, 'get', ns, "read the DB Service's ports", names),
      rule({kind: 'EndpointSlice', group: 'discovery.k8s.io', plural: 'endpointslices'}, 'list', ns, 'find a ready pod behind the DB Service'),
      rule(POD, 'get', ns, "read the DB pod's named container port when its EndpointSlice gives none", {bestEffort: true}),
      rule(POD, 'get', ns, 'port-forward to the DB pod', {subresource: 'portforward'}),
      rule(POD, 'create', ns, 'port-forward to the DB pod (checked since Kubernetes 1.35)', {subresource: 'portforward'}),
    )
  }
  return rules
}

/** One key per verb, resource, scope and names: rules that grant the same thing share it. */
export function ruleKey(r: RuleInput): string {
  return [r.verb, r.group, r.resource, r.subresource ?? '', r.namespace ?? '*', (r.resourceNames ?? []).join(',')].join('\u0000')
}

/**
 * One rule per verb/resource/scope: a rule for any name covers the same rule for some names; the
 * first purpose wins; a rule is best effort only when every use of it is.
 */
function mergeRules(rules: readonly ApiRule[]): ApiRule[] {
  const general = new Set(rules.filter((r) => r.resourceNames === undefined).map((r) => ruleKey(r)))
  const merged = new Map<string, ApiRule>()
  for (const r of rules) {
    const covered = r.resourceNames !== undefined && general.has(ruleKey({...r, resourceNames: undefined}))
    const target: ApiRule = covered ? {...r, resourceNames: undefined} : {...r}
    const key = ruleKey(target)
    const seen = merged.get(key)
    if (!seen) merged.set(key, withoutUndefined(target))
    else if (!r.bestEffort) delete seen.bestEffort
  }
  return [...merged.values()]
}

function withoutUndefined(r: ApiRule): ApiRule {
  const clean: ApiRule = {...r}
  if (clean.resourceNames === undefined) delete clean.resourceNames
  if (clean.subresource === undefined) delete clean.subresource
  if (clean.namespace === undefined) delete clean.namespace
  if (!clean.bestEffort) delete clean.bestEffort
  return clean
}

/** `get pods/portforward`, `list jobs.batch`, `get secrets airflow-metadata`: a rule as kubectl auth can-i names it. */
export function describeRule(r: Pick<ApiRule, 'verb' | 'group' | 'resource' | 'subresource' | 'resourceNames'>): string {
  const resource = `${r.resource}${r.group ? `.${r.group}` : ''}${r.subresource ? `/${r.subresource}` : ''}`
  return `${r.verb} ${resource}${r.resourceNames ? ` ${r.resourceNames.join(',')}` : ''}`
}

/** `in namespace "airflow"` or `in every namespace`. */
export function describeScope(namespace: string | undefined): string {
  return namespace === undefined ? 'in every namespace' : `in namespace "${namespace}"`
}

/** A Kubernetes RBAC PolicyRule (rbac.authorization.k8s.io/v1). */
export interface PolicyRule {
  apiGroups: string[]
  resources: string[]
  verbs: string[]
  resourceNames?: string[]
}

/**
 * The rules as RBAC PolicyRules, one set per namespace (undefined: a ClusterRole's), verbs merged
 * per resource and name set, in a stable order.
 */
export function policyRulesByNamespace(rules: readonly ApiRule[]): Array<{namespace?: string; rules: PolicyRule[]}> {
  const byNamespace = new Map<string, Map<string, PolicyRule>>()
  for (const r of rules) {
    const nsKey = r.namespace ?? ''
    if (!byNamespace.has(nsKey)) byNamespace.set(nsKey, new Map())
    const resource = r.subresource ? `${r.resource}/${r.subresource}` : r.resource
    const key = [r.group, resource, (r.resourceNames ?? []).join(',')].join('\u0000')
    const policies = byNamespace.get(nsKey)!
    const existing = policies.get(key)
    if (existing) {
      if (!existing.verbs.includes(r.verb)) existing.verbs.push(r.verb)
      continue
    }
    const policy: PolicyRule = {apiGroups: [r.group], resources: [resource], verbs: [r.verb]}
    if (r.resourceNames) policy.resourceNames = [...r.resourceNames]
    policies.set(key, policy)
  }
  return [...byNamespace.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([ns, policies]) => {
      const sorted = [...policies.values()].map((p) => ({...p, verbs: [...p.verbs].sort()}))
      return ns === '' ? {rules: sorted} : {namespace: ns, rules: sorted}
    })
}
