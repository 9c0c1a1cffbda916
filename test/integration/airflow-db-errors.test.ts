// What the reader says when the database is not there, refuses the login, or is not Airflow's, and
// that no message ever carries the password.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {openDriver} from '../../src/airflow/drivers/open.js'
import {openAirflowDb} from '../../src/airflow/open.js'
import {parseDbUrl} from '../../src/airflow/url.js'
import {ReapError, SchemaError, UnreachableError} from '../../src/errors.js'
import {
  type FakeServer,
  type TestAirflowDb,
  closedPort,
  createMysqlAirflowDb,
  createPostgresAirflowDb,
  createSqliteAirflowDb,
  startPasswordRejectingPostgres,
  startSilentServer,
} from '../support/airflow-db/index.js'

const PASSWORD = 's3cr3t-Pa55'

/** The error openAirflowDb rejects with (fails the test if it resolves). */
async function openError(url: string, options = {}): Promise<ReapError> {
  const db = await openAirflowDb(parseDbUrl(url), options).catch((error: unknown) => error)
  if (!(db instanceof Error)) {
    await (db as {close(): Promise<void>}).close()
    throw new Error(`expected ${url} to fail`)
  }
  return db as ReapError
}

function expectSafeOneLiner(error: Error, ...secrets: string[]): void {
  expect(error.message).not.toMatch(/[\r\n]/)
  for (const secret of secrets) {
    expect(error.message).not.toContain(secret)
    expect(error.message).not.toContain(encodeURIComponent(secret))
  }
}

describe('when the database cannot be reached', () => {
  it('a closed port is UnreachableError naming the redacted URL and the reason', async () => {
    const port = await closedPort()
    const error = await openError(`postgresql://airflow:${PASSWORD}@127.0.0.1:${port}/airflow`)
    expect(error).toBeInstanceOf(UnreachableError)
    expect(error.message).toBe(
      `cannot connect to the Airflow DB at postgresql://airflow:***@127.0.0.1:${port}/airflow: connect ECONNREFUSED 127.0.0.1:${port}`,
    )
    expectSafeOneLiner(error, PASSWORD)
  })

  it('the same on MySQL', async () => {
    const port = await closedPort()
    const error = await openError(`mysql+mysqldb://airflow:${PASSWORD}@127.0.0.1:${port}/airflow`)
    expect(error).toBeInstanceOf(UnreachableError)
    expect(error.message).toMatch(/^cannot connect to the Airflow DB at mysql\+mysqldb:\/\/airflow:\*\*\*@127\.0\.0\.1:\d+\/airflow: .*ECONNREFUSED/)
    expectSafeOneLiner(error, PASSWORD)
  })

  describe('a server that never answers', () => {
    let server: FakeServer
    beforeAll(async () => {
      server = await startSilentServer()
    })
    afterAll(async () => {
      await server.close()
    })

    it('hits the connect timeout', async () => {
      const started = Date.now()
      const error = await openError(`postgresql://airflow:${PASSWORD}@127.0.0.1:${server.port}/airflow`, {connectTimeoutMs: 300})
      expect(error).toBeInstanceOf(UnreachableError)
      expect(error.message).toMatch(/^cannot connect to the Airflow DB at postgresql:\/\/airflow:\*\*\*@127\.0\.0\.1:\d+\/airflow: .*timeout/i)
      expect(Date.now() - started).toBeLessThan(5_000)
      expectSafeOneLiner(error, PASSWORD)
    })
  })

  it('a missing SQLite file is UnreachableError (the file is not created)', async () => {
    const error = await openError('sqlite:////nonexistent/dir/airflow.db')
    expect(error).toBeInstanceOf(UnreachableError)
    expect(error.message).toMatch(/^cannot connect to the Airflow DB at sqlite:\/\/\/\/nonexistent\/dir\/airflow\.db: /)
  })
})

describe('when the login is refused', () => {
  let server: FakeServer
  beforeAll(async () => {
    server = await startPasswordRejectingPostgres()
  })
  afterAll(async () => {
    await server.close()
  })

  it('PostgreSQL: one line, no password', async () => {
    const error = await openError(`postgresql+psycopg2://reap:${encodeURIComponent('wr0ng/p@ss')}@127.0.0.1:${server.port}/airflow`)
    expect(server.passwords).toContain('wr0ng/p@ss') // the fake really got as far as the password
    expect(error).toBeInstanceOf(UnreachableError)
    expect(error.message).toBe(
      `cannot log in to the Airflow DB at postgresql+psycopg2://reap:***@127.0.0.1:${server.port}/airflow: password authentication failed for user "reap"`,
    )
    expectSafeOneLiner(error, 'wr0ng/p@ss')
  })

  it('PostgreSQL asking for SCRAM, no password in the URL: says so in words', async () => {
    const scram = await startPasswordRejectingPostgres({auth: 'scram'})
    try {
      const error = await openError(`postgresql://reap@127.0.0.1:${scram.port}/airflow`)
      expect(error).toBeInstanceOf(UnreachableError)
      expect(error.message).toBe(
        `cannot log in to the Airflow DB at postgresql://reap@127.0.0.1:${scram.port}/airflow: the server wants a password and the URL has none ` +
          '(write the URL as postgresql://USER:PASSWORD@HOST/DATABASE, the password percent-encoded)',
      )
      expect(error.message).not.toContain('SASL')
    } finally {
      await scram.close()
    }
  })

  it('PostgreSQL asking for a cleartext password, none in the URL: the same words', async () => {
    const error = await openError(`postgresql://reap@127.0.0.1:${server.port}/airflow`)
    expect(error.message).toMatch(/: the server wants a password and the URL has none \(write the URL as postgresql:\/\/USER:PASSWORD@HOST\/DATABASE/)
  })

  describe('MySQL, with a real user', () => {
    let db: TestAirflowDb
    beforeAll(async () => {
      db = await createMysqlAirflowDb('2.10', {password: PASSWORD})
    })
    afterAll(async () => {
      await db?.drop()
    })

    it('the right password works', async () => {
      const airflow = await openAirflowDb(parseDbUrl(db.url))
      expect(airflow.schema.family).toBe('airflow-2.10')
      await airflow.close()
    })

    it('none at all: says the server wants one, in words', async () => {
      const without = db.url.replace(`:${encodeURIComponent(PASSWORD)}@`, '@')
      expect(without).not.toContain(PASSWORD)
      const error = await openError(without)
      expect(error).toBeInstanceOf(UnreachableError)
      expect(error.message).toMatch(
        /^cannot log in to the Airflow DB at mysql:\/\/reap_test_\w+@127\.0\.0\.1:3306\/reap_test_\w+: the server wants a password and the URL has none \(write the URL as mysql:\/\/USER:PASSWORD@HOST\/DATABASE, the password percent-encoded\) \(Access denied .*using password: NO\)\)$/,
      )
    })

    it('a wrong one is one line without either password', async () => {
      const wrong = db.url.replace(encodeURIComponent(PASSWORD), 'Wr0ng-Pa55')
      const error = await openError(wrong)
      expect(error).toBeInstanceOf(UnreachableError)
      expect(error.message).toMatch(/^cannot log in to the Airflow DB at mysql:\/\/reap_test_\w+:\*\*\*@127\.0\.0\.1:3306\/reap_test_\w+: Access denied/)
      expectSafeOneLiner(error, PASSWORD, 'Wr0ng-Pa55')
    })
  })
})

describe('when the database is not an Airflow metadata DB', () => {
  let pg: TestAirflowDb
  let sqlite: TestAirflowDb
  beforeAll(async () => {
    pg = await createPostgresAirflowDb('2.10', {password: PASSWORD})
    sqlite = await createSqliteAirflowDb('3.x')
  })
  afterAll(async () => {
    await pg?.drop()
    await sqlite?.drop()
  })

  it('a missing column is named (PostgreSQL, password in the URL)', async () => {
    await pg.seed.sql('ALTER TABLE task_instance DROP COLUMN try_number')
    const error = await openError(pg.url)
    expect(error).toBeInstanceOf(SchemaError)
    expect(error.message).toMatch(
      /^the database at postgresql:\/\/reap_test_\w+:\*\*\*@127\.0\.0\.1:5432\/reap_test_\w+ does not look like an Airflow 2\.7–3\.x metadata DB: table task_instance has no column try_number$/,
    )
    expectSafeOneLiner(error, PASSWORD)
  })

  it('a missing serialized_dag column is named (SQLite): overdue needs it', async () => {
    await sqlite.seed.sql('ALTER TABLE serialized_dag DROP COLUMN data_compressed')
    const error = await openError(sqlite.url)
    expect(error).toBeInstanceOf(SchemaError)
    expect(error.message).toMatch(/: table serialized_dag has no column data_compressed$/)
  })

  it('a missing task_instance table is named (PostgreSQL)', async () => {
    await pg.seed.sql('DROP TABLE task_instance CASCADE')
    const error = await openError(pg.url)
    expect(error).toBeInstanceOf(SchemaError)
    expect(error.message).toMatch(/: table task_instance not found$/)
    expectSafeOneLiner(error, PASSWORD)
  })

  it('a missing task_instance table is named (SQLite)', async () => {
    await sqlite.seed.sql('DROP TABLE xcom')
    await sqlite.seed.sql('DROP TABLE task_instance')
    const error = await openError(sqlite.url)
    expect(error).toBeInstanceOf(SchemaError)
    expect(error.message).toMatch(/: table task_instance not found$/)
  })

  it('an empty in-memory SQLite database', async () => {
    const error = await openError('sqlite://')
    expect(error).toBeInstanceOf(SchemaError)
    expect(error.message).toBe('the database at sqlite:// does not look like an Airflow 2.7–3.x metadata DB: table dag_run not found')
  })
})

describe('connection settings', () => {
  it('honours options=-csearch_path for tables outside public', async () => {
    const db = await createPostgresAirflowDb('3.x', {schema: 'airflow', password: PASSWORD})
    try {
      expect(db.url).toContain('?options=-csearch_path%3Dairflow')
      const airflow = await openAirflowDb(parseDbUrl(db.url))
      expect(airflow.schema.family).toBe('airflow-3')
      await airflow.close()
      // Without the search_path the tables are not found: the setting really came from the URL.
      const error = await openError(db.url.replace(/\?.*$/, ''))
      expect(error).toBeInstanceOf(SchemaError)
    } finally {
      await db.drop()
    }
  })

  it('sslmode=require against a server without SSL fails instead of falling back', async () => {
    const db = await createPostgresAirflowDb('2.10')
    try {
      const error = await openError(`${db.url}?sslmode=require`)
      expect(error).toBeInstanceOf(UnreachableError)
      expect(error.message).toMatch(/does not support SSL/)
      // the default (prefer) falls back to plain text, as libpq does
      const airflow = await openAirflowDb(parseDbUrl(db.url))
      await airflow.close()
    } finally {
      await db.drop()
    }
  })
})

describe('sessions are read-only', () => {
  // RETURNING makes it a statement with rows, so the database itself (not our driver) must refuse it.
  const update = "UPDATE task_instance SET state = 'failed'"
  const cases: Array<[string, () => Promise<TestAirflowDb>, string]> = [
    ['postgresql', () => createPostgresAirflowDb('2.10'), `${update} RETURNING dag_id`],
    ['sqlite', () => createSqliteAirflowDb('2.10'), `${update} RETURNING dag_id`],
    ['mysql', () => createMysqlAirflowDb('2.10'), update],
  ]
  it.each(cases)('%s refuses writes through the driver', async (_name, create, sql) => {
    const db = await create()
    const driver = await openDriver(parseDbUrl(db.url))
    try {
      const error = await driver.query(sql).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ReapError)
      expect((error as Error).message).toMatch(/read.only|readonly/i)
    } finally {
      await driver.close()
      await db.drop()
    }
  })
})
