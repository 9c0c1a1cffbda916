// Which permissions `doctor` asks about, and what a missing one means. The rules come from
// core/permissions.ts, the same table `cronjob` grants; each command line a user may run is one
// profile. Decision (README "doctor"): a permission missing for `doctor` itself or for the reports of
// zombies and overdue (the first thing everyone runs) fails; one missing only for deleting, for
// unstick, or one that only costs an Event or an advice, is a warning naming the command lines that
// need it.
import {
  type ApiRule,
  type DbAccess,
  type PermissionQuery,
  type UnstickTargetRef,
  describeRule,
  describeScope,
  requiredRules,
  ruleKey,
} from '../core/permissions.js'
import type {ResourceAttributes} from '../kube/access-review.js'
import type {CheckResult, PermissionResult} from './report.js'

export interface Profile {
  /** The command line, as the user would type it (`zombies --delete --yes`). */
  label: string
  query: PermissionQuery
  /** Missing required rules fail the check (else they warn). */
  essential: boolean
}

export interface ProfileScope {
  /** undefined: every namespace (-A). */
  namespace?: string
  /** How the commands will reach the DB with the flags doctor was given (undefined: a URL from a flag or env). */
  db?: DbAccess
  /** unstick's default types (jobs and pods). */
  unstickTargets: UnstickTargetRef[]
}

export function profiles(scope: ProfileScope): Profile[] {
  const {namespace, db} = scope
  const unstick = {targets: scope.unstickTargets, deleteDependents: false, wait: false}
  return [
    {label: 'doctor', essential: true, query: {command: 'doctor', namespace, db}},
    {label: 'zombies', essential: true, query: {command: 'zombies', namespace, db}},
    {label: 'overdue', essential: true, query: {command: 'overdue', namespace, db}},
    {label: 'zombies --delete --yes', essential: false, query: {command: 'zombies', namespace, db, writes: 'real'}},
    {label: 'overdue --delete --yes', essential: false, query: {command: 'overdue', namespace, db, writes: 'real'}},
    {label: 'unstick', essential: false, query: {command: 'unstick', namespace, unstick}},
    {label: 'unstick --yes', essential: false, query: {command: 'unstick', namespace, unstick, writes: 'real'}},
  ]
}

/** One SelfSubjectAccessReview: a rule for some names is asked once per name. */
export type AccessQuestion = ResourceAttributes

export {ruleKey}

export function questionsOf(rule: ApiRule): AccessQuestion[] {
  const base: AccessQuestion = {verb: rule.verb, group: rule.group, resource: rule.resource}
  if (rule.subresource) base.subresource = rule.subresource
  if (rule.namespace !== undefined) base.namespace = rule.namespace
  return rule.resourceNames ? rule.resourceNames.map((name) => ({...base, name})) : [base]
}

/** Every rule of every profile, once, with the profiles that need it. */
export function permissionTable(all: readonly Profile[]): Array<{rule: ApiRule; purposes: string[]; neededBy: string[]}> {
  const table = new Map<string, {rule: ApiRule; purposes: string[]; neededBy: string[]}>()
  for (const profile of all) {
    for (const rule of requiredRules(profile.query)) {
      const key = ruleKey(rule)
      const row = table.get(key) ?? {rule: {...rule}, purposes: [], neededBy: []}
      if (!row.purposes.includes(rule.purpose)) row.purposes.push(rule.purpose)
      row.neededBy.push(profile.label)
      // Best effort only if it is best effort for every command line using it.
      if (!rule.bestEffort) delete row.rule.bestEffort
      table.set(key, row)
    }
  }
  return [...table.values()]
}

/**
 * One line per profile: ok when every rule is allowed; fail (essential profile) or warn when a rule
 * the command cannot do without is missing; warn when only best-effort rules are missing. The same
 * consequence gets the same severity: a deleting command line that misses a rule an essential one
 * fails for (`get secrets`, say) fails too; one that misses only its own writes (`delete pods`: the
 * account may be meant to report only) warns.
 */
export function rbacChecks(all: readonly Profile[], allowed: (rule: ApiRule) => boolean): CheckResult[] {
  const essentialMissing = new Set(
    all.filter((p) => p.essential).flatMap((p) => requiredRules(p.query).filter((r) => !r.bestEffort && !allowed(r)).map(ruleKey)),
  )
  return all.map((profile) => {
    const rules = requiredRules(profile.query)
    const missing = rules.filter((r) => !allowed(r))
    const subject = profile.label
    if (missing.length === 0) {
      return {check: 'rbac', subject, status: 'ok', message: rules.length === 1 ? 'its 1 permission is granted' : `all ${rules.length} permissions granted`}
    }
    const needed = missing.filter((r) => !r.bestEffort)
    const failsAlike = needed.some((r) => essentialMissing.has(ruleKey(r)))
    const status = needed.length === 0 ? 'warn' : profile.essential || failsAlike ? 'fail' : 'warn'
    const described = missing.map((r) => `${describeRule(r)} ${describeScope(r.namespace)}${r.bestEffort ? ` (best effort: without it the command cannot ${r.purpose})` : ''}`)
    const message = `missing: ${described.join('; ')}`
    const fix =
      needed.length === 0
        ? `\`${subject}\` still works; grant them to ${missing.map((r) => r.purpose).join(' and ')}`
        : `\`${subject}\` will fail without them: ask a cluster admin to grant them (README: "Required RBAC")`
    return {check: 'rbac', subject, status, message, fix}
  })
}

/** The JSON rows: each permission, whether it is allowed, and who needs it. */
export function permissionResults(all: readonly Profile[], allowed: (rule: ApiRule) => boolean | null): PermissionResult[] {
  return permissionTable(all).map(({rule, purposes, neededBy}) => {
    const {purpose: _purpose, ...rest} = rule
    return {...rest, purposes, allowed: allowed(rule), neededBy}
  })
}
