// The seed scenario of issue 2 (zombies): the same task instances and pods for every test that runs
// it, whichever source serves them: a test Airflow DB (its Seeder) or the fake Airflow API (a fixture
// recorded by fixtureSeeder, test/support/fake-airflow-api/seeder.ts).
import type {Seeder} from './airflow-db/seeder.js'
import type {FakeKube} from './fake-kube/index.js'
import {type KpoPod, addKpoPod as addPod} from './kpo.js'

/** What the scenario seeds through: a test DB's Seeder, or the fake API's fixture recorder. */
export type ScenarioSeeder = Pick<Seeder, 'version' | 'dagRun' | 'taskInstance' | 'xcom'>

export const DAG = 'kpo_zombie_dag'
export const RUN = 'manual__2026-01-01T00:00:00+00:00'
export const OTHER_RUN = 'scheduled__2026-01-01T00:00:00+00:00'
export const LONG_DAG = 'customer_ingestion_pipeline_with_a_name_much_longer_than_sixty_three_characters'
export const LONG_TASK = 'transform_group.normalise_customer_records_for_the_downstream_warehouse'

/** Seeds the task instances through `seed` and, when `kube` is given, the pods (seed a second source without it). */
export async function seedZombieScenario(seed: ScenarioSeeder, kube?: FakeKube): Promise<void> {
  const pre210 = seed.version === '2.7'
  const addKpoPod = (_kube: FakeKube | undefined, pod: KpoPod) => (kube ? addPod(kube, pod) : undefined)
  await seed.dagRun({dagId: DAG, runId: RUN, state: 'running'})
  await seed.dagRun({dagId: LONG_DAG, runId: OTHER_RUN, state: 'running'})

  // 1. The task finished but its pod keeps running (a sidecar that never exits).
  await seed.taskInstance({dagId: DAG, taskId: 'sidecar_task', runId: RUN, state: 'success', tryNumber: 1})
  addKpoPod(kube, {name: 'sidecar-task-zombie', dagId: DAG, taskId: 'sidecar_task', runId: RUN, tryNumber: 1})
  // 2. A healthy running task.
  await seed.taskInstance({dagId: DAG, taskId: 'healthy_task', runId: RUN, state: 'running', tryNumber: 1})
  addKpoPod(kube, {name: 'healthy-task-pod', dagId: DAG, taskId: 'healthy_task', runId: RUN, tryNumber: 1})
  // 3. A mapped task: index 0 finished (zombie pod), index 1 running (healthy pod).
  await seed.taskInstance({dagId: DAG, taskId: 'mapped_task', runId: RUN, mapIndex: 0, state: 'success', tryNumber: 1})
  await seed.taskInstance({dagId: DAG, taskId: 'mapped_task', runId: RUN, mapIndex: 1, state: 'running', tryNumber: 1})
  addKpoPod(kube, {name: 'mapped-task-0', dagId: DAG, taskId: 'mapped_task', runId: RUN, mapIndex: 0, tryNumber: 1})
  addKpoPod(kube, {name: 'mapped-task-1', dagId: DAG, taskId: 'mapped_task', runId: RUN, mapIndex: 1, tryNumber: 1})
  // 4. An old retry whose current try runs another pod (its pod_name XCom says so): zombie.
  await seed.taskInstance({dagId: DAG, taskId: 'retried_task', runId: RUN, state: 'running', tryNumber: 2, startDate: new Date(Date.now() - 20 * 60_000)})
  await seed.xcom({dagId: DAG, taskId: 'retried_task', runId: RUN, key: 'pod_name', value: 'retried-task-try2'})
  addKpoPod(kube, {name: 'retried-task-try1', dagId: DAG, taskId: 'retried_task', runId: RUN, tryNumber: 1, ageMinutes: 90})
  addKpoPod(kube, {name: 'retried-task-try2', dagId: DAG, taskId: 'retried_task', runId: RUN, tryNumber: 2, ageMinutes: 19})
  // 5. An old retry that the current try re-attached to (its XCom names the old pod itself): not a zombie.
  await seed.taskInstance({dagId: DAG, taskId: 'reattached_task', runId: RUN, state: 'running', tryNumber: 2, startDate: new Date(Date.now() - 20 * 60_000)})
  await seed.xcom({dagId: DAG, taskId: 'reattached_task', runId: RUN, key: 'pod_name', value: 'reattached-task-try1'})
  addKpoPod(kube, {name: 'reattached-task-try1', dagId: DAG, taskId: 'reattached_task', runId: RUN, tryNumber: 1, ageMinutes: 90})
  // 6. Hashed labels: a dag_id longer than 63 characters, healthy and zombie.
  await seed.taskInstance({dagId: LONG_DAG, taskId: 'load', runId: OTHER_RUN, state: 'running', tryNumber: 1})
  await seed.taskInstance({dagId: LONG_DAG, taskId: 'extract', runId: OTHER_RUN, state: 'failed', tryNumber: 3})
  addKpoPod(kube, {name: 'long-dag-load', dagId: LONG_DAG, taskId: 'load', runId: OTHER_RUN, tryNumber: 1})
  addKpoPod(kube, {name: 'long-dag-extract', dagId: LONG_DAG, taskId: 'extract', runId: OTHER_RUN, tryNumber: 3})
  // 6b. Task ids make_safe_label_value rewrites (too long: cut and hashed; a letter outside [A-Za-z0-9_.-]:
  // dropped). The pod's task_id label is not the task's id, so only the whole run can match it.
  await seed.taskInstance({dagId: DAG, taskId: LONG_TASK, runId: RUN, state: 'running', tryNumber: 1})
  addKpoPod(kube, {name: 'long-task-pod', dagId: DAG, taskId: LONG_TASK, runId: RUN, tryNumber: 1})
  await seed.taskInstance({dagId: DAG, taskId: `${LONG_TASK}_done`, runId: RUN, state: 'success', tryNumber: 2})
  addKpoPod(kube, {name: 'long-task-done-zombie', dagId: DAG, taskId: `${LONG_TASK}_done`, runId: RUN, tryNumber: 2})
  await seed.taskInstance({dagId: DAG, taskId: 'export_étape', runId: RUN, state: 'running', tryNumber: 1})
  addKpoPod(kube, {name: 'accented-task-pod', dagId: DAG, taskId: 'export_étape', runId: RUN, tryNumber: 1})
  // 7. A custom operator class, deferred and queued task instances: never zombies.
  await seed.taskInstance({dagId: DAG, taskId: 'custom_op_task', runId: RUN, state: 'running', tryNumber: 1, operator: 'AcmeSparkPodOperator'})
  addKpoPod(kube, {name: 'custom-op-pod', dagId: DAG, taskId: 'custom_op_task', runId: RUN, tryNumber: 1})
  // Airflow < 2.10 keeps the try_number column one lower while deferred (FACTS §4.2).
  await seed.taskInstance({dagId: DAG, taskId: 'deferred_task', runId: RUN, state: 'deferred', tryNumber: pre210 ? 0 : 1})
  addKpoPod(kube, {name: 'deferred-task-pod', dagId: DAG, taskId: 'deferred_task', runId: RUN, tryNumber: 1})
  await seed.taskInstance({dagId: DAG, taskId: 'queued_task', runId: RUN, state: 'queued', tryNumber: pre210 ? 0 : 1})
  addKpoPod(kube, {name: 'queued-task-pod', dagId: DAG, taskId: 'queued_task', runId: RUN, tryNumber: 1})
  // 7b. A task instance in a state this version does not know (a newer Airflow's): its pod is left alone.
  // Below 2.10 the column reads one lower for any state that is neither running nor finished.
  await seed.taskInstance({dagId: DAG, taskId: 'review_task', runId: RUN, state: 'awaiting_review', tryNumber: pre210 ? 0 : 1})
  addKpoPod(kube, {name: 'review-task-pod', dagId: DAG, taskId: 'review_task', runId: RUN, tryNumber: 1})
  // 8. Guards: a dag run this DB does not know, a young zombie, an annotated zombie.
  addKpoPod(kube, {name: 'foreign-airflow-pod', dagId: 'not_in_this_db', taskId: 't', runId: RUN, tryNumber: 1})
  await seed.taskInstance({dagId: DAG, taskId: 'young_task', runId: RUN, state: 'success', tryNumber: 1})
  addKpoPod(kube, {name: 'young-zombie', dagId: DAG, taskId: 'young_task', runId: RUN, tryNumber: 1, ageMinutes: 1})
  await seed.taskInstance({dagId: DAG, taskId: 'kept_task', runId: RUN, state: 'success', tryNumber: 1})
  addKpoPod(kube, {name: 'kept-zombie', dagId: DAG, taskId: 'kept_task', runId: RUN, tryNumber: 1, annotations: {'airflow-reap/keep': 'true'}})
  // 9. Another namespace (only with -A), and a pod that is not a KPO pod at all.
  await seed.taskInstance({dagId: DAG, taskId: 'other_ns_task', runId: RUN, state: 'success', tryNumber: 1})
  addKpoPod(kube, {name: 'other-ns-zombie', namespace: 'batch', dagId: DAG, taskId: 'other_ns_task', runId: RUN, tryNumber: 1})
  kube?.addPod({namespace: 'airflow', name: 'scheduler-0', labels: {component: 'scheduler'}})
}

export const EXPECTED_IN_AIRFLOW_NS: Record<string, {reason: string; action: string; skipReason?: string}> = {
  'sidecar-task-zombie': {reason: 'no-active-task-instance', action: 'none'},
  'mapped-task-0': {reason: 'no-active-task-instance', action: 'none'},
  'retried-task-try1': {reason: 'stale-try', action: 'none'},
  'long-dag-extract': {reason: 'no-active-task-instance', action: 'none'},
  'long-task-done-zombie': {reason: 'no-active-task-instance', action: 'none'},
  'reattached-task-try1': {reason: 'stale-try', action: 'skipped', skipReason: 'may-be-reattached'},
  'review-task-pod': {reason: 'no-active-task-instance', action: 'skipped', skipReason: 'unknown-state'},
  'foreign-airflow-pod': {reason: 'no-active-task-instance', action: 'skipped', skipReason: 'unknown-dag-run'},
  'young-zombie': {reason: 'no-active-task-instance', action: 'skipped', skipReason: 'too-young'},
  'kept-zombie': {reason: 'no-active-task-instance', action: 'skipped', skipReason: 'keep-annotation'},
}
