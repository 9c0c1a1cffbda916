// The fake Airflow API's answers against the OpenAPI documents the real Airflow ships: v1.yaml of
// Airflow 2.10 (airflow/api_connexion/openapi/) and the generated v2 document of Airflow 3
// (airflow/api_fastapi/core_api/openapi/). They are read at run time from the real-Airflow venvs that
// scripts/real-airflow.sh installs (never copied into this repository). Under CI=true a missing venv
// fails the suite; elsewhere the tests are skipped with the reason.
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import {homedir} from 'node:os'
import path from 'node:path'
import AjvModule from 'ajv'
import yaml from 'js-yaml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {credentialSource} from '../../src/airflow-api/auth.js'
import {openAirflowApi} from '../../src/airflow-api/open.js'
import {parseApiUrl} from '../../src/airflow-api/url.js'
import {type FakeAirflowApi, type FakeFixture, type Personality, startFakeAirflowApi} from '../support/fake-airflow-api/index.js'

const DOCUMENTS: Record<Personality, {line: string; file: string; prefix: string}> = {
  v1: {line: '2.10', file: 'airflow/api_connexion/openapi/v1.yaml', prefix: ''}, // paths below servers[0].url, /api/v1
  v2: {line: '3', file: 'airflow/api_fastapi/core_api/openapi/v2-rest-api-generated.yaml', prefix: '/api/v2'},
}

/** The document inside a complete venv of that Airflow line (scripts/real-airflow.sh: LINE-HASH with a .complete stamp). */
function findDocument(personality: Personality): string | undefined {
  const venvs = path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'airflow-reap', 'airflow-venvs')
  if (!existsSync(venvs)) return undefined
  const {line, file} = DOCUMENTS[personality]
  for (const venv of readdirSync(venvs).filter((name) => name.startsWith(`${line}-`)).sort()) {
    const root = path.join(venvs, venv)
    if (!existsSync(path.join(root, '.complete'))) continue
    for (const python of readdirSync(path.join(root, 'lib')).filter((name) => name.startsWith('python'))) {
      const candidate = path.join(root, 'lib', python, 'site-packages', file)
      if (existsSync(candidate)) return candidate
    }
  }
  return undefined
}

// ajv is CommonJS: its default export is the class.
const Ajv = ((AjvModule as unknown as {default: typeof AjvModule}).default ?? AjvModule) as unknown as new (options: object) => import('ajv').default

const RUN = 'manual__2026-01-01T00:00:00+00:00'
const FIXTURE: FakeFixture = {
  dags: [{dagId: 'etl', latestVersionId: '0199a0a0-0000-7000-8000-000000000001', tasks: [{taskId: 'load', executionTimeout: 5400.5}, {taskId: 'fan', executionTimeout: null, isMapped: true}]}],
  runs: [{dagId: 'etl', runId: RUN, state: 'running'}],
  taskInstances: [
    {dagId: 'etl', runId: RUN, taskId: 'load', mapIndex: -1, tryNumber: 2, state: 'running', startDate: '2026-01-01T00:01:00Z', dagVersionId: '0199a0a0-0000-7000-8000-000000000001'},
    {dagId: 'etl', runId: RUN, taskId: 'fan', mapIndex: 0, tryNumber: 1, state: 'deferred', startDate: '2026-01-01T00:02:00Z'},
    {dagId: 'etl', runId: RUN, taskId: 'fan', mapIndex: 1, tryNumber: 1, state: null},
  ],
  xcoms: [{dagId: 'etl', runId: RUN, taskId: 'load', mapIndex: -1, key: 'pod_name', value: 'etl-load-abc123'}],
}

/** Requests each personality must answer as its document says: [path below the API prefix, status]. */
const READS: Array<[string, number]> = [
  ['/version', 200],
  ['/dags/etl', 200],
  ['/dags/etl/tasks', 200],
  [`/dags/etl/dagRuns/${encodeURIComponent(RUN)}`, 200],
  ['/dags/~/dagRuns/~/taskInstances?state=running&state=deferred&state=none&limit=2&offset=1', 200],
  [`/dags/etl/dagRuns/${encodeURIComponent(RUN)}/taskInstances/load`, 200],
  [`/dags/etl/dagRuns/${encodeURIComponent(RUN)}/taskInstances/fan/1`, 200],
  [`/dags/etl/dagRuns/${encodeURIComponent(RUN)}/taskInstances/load/xcomEntries/pod_name?map_index=-1`, 200],
  ['/dags/nope', 404],
  [`/dags/etl/dagRuns/nope`, 404],
  [`/dags/etl/dagRuns/${encodeURIComponent(RUN)}/taskInstances/load/xcomEntries/other?map_index=-1`, 404],
]

/**
 * Where the real server departs from its own document (seen on the real Airflow 2.10.5 webserver of
 * test/real/airflow-2.10.test.ts): the XCom 404 carries `"detail": null` where v1.yaml says a string.
 * The fake answers as the real server does; the rest of the answer must still be as documented.
 */
const NULL_DETAIL_OF_THE_REAL_SERVER = new Set([`v1 /dags/etl/dagRuns/${encodeURIComponent(RUN)}/taskInstances/load/xcomEntries/other?map_index=-1`])

describe.each(['v1', 'v2'] as const)('the fake Airflow API (%s) against the real OpenAPI document', (personality) => {
  const document = findDocument(personality)
  if (!document && process.env.CI === 'true') {
    it('has the real OpenAPI document', () => {
      expect.fail(`no ${DOCUMENTS[personality].file} in a real-Airflow ${DOCUMENTS[personality].line} venv: run bash scripts/real-airflow.sh`)
    })
    return
  }
  if (!document) {
    it.skip(`skipped: no real-Airflow ${DOCUMENTS[personality].line} venv holds ${DOCUMENTS[personality].file} (bash scripts/real-airflow.sh makes one)`, () => undefined)
    return
  }

  let fake: FakeAirflowApi
  let spec: OpenApi
  let ajv: import('ajv').default
  const api = `/api/${personality}`

  beforeAll(async () => {
    spec = nullableAsAnyOf(yaml.load(readFileSync(document, 'utf8'))) as OpenApi
    ajv = new Ajv({strict: false, allErrors: true, logger: false})
    ajv.addFormat('date-time', (text: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(text))
    ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i)
    ajv.addSchema({...spec, $id: 'spec'} as object)
    const version = personality === 'v1' ? '2.10.5' : '3.3.2'
    fake = await startFakeAirflowApi({personality, version, auth: {kind: 'none'}}, FIXTURE)
  })

  afterAll(async () => {
    await fake?.stop()
  })

  it.each(READS)('%s answers %i with the documented shape', async (request, status) => {
    const response = await fetch(`${fake.url}${api}${request}`)
    expect(response.status).toBe(status)
    let body = await response.json()
    if (NULL_DETAIL_OF_THE_REAL_SERVER.has(`${personality} ${request}`)) {
      expect(body.detail).toBeNull()
      body = {...body, detail: ''}
    }
    const schema = responseSchema(spec, `${DOCUMENTS[personality].prefix}${templateOf(spec, DOCUMENTS[personality].prefix, request.split('?')[0]!)}`, String(status))
    const validate = ajv.compile({$ref: `spec${schema}`})
    expect(validate(body), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true)
  })

  it("the batch list (POST): the bodies airflow-reap sends are ones the document accepts, and the fake's answers are as documented", async () => {
    const batch = `${api}/dags/~/dagRuns/~/taskInstances/list`
    const {prefix} = DOCUMENTS[personality]
    // v1: /dags/~/dagRuns/~/taskInstances/list; v2: /dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/list (each `~`).
    const template = Object.keys(spec.paths).find((path) => path.startsWith(prefix) && path.endsWith('/taskInstances/list') && spec.paths[path]!.post)!
    const opened = await openAirflowApi({base: parseApiUrl(fake.url, 'test'), api: 'auto', credentials: credentialSource(undefined, {}), timeoutMs: 5000, pageSize: 2, maxRequests: 50, concurrency: 2})
    const from = fake.log.length
    await opened.source.taskInstancesOfTasks([{dagId: 'etl', runId: RUN, taskId: 'load', mapIndex: -1}, {dagId: 'etl', runId: RUN, taskId: 'fan', mapIndex: 1}])
    await opened.source.executingTaskInstances([{dagId: 'etl', runId: RUN}])
    const sent = fake.log.slice(from).filter((r) => r.method === 'POST').map((r) => r.body)
    expect(sent.length).toBeGreaterThanOrEqual(2)
    const accepts = ajv.compile({$ref: `spec#/paths/${escapePointer(template)}/post/requestBody/content/application~1json/schema`})
    for (const body of sent) expect(accepts(body), `${JSON.stringify(body)}: ${JSON.stringify(accepts.errors?.slice(0, 3))}`).toBe(true)
    const answers: Array<[unknown, number]> = [
      [sent[0], 200],
      [{dag_ids: ['etl'], no_such_field: 1}, personality === 'v1' ? 400 : 422],
    ]
    for (const [body, status] of answers) {
      const response = await fetch(`${fake.url}${batch}`, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(body)})
      expect(response.status).toBe(status)
      const validate = ajv.compile({$ref: `spec${responseSchema(spec, template, String(status), 'post')}`})
      const answer = await response.json()
      expect(validate(answer), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true)
    }
  })

  it('the task-instance states the fake knows are the documented ones', () => {
    const states = personality === 'v1' ? (spec.components.schemas.TaskState as {enum: unknown[]}).enum : (spec.components.schemas.TaskInstanceState as {enum: unknown[]}).enum
    expect(states).toEqual(expect.arrayContaining(['running', 'deferred', 'queued', 'scheduled', 'up_for_retry', 'up_for_reschedule', 'restarting']))
  })
})

interface OpenApi {
  paths: Record<string, Record<string, {responses: Record<string, {$ref?: string; content?: Record<string, {schema: unknown}>}>}>>
  components: {schemas: Record<string, unknown>; responses?: Record<string, {content?: Record<string, {schema: unknown}>}>}
}

/** The document's path template that a concrete path matches (`~` and ids fill the `{...}` segments). */
function templateOf(spec: OpenApi, prefix: string, concrete: string): string {
  const parts = concrete.split('/')
  const found = Object.keys(spec.paths).find((template) => {
    if (!template.startsWith(prefix)) return false
    const pattern = template.slice(prefix.length).split('/')
    return pattern.length === parts.length && pattern.every((p, i) => (p.startsWith('{') ? parts[i] !== '' : p === parts[i]))
  })
  if (!found) throw new Error(`no path of the document matches ${concrete}`)
  return found.slice(prefix.length)
}

/** A JSON pointer (within `spec`) to the schema of the answer with that status; an undocumented error status falls back to the document's error schema. */
function responseSchema(spec: OpenApi, template: string, status: string, method: 'get' | 'post' = 'get'): string {
  const responses = spec.paths[template]![method]!.responses
  let response = responses[status]
  let pointer = `#/paths/${escapePointer(template)}/${method}/responses/${status}`
  if (!response && status !== '200') {
    const error = spec.components.schemas.HTTPExceptionResponse ? 'HTTPExceptionResponse' : 'Error'
    return `#/components/schemas/${error}`
  }
  if (response?.$ref) {
    pointer = response.$ref
    response = spec.components.responses![response.$ref.split('/').pop()!]!
  }
  if (!response?.content?.['application/json']) throw new Error(`${template} documents no JSON answer for ${status}`)
  return `${pointer}/content/application~1json/schema`
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1')
}

/**
 * OpenAPI 3.0's `nullable: true` beside a `$ref` or `allOf` (no `type`) means "or null"; ajv knows
 * `nullable` only beside a `type`, so such a schema becomes anyOf [it, null].
 */
function nullableAsAnyOf(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(nullableAsAnyOf)
  if (typeof node !== 'object' || node === null) return node
  const object = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, nullableAsAnyOf(value)])) as Record<string, unknown>
  if (object.nullable === true && object.type === undefined) {
    const {nullable: _nullable, ...rest} = object
    return {anyOf: [rest, {type: 'null'}]}
  }
  return object
}
