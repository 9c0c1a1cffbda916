// The world of a test file about the REST API source: a fake cluster and a CLI workspace for the file,
// the file's pods put back before each test (its scenario's), and the fake Airflow API a test started
// stopped after it. The hooks are registered by the call; the fields are set once they have run.
import {afterAll, afterEach, beforeAll, beforeEach} from 'vitest'
import {type CliWorkspace, cliWorkspace} from '../cli.js'
import {type FakeKube, startFakeKube} from '../fake-kube/index.js'
import type {FakeAirflowApi} from './index.js'

export interface FakeApiWorld {
  kube: FakeKube
  ws: CliWorkspace
  /** The fake API of the running test (set by the test; stopped after it). */
  fake?: FakeAirflowApi
}

export function fakeApiWorld(prefix: string, addPods: (kube: FakeKube) => void): FakeApiWorld {
  const world = {} as FakeApiWorld
  beforeAll(async () => {
    world.kube = await startFakeKube()
    world.ws = cliWorkspace(world.kube, {prefix, context: 'test'})
  })
  beforeEach(() => {
    for (const pod of world.kube.listObjects('pods', 'airflow')) world.kube.removeObject('pods', 'airflow', (pod.metadata as {name: string}).name)
    addPods(world.kube)
    world.kube.requests.length = 0
  })
  afterEach(async () => {
    await world.fake?.stop()
    world.fake = undefined
  })
  afterAll(async () => {
    await world.kube?.close()
    world.ws?.remove()
  })
  return world
}
