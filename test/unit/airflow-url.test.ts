// parseDbUrl: the SQLAlchemy URL forms Airflow users write (FACTS §7.3), and errors without secrets.
import path from 'node:path'

import {describe, expect, it} from 'vitest'

import {InvalidDbUrlError, parseDbUrl, redactLoosely} from '../../src/airflow/url.js'
import {EXIT_RUNTIME, EXIT_USAGE, ReapError} from '../../src/errors.js'

describe('parseDbUrl', () => {
  it.each([
    [
      'postgresql://airflow:airflow@postgres/airflow',
      {dialect: 'postgresql', host: 'postgres', user: 'airflow', password: 'airflow', database: 'airflow', redacted: 'postgresql://airflow:***@postgres/airflow'},
    ],
    [
      'postgresql+psycopg2://airflow:pw@db.example.com:5432/airflow?sslmode=require',
      {dialect: 'postgresql', driver: 'psycopg2', host: 'db.example.com', port: 5432, params: {sslmode: 'require'}},
    ],
    ['postgres://u:p@h/d', {dialect: 'postgresql', driver: undefined, redacted: 'postgres://u:***@h/d'}],
    ['postgres+psycopg2://u:p@h:6543/airflow-metadata', {dialect: 'postgresql', driver: 'psycopg2', port: 6543, database: 'airflow-metadata'}],
    [
      // the Helm chart percent-encodes user and password (urlquery)
      'postgresql://my%40user:p%40ss%2Fw%3Ard%25@h:5432/my%20db',
      {user: 'my@user', password: 'p@ss/w:rd%', database: 'my db', redacted: 'postgresql://my%40user:***@h:5432/my%20db'},
    ],
    [
      'postgresql://u:p@h/airflow?options=-csearch_path%3Dairflow&application_name=x',
      {params: {options: '-csearch_path=airflow', application_name: 'x'}},
    ],
    ['postgresql://u@h/d', {user: 'u', password: undefined, redacted: 'postgresql://u@h/d'}],
    ['postgresql://u:@h/d', {user: 'u', password: '', redacted: 'postgresql://u:***@h/d'}],
    ['postgresql:///airflow', {host: undefined, user: undefined, database: 'airflow'}],
    ['postgresql://u:p@[::1]:5433/d', {host: '::1', port: 5433}],
    ['postgresql://u:pa/ss@h/d', {password: 'pa/ss', host: 'h', redacted: 'postgresql://u:***@h/d'}],
    ['mysql://root:root@mysql:3306/airflow', {dialect: 'mysql', host: 'mysql', port: 3306, database: 'airflow'}],
    ['mysql+mysqldb://u:p@h/airflow?charset=utf8mb4&ssl_ca=/ca.pem', {dialect: 'mysql', driver: 'mysqldb', params: {charset: 'utf8mb4', ssl_ca: '/ca.pem'}}],
    ['mysql+pymysql://u:p@h/airflow', {dialect: 'mysql', driver: 'pymysql'}],
    ['sqlite:////opt/airflow/airflow.db', {dialect: 'sqlite', database: '/opt/airflow/airflow.db', redacted: 'sqlite:////opt/airflow/airflow.db'}],
    ['sqlite:///airflow.db', {dialect: 'sqlite', database: path.resolve('airflow.db')}],
    ['sqlite://', {dialect: 'sqlite', database: ':memory:'}],
    ['  postgresql://u:p@h/d\n', {host: 'h', redacted: 'postgresql://u:***@h/d'}], // from a *_CMD or a secret file
    ['postgresql://u:p@h/d?password=x&sslpassword=y&sslmode=disable', {redacted: 'postgresql://u:***@h/d?password=***&sslpassword=***&sslmode=disable'}],
  ])('%s', (text, expected) => {
    expect(parseDbUrl(text)).toMatchObject(expected)
  })

  it('keeps an empty params object when there is no query string', () => {
    expect(parseDbUrl('postgresql://h/d').params).toEqual({})
  })

  it.each([
    ['', '--db', 'invalid --db URL: the URL is empty'],
    ['postgresql://airflow:s3cr3t@db:x/airflow', '--db', 'invalid --db URL: port is not a number'],
    ['postgresql://airflow:s3cr3t@db:99999/airflow', 'AIRFLOW_REAP_DB', 'invalid AIRFLOW_REAP_DB URL: port is out of range (1-65535)'],
    ['mssql+pyodbc://u:s3cr3t@h/d', '--db', 'invalid --db URL: unsupported database "mssql" (use postgresql, mysql or sqlite)'],
    ['oracle://u:s3cr3t@h/d', '--db', 'invalid --db URL: unsupported database "oracle" (use postgresql, mysql or sqlite)'],
    ['airflow:s3cr3t@db/airflow', '--db', 'invalid --db URL: not a URL of the form dialect[+driver]://user:password@host:port/database'],
    ['s3cr3t', '--db', 'invalid --db URL: not a URL of the form dialect[+driver]://user:password@host:port/database'],
    ['postgresql://u:s3cr3t@x@h/d', '--db', 'invalid --db URL: the user name or password contains an unencoded "@" (write it as %40)'],
    ['postgresql://u:s3cr3t%zz@h/d', '--db', 'invalid --db URL: bad percent-encoding in the password'],
    ['sqlite://user@host/x.db', '--db', 'invalid --db URL: a sqlite URL has no host, port or user'],
  ])('rejects %j without echoing it', (text, source, message) => {
    let error: unknown
    try {
      parseDbUrl(text, source)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ReapError)
    expect(error).toBeInstanceOf(InvalidDbUrlError)
    expect((error as Error).message).toBe(message)
    expect((error as Error).message).not.toContain('s3cr3t')
    // On the command line a usage error (exit 2); from the environment a configuration error (exit 1).
    expect((error as InvalidDbUrlError).exitCode).toBe(source === '--db' ? EXIT_USAGE : EXIT_RUNTIME)
  })
})

describe('redactLoosely', () => {
  it.each([
    ['postgresql://u:s3cr3t@h/d', 'postgresql://u:***@h/d'],
    ['postgresql://u:s3@cr@3t@h/d', 'postgresql://u:***@h/d'], // hides up to the last @
    ['u:s3cr3t@h', 'u:***@h'],
    ['postgresql://h:5432/d', 'postgresql://h:5432/d'],
    ['no secrets here', 'no secrets here'],
  ])('%s → %s', (text, redacted) => {
    expect(redactLoosely(text)).toBe(redacted)
  })
})
