// Builders for KubernetesPodOperator pods as the provider labels them (FACTS §1.1), for the fake API server.
import {makeSafeLabelValue} from '../../src/core/labels.js'
import type {TestAirflowDb} from './airflow-db/index.js'
import type {FakeKube} from './fake-kube/index.js'

export interface KpoPod {
  name: string
  namespace?: string
  dagId: string
  taskId: string
  runId: string
  mapIndex?: number
  tryNumber: number
  phase?: string
  ageMinutes?: number
  annotations?: Record<string, string>
  extraLabels?: Record<string, string>
}

export function kpoLabels(pod: Pick<KpoPod, 'dagId' | 'taskId' | 'runId' | 'mapIndex' | 'tryNumber'>): Record<string, string> {
  const labels: Record<string, string> = {
    dag_id: makeSafeLabelValue(pod.dagId),
    task_id: makeSafeLabelValue(pod.taskId),
    run_id: makeSafeLabelValue(pod.runId),
    kubernetes_pod_operator: 'True',
    try_number: String(pod.tryNumber),
    airflow_version: '2.10.5',
    airflow_kpo_in_cluster: 'True',
  }
  if (pod.mapIndex !== undefined && pod.mapIndex >= 0) labels.map_index = String(pod.mapIndex)
  return labels
}

export function addKpoPod(kube: FakeKube, pod: KpoPod) {
  return kube.addPod({
    namespace: pod.namespace ?? 'airflow',
    name: pod.name,
    labels: {...kpoLabels(pod), ...pod.extraLabels},
    annotations: pod.annotations,
    phase: pod.phase ?? 'Running',
    creationTimestamp: new Date(Date.now() - (pod.ageMinutes ?? 60) * 60_000),
  })
}

/** A KubernetesPodOperator task as the serialized DAG holds it (deferrable unless `fields` say otherwise). */
export function kpoOperator(taskId: string, fields: Record<string, unknown> = {}): object {
  return {
    __type: 'operator',
    __var: {task_id: taskId, _task_type: 'KubernetesPodOperator', _task_module: 'airflow.providers.cncf.kubernetes.operators.pod', deferrable: true, ...fields},
  }
}

/** A serialized DAG as Airflow writes it: format 1 on 2.x, format 3 (with client_defaults) on 3.1. */
export function serializedDag(version: string, dagId: string, tasks: object[]): object {
  const dag = {_dag_id: dagId, fileloc: `/opt/airflow/dags/${dagId}.py`, timezone: 'UTC', tasks}
  return version === '3.x' ? {__version: 3, client_defaults: {tasks: {retries: 0}}, dag} : {__version: 1, dag}
}

/** A KubernetesPodOperator pod as an API object to create on a real API server (unscheduled: it stays Pending). */
export function kpoPodManifest(pod: Omit<KpoPod, 'phase' | 'ageMinutes'>): {apiVersion: string; kind: string; metadata: Record<string, unknown>; spec: object} {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {name: pod.name, namespace: pod.namespace ?? 'airflow', labels: {...kpoLabels(pod), ...pod.extraLabels}, annotations: pod.annotations ?? {}},
    spec: {restartPolicy: 'Never', terminationGracePeriodSeconds: 30, containers: [{name: 'base', image: 'apache/airflow:2.10.5'}]},
  }
}

/**
 * Zombies by the dozen: `count` tasks of one dag run that finished (`success`, try 1), whose pods
 * (`zombie-0` …) are still here. seedFinishedTasks writes the task instances; addZombiePods the pods.
 */
export interface ZombieSet {
  dagId: string
  runId: string
  count: number
}

export async function seedFinishedTasks(db: TestAirflowDb, set: ZombieSet): Promise<void> {
  await db.seed.dagRun({dagId: set.dagId, runId: set.runId})
  for (let i = 0; i < set.count; i++) await db.seed.taskInstance({dagId: set.dagId, taskId: `zombie_${i}`, runId: set.runId, state: 'success', tryNumber: 1})
}

export function addZombiePods(kube: FakeKube, set: ZombieSet): void {
  for (let i = 0; i < set.count; i++) addKpoPod(kube, {name: `zombie-${i}`, dagId: set.dagId, taskId: `zombie_${i}`, runId: set.runId, tryNumber: 1})
}
