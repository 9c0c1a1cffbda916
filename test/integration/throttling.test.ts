// A 429 from the API server (issue 21 §3): stderr says it is throttling and when the retry is, and one
// request's retries are bounded (its --request-timeout, at least 10 s), not up to 5 × 30 s of silence.
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {type TestAirflowDb, createSqliteAirflowDb} from '../support/airflow-db/index.js'
import {type CliWorkspace, cliWorkspace, runCli} from '../support/cli.js'
import {type FakeKube, startFakeKube} from '../support/fake-kube/index.js'

let db: TestAirflowDb
let workspace: CliWorkspace
let kube: FakeKube
let env: Record<string, string>

beforeAll(async () => {
  db = await createSqliteAirflowDb('2.10')
})

afterAll(async () => {
  await db?.drop()
})

beforeEach(async () => {
  kube = await startFakeKube()
  workspace = cliWorkspace(kube, {prefix: '429', db})
  env = workspace.env
})

afterEach(async () => {
  await kube?.close()
  workspace?.remove()
})

const THROTTLED = {method: 'GET', pathIncludes: '/namespaces/airflow/pods', status: 429, body: 'Too many requests, please try again later.\n'}
const podLists = () => kube.requests.filter((r) => r.method === 'GET' && r.path === '/api/v1/namespaces/airflow/pods')

describe('a 429 on the pod list', () => {
  it('Retry-After 30 with --request-timeout 3s: fails at once, one line that says the server throttles and why it gave up', async () => {
    kube.inject({...THROTTLED, headers: {'Retry-After': '30'}, times: Infinity})
    const started = Date.now()
    const result = await runCli(['zombies', '--request-timeout', '3s'], {env, timeoutMs: 60_000})
    expect(Date.now() - started).toBeLessThan(15_000) // was 121 s of silence
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(
      /^error: GET \/api\/v1\/namespaces\/airflow\/pods: the Kubernetes API at https:\/\/127\.0\.0\.1:\d+ is throttling requests \(429 Too Many Requests\); waiting 30s more to retry would pass the 10s one request may take with its retries \(--request-timeout\)\n$/,
    )
    expect(podLists()).toHaveLength(1)
  })

  it('Retry-After 2: says on stderr that it is throttled and when it retries, then goes on', async () => {
    kube.inject({...THROTTLED, headers: {'Retry-After': '2'}, times: 1})
    const result = await runCli(['zombies'], {env, timeoutMs: 60_000})
    expect(result.code).toBe(0)
    expect(result.stderr).toContain('warning: the API server is throttling requests (429 Too Many Requests): retrying GET /api/v1/namespaces/airflow/pods in 2s\n')
    expect(podLists()).toHaveLength(2)
  })
})
