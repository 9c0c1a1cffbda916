// Which failed writes may nevertheless have been applied (and are settled by reading the object
// back), and which certainly were not (recorded failed at once).
import {describe, expect, it} from 'vitest'
import {ApiError, ConfigError, ForbiddenError, InterruptedError, TimeoutError, UnreachableError} from '../../src/errors.js'
import {mayHaveApplied, settleAfterInterrupt} from '../../src/reap/ambiguous.js'

const network = (code: string) => new UnreachableError(`cannot reach the Kubernetes API: ${code}`, {cause: Object.assign(new Error(code), {code})})

describe('mayHaveApplied', () => {
  it.each<[string, unknown, boolean]>([
    ['403 RBAC denial', new ForbiddenError('RBAC denied: cannot delete pods', 'delete', 'pods'), false],
    ['401', new ForbiddenError('unauthorized (HTTP 401)'), false],
    ['429 after the retries', new ApiError('DELETE ...: HTTP 429 TooManyRequests', 429), false],
    ['422', new ApiError('PATCH ...: HTTP 422 Invalid', 422), false],
    ['credentials not obtained', new ConfigError('cannot get credentials for context "x"'), false],
    ['connection refused', network('ECONNREFUSED'), false],
    ['DNS failure', network('ENOTFOUND'), false],
    ['TLS: unknown authority', network('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), false],
    ['500 after the retries', new ApiError('DELETE ...: HTTP 500 InternalError', 500), true],
    ['503', new ApiError('DELETE ...: HTTP 503 ServiceUnavailable', 503), true],
    ['connection reset', network('ECONNRESET'), true],
    ['request timeout', new TimeoutError('DELETE ...: no answer within 60s (--request-timeout)'), true],
    ['interrupted in flight', new InterruptedError('interrupted'), true],
    ['anything unforeseen', new Error('socket hang up'), true],
  ])('%s: %s', (_name, error, expected) => {
    expect(mayHaveApplied(error)).toBe(expected)
  })
})

describe('settleAfterInterrupt', () => {
  it('aborts the writes in flight only after a grace, and never without the run being interrupted', async () => {
    const run = new AbortController()
    const inFlight = settleAfterInterrupt(run.signal)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(inFlight.signal?.aborted).toBe(false)
    const interruptedAt = Date.now()
    run.abort(new InterruptedError('interrupted'))
    expect(inFlight.signal?.aborted).toBe(false)
    await new Promise<void>((resolve) => inFlight.signal!.addEventListener('abort', () => resolve()))
    expect(Date.now() - interruptedAt).toBeGreaterThanOrEqual(400)
    expect(inFlight.signal?.reason).toBe(run.signal.reason)
    inFlight.dispose()
  })

  it('dispose: a run that ends normally leaves no timer behind', () => {
    const run = new AbortController()
    const inFlight = settleAfterInterrupt(run.signal)
    inFlight.dispose()
    run.abort()
    expect(inFlight.signal?.aborted).toBe(false)
  })
})
