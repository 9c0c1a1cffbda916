// Test databases with an Airflow metadata schema, for integration tests:
//
//   const db = await createPostgresAirflowDb('2.10')        // or createSqliteAirflowDb / createMysqlAirflowDb
//   await db.seed.taskInstance({dagId: 'd', taskId: 't', runId: 'r', state: 'running', tryNumber: 1})
//   const airflow = await openAirflowDb(parseDbUrl(db.url))
//   ...
//   await db.drop()                                          // in afterAll
export {ALEMBIC_REVISION, type TestAirflowDb} from './common.js'
export {type FakeServer, startPasswordRejectingPostgres, startSilentServer} from './fake-postgres.js'
export {closedPort} from '../faults.js'
export {createMysqlAirflowDb, type MysqlAirflowDbOptions} from './mysql.js'
export {createPostgresAirflowDb, type PostgresAirflowDbOptions} from './postgres.js'
export {
  type AirflowVersion,
  type DagRunSeed,
  type SerializedDagSeed,
  type Seeder,
  type TaskInstancePatch,
  type TaskInstanceSeed,
  type XComSeed,
  uuid7,
} from './seeder.js'
export {createSqliteAirflowDb, type SqliteTestAirflowDb} from './sqlite.js'
