-- Airflow 2.10.x metadata DB (MySQL 8 / MariaDB 10.6+) -- tables relevant to airflow-reap, for tests.
-- Derived by hand from ../../fixtures/shared/airflow/ddl/postgres-2.10.sql (a copy of shared/airflow/ddl) with the MySQL type mapping of
-- FACTS §3.6 (not taken from a live Airflow MySQL schema):
--   ids (dag_id, task_id, run_id, xcom key) -> VARCHAR(n) COLLATE utf8mb3_bin  ([database]
--     sql_engine_collation_for_ids default; keeps the composite indexes under InnoDB's 3072-byte limit);
--   UtcDateTime -> TIMESTAMP(6) (Airflow sets each session's time_zone to '+00:00');
--   naive trigger_timeout -> DATETIME(6); JSON -> JSON; bytea -> BLOB (xcom.value LONGBLOB);
--   serial -> INTEGER AUTO_INCREMENT; partial indexes -> plain indexes.
-- Airflow requires explicit_defaults_for_timestamp=ON (no implicit ON UPDATE CURRENT_TIMESTAMP).
SET SESSION explicit_defaults_for_timestamp = ON;

CREATE TABLE dag (
    dag_id            VARCHAR(250) COLLATE utf8mb3_bin NOT NULL,
    root_dag_id       VARCHAR(250) COLLATE utf8mb3_bin,
    is_paused         BOOL,
    is_subdag         BOOL,
    is_active         BOOL,
    last_parsed_time  TIMESTAMP(6) NULL,
    fileloc           VARCHAR(2000),
    processor_subdir  VARCHAR(2000),
    owners            VARCHAR(2000),
    max_active_tasks  INTEGER NOT NULL,
    max_active_runs   INTEGER,
    CONSTRAINT dag_pkey PRIMARY KEY (dag_id)
);

CREATE TABLE dag_run (
    id                        INTEGER      NOT NULL AUTO_INCREMENT,
    dag_id                    VARCHAR(250) COLLATE utf8mb3_bin NOT NULL,
    queued_at                 TIMESTAMP(6) NULL,
    execution_date            TIMESTAMP(6) NOT NULL,
    start_date                TIMESTAMP(6) NULL,
    end_date                  TIMESTAMP(6) NULL,
    state                     VARCHAR(50),
    run_id                    VARCHAR(250) COLLATE utf8mb3_bin NOT NULL,
    creating_job_id           INTEGER,
    external_trigger          BOOL,
    run_type                  VARCHAR(50)  NOT NULL,
    conf                      BLOB,
    data_interval_start       TIMESTAMP(6) NULL,
    data_interval_end         TIMESTAMP(6) NULL,
    last_scheduling_decision  TIMESTAMP(6) NULL,
    dag_hash                  VARCHAR(32),
    log_template_id           INTEGER,
    updated_at                TIMESTAMP(6) NULL,
    clear_number              INTEGER      NOT NULL DEFAULT 0,
    CONSTRAINT dag_run_pkey PRIMARY KEY (id),
    CONSTRAINT dag_run_dag_id_execution_date_key UNIQUE (dag_id, execution_date),
    CONSTRAINT dag_run_dag_id_run_id_key UNIQUE (dag_id, run_id)
);
CREATE INDEX dag_id_state ON dag_run (dag_id, state);
CREATE INDEX idx_dag_run_dag_id ON dag_run (dag_id);
CREATE INDEX idx_dag_run_running_dags ON dag_run (state, dag_id);
CREATE INDEX idx_dag_run_queued_dags ON dag_run (state, dag_id);

CREATE TABLE `trigger` (
    id            INTEGER       NOT NULL AUTO_INCREMENT,
    classpath     VARCHAR(1000) NOT NULL,
    kwargs        MEDIUMTEXT    NOT NULL,
    created_date  TIMESTAMP(6)  NOT NULL,
    triggerer_id  INTEGER,
    CONSTRAINT trigger_pkey PRIMARY KEY (id)
);

CREATE TABLE task_instance (
    task_id               VARCHAR(250)  COLLATE utf8mb3_bin NOT NULL,
    dag_id                VARCHAR(250)  COLLATE utf8mb3_bin NOT NULL,
    run_id                VARCHAR(250)  COLLATE utf8mb3_bin NOT NULL,
    map_index             INTEGER       NOT NULL DEFAULT -1,
    start_date            TIMESTAMP(6)  NULL,
    end_date              TIMESTAMP(6)  NULL,
    duration              DOUBLE,
    state                 VARCHAR(20),
    try_number            INTEGER,
    max_tries             INTEGER DEFAULT -1,
    hostname              VARCHAR(1000),
    unixname              VARCHAR(1000),
    job_id                INTEGER,
    pool                  VARCHAR(256)  NOT NULL,
    pool_slots            INTEGER       NOT NULL,
    queue                 VARCHAR(256),
    priority_weight       INTEGER,
    operator              VARCHAR(1000),
    custom_operator_name  VARCHAR(1000),
    queued_dttm           TIMESTAMP(6)  NULL,
    queued_by_job_id      INTEGER,
    pid                   INTEGER,
    executor              VARCHAR(1000),
    executor_config       BLOB,
    updated_at            TIMESTAMP(6)  NULL,
    rendered_map_index    VARCHAR(250),
    external_executor_id  VARCHAR(250),
    trigger_id            INTEGER,
    trigger_timeout       DATETIME(6),
    next_method           VARCHAR(1000),
    next_kwargs           JSON,
    task_display_name     VARCHAR(2000),
    CONSTRAINT task_instance_pkey PRIMARY KEY (dag_id, task_id, run_id, map_index),
    CONSTRAINT task_instance_dag_run_fkey FOREIGN KEY (dag_id, run_id)
        REFERENCES dag_run (dag_id, run_id) ON DELETE CASCADE,
    CONSTRAINT task_instance_trigger_id_fkey FOREIGN KEY (trigger_id)
        REFERENCES `trigger` (id) ON DELETE CASCADE
);
CREATE INDEX ti_dag_state  ON task_instance (dag_id, state);
CREATE INDEX ti_dag_run    ON task_instance (dag_id, run_id);
CREATE INDEX ti_state      ON task_instance (state);
CREATE INDEX ti_state_lkp  ON task_instance (dag_id, task_id, run_id, state);
CREATE INDEX ti_pool       ON task_instance (pool, state, priority_weight);
CREATE INDEX ti_job_id     ON task_instance (job_id);
CREATE INDEX ti_trigger_id ON task_instance (trigger_id);

CREATE TABLE serialized_dag (
    dag_id            VARCHAR(250)  COLLATE utf8mb3_bin NOT NULL,
    fileloc           VARCHAR(2000) NOT NULL,
    fileloc_hash      BIGINT        NOT NULL,
    data              JSON,
    data_compressed   LONGBLOB,
    last_updated      TIMESTAMP(6)  NOT NULL,
    dag_hash          VARCHAR(32)   NOT NULL,
    processor_subdir  VARCHAR(2000),
    CONSTRAINT serialized_dag_pkey PRIMARY KEY (dag_id)
);
CREATE INDEX idx_fileloc_hash ON serialized_dag (fileloc_hash);

CREATE TABLE xcom (
    dag_run_id  INTEGER       NOT NULL,
    task_id     VARCHAR(250)  COLLATE utf8mb3_bin NOT NULL,
    map_index   INTEGER       NOT NULL DEFAULT -1,
    `key`       VARCHAR(512)  COLLATE utf8mb3_bin NOT NULL,
    dag_id      VARCHAR(250)  COLLATE utf8mb3_bin NOT NULL,
    run_id      VARCHAR(250)  COLLATE utf8mb3_bin NOT NULL,
    value       LONGBLOB,
    timestamp   TIMESTAMP(6)  NOT NULL,
    CONSTRAINT xcom_pkey PRIMARY KEY (dag_run_id, task_id, map_index, `key`),
    CONSTRAINT xcom_task_instance_fkey FOREIGN KEY (dag_id, task_id, run_id, map_index)
        REFERENCES task_instance (dag_id, task_id, run_id, map_index) ON DELETE CASCADE
);
CREATE INDEX idx_xcom_key ON xcom (`key`);
CREATE INDEX idx_xcom_task_instance ON xcom (dag_id, task_id, run_id, map_index);
