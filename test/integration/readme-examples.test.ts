// The README's examples run as shown. Every `kubectl airflow-reap ...` command of its ```sh blocks is
// found here and run, in the README's order, through the built CLI against what the README assumes:
// the official chart's Airflow in namespace `airflow` (its own PostgreSQL, a real one here, reached
// through the fake API server's port-forward), KubernetesPodOperator pods (live, zombie, overdue),
// a Job stuck terminating, and a run store with a run 42. What an example pipes its output into
// (kubectl, jq) is not run; the output is checked to be what that consumer takes. The placeholders
// of the examples (a password and a host) are replaced, and every replacement must still be needed,
// so a new example is run without anyone adding it here and a reworded one cannot slip by.
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import {hostname} from 'node:os'
import path from 'node:path'
import {loadAll} from 'js-yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {shlexSplit} from '../../src/airflow/shlex.js'
import {openRunStore} from '../../src/store/run-store.js'
import {type TestAirflowDb, createPostgresAirflowDb} from '../support/airflow-db/index.js'
import {type CliResult, cliWorkspace, runCli} from '../support/cli.js'
import {type FakeAirflowApi, startFakeAirflowApi} from '../support/fake-airflow-api/index.js'
import {fixtureSeeder} from '../support/fake-airflow-api/seeder.js'
import {type FakeKube, startFakeKube} from '../support/fake-kube/index.js'
import {addHelmAirflow} from '../support/helm-airflow.js'
import {addKpoPod, kpoOperator} from '../support/kpo.js'
import {repoRoot} from '../support/paths.js'

interface Example {
  /** As written in the README (continuation lines joined). */
  text: string
  /** The arguments after `kubectl airflow-reap`, placeholders replaced. */
  args: string[]
  /** The command its output is piped into, if any. */
  consumer: string[]
}

const NS = 'airflow'
const DAG = 'etl'
const RUN = 'scheduled__2026-11-22T00:00:00+00:00'
const PASSWORD = 'Readme-s3cret-pw'
/** The run `history show 42` shows. */
const SHOWN_RUN = 42

/** README placeholder → what stands for it here. Each must still occur in the README. */
function placeholders(db: TestAirflowDb, api = 'http://127.0.0.1:9', tokenCommand = '/bin/false'): Map<string, string> {
  return new Map([
    ['postgresql://airflow:PASSWORD@db:5432/airflow', db.url],
    // "Without DB access": Composer's and Astronomer's API servers are the fake Airflow API (a proxy that
    // takes one bearer token, as theirs do), gcloud a script printing that token.
    ['https://example-dot-us-central1.composer.googleusercontent.com', api],
    ['https://clx1234.astronomer.run/d1abcdef', api],
    ['gcloud auth print-access-token', tokenCommand],
  ])
}

const API_TOKEN = 'readme-api-token'

/** Every `kubectl airflow-reap` command of the README's sh blocks, split as a shell would split it. */
function readmeExamples(markdown: string, replacements: Map<string, string>): Example[] {
  const examples: Example[] = []
  for (const [, block] of markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
    for (const line of block.replace(/\\\n\s*/g, ' ').split('\n')) {
      const start = line.indexOf('kubectl airflow-reap ')
      if (start < 0 || line.trimStart().startsWith('#')) continue
      const text = line.slice(start).trim()
      let replaced = text
      for (const [placeholder, value] of replacements) replaced = replaced.replaceAll(placeholder, value)
      const words = shlexSplit(replaced)
      const comment = words.findIndex((word) => word.startsWith('#'))
      const command = comment < 0 ? words : words.slice(0, comment)
      const pipe = command.indexOf('|')
      examples.push({
        text,
        args: (pipe < 0 ? command : command.slice(0, pipe)).slice(2),
        consumer: pipe < 0 ? [] : command.slice(pipe + 1),
      })
    }
  }
  return examples
}

const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8')

let kube: FakeKube
let db: TestAirflowDb
let dir: string
let env: Record<string, string>
let api: FakeAirflowApi
let tokenCommand: string

beforeAll(async () => {
  kube = await startFakeKube()
  // No DB in the environment: the examples without --db find it in the cluster, as the README says.
  ;({dir, env} = cliWorkspace(kube, {prefix: 'readme', namespace: 'default'}))

  db = await createPostgresAirflowDb('2.10', {password: PASSWORD})
  const {username, pathname} = new URL(db.url)
  const pgPort = Number(new URL(db.url).port || 5432)
  // The chart with its own PostgreSQL: the metadata Secret names the Service, which only a port-forward reaches.
  const connection = `postgresql://${username}:${PASSWORD}@airflow-postgresql.${NS}:5432${pathname}?sslmode=disable`
  addHelmAirflow(kube, {namespace: NS, connection, postgresql: {localPort: pgPort}})
  // A Secret of the user's own (the chart's `data.metadataSecretName`), as the cronjob examples name it.
  kube.addSecret(NS, 'airflow-metadata', {connection})
  await seedAirflow()
  kube.addObject('cronjobs', {apiVersion: 'batch/v1', kind: 'CronJob', metadata: {namespace: NS, name: 'nightly'}, spec: {schedule: '0 2 * * *', jobTemplate: {spec: {}}}})
  kube.addObject('deployments', {apiVersion: 'apps/v1', kind: 'Deployment', metadata: {namespace: NS, name: 'web', labels: {app: 'web'}}, spec: {selector: {matchLabels: {app: 'web'}}, template: {}}})
  seedRunStore()
  // The Astronomer example exports its token; the variable stands in the environment of every example.
  env = {...env, AIRFLOW_REAP_API_TOKEN: API_TOKEN}
  tokenCommand = path.join(dir, 'print-token')
  writeFileSync(tokenCommand, `#!/bin/sh\necho ${API_TOKEN}\n`, {mode: 0o755})
  kube.addSecret(NS, 'airflow-reap-api', {token: API_TOKEN})
})

afterAll(async () => {
  await kube?.close()
  await api?.stop()
  await db?.drop()
  rmSync(dir, {recursive: true, force: true})
})

/** Four live KPO pods, two zombies (their task instances finished) and one deferred task past its timeout; the fake API serves the same. */
async function seedAirflow(): Promise<void> {
  const fixture = fixtureSeeder('2.10')
  for (const seed of [db.seed, fixture]) await seedTaskInstances(seed)
  api = await startFakeAirflowApi({personality: 'v1', version: '2.10.5', prefix: '/d1abcdef', auth: {kind: 'proxy', token: API_TOKEN}}, fixture.fixture)
  const wait = kpoOperator('wait', {execution_timeout: 60})
  await db.seed.serializedDag({dagId: DAG, data: {__version: 1, dag: {_dag_id: DAG, timezone: 'UTC', tasks: [wait]}}})
  await db.seed.taskInstance({dagId: DAG, taskId: 'wait', runId: RUN, state: 'deferred', tryNumber: 1})
  await db.seed.sql("UPDATE task_instance SET start_date = now() - interval '2 hours' WHERE task_id = 'wait'")
  addKpoPod(kube, {namespace: NS, name: 'etl-wait-overdue', dagId: DAG, taskId: 'wait', runId: RUN, tryNumber: 1, ageMinutes: 121})
}

async function seedTaskInstances(seed: Pick<TestAirflowDb['seed'], 'dagRun' | 'taskInstance'>): Promise<void> {
  const first = seed === db.seed
  await seed.dagRun({dagId: DAG, runId: RUN})
  for (let i = 0; i < 4; i++) {
    await seed.taskInstance({dagId: DAG, taskId: `load_${i}`, runId: RUN, state: 'running', tryNumber: 1})
    if (first) addKpoPod(kube, {namespace: NS, name: `etl-load-${i}-live`, dagId: DAG, taskId: `load_${i}`, runId: RUN, tryNumber: 1})
  }
  for (let i = 0; i < 2; i++) {
    await seed.taskInstance({dagId: DAG, taskId: `extract_${i}`, runId: RUN, state: 'success', tryNumber: 1})
    if (first) addKpoPod(kube, {namespace: NS, name: `etl-extract-${i}-zombie`, dagId: DAG, taskId: `extract_${i}`, runId: RUN, tryNumber: 1})
  }
}

/** Runs 1 to 42, finished, as earlier days of reaping left them. */
function seedRunStore(): void {
  const store = openRunStore(env.AIRFLOW_REAP_CACHE)
  for (let i = 1; i <= SHOWN_RUN; i++) {
    const runId = store.startRun({command: 'zombies', argv: ['zombies', '-n', NS], context: 'prod', server: kube.url, namespace: NS, dryRun: true, process: {pid: process.pid, host: hostname(), start: null}})
    store.finishRun(runId, {outcome: 'ok', summary: {scanned: 7, found: 0, acted: 0, failed: 0, skipped: 0, unknown: 0}})
  }
  store.close()
}

/** The Job of the unstick examples, deleted an hour ago and held by the orphan finalizer; again after each is freed. */
function ensureStuckExportJob(): void {
  if (kube.getObject('jobs', NS, 'export-job')) return
  const hourAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString().replace(/\.\d+Z$/, 'Z')
  kube.addObject('jobs', {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {namespace: NS, name: 'export-job', finalizers: ['orphan'], creationTimestamp: hourAgo(90), deletionTimestamp: hourAgo(60), deletionGracePeriodSeconds: 0},
    spec: {template: {spec: {restartPolicy: 'Never', containers: [{name: 'main', image: 'busybox'}]}}},
  })
}

/** What the example's pipe consumer needs of its output. */
function expectConsumable(example: Example, result: CliResult): void {
  const consumer = example.consumer.join(' ')
  if (consumer === '') return
  if (/^xargs -r kubectl delete\b/.test(consumer)) {
    // The README pipes the report into kubectl delete before it deletes anything itself: there are names.
    const lines = result.stdout.split('\n').filter(Boolean)
    expect(lines.length).toBeGreaterThan(0)
    for (const line of lines) expect(line).toMatch(/^(pod|job\.batch)\/[a-z0-9][a-z0-9.-]*$/)
  } else if (consumer.startsWith('jq ')) {
    expect(() => JSON.parse(result.stdout)).not.toThrow()
  } else if (consumer === 'kubectl apply -f -') {
    const documents = loadAll(result.stdout) as {apiVersion?: string; kind?: string}[]
    expect(documents.length).toBeGreaterThan(0)
    for (const document of documents) expect(document).toMatchObject({apiVersion: expect.any(String), kind: expect.any(String)})
  } else {
    throw new Error(`no check for what "${example.text}" pipes into: add one here`)
  }
}

describe("the README's examples", () => {
  it('are found, and every placeholder replaced here still occurs in them', () => {
    for (const placeholder of placeholders({url: 'x'} as TestAirflowDb).keys()) expect(readme).toContain(placeholder)
    expect(readmeExamples(readme, new Map()).length).toBeGreaterThanOrEqual(25)
  })

  // One test, in the README's order: the examples build on each other (report, then delete).
  it('run as shown: exit 0 (3 only with --exit-code), no error, output fit for the pipe', {timeout: 300_000}, async () => {
    const failures: string[] = []
    for (const example of readmeExamples(readme, placeholders(db, api.url, tokenCommand))) {
      if (example.args.some((arg) => arg.startsWith('jobs/export-job'))) ensureStuckExportJob()
      const result = await runCli(example.args, {env})
      const allowed = example.args.includes('--exit-code') ? [0, 3] : [0]
      const problems: string[] = []
      if (!allowed.includes(result.code ?? -1)) problems.push(`exit ${result.code}`)
      if (/^error:/m.test(result.stderr)) problems.push('an error on stderr')
      try {
        expectConsumable(example, result)
      } catch (err) {
        problems.push(`output unfit for "${example.consumer.join(' ')}": ${(err as Error).message.split('\n')[0]}`)
      }
      if (problems.length > 0) failures.push(`${example.text}\n  ${problems.join('; ')}\n  stderr: ${result.stderr.trim().replaceAll('\n', '\n          ')}`)
    }
    expect(failures.join('\n\n')).toBe('')
    // The "Without DB access" examples read their task instances from the (fake) API, with the token.
    expect(api.log.some((r) => r.authScheme === 'Bearer' && r.path.endsWith('/taskInstances'))).toBe(true)
  })
})
