// The Airflow API client's bounds against the fake server: retries only where a retry is safe and
// useful, Retry-After honoured and capped, the request budget counted per attempt, the per-request
// timeout covering a trickled body, Ctrl-C ending any wait, no redirect followed, and a login page
// never read as an answer.
import {afterEach, describe, expect, it} from 'vitest'
import {AirflowApiClient, AirflowApiError, AirflowAuthError, type ApiAuth, MAX_TRIES, RequestBudgetError, retryAfterMs} from '../../src/airflow-api/http.js'
import {parseApiUrl, requestUrl} from '../../src/airflow-api/url.js'
import {InterruptedError, TimeoutError, UnreachableError} from '../../src/errors.js'
import {type FakeAirflowApi, type FakeOptions, type FaultRule, startFakeAirflowApi} from '../support/fake-airflow-api/index.js'

const FIXTURE = {
  dags: [{dagId: 'etl', tasks: [{taskId: 'load', executionTimeout: 3600}]}],
  runs: [{dagId: 'etl', runId: 'scheduled__2026-01-01T00:00:00+00:00', state: 'running' as const}],
  taskInstances: [{dagId: 'etl', runId: 'scheduled__2026-01-01T00:00:00+00:00', taskId: 'load', mapIndex: -1, tryNumber: 1, state: 'running'}],
  xcoms: [],
}

const noAuth: ApiAuth = {how: 'none', header: async () => undefined, renew: async () => false}
const staticToken = (token: string): ApiAuth => ({how: 'token', header: async () => `Bearer ${token}`, renew: async () => false})

let fake: FakeAirflowApi | undefined
afterEach(async () => {
  await fake?.stop()
  fake = undefined
})

async function serve(faults: FaultRule[] = [], options: Partial<FakeOptions> = {}) {
  fake = await startFakeAirflowApi({personality: 'v2', version: '3.2.1', faults, ...options}, FIXTURE)
  return fake
}

function client(server: FakeAirflowApi, options: {timeoutMs?: number; maxRequests?: number; signal?: AbortSignal; auth?: ApiAuth; waits?: number[]} = {}) {
  const waits = options.waits ?? []
  return new AirflowApiClient({
    base: parseApiUrl(server.url, '--airflow-url'),
    timeoutMs: options.timeoutMs ?? 5000,
    maxRequests: options.maxRequests ?? 100,
    concurrency: 2,
    auth: options.auth ?? noAuth,
    signal: options.signal,
    sleep: async (ms) => {
      waits.push(ms)
    },
  })
}

const tiList = (server: FakeAirflowApi) => requestUrl(parseApiUrl(server.url, 'x'), ['api', 'v2', 'dags', '~', 'dagRuns', '~', 'taskInstances'], {state: ['running', 'deferred'], limit: 10})

describe('AirflowApiClient', () => {
  it('reads JSON and the server clock; paths keep the prefix and percent-encode run ids', async () => {
    const server = await serve([], {prefix: '/astro/d-123', clockSkewMs: 3_600_000})
    const api = client(server)
    const base = parseApiUrl(server.url, 'x')
    const answer = await api.get(requestUrl(base, ['api', 'v2', 'dags', 'etl', 'dagRuns', 'scheduled__2026-01-01T00:00:00+00:00']))
    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({dag_run_id: 'scheduled__2026-01-01T00:00:00+00:00'})
    expect(Math.abs(answer.date!.getTime() - Date.now() - 3_600_000)).toBeLessThan(5000)
    expect(server.log[0]!.path).toBe('/api/v2/dags/etl/dagRuns/scheduled__2026-01-01T00%3A00%3A00%2B00%3A00')
    expect(api.stats).toEqual({requests: 1, retries: 0})
  })

  it('keeps the connection alive between requests', async () => {
    const server = await serve()
    const api = client(server)
    for (let i = 0; i < 20; i++) await api.get(tiList(server))
    expect(server.log).toHaveLength(20)
    // fetch's pool may open a second socket while the first is being returned; never one per request.
    expect(server.connections).toBeLessThanOrEqual(2)
  })

  it.each([
    ['429 with Retry-After in seconds', {kind: 'status', status: 429, headers: {'retry-after': '2'}} as const, 2000],
    ['503 text/html', {kind: 'status', status: 503} as const, undefined],
    ['502', {kind: 'status', status: 502} as const, undefined],
    ['504', {kind: 'status', status: 504} as const, undefined],
    ['a reset connection', {kind: 'reset'} as const, undefined],
  ])('retries a GET after %s, then succeeds', async (_name, fault, wait) => {
    const server = await serve([{path: /taskInstances$/, nth: [1, 2], fault}])
    const waits: number[] = []
    const api = client(server, {waits})
    const answer = await api.get(tiList(server))
    expect(answer.status).toBe(200)
    expect(api.stats).toEqual({requests: 3, retries: 2})
    if (wait !== undefined) expect(waits).toEqual([wait, wait])
    else expect(waits.every((ms) => ms >= 250 && ms <= 1000)).toBe(true)
  })

  it(`gives up after ${MAX_TRIES} tries, naming the status`, async () => {
    const server = await serve([{path: /taskInstances$/, fault: {kind: 'status', status: 503}}])
    const api = client(server)
    await expect(api.get(tiList(server))).rejects.toThrow(/answered GET \/api\/v2\/dags\/~\/dagRuns\/~\/taskInstances with 503/)
    expect(server.log).toHaveLength(MAX_TRIES)
  })

  it('does not retry a 500, nor a POST that is not a read, nor a Retry-After beyond the cap', async () => {
    const server = await serve([
      {path: /taskInstances$/, fault: {kind: 'status', status: 500, contentType: 'application/json', body: '{"detail":"boom"}'}},
      {path: /list$/, fault: {kind: 'status', status: 503}},
      {path: /dagRuns\/[^/]+$/, fault: {kind: 'status', status: 429, headers: {'retry-after': '3600'}}},
    ])
    const api = client(server)
    await expect(api.get(tiList(server))).rejects.toBeInstanceOf(AirflowApiError)
    await expect(api.post(`${server.url}/api/v2/dags/~/dagRuns/~/taskInstances/list`, {}, {idempotent: false})).rejects.toThrow(/503/)
    await expect(api.get(`${server.url}/api/v2/dags/etl/dagRuns/r`)).rejects.toThrow(/429/)
    expect(server.log.map((r) => r.method)).toEqual(['GET', 'POST', 'GET'])
  })

  it('Retry-After as an HTTP date, absent, or too far', () => {
    const now = Date.parse('2026-01-01T00:00:00Z')
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000)
    expect(retryAfterMs('31', now)).toBeUndefined()
    expect(retryAfterMs(null, now)).toBeGreaterThanOrEqual(250)
  })

  it('the budget counts every attempt, retries included, and stops before sending more', async () => {
    const server = await serve([{path: /taskInstances$/, nth: [1, 2], fault: {kind: 'status', status: 503}}])
    const api = client(server, {maxRequests: 2})
    await expect(api.get(tiList(server))).rejects.toBeInstanceOf(RequestBudgetError)
    expect(server.log).toHaveLength(2)
  })

  it('a black hole and a trickled body end at --airflow-timeout', async () => {
    const server = await serve([
      {path: /taskInstances$/, fault: {kind: 'black-hole'}},
      {path: /dagRuns\/[^/]+$/, fault: {kind: 'trickle', intervalMs: 50}},
    ])
    const api = client(server, {timeoutMs: 400})
    const started = Date.now()
    await expect(api.get(tiList(server))).rejects.toBeInstanceOf(TimeoutError)
    await expect(api.get(`${server.url}/api/v2/dags/etl/dagRuns/r`)).rejects.toThrow(/within 0.4s \(--airflow-timeout\)/)
    expect(Date.now() - started).toBeLessThan(3000)
  })

  it('Ctrl-C ends a request in flight with the run\'s own reason', async () => {
    const server = await serve([{path: /taskInstances$/, fault: {kind: 'black-hole'}}])
    const controller = new AbortController()
    const api = client(server, {timeoutMs: 0, signal: controller.signal})
    setTimeout(() => controller.abort(new InterruptedError('interrupted', {signal: 'SIGINT'})), 100)
    await expect(api.get(tiList(server))).rejects.toMatchObject({name: 'InterruptedError', signal: 'SIGINT'})
  })

  it('a redirect is not followed (no Authorization sent elsewhere), naming only the host', async () => {
    const server = await serve([{path: /taskInstances$/, fault: {kind: 'redirect', location: 'http://127.0.0.1:9/sso?next=secret-ish'}}])
    const api = client(server, {auth: staticToken('tok-123')})
    const error = await api.get(tiList(server)).catch((e: Error) => e)
    expect(error).toBeInstanceOf(AirflowApiError)
    expect((error as Error).message).toMatch(/redirect \(302 to 127\.0\.0\.1:9\)/)
    expect((error as Error).message).not.toMatch(/secret-ish|tok-123/)
    expect(server.log).toHaveLength(1)
  })

  it.each([
    ['a 200 login page', {kind: 'status', status: 200, body: '<html>Sign in</html>'} as const, /text\/html, not JSON \(a login page/],
    ['truncated JSON', {kind: 'truncated-json'} as const, /malformed JSON/],
  ])('%s is an error, never an empty answer', async (_name, fault, message) => {
    const server = await serve([{path: /taskInstances$/, fault}])
    await expect(client(server).get(tiList(server))).rejects.toThrow(message)
  })

  it('a refused connection is unreachable, not retried', async () => {
    const server = await serve()
    const url = server.url
    await server.stop()
    fake = undefined
    const api = new AirflowApiClient({base: parseApiUrl(url, 'x'), timeoutMs: 2000, maxRequests: 10, concurrency: 1, auth: noAuth})
    await expect(api.get(`${url}/api/v2/version`)).rejects.toBeInstanceOf(UnreachableError)
    expect(api.stats.requests).toBe(1)
  })

  it('an expired token is renewed once; a refused one is an auth error; 403 Forbidden is the caller\'s', async () => {
    const server = await serve([], {auth: {kind: 'jwt', username: 'u', password: 'p', ttlMs: 60_000}, deniedDags: ['etl']})
    const base = parseApiUrl(server.url, 'x')
    const issue = async () => ((await client(server).post(`${server.url}/auth/token`, {username: 'u', password: 'p'}, {idempotent: false, anonymous: true})).body as {access_token: string}).access_token
    let token = await issue()
    let renewals = 0
    const auth: ApiAuth = {
      how: 'password',
      header: async () => `Bearer ${token}`,
      renew: async () => {
        renewals++
        token = await issue()
        return true
      },
    }
    server.expireTokens()
    const api = client(server, {auth})
    expect((await api.get(requestUrl(base, ['api', 'v2', 'dags', '~', 'dagRuns', '~', 'taskInstances']))).status).toBe(200)
    expect(renewals).toBe(1)
    expect((await api.get(requestUrl(base, ['api', 'v2', 'dags', 'etl']))).status).toBe(403)
    await expect(client(server, {auth: staticToken('forged')}).get(requestUrl(base, ['api', 'v2', 'dags', 'etl']))).rejects.toThrow(/403 Invalid JWT token/)
    server.expireTokens()
    await expect(client(server, {auth: staticToken(token)}).get(requestUrl(base, ['api', 'v2', 'version', 'x']))).rejects.toBeInstanceOf(AirflowAuthError)
  })

  it('a slow token source does not eat the request timeout, nor a request of the budget when it fails', async () => {
    const server = await serve()
    const slow: ApiAuth = {how: 'token-cmd', header: () => new Promise((resolve) => setTimeout(() => resolve('Bearer t'), 600)), renew: async () => false}
    expect((await client(server, {timeoutMs: 400, auth: slow}).get(tiList(server))).status).toBe(200)
    const failing: ApiAuth = {how: 'token-cmd', header: async () => Promise.reject(new Error('token command failed')), renew: async () => false}
    const api = client(server, {auth: failing})
    await expect(api.get(tiList(server))).rejects.toThrow(/token command failed/)
    expect(api.stats.requests).toBe(0)
  })

  it('a proxy\'s HTML refusal is an auth error', async () => {
    const server = await serve([], {auth: {kind: 'proxy', token: 'right'}})
    await expect(client(server, {auth: staticToken('wrong')}).get(tiList(server))).rejects.toThrow(/rejected the token \(token\).*403 \(not JSON/)
  })

  it('never more requests in flight than the cap', async () => {
    const server = await serve([{path: /taskInstances$/, fault: {kind: 'trickle', intervalMs: 20}}])
    const api = client(server, {timeoutMs: 300})
    const reads = Array.from({length: 5}, () => api.get(tiList(server)).catch(() => undefined))
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(server.log).toHaveLength(2)
    await Promise.all(reads)
  })
})

describe('parseApiUrl', () => {
  it.each([
    ['https://user:pw@airflow.example.com', /user info in the URL is refused/],
    ['https://airflow.example.com/api/v2', /without \/api\/v2/],
    ['ftp://airflow.example.com', /scheme must be https or http/],
    ['https://airflow.example.com/?token=x', /query or fragment/],
    ['not a url', /not a URL/],
  ])('%s is a usage error', (text, message) => {
    expect(() => parseApiUrl(text, '--airflow-url')).toThrow(message)
  })

  it('keeps a path prefix and knows plain http to a remote host', () => {
    expect(parseApiUrl('https://x.astronomer.run/d1234/', 'f')).toMatchObject({base: 'https://x.astronomer.run/d1234', plainHttpRemote: false})
    expect(parseApiUrl('http://airflow.internal:8080', 'f').plainHttpRemote).toBe(true)
    expect(parseApiUrl('http://127.0.0.1:8080', 'f').plainHttpRemote).toBe(false)
    expect(requestUrl(parseApiUrl('https://h/p', 'f'), ['api', 'v2', 'dags', 'a/b'], {state: ['running', 'none'], limit: 5})).toBe('https://h/p/api/v2/dags/a%2Fb?state=running&state=none&limit=5')
  })
})
