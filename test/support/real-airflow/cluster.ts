// Where the pods that the real Airflow's provider builds are created. One small interface so the
// suite can point at the in-process fake API server (today) or at a real kube-apiserver (the
// real-Kubernetes suite of test/real/k8s-*, when it can be used here): both are reached over HTTPS
// with a bearer token, and the test plays the controllers (the Job controller here).
import {callFake, type ApiEndpoint} from '../fake-kube/call.js'
import type {FakeKube} from '../fake-kube/index.js'

type KubeObject = {metadata: {name: string; namespace?: string; uid?: string; labels?: Record<string, string>}; [field: string]: unknown}

export interface PodCluster {
  endpoint: ApiEndpoint
  /** A kubeconfig for this cluster (written into `path`), for the CLI and for the provider's hook. */
  writeKubeconfig(path: string): string
  /** POSTs an object as the provider would; returns the stored object. */
  create(plural: 'pods' | 'jobs', object: KubeObject): Promise<KubeObject>
  /** Creates a Job and, as its controller would, one pod from its template, owned by the Job. */
  createJob(job: KubeObject): Promise<{job: KubeObject; pod: KubeObject}>
}

const API_PATH: Record<'pods' | 'jobs', string> = {pods: '/api/v1', jobs: '/apis/batch/v1'}

export function fakeCluster(kube: FakeKube): PodCluster {
  const cluster: PodCluster = {
    endpoint: kube,
    writeKubeconfig: (path) => kube.writeKubeconfig(path, {contexts: [{name: 'real-airflow', namespace: 'airflow'}]}),
    create: async (plural, object) => {
      const namespace = object.metadata.namespace ?? 'airflow'
      const reply = await callFake(kube, 'POST', `${API_PATH[plural]}/namespaces/${namespace}/${plural}`, {body: object})
      if (reply.status !== 201) throw new Error(`creating ${plural} ${object.metadata.name}: ${reply.status} ${JSON.stringify(reply.body)}`)
      return reply.body as KubeObject
    },
    createJob: async (job) => {
      const created = await cluster.create('jobs', job)
      const template = (created.spec as {template: {metadata?: KubeObject['metadata']; spec: unknown}}).template
      const owner = {apiVersion: 'batch/v1', kind: 'Job', name: created.metadata.name, uid: created.metadata.uid, controller: true, blockOwnerDeletion: true}
      const pod = await cluster.create('pods', {
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
  return cluster
}
