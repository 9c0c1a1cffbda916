// Airflow 2.10 from PyPI (test/real/airflow/constraints-2.10.txt, venv by scripts/real-airflow.sh):
// PostgreSQL, SQLite and MariaDB (through the pure-Python PyMySQL; Airflow 2.10 migrates MariaDB
// 10.11 without complaint) migrated by Airflow itself, task instances moved by its ORM, pods built by
// the provider (10.10.0, the newest that accepts Airflow 2.10). See test/support/real-airflow/suite.ts.
import {describeRealAirflow} from '../support/real-airflow/suite.js'

describeRealAirflow('2.10', {
  airflow: '2.10.5',
  family: 'airflow-2.10',
  kinds: ['postgresql', 'sqlite', 'mysql'],
  // The 2.10 DDL files match what 2.10.5 creates, column for column and index for index.
  ddl: {fixture: '2.10', differences: {}},
})
