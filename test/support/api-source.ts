// The REST API source of src opened in process over a fake Airflow API, and the fault that makes the
// fake answer a path with a JSON body of the test's choosing: for the tests that drive the source's
// port methods (airflow-api-proof, airflow-api-answers).
import {credentialSource} from '../../src/airflow-api/auth.js'
import {AirflowApiError} from '../../src/airflow-api/http.js'
import {openAirflowApi} from '../../src/airflow-api/open.js'
import type {ApiTaskInstanceSource} from '../../src/airflow-api/source.js'
import {parseApiUrl} from '../../src/airflow-api/url.js'
import {type FakeAirflowApi, type FakeFixture, type FakeOptions, type FaultRule, startFakeAirflowApi} from './fake-airflow-api/index.js'

/** A fake of this release serving `fixture`, and the source over it (no credentials, a small budget). */
export async function apiSourceOver(options: FakeOptions, fixture: FakeFixture, pageSize = 100): Promise<{fake: FakeAirflowApi; source: ApiTaskInstanceSource}> {
  const fake = await startFakeAirflowApi(options, fixture)
  const opened = await openAirflowApi({base: parseApiUrl(fake.url, 'test'), api: options.personality, credentials: credentialSource(undefined, {}), timeoutMs: 5000, pageSize, maxRequests: 200, concurrency: 2})
  return {fake, source: opened.source}
}

/** The matching requests (1-based `nth` of them, or all) answered with `status` and this JSON body. */
export function jsonAnswer(path: RegExp, status: number, body: unknown, nth?: number[]): FaultRule {
  return {path, nth, fault: {kind: 'status', status, contentType: 'application/json', body: JSON.stringify(body)}}
}

/**
 * The AirflowApiError the promise rejects with. Not `rejects.toThrow(message)`: vitest lets that pass
 * when the rejection is `undefined` (a `throw` of a function that returns nothing).
 */
export async function apiError(promise: Promise<unknown>): Promise<AirflowApiError> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => ({error}),
  )
  if (!outcome) throw new Error('expected an AirflowApiError, but the promise resolved')
  if (!(outcome.error instanceof AirflowApiError)) throw new Error(`expected an AirflowApiError, got ${String(outcome.error)}`)
  return outcome.error
}
