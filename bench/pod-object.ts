// A bench pod as an API server returns it in full (what the fake serves, and what --real creates on a
// real kube-apiserver): two containers (the task and a log shipper), a Running status and the
// managedFields a KubernetesPodOperator-made pod carries.
import type {BenchPod} from './dataset.js'

/** A KPO pod as the API would return it in full: two containers (the task and a sidecar), status and managedFields. */
export function fullPod(pod: BenchPod): {metadata: Record<string, unknown>; [field: string]: unknown} {
  const created = new Date(pod.creationMs).toISOString().replace(/\.\d{3}Z$/, 'Z')
  const started = new Date(pod.creationMs + 4_000).toISOString().replace(/\.\d{3}Z$/, 'Z')
  const ip = `10.${(pod.index >> 16) & 255}.${(pod.index >> 8) & 255}.${pod.index & 255}`
  const node = `ip-10-20-${pod.index % 97}-${pod.index % 211}.eu-west-1.compute.internal`
  const token = `kube-api-access-${pod.name.slice(-5)}`
  const env = [
    ['AIRFLOW_CTX_DAG_ID', pod.labels.dag_id],
    ['AIRFLOW_CTX_TASK_ID', pod.labels.task_id],
    ['AIRFLOW_CTX_DAG_RUN_ID', pod.labels.run_id],
    ['AIRFLOW_CTX_TRY_NUMBER', pod.labels.try_number],
    ['AIRFLOW_CTX_DAG_OWNER', 'data-platform'],
    ['PYTHONUNBUFFERED', '1'],
    ['S3_BUCKET', `s3://${pod.labels.team}-lake/warehouse`],
    ['LOG_LEVEL', 'INFO'],
  ].map(([name, value]) => ({name, value}))
  const object = {
    metadata: {
      namespace: pod.namespace,
      name: pod.name,
      labels: pod.labels,
      annotations: pod.annotations,
      creationTimestamp: created,
      // Set below, from the object itself: what a real server records for these fields.
      managedFields: [] as unknown[],
    },
    spec: {
      containers: [
        {
          name: 'base',
          image: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/data/${pod.labels.team}-jobs:2026.11.${pod.index % 30}`,
          command: ['python', '-m', 'jobs.run'],
          args: ['--task', pod.labels.task_id, '--date', '{{ ds }}', '--config', '/etc/jobs/config.yaml'],
          env,
          resources: {requests: {cpu: '500m', memory: '1Gi'}, limits: {memory: '2Gi'}},
          volumeMounts: [{name: token, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount'}],
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          imagePullPolicy: 'IfNotPresent',
        },
        {
          name: 'log-shipper',
          image: 'fluent/fluent-bit:3.1.9',
          resources: {requests: {cpu: '50m', memory: '64Mi'}, limits: {memory: '128Mi'}},
          volumeMounts: [{name: token, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount'}],
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          imagePullPolicy: 'IfNotPresent',
        },
      ],
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'airflow-worker',
      serviceAccount: 'airflow-worker',
      nodeName: node,
      securityContext: {runAsUser: 50000, fsGroup: 0},
      affinity: {},
      schedulerName: 'default-scheduler',
      tolerations: [
        {key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300},
        {key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300},
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
      volumes: [
        {
          name: token,
          projected: {
            sources: [
              {serviceAccountToken: {expirationSeconds: 3607, path: 'token'}},
              {configMap: {name: 'kube-root-ca.crt', items: [{key: 'ca.crt', path: 'ca.crt'}]}},
              {downwardAPI: {items: [{path: 'namespace', fieldRef: {apiVersion: 'v1', fieldPath: 'metadata.namespace'}}]}},
            ],
            defaultMode: 420,
          },
        },
      ],
    },
    status: {
      phase: 'Running',
      conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({
        type,
        status: 'True',
        lastProbeTime: null,
        lastTransitionTime: started,
      })),
      hostIP: `10.20.${pod.index % 97}.${pod.index % 211}`,
      hostIPs: [{ip: `10.20.${pod.index % 97}.${pod.index % 211}`}],
      podIP: ip,
      podIPs: [{ip}],
      startTime: created,
      containerStatuses: ['base', 'log-shipper'].map((name, i) => ({
        name,
        state: {running: {startedAt: started}},
        lastState: {},
        ready: true,
        restartCount: 0,
        image: i === 0 ? `data/${pod.labels.team}-jobs:2026.11.${pod.index % 30}` : 'fluent/fluent-bit:3.1.9',
        imageID: `docker-pullable://registry/img@sha256:${(pod.index * 2654435761 >>> 0).toString(16).padStart(8, '0').repeat(8)}`,
        containerID: `containerd://${(pod.index * 40503 >>> 0).toString(16).padStart(8, '0').repeat(8)}`,
        started: true,
      })),
      qosClass: 'Burstable',
    },
  }
  const {qosClass: _setByTheServer, ...kubeletStatus} = object.status
  object.metadata.managedFields = [
    managedBy('OpenAPI-Generator', created, {'f:metadata': fieldsOf({annotations: pod.annotations, labels: pod.labels}), 'f:spec': fieldsOf(object.spec)}),
    {...managedBy('kubelet', started, {'f:status': fieldsOf(kubeletStatus)}), subresource: 'status'},
  ]
  return object
}

function managedBy(manager: string, time: string, fieldsV1: Record<string, unknown>): Record<string, unknown> {
  return {manager, operation: 'Update', apiVersion: 'v1', time, fieldsType: 'FieldsV1', fieldsV1}
}

/** The Pod schema's lists merged by a key (x-kubernetes-list-map-keys); every other list is atomic, recorded whole. */
const LIST_MAP_KEYS: Record<string, string> = {containers: 'name', env: 'name', volumeMounts: 'mountPath', volumes: 'name', conditions: 'type', podIPs: 'ip'}

/**
 * The FieldsV1 set of the fields a map sets, as kube-apiserver records it in managedFields: `f:<field>`
 * for each field, a nested map's own `.`, a keyed list's items as `k:{"<key>":…}`, an atomic list and a
 * leaf (null included) as `{}`. Checked equal to a real server's for these pods (bench/README.md,
 * "Against a real kube-apiserver"): the bench's pages carry the bytes a real cluster's do.
 */
function fieldsOf(map: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(map).map(([field, value]) => [`f:${field}`, fieldOf(field, value)]))
}

function fieldOf(field: string, value: unknown): Record<string, unknown> {
  if (Array.isArray(value)) {
    const key = LIST_MAP_KEYS[field]
    if (!key) return {}
    // A real server records `containers` without its own `.` (unlike env, volumes…; checked on one).
    return {...(field === 'containers' ? {} : {'.': {}}), ...Object.fromEntries(value.map((item) => [`k:${JSON.stringify({[key]: item[key]})}`, {'.': {}, ...fieldsOf(item)}]))}
  }
  if (value !== null && typeof value === 'object' && Object.keys(value).length > 0) return {'.': {}, ...fieldsOf(value)}
  return {}
}
