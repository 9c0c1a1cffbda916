// The real-Airflow suite of one Airflow line (test/real/airflow-2.10.test.ts, airflow-3.test.ts): a
// real `airflow db migrate` of each DB kind, a world of KubernetesPodOperator task instances and pods
// made by Airflow and its provider (test/real/airflow/scenario.py), and airflow-reap's verdicts on it
// compared with Airflow's own. Under CI a missing venv fails the file (findVenv throws); elsewhere it
// skips. Each DB is migrated once and used by every test of its kind (the world does not change the
// schema); one Python process per scenario.
//
// The pods go to the real kube-apiserver (test/support/real-kube.ts, with etcd and the real Job
// controller, which makes the KubernetesJobOperator's pod) whenever its binaries are built, and
// always under CI, where a missing binary fails the file; the fake API server only stands in on a
// machine without them. One control plane per file; each DB kind's world in a namespace of its own
// (the DAG file reads it from REAP_POD_NAMESPACE), so the CLI judges each namespace against its DB.
// The real server stamps creationTimestamp itself (whole seconds, at creation): the zombies runs pass
// --min-age 0s, and the scenario waits a second between a try's pod and the next try's start.
//
// A KubernetesPodOperator really executed (test/real/airflow/execute.py, exec_dags/reap_exec.py),
// on the real control plane only (the fake has no status subresource to play the kubelet through);
// on SQLite, once per line. The test plays the kubelet: it writes the pod's status (scheduled,
// Running with the base container running, then Succeeded with it terminated, exit code 0) through
// pods/status. What execute() asks of the API server (provider 10.10.0 for 2.10, 10.25.0 for 3.x):
// create the pod, list it by its labels (find_pod), list its Events (watch_pod_events, answered by
// the real server: none), read it until it leaves Pending and until its base container stops
// running and its phase is final, then patch already_checked=True (on_finish_action="keep_pod").
// Options set as a user may set them: get_logs=False, because pods/log needs a kubelet (the provider
// then polls the container status instead of streaming logs), keep_pod (so the pod stays to be
// looked at), 1 s polling; do_xcom_push stays False (its sidecar needs pods/exec).
// - Success: dag.test() on both lines; the task instance (success, try 1, pod_name XCom) and the
//   pod's labels are Airflow's own, and `zombies` lists the kept Succeeded pod as finished.
// - A worker killed mid-task (SIGKILL to it and every process under it while the pod is Running):
//   2.10: the worker is a real one, `airflow tasks run --local` (a LocalTaskJob that marks the try
//   running and heartbeats) on a try a scheduler Job queued; dag.test() would not do, it never
//   records the try as running (a killed dag.test() leaves it `scheduled`). Airflow marks it failed
//   the way 2.10 does after a worker dies: the scheduler's heartbeat sweep (_find_zombies, with
//   [scheduler] scheduler_zombie_task_threshold = 3 s) and the DAG processor's handle_failure of
//   the callback it sends (both run in process by execute.py sweep; no scheduler loop is started).
//   3.x: dag.test() (its in-process supervisor marks the try running through the Execution API);
//   the 3.x sweep only fails tries its own scheduler queued (queued_by_job_id) and `airflow tasks
//   run` needs an API server to talk to, so the try is marked failed through the task-instance API
//   (PATCH .../taskInstances/{task_id} new_state=failed, i.e. set_task_instance_state on the
//   serialized DAG), as an operator does for a worker that is gone.
//   Both: while Airflow says running `zombies` leaves the pod alone; once failed, it is a zombie.
import {readFileSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {makeSafeLabelValue} from '../../../src/core/labels.js'
import {parseDbUrl} from '../../../src/airflow/url.js'
import {openAirflowDb} from '../../../src/airflow/open.js'
import {FINISHED_STATES, UNFINISHED_STATES, taskKeyString} from '../../../src/core/types.js'
import {RELEASE_HEADS, compareVersions, releaseOfRevision} from '../../../src/airflow/alembic.js'
import type {Report} from '../../../src/core/report.js'
import {cliWorkspace, runCli, type CliWorkspace} from '../cli.js'
import {sharedFixture} from '../paths.js'
import {createPostgresAirflowDb, createSqliteAirflowDb} from '../airflow-db/index.js'
import {type PodCluster, type PodClusters, startPodClusters} from './cluster.js'
import {postgresShape, shapeDifference, sqliteShape} from './schema-shape.js'
import {type AirflowFacts, type DbKind, type RealAirflowDb, type WorldPod, migratedDb, runScenario} from './airflow.js'
import {type AirflowLine, REAL_AIRFLOW_DIR, findVenv} from './venv.js'
import {type ExecutedTask, execute, kubeletSets, waitForPod} from './execute.js'
import {realKubeMissing} from '../real-kube.js'
import {describeApiParity} from './api-parity.js'

/** A KubernetesPodOperator run by the real Airflow: Airflow's start-up, the pod, the polling. */
const EXECUTE_TIMEOUT_MS = 300_000

export interface LineExpectations {
  /** The Airflow release the constraints pin. */
  airflow: string
  /** schemaFamily airflow-reap must see. */
  family: string
  /** The DB kinds this line migrates (MariaDB: see the line's test file). */
  kinds: DbKind[]
  /** The DDL fixture (test/fixtures/shared/airflow/ddl) this line is held against, and how it differs, explained. */
  ddl: {fixture: '2.10' | '3.x'; differences: Partial<Record<'postgresql' | 'sqlite', {onlyFixture: string[]; onlyAirflow: string[]}>>}
}

export function describeRealAirflow(line: AirflowLine, expected: LineExpectations): void {
  const found = findVenv(line)
  const venv = 'venv' in found ? found.venv : undefined
  const title = venv ? `real Airflow ${expected.airflow}` : `real Airflow ${line} (skipped: ${'missing' in found ? found.missing : ''})`

  describe.skipIf(!venv)(title, () => {
    let facts: AirflowFacts
    // One control plane for the whole file (the real one starts in about 7 s): a namespace per world.
    let clusters: PodClusters
    beforeAll(async () => {
      ;[facts, clusters] = await Promise.all([
        runScenario<AirflowFacts>(venv!, 'facts', [sharedFixture('airflow/label-vectors.json')], undefined),
        startPodClusters(),
      ])
    }, 180_000)

    afterAll(async () => {
      await clusters?.stop()
    })

    it('the pods are created in a real kube-apiserver when its binaries are built (always under CI)', () => {
      expect(clusters.kind).toBe(realKubeMissing ? 'fake' : 'real')
    })

    it("the provider's make_safe_label_value gives every label vector's output, as ours does", () => {
      const {vectors} = JSON.parse(readFileSync(sharedFixture('airflow/label-vectors.json'), 'utf8')) as {vectors: {input: string; output: string}[]}
      expect(vectors.length).toBeGreaterThan(30)
      for (const {input, output} of vectors) {
        expect(facts.labels[input], JSON.stringify(input)).toBe(output)
        expect(makeSafeLabelValue(input), JSON.stringify(input)).toBe(output)
      }
    })

    it('is the release the constraints pin', () => {
      expect(facts.airflow).toBe(expected.airflow)
    })

    it("our task-instance states are Airflow's State.finished and State.unfinished (and other releases' extras)", () => {
      expect([...FINISHED_STATES].sort()).toEqual(facts.finished)
      // NULL is Airflow's None; `shutdown` is older 2.x's, `awaiting_input` 3.x's.
      const ours = [...UNFINISHED_STATES, 'none']
      expect(ours).toEqual(expect.arrayContaining(facts.unfinished))
      expect(ours.filter((state) => !facts.unfinished.includes(state)).every((state) => ['shutdown', 'awaiting_input'].includes(state))).toBe(true)
    })

    it("every release head airflow-reap knows agrees with Airflow's own map", () => {
      for (const [release, revision] of Object.entries(facts.revisionHeads)) {
        const ours = RELEASE_HEADS.filter((head) => head.from === release)
        if (ours.length === 0) continue // a release without migrations of its own: covered by a range
        expect(ours.map((head) => head.revision), `Airflow ${release}`).toContain(revision)
      }
    })

    for (const kind of expected.kinds) {
      describe(kind, () => {
        let db: RealAirflowDb
        let cluster: PodCluster
        let workspace: CliWorkspace
        let pods: WorldPod[]

        beforeAll(async () => {
          ;[db, cluster] = await Promise.all([migratedDb(venv!, kind), clusters.open(`airflow-${kind}`)])
          workspace = cliWorkspace(cluster, {prefix: `real-${line}`, db: {url: db.url}, namespace: cluster.namespace})
          pods = (await runScenario<{pods: WorldPod[]}>(venv!, 'world', [], db, cluster)).pods
        }, 360_000)

        afterAll(async () => {
          await db?.drop()
          workspace?.remove()
        })

        it('doctor recognises the schema family and names the release from alembic_version', async () => {
          const {stdout} = await runCli(['doctor', '-o', 'json', '--no-cache'], {env: workspace.env})
          const report = JSON.parse(stdout)
          const schema = report.checks.find((c: {check: string}) => c.check === 'db-schema')
          expect(schema.status, schema.message).toBe('ok')
          expect(report.db.schemaFamily).toBe(expected.family)
          const match = releaseOfRevision(report.db.alembicRevision)
          expect(match.known, report.db.alembicRevision).toBe(true)
          if (match.known) expect(inRange(expected.airflow, match.head.from, match.head.until), report.db.airflowVersion).toBe(true)
        })

        it("zombies reports exactly the pods whose task instance Airflow says is finished or retried", async () => {
          // --min-age 0s: the server stamped every pod's creationTimestamp moments ago.
          const result = await runCli(['zombies', '-n', cluster.namespace, '-o', 'json', '--no-cache', '--min-age', '0s'], {env: workspace.env})
          expect(result.code, result.stderr).toBe(0)
          const report: Report = JSON.parse(result.stdout)
          const reported = Object.fromEntries(report.items.map((item) => [item.name, `${item.reason}${item.skipReason ? `/${item.skipReason}` : ''}`]))
          const expectedItems = Object.fromEntries(
            pods
              .filter((pod) => pod.verdict !== 'live')
              .map((pod) => [pod.name, pod.verdict === 'retried' ? 'stale-try' : pod.owned ? 'no-active-task-instance/owned-by-controller' : 'no-active-task-instance']),
          )
          expect(reported).toEqual(expectedItems)
          // The scenario covers what it claims: hashed labels, a mapped task, a retried try, the Job's pod.
          expect(pods.filter((pod) => pod.verdict === 'retried')).toHaveLength(1)
          expect(pods.some((pod) => pod.owned && pod.verdict === 'finished')).toBe(true)
          expect(pods.some((pod) => pod.labels.dag_id !== pod.dagId && pod.verdict === 'finished')).toBe(true)
          expect(pods.filter((pod) => pod.labels.map_index !== undefined)).toHaveLength(3)
        })

        it('overdue reports exactly the pods whose task Airflow says has run past execution_timeout', async () => {
          const result = await runCli(['overdue', '-n', cluster.namespace, '-o', 'json', '--no-cache'], {env: workspace.env})
          expect(result.code, result.stderr).toBe(0)
          const report: Report = JSON.parse(result.stdout)
          expect(report.items.map((item) => item.name).sort()).toEqual(pods.filter((pod) => pod.overdue).map((pod) => pod.name).sort())
          expect(report.items.every((item) => item.reason === 'execution-timeout-exceeded')).toBe(true)
          expect(pods.filter((pod) => pod.overdue)).toHaveLength(1)
        })

        // test/fixtures/shared has DDL for PostgreSQL and SQLite only.
        if (kind !== 'mysql') it('the DDL fixture has the columns and indexes we read as the migration made them (differences listed)', async () => {
          const fixture = kind === 'postgresql' ? await createPostgresAirflowDb(expected.ddl.fixture) : await createSqliteAirflowDb(expected.ddl.fixture)
          try {
            const shape = kind === 'postgresql' ? postgresShape : (url: string) => sqliteShape(url.slice('sqlite:///'.length))
            const difference = shapeDifference(await shape(fixture.url), await shape(db.url))
            expect(difference).toEqual(expected.ddl.differences[kind as 'postgresql' | 'sqlite'] ?? {onlyFixture: [], onlyAirflow: []})
          } finally {
            await fixture.drop()
          }
        })

        it('reads every pod_name XCom as Airflow stored it', async () => {
          const airflowDb = await openAirflowDb(parseDbUrl(db.url, '--db'))
          try {
            const keys = pods.map((pod) => ({dagId: pod.dagId, taskId: pod.task_id, runId: pod.runId, mapIndex: pod.map_index}))
            const xcoms = await airflowDb.podNameXComs(keys)
            for (const [index, pod] of pods.entries()) {
              const read = xcoms.get(taskKeyString(keys[index]))
              expect(read ?? null, `${pod.task_id}[${pod.map_index}]`).toBe(pod.podNameXCom)
            }
            expect(pods.filter((pod) => pod.podNameXCom !== null).length).toBeGreaterThan(5)
          } finally {
            await airflowDb.close()
          }
        })

        describeApiParity({venv: () => venv!, db: () => db, pods: () => pods, cli: () => ({env: workspace.env, namespace: cluster.namespace})})

        // Once per line is enough: the backend changes what is stored, not how each dialect reads it.
        if (kind === 'sqlite') {
          describe('a custom XCom backend stores pod_name as a reference', () => {
            let referenceCluster: PodCluster
            let referenceWorkspace: CliWorkspace
            let referencePods: WorldPod[]

            beforeAll(async () => {
              referenceCluster = await clusters.open(`airflow-${kind}-ref`)
              referenceWorkspace = cliWorkspace(referenceCluster, {prefix: `real-${line}-ref`, db: {url: db.url}, namespace: referenceCluster.namespace})
              const backend = {AIRFLOW__CORE__XCOM_BACKEND: 'xcom_reference.ReferenceXCom', PYTHONPATH: REAL_AIRFLOW_DIR}
              referencePods = (await runScenario<{pods: WorldPod[]}>(venv!, 'reference', [], db, referenceCluster, backend)).pods
            }, 240_000)

            afterAll(async () => {
              referenceWorkspace?.remove()
            })

            it('the reference is no pod name: the retried try\'s pod is kept as may-be-reattached', async () => {
              const airflowDb = await openAirflowDb(parseDbUrl(db.url, '--db'))
              try {
                const [pod] = referencePods
                const key = {dagId: pod.dagId, taskId: pod.task_id, runId: pod.runId, mapIndex: pod.map_index}
                const xcoms = await airflowDb.podNameXComs([key])
                expect(xcoms.has(taskKeyString(key))).toBe(true)
                expect(xcoms.get(taskKeyString(key))).toBeNull()
              } finally {
                await airflowDb.close()
              }
              const result = await runCli(['zombies', '-n', referenceCluster.namespace, '-o', 'json', '--no-cache', '--min-age', '0s'], {env: referenceWorkspace.env})
              expect(result.code, result.stderr).toBe(0)
              const report: Report = JSON.parse(result.stdout)
              expect(referencePods.map((pod) => pod.verdict)).toEqual(['retried', 'live'])
              expect(report.items.map((item) => [item.name, item.reason, item.skipReason])).toEqual([[referencePods[0].name, 'stale-try', 'may-be-reattached']])
            })
          })
        }

        // The real control plane only: the fake API server does not implement the status subresource
        // the test writes as the kubelet. Once per line (on SQLite, whose DB is already migrated).
        if (kind === 'sqlite') {
          describe.skipIf(realKubeMissing)(`an executed KubernetesPodOperator, the test playing the kubelet${realKubeMissing ? ` (skipped: ${realKubeMissing})` : ''}`, () => {
            async function zombiesIn(cluster: PodCluster): Promise<[string, string, string | undefined][]> {
              const workspace = cliWorkspace(cluster, {prefix: `real-${line}-exec`, db: {url: db.url}, namespace: cluster.namespace})
              try {
                const result = await runCli(['zombies', '-n', cluster.namespace, '-o', 'json', '--no-cache', '--min-age', '0s'], {env: workspace.env})
                expect(result.code, result.stderr).toBe(0)
                return (JSON.parse(result.stdout) as Report).items.map((item) => [item.name, item.reason, item.skipReason])
              } finally {
                workspace.remove()
              }
            }

            it('runs to success: labels and task instance exactly as Airflow leaves them; zombies lists the kept pod as finished', async () => {
              const cluster = await clusters.open(`airflow-${kind}-run`)
              const execution = execute(venv!, db, cluster, 'run', '2026-11-22T00:00:00+00:00')
              let ti: ExecutedTask
              let pod: any
              try {
                pod = await Promise.race([waitForPod(cluster), execution.result.then(() => Promise.reject(new Error('execute.py ended without a pod')))])
                await kubeletSets(cluster, pod.metadata.name, 'Running')
                await new Promise((resolve) => setTimeout(resolve, 1_500)) // the provider polls every second
                await kubeletSets(cluster, pod.metadata.name, 'Succeeded')
                ti = await execution.result
              } finally {
                execution.kill()
              }
              expect(ti).toMatchObject({dagId: 'reap_exec', taskId: 'run_pod', state: 'success', tryNumber: 1, podName: pod.metadata.name})
              const left = (await cluster.request('GET', `/api/v1/namespaces/${cluster.namespace}/pods/${pod.metadata.name}`)).body
              expect(left.metadata.labels).toMatchObject({
                dag_id: 'reap_exec',
                task_id: 'run_pod',
                run_id: makeSafeLabelValue(ti.runId),
                try_number: '1',
                kubernetes_pod_operator: 'True',
                already_checked: 'True', // on_finish_action="keep_pod": the provider marks the pod it is done with
              })
              expect(await zombiesIn(cluster)).toEqual([[pod.metadata.name, 'no-active-task-instance', 'finished']])
            }, EXECUTE_TIMEOUT_MS)

            it('a worker killed mid-task leaves its Running pod: spared while Airflow says running, a zombie once the task is marked failed', async () => {
              const cluster = await clusters.open(`airflow-${kind}-kill`)
              const date = '2026-11-23T00:00:00+00:00'
              let pod: any
              // 2.10: a real worker (`airflow tasks run --local`, see execute.py worker); dag.test()
              // would not do, it never records the try as running. 3.x: dag.test()'s supervisor.
              const execution = execute(venv!, db, cluster, line === '2.10' ? 'worker' : 'run', date)
              try {
                pod = await Promise.race([waitForPod(cluster), execution.result.then(() => Promise.reject(new Error('execute.py ended without a pod')))])
                await kubeletSets(cluster, pod.metadata.name, 'Running')
                await new Promise((resolve) => setTimeout(resolve, 3_000)) // the provider is polling the running container
              } finally {
                execution.kill()
                await execution.closed
              }
              const orphaned = await execute(venv!, db, cluster, 'state', date).result
              expect(orphaned).toMatchObject({state: 'running', tryNumber: 1, podName: pod.metadata.name})
              expect(await zombiesIn(cluster)).toEqual([])

              const failed = await (line === '2.10'
                ? execute(venv!, db, cluster, 'sweep', date, {AIRFLOW__SCHEDULER__SCHEDULER_ZOMBIE_TASK_THRESHOLD: '3'})
                : execute(venv!, db, cluster, 'mark-failed', date)
              ).result
              expect(failed).toMatchObject({state: 'failed', tryNumber: 1, podName: pod.metadata.name})
              if (line === '2.10') expect(failed.zombies).toBe(1)
              expect(await zombiesIn(cluster)).toEqual([[pod.metadata.name, 'no-active-task-instance', undefined]])
            }, EXECUTE_TIMEOUT_MS)
          })
        }
      })
    }
  })
}

/** from <= version < until (until undefined: no upper bound). */
function inRange(version: string, from: string, until: string | undefined): boolean {
  return compareVersions(version, from) >= 0 && (until === undefined || compareVersions(version, until) < 0)
}
