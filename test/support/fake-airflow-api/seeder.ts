// A fixture for the fake Airflow API, recorded through the test DB Seeder's own methods, so that one
// scenario (test/support/zombie-scenario.ts) seeds a test DB and the fake API alike. Tries are the true
// ones (a 2.10 or 3.x DB's semantics): the fake itself reports the raw column below 2.10.
import type {DagRunSeed, Seeder, TaskInstanceSeed, XComSeed} from '../airflow-db/seeder.js'
import type {FakeFixture, FakeRun} from './index.js'

export type FixtureSeeder = Pick<Seeder, 'version' | 'dagRun' | 'taskInstance' | 'xcom'> & {fixture: FakeFixture}

export function fixtureSeeder(version: '2.10' | '3.x' = '3.x', dagVersionId?: string): FixtureSeeder {
  const fixture: FakeFixture = {dags: [], runs: [], taskInstances: [], xcoms: []}
  const addDag = (dagId: string) => {
    if (!fixture.dags.some((d) => d.dagId === dagId)) fixture.dags.push({dagId, tasks: [], latestVersionId: dagVersionId})
  }
  const addRun = (run: DagRunSeed) => {
    addDag(run.dagId)
    if (fixture.runs.some((r) => r.dagId === run.dagId && r.runId === run.runId)) return
    fixture.runs.push({dagId: run.dagId, runId: run.runId, state: (run.state ?? 'running') as FakeRun['state'], endDate: run.endDate ? run.endDate.toISOString() : null})
  }
  let runIds = 0
  return {
    version,
    fixture,
    async dagRun(run: DagRunSeed) {
      addRun(run)
      return ++runIds
    },
    async taskInstance(ti: TaskInstanceSeed) {
      addRun({dagId: ti.dagId, runId: ti.runId, state: 'running'})
      fixture.taskInstances.push({
        dagId: ti.dagId,
        runId: ti.runId,
        taskId: ti.taskId,
        mapIndex: ti.mapIndex ?? -1,
        tryNumber: ti.tryNumber ?? 0,
        state: ti.state,
        startDate: ti.startDate ? ti.startDate.toISOString() : null,
        dagVersionId: ti.dagVersionId ?? dagVersionId,
      })
      return {}
    },
    async xcom(xcom: XComSeed) {
      fixture.xcoms.push({dagId: xcom.dagId, runId: xcom.runId, taskId: xcom.taskId, mapIndex: xcom.mapIndex ?? -1, key: xcom.key, value: xcom.value})
    },
  }
}
