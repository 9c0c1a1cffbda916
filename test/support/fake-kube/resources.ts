// The resource types the fake API server serves. Deliberately independent of src/kube/resources.ts:
// a fake that shared the adapter's table would hide the adapter's mistakes.

export interface FakeResource {
  plural: string
  kind: string
  group: string // '' for the core group
  version: string
  /** Default garbage-collection policy of a DELETE without propagationPolicy (kube-apiserver strategies). */
  defaultDeletePolicy: 'Orphan' | 'Background'
  /** false: cluster-scoped (ClusterRoles...), stored under the namespace ''. Default true. */
  namespaced?: boolean
}

export const FAKE_RESOURCES: readonly FakeResource[] = [
  {plural: 'pods', kind: 'Pod', group: '', version: 'v1', defaultDeletePolicy: 'Background'},
  // batch/v1 Jobs keep the legacy default: orphan their pods (the cause of Jobs stuck Terminating).
  {plural: 'jobs', kind: 'Job', group: 'batch', version: 'v1', defaultDeletePolicy: 'Orphan'},
  {plural: 'cronjobs', kind: 'CronJob', group: 'batch', version: 'v1', defaultDeletePolicy: 'Background'},
  {plural: 'deployments', kind: 'Deployment', group: 'apps', version: 'v1', defaultDeletePolicy: 'Background'},
  {plural: 'replicasets', kind: 'ReplicaSet', group: 'apps', version: 'v1', defaultDeletePolicy: 'Background'},
  {plural: 'statefulsets', kind: 'StatefulSet', group: 'apps', version: 'v1', defaultDeletePolicy: 'Background'},
  {plural: 'events', kind: 'Event', group: 'events.k8s.io', version: 'v1', defaultDeletePolicy: 'Background'},
  {plural: 'secrets', kind: 'Secret', group: '', version: 'v1', defaultDeletePolicy: 'Background'},
  {plural: 'services', kind: 'Service', group: '', version: 'v1', defaultDeletePolicy: 'Background'},
  {plural: 'endpointslices', kind: 'EndpointSlice', group: 'discovery.k8s.io', version: 'v1', defaultDeletePolicy: 'Background'},
  // What `cronjob --apply` writes.
  {plural: 'serviceaccounts', kind: 'ServiceAccount', group: '', version: 'v1', defaultDeletePolicy: 'Background'},
  {plural: 'roles', kind: 'Role', group: 'rbac.authorization.k8s.io', version: 'v1', defaultDeletePolicy: 'Background'},
  {plural: 'rolebindings', kind: 'RoleBinding', group: 'rbac.authorization.k8s.io', version: 'v1', defaultDeletePolicy: 'Background'},
  {plural: 'clusterroles', kind: 'ClusterRole', group: 'rbac.authorization.k8s.io', version: 'v1', defaultDeletePolicy: 'Background', namespaced: false},
  {plural: 'clusterrolebindings', kind: 'ClusterRoleBinding', group: 'rbac.authorization.k8s.io', version: 'v1', defaultDeletePolicy: 'Background', namespaced: false},
]

/**
 * Namespaces, served for GET by name only (`/api/v1/namespaces/NAME`): a namespace exists when a test
 * added it, when it is one every cluster has, or when an object lives in it (tests seed objects without
 * creating their namespace first; a real apiserver would have refused them).
 */
export const NAMESPACES: FakeResource = {plural: 'namespaces', kind: 'Namespace', group: '', version: 'v1', defaultDeletePolicy: 'Background'}
export const BUILT_IN_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'] as const

export function findFakeResource(group: string, version: string, plural: string): FakeResource | undefined {
  return FAKE_RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural)
}

export function fakeResourceByPlural(plural: string): FakeResource {
  const resource = FAKE_RESOURCES.find((r) => r.plural === plural)
  if (!resource) throw new Error(`fake-kube does not serve resource "${plural}"`)
  return resource
}

export function apiVersionOf(resource: FakeResource): string {
  return resource.group === '' ? resource.version : `${resource.group}/${resource.version}`
}

/** `pods`, `jobs.batch`: how the apiserver names a resource in its messages. */
export function qualifiedResource(resource: FakeResource): string {
  return resource.group === '' ? resource.plural : `${resource.plural}.${resource.group}`
}
