import {describe, expect, it} from 'vitest'
import {clockCheck, schemaCheck} from '../../src/doctor/verdicts.js'

describe('clockCheck', () => {
  it.each([
    ['in step', {apiServerMs: 300, dbMs: -200, uncertaintyMs: 1500}, 'ok'],
    ['API server 30 s ahead', {apiServerMs: 30_000, uncertaintyMs: 1500}, 'warn'],
    ['API server 10 min behind', {apiServerMs: -600_000, uncertaintyMs: 1500}, 'fail'],
    ['within the measurement noise', {apiServerMs: 11_000, uncertaintyMs: 2000}, 'ok'],
    ['DB 2 min off this machine alone decides nothing', {dbMs: 120_000, uncertaintyMs: 100}, 'ok'],
    ['DB 2 min off the API server', {apiServerMs: 0, dbMs: 120_000, uncertaintyMs: 100}, 'fail'],
    ['both off this machine the same way', {apiServerMs: 90_000, dbMs: 90_000, uncertaintyMs: 100}, 'fail'],
  ])('%s → %s', (_name, offsets, status) => {
    expect(clockCheck(offsets).status).toBe(status)
  })

  it('says each offset, signed, and what to do when off', () => {
    const check = clockCheck({apiServerMs: -600_000, dbMs: 1_500, uncertaintyMs: 500})
    expect(check.message).toBe('API server -600s from this machine; DB +1.5s from this machine; DB +602s from the API server')
    expect(check.fix).toMatch(/NTP/)
    expect(clockCheck({apiServerMs: 0, uncertaintyMs: 0}).fix).toBeUndefined()
  })

  it('is skipped when nothing was measured', () => {
    expect(clockCheck({uncertaintyMs: 0}).status).toBe('skip')
  })
})

describe('schemaCheck', () => {
  it.each([
    ['a release head of the same family', {family: 'airflow-3' as const, revision: '29ce7909c52b'}, 'ok', /= Airflow >=3.0.0 <3.0.3/],
    ['no alembic_version', {family: 'airflow-2.10' as const}, 'warn', /release is unknown/],
    ['an unknown revision', {family: 'airflow-3' as const, revision: 'abcdef123456'}, 'warn', /no release airflow-reap knows \(2.7 … 3.3\)/],
    ['older than 2.7', {family: 'airflow-2.7' as const, revision: '4bc4d934e2bc'}, 'fail', /older than 2.7.0/],
    ['columns of another family', {family: 'airflow-2.10' as const, revision: '29ce7909c52b'}, 'fail', /family is airflow-3/],
  ])('%s → %s', (_name, input, status, message) => {
    const check = schemaCheck({...input, dialect: 'postgresql'})
    expect(check.status).toBe(status)
    expect(check.message).toMatch(message)
    if (status !== 'ok') expect(check.fix).toBeTruthy()
  })
})

describe('clock message', () => {
  it('never prints a negative zero', () => {
    expect(clockCheck({apiServerMs: -20, dbMs: 20, uncertaintyMs: 0}).message).toBe(
      'API server 0.0s from this machine; DB 0.0s from this machine; DB 0.0s from the API server',
    )
  })
})
