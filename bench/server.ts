// The benchmark's Kubernetes API server: the test fake (test/support/fake-kube) in a process of its
// own, so that the clients under test are measured alone. Driven by its parent over the IPC channel
// of child_process.fork:
//   {cmd: 'load', n, anchorMs, latencyMs, kubeconfig}  start the fake, seed N KPO pods, write a kubeconfig
//   {cmd: 'reset-stats'} / {cmd: 'stats'}               DELETE timings seen by the server
//   {cmd: 'restore'}                                    re-create the zombie pods a delete run removed
//   {cmd: 'expire'}                                     drop the list snapshots behind continue tokens
//   {cmd: 'cluster-db', connection, localPort}          the chart's PostgreSQL and metadata Secret (port-forward bench)
//   {cmd: 'close'}
// kubectl needs discovery documents the fake does not serve; they are answered here with the fake's
// own injection hook, so kubectl can run its ordinary `get pods -A -l ... -o json` against it.
import type {IncomingMessage, Server, ServerResponse} from 'node:http'
import {type FakeKube, startFakeKube} from '../test/support/fake-kube/index.js'
import {addHelmAirflow} from '../test/support/helm-airflow.js'
import {type BenchPod, planDataset, pods} from './dataset.js'

interface LoadMessage {
  cmd: 'load'
  n: number
  anchorMs: number
  latencyMs: number
  kubeconfig: string
}
/** The chart's own PostgreSQL in namespace `airflow` (Service, EndpointSlice, pod forwarded to `localPort`) and its metadata Secret. */
interface ClusterDbMessage {
  cmd: 'cluster-db'
  connection: string
  localPort: number
}
type Message = LoadMessage | ClusterDbMessage | {cmd: 'reset-stats' | 'stats' | 'restore' | 'expire' | 'close' | 'count'}

let fake: FakeKube | undefined
let zombies: BenchPod[] = []
let deletes = {count: 0, firstStart: 0, lastEnd: 0}
let gets = 0
let lists = 0

function reply(message: unknown): void {
  process.send!(message)
}

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

function addDiscovery(kube: FakeKube): void {
  const port = new URL(kube.url).port
  const verbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']
  const documents: Record<string, object> = {
    '/version': {major: '1', minor: '32', gitVersion: 'v1.32.0', platform: 'linux/amd64'},
    '/api': {kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${port}`}]},
    '/apis': {kind: 'APIGroupList', apiVersion: 'v1', groups: []},
    '/api/v1': {
      kind: 'APIResourceList',
      groupVersion: 'v1',
      resources: [{name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs, shortNames: ['po'], categories: ['all']}],
    },
  }
  for (const [path, body] of Object.entries(documents)) {
    kube.inject({method: 'GET', match: (r) => r.path === path, status: 200, body, times: Infinity})
  }
}

/** Times DELETEs from the first one's arrival to the last one's answer, on the server itself. */
function watchDeletes(kube: FakeKube): void {
  const server = (kube as unknown as {server: Server}).server
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (request.method === 'GET') {
      if (/\/pods\/[^/?]+(\?|$)/.test(request.url ?? '')) gets++
      else lists++
    }
    if (request.method !== 'DELETE') return
    const start = performance.now()
    if (deletes.count === 0 && deletes.firstStart === 0) deletes.firstStart = start
    response.on('finish', () => {
      deletes.count++
      deletes.lastEnd = performance.now()
    })
  })
}

async function load(message: LoadMessage): Promise<void> {
  const started = performance.now()
  fake = await startFakeKube({latencyMs: message.latencyMs})
  addDiscovery(fake)
  watchDeletes(fake)
  const plan = planDataset(message.n, message.anchorMs)
  let count = 0
  zombies = []
  for (const pod of pods(plan)) {
    fake.addObject('pods', fullPod(pod))
    if (pod.zombie) zombies.push(pod)
    count++
  }
  fake.writeKubeconfig(message.kubeconfig)
  fake.requests.length = 0
  reply({ok: true, url: fake.url, pods: count, zombies: zombies.length, loadMs: Math.round(performance.now() - started)})
}

process.on('message', (message: Message) => {
  void (async () => {
    try {
      switch (message.cmd) {
        case 'load':
          await load(message)
          return
        case 'cluster-db': {
          const helm = addHelmAirflow(fake!, {namespace: 'airflow', connection: message.connection, postgresql: {localPort: message.localPort}})
          fake!.requests.length = 0
          reply({ok: true, pod: helm.postgresqlPod})
          return
        }
        case 'reset-stats':
          deletes = {count: 0, firstStart: 0, lastEnd: 0}
          gets = 0
          lists = 0
          fake!.requests.length = 0
          reply({ok: true})
          return
        case 'stats':
          reply({ok: true, deletes: deletes.count, deletePhaseMs: deletes.lastEnd - deletes.firstStart, gets, lists})
          return
        case 'count':
          reply({ok: true, pods: fake!.listObjects('pods').length})
          return
        case 'restore': {
          let restored = 0
          for (const pod of zombies) {
            if (fake!.getObject('pods', pod.namespace, pod.name)) continue
            fake!.addObject('pods', fullPod(pod))
            restored++
          }
          fake!.requests.length = 0
          reply({ok: true, restored})
          return
        }
        case 'expire':
          fake!.expireContinueTokens()
          fake!.requests.length = 0
          reply({ok: true})
          return
        case 'close':
          await fake?.close()
          reply({ok: true})
          process.exit(0)
      }
    } catch (error) {
      reply({ok: false, error: error instanceof Error ? error.stack : String(error)})
    }
  })()
})

process.on('disconnect', () => process.exit(0))
