// What the in-process tests of src/reap run against: the fake API server with a client that does not
// retry (each answer is the one a test injected), and for the commands that read it, a real SQLite
// Airflow 2.10 DB with one dag run whose serialized DAG holds the given operators.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {openAirflowDb} from '../../src/airflow/open.js'
import type {TaskInstanceSource} from '../../src/airflow/types.js'
import {parseDbUrl} from '../../src/airflow/url.js'
import {KubeClient} from '../../src/kube/client.js'
import {loadKubeTarget} from '../../src/kube/config.js'
import {type TestAirflowDb, createSqliteAirflowDb} from './airflow-db/index.js'
import {type FakeKube, startFakeKube} from './fake-kube/index.js'

export interface KubeWorld {
  kube: FakeKube
  client: KubeClient
  kubeconfig: string
  close(): Promise<void>
}

export async function startKubeWorld(prefix: string): Promise<KubeWorld> {
  const kube = await startFakeKube()
  const dir = mkdtempSync(path.join(tmpdir(), `airflow-reap-${prefix}-`))
  const kubeconfig = kube.writeKubeconfig(path.join(dir, 'kubeconfig'))
  const client = new KubeClient(loadKubeTarget({kubeconfig}), {retry: {maxAttempts: 1}})
  return {
    kube,
    client,
    kubeconfig,
    close: async () => {
      client.close()
      await kube.close()
      rmSync(dir, {recursive: true, force: true})
    },
  }
}

export interface ReapWorld extends KubeWorld {
  db: TestAirflowDb
  airflow: TaskInstanceSource
}

export async function startReapWorld(options: {prefix: string; dagId: string; runId: string; tasks: object[]}): Promise<ReapWorld> {
  const db = await createSqliteAirflowDb('2.10')
  await db.seed.dagRun({dagId: options.dagId, runId: options.runId})
  const dag = {_dag_id: options.dagId, fileloc: `/dags/${options.prefix}.py`, timezone: 'UTC', tasks: options.tasks}
  await db.seed.serializedDag({dagId: options.dagId, data: {__version: 1, dag}})
  const airflow = await openAirflowDb(parseDbUrl(db.url))
  const kube = await startKubeWorld(options.prefix)
  return {
    ...kube,
    db,
    airflow,
    close: async () => {
      await kube.close()
      await airflow.close()
      await db.drop()
    },
  }
}
