// A namespace shaped like the official Helm chart's (apache/airflow chart/templates): the scheduler
// Deployment (or StatefulSet) labelled tier=airflow, component=scheduler, release=R whose container
// gets AIRFLOW__DATABASE__SQL_ALCHEMY_CONN from `<R>-airflow-metadata` key `connection`
// (`standard_airflow_environment`), that Secret, and optionally PgBouncer: Service `<R>-pgbouncer`
// (ports pgbouncer 6543 and pgb-metrics 9127, no targetPort), its EndpointSlice and pod, with the
// pod's port 6543 forwarded by the fake to a real local port.
import type {FakeKube, FakeObject} from './fake-kube/index.js'

export interface HelmAirflowOptions {
  namespace?: string
  release?: string
  /** The metadata Secret's `connection` (the URL the chart writes). */
  connection: string
  /** How the scheduler's pod template gives the URL (default: the chart's secretKeyRef). */
  env?: 'secret' | 'legacy-secret' | 'literal' | 'none'
  /** Default Deployment; the chart uses a StatefulSet for LocalExecutor with persistence. */
  kind?: 'Deployment' | 'StatefulSet'
  /** Write the metadata Secret (default true). */
  secret?: boolean
  pgbouncer?: {
    /** The local port that plays PgBouncer's 6543 in its pod. */
    localPort: number
    /** Default true; false marks the only endpoint not ready. */
    ready?: boolean
  }
}

export interface HelmAirflow {
  namespace: string
  release: string
  secretName: string
  schedulerName: string
  pgbouncerPod?: string
}

export function addHelmAirflow(kube: FakeKube, options: HelmAirflowOptions): HelmAirflow {
  const namespace = options.namespace ?? 'airflow'
  const release = options.release ?? 'airflow'
  const secretName = `${release}-airflow-metadata`
  const schedulerName = `${release}-scheduler`
  if (options.secret !== false) {
    kube.addSecret(namespace, secretName, {connection: options.connection}, {tier: 'airflow', release, chart: 'airflow', heritage: 'Helm'})
  }
  const labels = {tier: 'airflow', component: 'scheduler', release}
  kube.addObject(options.kind === 'StatefulSet' ? 'statefulsets' : 'deployments', {
    apiVersion: 'apps/v1',
    kind: options.kind ?? 'Deployment',
    metadata: {namespace, name: schedulerName, labels: {...labels, chart: 'airflow-1.18.0', heritage: 'Helm', executor: 'KubernetesExecutor'}},
    spec: {
      replicas: 1,
      selector: {matchLabels: labels},
      template: {
        metadata: {labels},
        spec: {
          containers: [
            {name: 'scheduler', image: 'apache/airflow:2.10.5', args: ['bash', '-c', 'exec airflow scheduler'], env: schedulerEnv(options, secretName)},
            {name: 'scheduler-log-groomer', image: 'apache/airflow:2.10.5', env: [{name: 'AIRFLOW__LOG_RETENTION_DAYS', value: '15'}]},
          ],
        },
      },
    },
  })
  const result: HelmAirflow = {namespace, release, secretName, schedulerName}
  if (options.pgbouncer) result.pgbouncerPod = addPgBouncer(kube, namespace, release, options.pgbouncer)
  return result
}

function schedulerEnv(options: HelmAirflowOptions, secretName: string): object[] {
  const fromSecret = (name: string) => ({name, valueFrom: {secretKeyRef: {name: secretName, key: 'connection'}}})
  const env: object[] = [{name: 'AIRFLOW__CORE__FERNET_KEY', valueFrom: {secretKeyRef: {name: `${options.release ?? 'airflow'}-fernet-key`, key: 'fernet-key'}}}]
  switch (options.env ?? 'secret') {
    case 'secret':
      env.push(fromSecret('AIRFLOW__CORE__SQL_ALCHEMY_CONN'), fromSecret('AIRFLOW__DATABASE__SQL_ALCHEMY_CONN'), fromSecret('AIRFLOW_CONN_AIRFLOW_DB'))
      break
    case 'legacy-secret':
      env.push(fromSecret('AIRFLOW__CORE__SQL_ALCHEMY_CONN'))
      break
    case 'literal':
      env.push({name: 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN', value: options.connection})
      break
    case 'none':
      break
  }
  return env
}

function addPgBouncer(kube: FakeKube, namespace: string, release: string, options: NonNullable<HelmAirflowOptions['pgbouncer']>): string {
  const name = `${release}-pgbouncer`
  const selector = {tier: 'airflow', component: 'pgbouncer', release}
  kube.addObject('services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {namespace, name, labels: {...selector, chart: 'airflow-1.18.0', heritage: 'Helm'}},
    spec: {
      type: 'ClusterIP',
      clusterIP: '10.96.12.34',
      selector,
      ports: [
        {name: 'pgbouncer', protocol: 'TCP', port: 6543, targetPort: 6543},
        {name: 'pgb-metrics', protocol: 'TCP', port: 9127, targetPort: 9127},
      ],
    },
  })
  const pod = `${name}-7d9f8b6c4-x2x9z`
  const stored: FakeObject = kube.addPod({namespace, name: pod, labels: selector})
  kube.updateObject('pods', namespace, pod, (object) => {
    ;(object.spec as {containers: object[]}).containers = [
      {name: 'pgbouncer', image: 'apache/airflow:airflow-pgbouncer-2025.03.05-1.23.1', ports: [{name: 'pgbouncer', containerPort: 6543, protocol: 'TCP'}]},
      {name: 'metrics-exporter', image: 'apache/airflow:airflow-pgbouncer-exporter-2025.03.05-0.18.0', ports: [{name: 'pgb-metrics', containerPort: 9127, protocol: 'TCP'}]},
    ]
  })
  addEndpointSlice(kube, {namespace, service: name, pod, podUid: stored.metadata.uid, ready: options.ready ?? true, ports: [{name: 'pgbouncer', port: 6543}, {name: 'pgb-metrics', port: 9127}]})
  kube.portForward.map(namespace, pod, 6543, options.localPort)
  return pod
}

/** An EndpointSlice as the EndpointSlice controller writes it for a Service with a selector. */
export function addEndpointSlice(
  kube: FakeKube,
  options: {namespace: string; service: string; pod: string; podUid: string; ready: boolean; ports: Array<{name: string; port: number}>},
): void {
  kube.addObject('endpointslices', {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      namespace: options.namespace,
      name: `${options.service}-abcde`,
      labels: {'kubernetes.io/service-name': options.service, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io'},
      ownerReferences: [{apiVersion: 'v1', kind: 'Service', name: options.service, uid: 'svc-uid', controller: true, blockOwnerDeletion: true}],
    },
    addressType: 'IPv4',
    endpoints: [
      {
        addresses: ['10.244.1.17'],
        conditions: {ready: options.ready, serving: options.ready, terminating: false},
        nodeName: 'fake-node',
        targetRef: {kind: 'Pod', namespace: options.namespace, name: options.pod, uid: options.podUid},
      },
    ],
    ports: options.ports.map((p) => ({...p, protocol: 'TCP'})),
  })
}
