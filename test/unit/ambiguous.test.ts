// Which failed writes may nevertheless have been applied (and are settled by reading the object
// back), and which certainly were not (recorded failed at once).
import {describe, expect, it} from 'vitest'
import {ApiError, ConfigError, ForbiddenError, InterruptedError, TimeoutError, UnreachableError} from '../../src/errors.js'
import {failureText, mayHaveApplied, mayStillApply, settleAfterInterrupt, wasAnswered} from '../../src/reap/ambiguous.js'
import {ReapError} from '../../src/errors.js'

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
    ...['EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'ERR_TLS_CERT_ALTNAME_INVALID'].map(
      (code): [string, unknown, boolean] => [`never connected: ${code}`, network(code), false],
    ),
    ['unreachable with no code', new UnreachableError('cannot reach the Kubernetes API'), true],
    // Only a connection failure the client recognised (UnreachableError) counts as not sent.
    ['an unforeseen error whose cause looks like a refused connection', new Error('odd', {cause: Object.assign(new Error('x'), {code: 'ECONNREFUSED'})}), true],
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
    // Bounded: a signal that never aborts fails the test in 2 s rather than hanging it.
    await Promise.race([new Promise<void>((resolve) => inFlight.signal!.addEventListener('abort', () => resolve())), sleep(2000)])
    expect(inFlight.signal?.aborted).toBe(true)
    expect(Date.now() - interruptedAt).toBeGreaterThanOrEqual(400)
    expect(inFlight.signal?.reason).toBe(run.signal.reason)
    inFlight.dispose()
  })

  it('dispose: a run that ends normally leaves no timer behind, and a later interrupt aborts nothing', async () => {
    const run = new AbortController()
    const inFlight = settleAfterInterrupt(run.signal)
    await sleep(600)
    expect(inFlight.signal?.aborted).toBe(false)
    inFlight.dispose()
    run.abort()
    await sleep(600)
    expect(inFlight.signal?.aborted).toBe(false)
  })

  it('a run already interrupted: the writes still get their grace, then are aborted', async () => {
    const run = new AbortController()
    run.abort(new InterruptedError('interrupted'))
    const inFlight = settleAfterInterrupt(run.signal)
    expect(inFlight.signal?.aborted).toBe(false)
    await sleep(600)
    expect(inFlight.signal?.aborted).toBe(true)
    inFlight.dispose()
  })

  it('dispose after the interrupt, within the grace: the writes are not aborted', async () => {
    const run = new AbortController()
    const inFlight = settleAfterInterrupt(run.signal)
    run.abort()
    inFlight.dispose()
    await sleep(600)
    expect(inFlight.signal?.aborted).toBe(false)
  })

  it('no run signal: nothing to abort', () => {
    const inFlight = settleAfterInterrupt(undefined)
    expect(inFlight.signal).toBeUndefined()
    expect(() => inFlight.dispose()).not.toThrow()
  })
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('failureText, wasAnswered, mayStillApply', () => {
  it('our own errors keep their whole message; others only their first line', () => {
    expect(failureText(new ReapError('one\ntwo'))).toBe('one\ntwo')
    expect(failureText(new Error('first line\n    at stack'))).toBe('first line')
    expect(failureText('a string')).toBe('a string')
  })

  it('only an API server answer (a 5xx) counts as answered', () => {
    expect(wasAnswered(new ApiError('HTTP 500', 500))).toBe(true)
    expect(wasAnswered(new TimeoutError('no answer'))).toBe(false)
    expect(wasAnswered(new Error('socket hang up'))).toBe(false)
  })

  it('says why an unanswered write may still apply', () => {
    expect(mayStillApply(new InterruptedError('x'))).toBe('the request was cut short by the interrupt; it may still apply')
    expect(mayStillApply(new TimeoutError('x'))).toBe('the request timed out; it may still apply')
    expect(mayStillApply(new Error('reset'))).toBe('its answer was lost; it may still apply')
  })
})
