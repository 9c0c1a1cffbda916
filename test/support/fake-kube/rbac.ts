// Authorization in the fake, the way kube-apiserver's RBAC authorizer decides it
// (kubernetes plugin/pkg/auth/authorizer/rbac, pkg/apis/rbac/v1/evaluation_helpers.go) and answers a
// denial (k8s.io/apiserver endpoints/handlers/responsewriters.forbiddenMessage, wrapped by
// apimachinery's errors.NewForbidden): opt-in Role/ClusterRole-shaped grants, and
// SelfSubjectAccessReviews answered from the same decision.

import {failure, type ApiStatusError} from './status.js'

/** rbac.authorization.k8s.io/v1 PolicyRule (resource rules only). */
export interface FakePolicyRule {
  verbs: string[]
  apiGroups: string[]
  /** `pods`, `pods/portforward`, `*`, `*\/portforward`. */
  resources: string[]
  resourceNames?: string[]
}

/** A Role bound in `namespace` by a RoleBinding, or (no namespace) a ClusterRole bound by a ClusterRoleBinding. */
export interface FakeRole {
  name?: string
  namespace?: string
  rules: FakePolicyRule[]
}

/** authorizer.Attributes of a resource request. */
export interface RequestAttributes {
  verb: string
  group: string
  resource: string
  subresource?: string
  /** '' or undefined: a cluster-scoped request (a list across all namespaces). */
  namespace?: string
  name?: string
}

export interface Decision {
  allowed: boolean
  /** The SubjectAccessReview reason (RBAC names the binding that allowed it; a denial has none). */
  reason: string
}

function matches(list: readonly string[], value: string): boolean {
  return list.includes('*') || list.includes(value)
}

function resourceMatches(rule: FakePolicyRule, attributes: RequestAttributes): boolean {
  const combined = attributes.subresource ? `${attributes.resource}/${attributes.subresource}` : attributes.resource
  return rule.resources.some(
    (r) => r === '*' || r === combined || (attributes.subresource !== undefined && r === `*/${attributes.subresource}`),
  )
}

function resourceNameMatches(rule: FakePolicyRule, name: string | undefined): boolean {
  if (!rule.resourceNames || rule.resourceNames.length === 0) return true
  return rule.resourceNames.includes(name ?? '')
}

export function ruleAllows(rule: FakePolicyRule, attributes: RequestAttributes): boolean {
  return (
    matches(rule.verbs, attributes.verb) &&
    matches(rule.apiGroups, attributes.group) &&
    resourceMatches(rule, attributes) &&
    resourceNameMatches(rule, attributes.name)
  )
}

/** A RoleBinding grants in its own namespace only; a ClusterRoleBinding everywhere, cluster scope included. */
export function decide(roles: readonly FakeRole[], user: string, attributes: RequestAttributes): Decision {
  for (const role of roles) {
    if (role.namespace !== undefined && role.namespace !== (attributes.namespace ?? '')) continue
    if (!role.rules.some((rule) => ruleAllows(rule, attributes))) continue
    const name = role.name ?? 'airflow-reap'
    const by = role.namespace === undefined ? `ClusterRoleBinding "${name}" of ClusterRole "${name}"` : `RoleBinding "${name}/${role.namespace}" of Role "${name}"`
    return {allowed: true, reason: `RBAC: allowed by ${by} to User "${user}"`}
  }
  return {allowed: false, reason: ''}
}

/**
 * The 403 kube-apiserver sends: `pods "p" is forbidden: User "U" cannot get resource "pods/portforward"
 * in API group "" in the namespace "N"` (the subresource joins the resource; the name, when there is
 * one, and the group resource open the message; details name the group resource, not the subresource).
 */
export function forbiddenFor(user: string, attributes: RequestAttributes): ApiStatusError {
  const groupResource = attributes.group ? `${attributes.resource}.${attributes.group}` : attributes.resource
  const subject = attributes.name ? `${groupResource} "${attributes.name}"` : groupResource
  const resource = attributes.subresource ? `${attributes.resource}/${attributes.subresource}` : attributes.resource
  const scope = attributes.namespace ? `in the namespace "${attributes.namespace}"` : 'at the cluster scope'
  const why = `User "${user}" cannot ${attributes.verb} resource "${resource}" in API group "${attributes.group}" ${scope}`
  const details: Record<string, string> = {}
  if (attributes.name) details.name = attributes.name
  if (attributes.group) details.group = attributes.group
  details.kind = attributes.resource
  return failure(403, 'Forbidden', `${subject} is forbidden: ${why}`, details)
}

/** spec.resourceAttributes of a SelfSubjectAccessReview → request attributes ('' fields mean none). */
export function attributesOfReview(spec: unknown): RequestAttributes | undefined {
  const attributes = (spec as {resourceAttributes?: Record<string, unknown>} | undefined)?.resourceAttributes
  if (!attributes || typeof attributes !== 'object') return undefined
  const text = (key: string) => (typeof attributes[key] === 'string' && attributes[key] !== '' ? (attributes[key] as string) : undefined)
  return {
    verb: text('verb') ?? '',
    group: text('group') ?? '',
    resource: text('resource') ?? '',
    subresource: text('subresource'),
    namespace: text('namespace'),
    name: text('name'),
  }
}
