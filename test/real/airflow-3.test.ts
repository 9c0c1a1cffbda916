// Airflow 3 from PyPI (test/real/airflow/constraints-3.txt, venv by scripts/real-airflow.sh):
// PostgreSQL (psycopg 3, asyncpg), SQLite and MariaDB (mysqlclient, which Airflow 3.3 insists on for
// any mysql URL, and aiomysql) migrated by Airflow itself, task instances moved through the Execution
// API the Task SDK uses (in process, as dag.test() runs it), pods built by the provider (10.25.0).
// See test/support/real-airflow/suite.ts.
import {describeRealAirflow} from '../support/real-airflow/suite.js'

// The 3.x DDL files describe Airflow 3.1; 3.3.2 differs where 3.2 and 3.3 changed the schema:
const NEWER_INDEXES = ['dag_run index (created_dag_version_id)', 'task_instance index (dag_version_id)']

describeRealAirflow('3', {
  airflow: '3.3.2',
  family: 'airflow-3',
  kinds: ['postgresql', 'sqlite', 'mysql'],
  ddl: {
    fixture: '3.x',
    differences: {
      postgresql: {
        // 3.2 made serialized_dag.data JSONB and task_instance.try_number NOT NULL (we read both alike).
        onlyFixture: ['serialized_dag.data json', 'task_instance.try_number integer'],
        onlyAirflow: [
          'dag_run index btree (created_dag_version_id)',
          'serialized_dag.data jsonb',
          'task_instance index btree (dag_version_id)',
          'task_instance.try_number integer NOT NULL',
        ],
      },
      sqlite: {
        // task_instance.id is CHAR(32) holding 32 hex digits (SQLAlchemy's Uuid), not a hyphenated
        // VARCHAR(36) as the fixture (and FACTS §3.6) say; airflow-reap never reads it.
        onlyFixture: ['task_instance.id VARCHAR(36) NOT NULL', 'task_instance.try_number INTEGER'],
        onlyAirflow: [...NEWER_INDEXES, 'task_instance.id CHAR(32) NOT NULL', 'task_instance.try_number INTEGER NOT NULL'],
      },
    },
  },
})
