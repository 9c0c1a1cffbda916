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
  const labelFields = Object.fromEntries(Object.keys(pod.labels).map((k) => [`f:${k}`, {}]))
  return {
    metadata: {
      namespace: pod.namespace,
      name: pod.name,
      labels: pod.labels,
      annotations: pod.annotations,
      creationTimestamp: created,
      managedFields: [
        {
          manager: 'OpenAPI-Generator',
          operation: 'Update',
          apiVersion: 'v1',
          time: created,
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': {'f:annotations': {'.': {}, 'f:cluster-autoscaler.kubernetes.io/safe-to-evict': {}}, 'f:labels': {'.': {}, ...labelFields}},
            'f:spec': {
              'f:affinity': {},
              'f:containers': {'k:{"name":"base"}': {'.': {}, 'f:args': {}, 'f:command': {}, 'f:env': {}, 'f:image': {}, 'f:imagePullPolicy': {}, 'f:name': {}, 'f:resources': {}}},
              'f:dnsPolicy': {},
              'f:restartPolicy': {},
              'f:serviceAccount': {},
              'f:tolerations': {},
            },
          },
        },
        {
          manager: 'kubelet',
          operation: 'Update',
          apiVersion: 'v1',
          time: started,
          fieldsType: 'FieldsV1',
          subresource: 'status',
          fieldsV1: {
            'f:status': {
              'f:conditions': {'k:{"type":"ContainersReady"}': {'.': {}, 'f:status': {}, 'f:type': {}}, 'k:{"type":"Ready"}': {'.': {}, 'f:status': {}, 'f:type': {}}},
              'f:containerStatuses': {},
              'f:hostIP': {},
              'f:phase': {},
              'f:podIP': {},
              'f:podIPs': {'.': {}, [`k:{"ip":"${ip}"}`]: {'.': {}, 'f:ip': {}}},
              'f:startTime': {},
            },
          },
        },
      ],
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
}
