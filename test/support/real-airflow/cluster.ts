// Where the pods that the real Airflow's provider builds are created: the real kube-apiserver of
// the real-Kubernetes suite (test/support/real-kube.ts) when its binaries are built (always under
// CI, where a missing binary fails the file as it does there), else the in-process fake API server.
// One control plane per test file: each DB kind's world lives in a namespace of its own, so that
// every verdict is judged against that kind's DB only.
import {callFake} from '../fake-kube/call.js'
import {type FakeKube, startFakeKube} from '../fake-kube/index.js'
import type {KubeconfigOptions} from '../fake-kube/kubeconfig.js'
import {type RealKube, realKubeMissing, startRealKube} from '../real-kube.js'

type KubeObject = {metadata: {name: string; namespace?: string; uid?: string; labels?: Record<string, string>}; [field: string]: unknown}

/** How long the real Job controller may take to create a Job's pod. */
const JOB_POD_TIMEOUT_MS = 60_000

export interface PodCluster {
  /** The namespace the provider's pods go to (the DAG file reads it from REAP_POD_NAMESPACE). */
  namespace: string
  /** A kubeconfig for this cluster (written at `file`; default context namespace: this one). */
  writeKubeconfig(file: string, options?: KubeconfigOptions): string
  /** POSTs an object as the provider would; returns the object as the server stored it. */
  create(plural: 'pods' | 'jobs', object: KubeObject): Promise<KubeObject>
  /** Creates a Job and returns it with the one pod its controller made from the template. */
  createJob(job: KubeObject): Promise<{job: KubeObject; pod: KubeObject}>
  /** A raw request as the cluster's admin. */
  request(method: string, apiPath: string, body?: unknown): Promise<{status: number; body: any}>
}

export interface PodClusters {
  /** 'real': a kube-apiserver, etcd and the Job controller; 'fake': the in-process fake. */
  kind: 'real' | 'fake'
  /** The real control plane, when kind is 'real' (for the executed-task tests). */
  real?: RealKube
  /** A cluster whose pods go to `namespace` (created on the real server). */
  open(namespace: string): Promise<PodCluster>
  /** Stops every server started here. */
  stop(): Promise<void>
}

const API_PATH: Record<'pods' | 'jobs', string> = {pods: '/api/v1', jobs: '/apis/batch/v1'}

/** The real control plane when it is built (or under CI), else one fake API server per namespace. */
export async function startPodClusters(): Promise<PodClusters> {
  if (realKubeMissing) return fakeClusters()
  const kube = await startRealKube()
  return {
    kind: 'real',
    real: kube,
    open: async (namespace) => {
      const answer = await kube.request('POST', '/api/v1/namespaces', {apiVersion: 'v1', kind: 'Namespace', metadata: {name: namespace}})
      if (answer.status !== 201) throw new Error(`creating namespace ${namespace}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`)
      return realCluster(kube, namespace)
    },
    stop: () => kube.stop(),
  }
}

function fakeClusters(): PodClusters {
  const started: FakeKube[] = []
  return {
    kind: 'fake',
    open: async (namespace) => {
      const kube = await startFakeKube()
      started.push(kube)
      return fakeCluster(kube, namespace)
    },
    stop: async () => {
      await Promise.all(started.map((kube) => kube.close()))
    },
  }
}

function clusterOf(endpoint: {writeKubeconfig: PodCluster['writeKubeconfig']}, request: PodCluster['request'], namespace: string): Omit<PodCluster, 'createJob'> {
  return {
    namespace,
    writeKubeconfig: (file, options = {}) => endpoint.writeKubeconfig(file, {contexts: [{name: 'real-airflow', namespace}], ...options}),
    request,
    create: async (plural, object) => {
      const reply = await request('POST', `${API_PATH[plural]}/namespaces/${object.metadata.namespace ?? namespace}/${plural}`, object)
      if (reply.status !== 201) throw new Error(`creating ${plural} ${object.metadata.name}: ${reply.status} ${JSON.stringify(reply.body)}`)
      return reply.body as KubeObject
    },
  }
}

/** The real server: the real Job controller (kube-controller-manager) makes the Job's pod. */
function realCluster(kube: RealKube, namespace: string): PodCluster {
  const base = clusterOf(kube, (method, apiPath, body) => kube.request(method, apiPath, body), namespace)
  return {
    ...base,
    createJob: async (job) => {
      const created = await base.create('jobs', job)
      const selector = encodeURIComponent(`batch.kubernetes.io/job-name=${created.metadata.name}`)
      const deadline = Date.now() + JOB_POD_TIMEOUT_MS
      while (Date.now() < deadline) {
        const list = await kube.request('GET', `/api/v1/namespaces/${created.metadata.namespace}/pods?labelSelector=${selector}`)
        if (list.status === 200 && list.body.items.length > 0) return {job: created, pod: list.body.items[0]}
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
      throw new Error(`the Job controller made no pod for Job ${created.metadata.name} within ${JOB_POD_TIMEOUT_MS / 1000} s`)
    },
  }
}

/** The fake: the test plays the Job controller (one pod from the template, owned by the Job). */
export function fakeCluster(kube: FakeKube, namespace = 'airflow'): PodCluster {
  const base = clusterOf(kube, async (method, apiPath, body) => {
    const reply = await callFake(kube, method, apiPath, {body})
    return {status: reply.status, body: reply.body}
  }, namespace)
  return {
    ...base,
    createJob: async (job) => {
      const created = await base.create('jobs', job)
      const template = (created.spec as {template: {metadata?: KubeObject['metadata']; spec: unknown}}).template
      const owner = {apiVersion: 'batch/v1', kind: 'Job', name: created.metadata.name, uid: created.metadata.uid, controller: true, blockOwnerDeletion: true}
      const pod = await base.create('pods', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `${created.metadata.name}-x7k2p`,
          namespace: created.metadata.namespace,
          labels: {...template.metadata?.labels, 'batch.kubernetes.io/job-name': created.metadata.name},
          ownerReferences: [owner],
        } as KubeObject['metadata'],
        spec: template.spec,
      })
      return {job: created, pod}
    },
  }
}
