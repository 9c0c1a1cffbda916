// The phase of each zombie (the metadata-only scan does not carry it): read with a GET per finding
// when there are few, with one metadata-only list per phase when there are many. Both must report the
// same phases and leave finished pods alone unless --include-finished.
import {rmSync} from 'node:fs'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import type {Report} from '../../src/core/report.js'
import {PHASE_GETS_MAX} from '../../src/reap/kpo-pods.js'
import {type TestAirflowDb, createSqliteAirflowDb} from '../support/airflow-db/index.js'
import {cliWorkspace, runCli} from '../support/cli.js'
import {assertValidReport} from '../support/contract.js'
import {type FakeKube, startFakeKube} from '../support/fake-kube/index.js'
import {addKpoPod} from '../support/kpo.js'

const DAG = 'phase_dag'
const RUN = 'scheduled__2026-11-22T00:00:00+00:00'
const PHASES = ['Running', 'Succeeded', 'Failed', 'Pending', 'Unknown'] as const
/** More zombies than PHASE_GETS_MAX, so the scan switches to by-phase lists. */
const MANY = PHASE_GETS_MAX + 20

let db: TestAirflowDb
let kube: FakeKube
let dir: string
let env: Record<string, string>

beforeAll(async () => {
  db = await createSqliteAirflowDb('2.10')
  await db.seed.dagRun({dagId: DAG, runId: RUN})
  await db.seed.taskInstance({dagId: DAG, taskId: 'healthy', runId: RUN, state: 'running', tryNumber: 1})
  for (let i = 0; i < MANY; i++) await db.seed.taskInstance({dagId: DAG, taskId: `done_${i}`, runId: RUN, state: 'success', tryNumber: 1})
}, 60_000)

afterAll(async () => {
  await db?.drop()
})

beforeEach(async () => {
  kube = await startFakeKube()
  ;({dir, env} = cliWorkspace(kube, {prefix: 'phases', context: 'test', db}))
})

afterEach(async () => {
  await kube.close()
  rmSync(dir, {recursive: true, force: true})
})

/** `count` zombie pods, phases in turn; returns the phase each was given by name. */
function seedZombies(count: number): Record<string, string> {
  const phases: Record<string, string> = {}
  for (let i = 0; i < count; i++) {
    const phase = PHASES[i % PHASES.length]!
    addKpoPod(kube, {name: `done-${i}`, dagId: DAG, taskId: `done_${i}`, runId: RUN, tryNumber: 1, phase})
    phases[`done-${i}`] = phase
  }
  // Healthy pods keep the zombies under half of the scan (the mass-delete stop plays no part here).
  for (let i = 0; i < count + 1; i++) addKpoPod(kube, {name: `healthy-${i}`, dagId: DAG, taskId: 'healthy', runId: RUN, tryNumber: 1})
  return phases
}

async function scan(args: string[] = []): Promise<Report> {
  const result = await runCli(['zombies', '-o', 'json', '--no-cache', ...args], {env})
  expect(result.stderr).toBe('')
  const report = JSON.parse(result.stdout) as Report
  assertValidReport(report)
  return report
}

const singlePodGets = () => kube.requests.filter((r) => r.method === 'GET' && /\/pods\/[^/]+$/.test(r.path))
const phaseLists = () => kube.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/pods') && r.query.fieldSelector)

describe.each([
  ['a few zombies: a GET each', 10],
  ['many zombies: one list per phase', MANY],
])('zombie phases, %s', (_name, count) => {
  const byList = count > PHASE_GETS_MAX

  it('reports each zombie with its phase and leaves finished pods alone', async () => {
    const phases = seedZombies(count)
    const report = await scan()
    expect(report.items).toHaveLength(count)
    for (const item of report.items) {
      expect(item.phase, item.name).toBe(phases[item.name])
      if (item.phase === 'Succeeded' || item.phase === 'Failed') {
        expect(item).toMatchObject({action: 'skipped', skipReason: 'finished'})
        expect(item.detail).toContain('--include-finished')
      } else {
        expect(item.action, item.name).toBe('none')
      }
    }
    if (byList) {
      expect(singlePodGets()).toEqual([])
      expect(phaseLists().map((r) => r.query.fieldSelector).sort()).toEqual(
        ['status.phase=Failed', 'status.phase=Pending', 'status.phase=Succeeded', 'status.phase=Unknown'],
      )
      for (const request of phaseLists()) expect(request.query.labelSelector).toBe('kubernetes_pod_operator=True')
    } else {
      expect(singlePodGets()).toHaveLength(count)
      expect(phaseLists()).toEqual([])
    }
  })

  it('--include-finished makes finished pods candidates too', async () => {
    seedZombies(count)
    const report = await scan(['--include-finished'])
    expect(report.items.filter((i) => i.action === 'none')).toHaveLength(count)
  })

  it('keeps the scan selector in the phase reads', async () => {
    const phases = seedZombies(count)
    for (let i = 0; i < count; i++) kube.removeObject('pods', 'airflow', `done-${i}`)
    for (let i = 0; i < count; i++) {
      addKpoPod(kube, {name: `done-${i}`, dagId: DAG, taskId: `done_${i}`, runId: RUN, tryNumber: 1, phase: phases[`done-${i}`], extraLabels: {team: 'a'}})
    }
    const report = await scan(['-l', 'team=a'])
    expect(report.items).toHaveLength(count)
    if (byList) for (const request of phaseLists()) expect(request.query.labelSelector).toBe('kubernetes_pod_operator=True,team=a')
  })
})

it('a zombie deleted between the list and its GET is reported already-gone', async () => {
  seedZombies(3)
  kube.beforeRequest((request) => {
    if (request.method === 'GET' && request.path.endsWith('/pods/done-1')) kube.removeObject('pods', 'airflow', 'done-1')
  })
  const report = await scan()
  expect(report.items.find((i) => i.name === 'done-1')).toMatchObject({action: 'skipped', skipReason: 'already-gone'})
  expect(report.items.find((i) => i.name === 'done-0')).toMatchObject({action: 'none', phase: 'Running'})
})

it('skipped pods show their real phase too (an unknown dag run, a kept pod), never <none>', async () => {
  seedZombies(1)
  addKpoPod(kube, {name: 'foreign', dagId: 'other_airflows_dag', taskId: 't', runId: RUN, tryNumber: 1})
  addKpoPod(kube, {name: 'kept', dagId: DAG, taskId: 'done_1', runId: RUN, tryNumber: 1, annotations: {'airflow-reap/keep': 'true'}})
  const report = await scan()
  expect(report.items.find((i) => i.name === 'foreign')).toMatchObject({action: 'skipped', skipReason: 'unknown-dag-run', phase: 'Running'})
  expect(report.items.find((i) => i.name === 'kept')).toMatchObject({action: 'skipped', skipReason: 'keep-annotation', phase: 'Running'})
  const table = await runCli(['zombies', '--no-cache'], {env})
  expect(table.stdout).toMatch(/^foreign\s+\S+\s+Running\s/m)
})
