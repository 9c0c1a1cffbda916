// Driver settings derived from URL parameters, and driver errors turned into safe one-liners.
import {describe, expect, it} from 'vitest'

import {connectError, queryError, scrubPassword} from '../../src/airflow/drivers/errors.js'
import {mysqlSsl} from '../../src/airflow/drivers/mysql.js'
import {sslSettings} from '../../src/airflow/drivers/postgres.js'
import {requireJsonTable} from '../../src/airflow/queries/mysql.js'
import {parseDbUrl} from '../../src/airflow/url.js'
import {ConfigError, ReapError, SchemaError, UnreachableError} from '../../src/errors.js'

describe('sslSettings (libpq sslmode)', () => {
  it.each([
    [{}, {ssl: {rejectUnauthorized: false}, plainFallback: true}], // default prefer
    [{sslmode: 'prefer'}, {ssl: {rejectUnauthorized: false}, plainFallback: true}],
    [{sslmode: 'disable'}, {ssl: false, plainFallback: false}],
    [{sslmode: 'allow'}, {ssl: false, plainFallback: false}],
    [{sslmode: 'require'}, {ssl: {rejectUnauthorized: false}, plainFallback: false}],
    [{sslmode: 'verify-full'}, {ssl: {rejectUnauthorized: true}, plainFallback: false}],
  ])('%j', (params, expected) => {
    const settings = sslSettings(params as Record<string, string>)
    expect(settings.plainFallback).toBe(expected.plainFallback)
    if (expected.ssl === false) expect(settings.first).toBe(false)
    else expect(settings.first).toMatchObject(expected.ssl as object)
  })

  it('verify-ca checks the chain but not the host name', () => {
    const settings = sslSettings({sslmode: 'verify-ca'})
    expect(settings.first).toMatchObject({rejectUnauthorized: true})
    expect((settings.first as {checkServerIdentity: () => unknown}).checkServerIdentity()).toBeUndefined()
  })

  it('rejects unknown modes and unreadable files', () => {
    expect(() => sslSettings({sslmode: 'sometimes'})).toThrow(ConfigError)
    expect(() => sslSettings({sslmode: 'verify-full', sslrootcert: '/nonexistent/ca.pem'})).toThrow(
      new ConfigError('cannot read the sslrootcert file /nonexistent/ca.pem given in the DB URL (ENOENT)'),
    )
  })
})

describe('mysqlSsl', () => {
  it.each([
    [{}, undefined],
    [{ssl_mode: 'DISABLED'}, undefined],
    [{ssl_mode: 'PREFERRED'}, undefined],
    [{ssl_mode: 'REQUIRED'}, {rejectUnauthorized: false}],
    [{ssl_mode: 'verify_ca'}, {rejectUnauthorized: true, verifyIdentity: false}],
    [{ssl_mode: 'VERIFY_IDENTITY'}, {rejectUnauthorized: true, verifyIdentity: true}],
    [{ssl_verify_cert: 'true'}, {rejectUnauthorized: true}],
  ])('%j', (params, expected) => {
    const ssl = mysqlSsl(params as Record<string, string>)
    if (expected === undefined) expect(ssl).toBeUndefined()
    else expect(ssl).toMatchObject(expected)
  })

  it('rejects unknown modes', () => {
    expect(() => mysqlSsl({ssl_mode: 'MAYBE'})).toThrow(ConfigError)
  })
})

describe('requireJsonTable', () => {
  it.each(['8.0.4', '8.0.36', '8.4.2', '9.1.0', '10.6.0-MariaDB', '10.11.19-MariaDB-0+deb12u1', '11.4.2-MariaDB'])('%s is fine', (v) => {
    expect(() => requireJsonTable(v)).not.toThrow()
  })
  it.each(['5.7.44', '8.0.3', '10.5.9-MariaDB', 'weird'])('%s is too old', (v) => {
    expect(() => requireJsonTable(v)).toThrow(SchemaError)
  })
})

describe('driver errors', () => {
  const url = parseDbUrl('postgresql://airflow:s3cr3t-Pa55@db:5432/airflow')

  it('connection refused → UnreachableError with the redacted URL', () => {
    const error = connectError(url, Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:5432'), {code: 'ECONNREFUSED'}))
    expect(error).toBeInstanceOf(UnreachableError)
    expect(error.message).toBe('cannot connect to the Airflow DB at postgresql://airflow:***@db:5432/airflow: connect ECONNREFUSED 10.0.0.1:5432')
  })

  it('an AggregateError without a message falls back to the inner code', () => {
    const aggregate = Object.assign(new AggregateError([Object.assign(new Error(''), {code: 'ECONNREFUSED'})], ''), {})
    expect(connectError(url, aggregate).message).toMatch(/: ECONNREFUSED$/)
  })

  it('authentication failures say so', () => {
    const error = connectError(url, Object.assign(new Error('password authentication failed for user "airflow"'), {code: '28P01'}))
    expect(error.message).toBe('cannot log in to the Airflow DB at postgresql://airflow:***@db:5432/airflow: password authentication failed for user "airflow"')
  })

  it('messages are one line and never carry the password, even if a driver echoed it', () => {
    const error = connectError(url, new Error('bad thing\n  with password s3cr3t-Pa55\nand more'))
    expect(error.message).toBe('cannot connect to the Airflow DB at postgresql://airflow:***@db:5432/airflow: bad thing with password *** and more')
  })

  it('a password given as ?password= is never carried either', () => {
    const viaParam = parseDbUrl('postgresql://airflow@db:5432/airflow?password=Qu3ry-Pa55', 'test')
    expect(connectError(viaParam, new Error('server said Qu3ry-Pa55 is wrong')).message).not.toContain('Qu3ry-Pa55')
  })

  it('lost connections are UnreachableError, other query errors plain ReapError', () => {
    expect(queryError(url, Object.assign(new Error('read ECONNRESET'), {code: 'ECONNRESET'}))).toBeInstanceOf(UnreachableError)
    expect(queryError(url, new Error('Connection terminated unexpectedly'))).toBeInstanceOf(UnreachableError)
    const other = queryError(url, Object.assign(new Error('relation "x" does not exist'), {code: '42P01'}))
    expect(other).not.toBeInstanceOf(UnreachableError)
    expect(other).toBeInstanceOf(ReapError)
  })

  it('a statement ended by its timeout names --db-timeout and its value, not only the server\'s words', () => {
    const pg = queryError(url, Object.assign(new Error('canceling statement due to statement timeout'), {code: '57014'}), 30_000)
    expect(pg.message).toBe(`the Airflow DB at ${url.redacted} cancelled a query at its statement timeout (--db-timeout 30s): canceling statement due to statement timeout`)
    const mysql = queryError(url, Object.assign(new Error('Query inactivity timeout'), {code: 'PROTOCOL_SEQUENCE_TIMEOUT'}), 5_000)
    expect(mysql.message).toMatch(/\(--db-timeout 5s\): Query inactivity timeout$/)
    // An administrator's cancel is not the timeout.
    const cancelled = queryError(url, Object.assign(new Error('canceling statement due to user request'), {code: '57014'}), 30_000)
    expect(cancelled.message).not.toContain('--db-timeout')
  })

  it('scrubPassword leaves very short passwords alone and also scrubs the encoded form', () => {
    expect(scrubPassword('a b', 'a')).toBe('a b')
    expect(scrubPassword('x p%40ss y p@ss', 'p@ss')).toBe('x *** y ***')
  })
})
