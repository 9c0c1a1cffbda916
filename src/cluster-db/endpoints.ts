// From a Service to one ready pod behind it and the port of that pod, as kube-proxy would pick it:
// the Service's port, its EndpointSlices (label kubernetes.io/service-name), a ready endpoint whose
// targetRef is a Pod, and the target port (the EndpointSlice's port of the same name, else the
// Service's numbered targetPort, else its named targetPort looked up in the pod's containers).
import {ForbiddenError, UnreachableError} from '../errors.js'
import type {KubeClient} from '../kube/client.js'
import type {ServiceRef} from './service-host.js'

export interface PodPort {
  namespace: string
  pod: string
  port: number
}

interface ServicePort {
  name?: string
  port?: number
  targetPort?: number | string
}

interface Service {
  spec?: {type?: string; ports?: ServicePort[]; externalName?: string}
}

interface EndpointSlice {
  metadata?: {name?: string}
  ports?: Array<{name?: string; port?: number}> | null
  endpoints?: Array<{conditions?: {ready?: boolean; terminating?: boolean}; targetRef?: {kind?: string; name?: string; namespace?: string}}>
}

interface Pod {
  spec?: {containers?: Array<{ports?: Array<{name?: string; containerPort?: number}>}>}
}

export async function podBehindService(client: KubeClient, ref: ServiceRef, servicePort: number, host: string, signal?: AbortSignal): Promise<PodPort> {
  const what = `Service ${ref.namespace}/${ref.name}`
  const service = await call('get services', ref.namespace, () =>
    client.request<Service>({method: 'GET', path: `${nsPath(ref.namespace)}/services/${encodeURIComponent(ref.name)}`, allowStatus: [404], signal}),
  )
  if (service.status === 404) {
    throw new UnreachableError(`the DB host "${host}" does not resolve here and there is no Service "${ref.name}" in namespace "${ref.namespace}" to port-forward to`)
  }
  const spec = service.body.spec ?? {}
  if (spec.type === 'ExternalName') {
    throw new UnreachableError(`${what} is an ExternalName for ${spec.externalName ?? '?'}: there is no pod to port-forward to (use --db with that host)`)
  }
  const port = (spec.ports ?? []).find((p) => p.port === servicePort)
  if (!port) {
    const ports = (spec.ports ?? []).map((p) => p.port).join(', ') || 'none'
    throw new UnreachableError(`${what} has no port ${servicePort} (its ports: ${ports})`)
  }
  const slices = await call('list endpointslices.discovery.k8s.io', ref.namespace, () =>
    client.request<{items?: EndpointSlice[]}>({
      method: 'GET',
      path: `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(ref.namespace)}/endpointslices`,
      query: {labelSelector: `kubernetes.io/service-name=${ref.name}`},
      signal,
    }),
  )
  for (const slice of sortByName(slices.body.items ?? [])) {
    const slicePort = (slice.ports ?? []).find((p) => (p.name ?? '') === (port.name ?? ''))
    // A slice without the port (ports null: every port) still names ready pods; the Service says which port.
    for (const endpoint of slice.endpoints ?? []) {
      // `ready` unset means unknown, which consumers treat as ready (discovery.k8s.io/v1 EndpointConditions).
      if (endpoint.conditions?.ready === false || endpoint.conditions?.terminating) continue
      const target = endpoint.targetRef
      if (target?.kind !== 'Pod' || !target.name) continue
      const namespace = target.namespace || ref.namespace
      const number = slicePort?.port ?? (await targetPortOf(client, port, namespace, target.name, what, signal))
      return {namespace, pod: target.name, port: number}
    }
  }
  throw new UnreachableError(`${what} has no ready endpoint backed by a pod: nothing to port-forward to (is the DB or PgBouncer pod running?)`)
}

async function targetPortOf(client: KubeClient, port: ServicePort, namespace: string, pod: string, what: string, signal?: AbortSignal): Promise<number> {
  const target = port.targetPort ?? port.port!
  if (typeof target === 'number') return target
  if (/^\d+$/.test(target)) return Number(target)
  const response = await call('get pods', namespace, () =>
    client.request<Pod>({method: 'GET', path: `${nsPath(namespace)}/pods/${encodeURIComponent(pod)}`, signal}),
  )
  for (const container of response.body.spec?.containers ?? []) {
    const named = (container.ports ?? []).find((p) => p.name === target)
    if (named?.containerPort) return named.containerPort
  }
  throw new UnreachableError(`${what} targets the port named "${target}", which no container of pod ${namespace}/${pod} declares`)
}

function sortByName(slices: EndpointSlice[]): EndpointSlice[] {
  return [...slices].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))
}

function nsPath(namespace: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}`
}

async function call<T>(what: string, namespace: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request()
  } catch (error) {
    if (!(error instanceof ForbiddenError)) throw error
    const [verb, resource] = what.split(' ')
    throw new ForbiddenError(
      `the port-forward to the DB needs "${what}" in namespace "${namespace}": ${error.message}; grant it, or pass --port-forward never with a DB host this machine can reach`,
      error.verb ?? verb,
      error.resource ?? resource,
    )
  }
}
