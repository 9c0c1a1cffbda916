"""Executes the KubernetesPodOperator of exec_dags/reap_exec.py with the real Airflow of a venv, for
test/real/airflow-*.test.ts (the test plays the kubelet on the real kube-apiserver meanwhile).

    python execute.py run DATE         dag.test() of reap_exec for logical date DATE (ISO 8601): the
                                       provider creates the pod, polls it, and Airflow records the try
    python execute.py worker DATE      2.x: a scheduler queues the try, then `airflow tasks run --local`
                                       runs it as a worker does (LocalTaskJob, heartbeats, forked task)
    python execute.py sweep DATE       2.x: the scheduler's heartbeat sweep and the DAG processor's
                                       handling of what it finds (the try marked failed)
    python execute.py mark-failed DATE the task instance marked failed the way the REST API's
                                       "update task instance state" (and the UI's Mark failed) does it
    python execute.py state DATE       Airflow's view of the task instance: state, try, pod_name XCom

Each prints `@@reap {"result": ...}` as its last line. The DB is AIRFLOW__DATABASE__SQL_ALCHEMY_CONN's
(migrated), the DAGs folder AIRFLOW__CORE__DAGS_FOLDER (exec_dags/), the cluster KUBECONFIG's.
"""
from __future__ import annotations

import json
import os
import sys
from datetime import datetime

MARK = "@@reap "
DAG_ID = "reap_exec"
TASK_ID = "run_pod"


def emit(result) -> None:
    sys.stdout.write(MARK + json.dumps({"result": result}, default=str) + "\n")
    sys.stdout.flush()


def airflow3() -> bool:
    import airflow

    return int(airflow.__version__.split(".")[0]) >= 3


def the_dag():
    """reap_exec parsed from the DAGs folder and serialized into the DB (as scenario.py World._sync)."""
    folder = os.environ["AIRFLOW__CORE__DAGS_FOLDER"]
    if airflow3():
        from airflow.dag_processing.bundles.manager import DagBundlesManager
        from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db
        from airflow.utils.session import create_session

        manager = DagBundlesManager()
        with create_session() as session:
            manager.sync_bundles_to_db(session=session)
        bag = BundleDagBag(dag_folder=folder, bundle_path=folder, bundle_name="dags-folder")
    else:
        from airflow.models.dagbag import DagBag

        bag = DagBag(folder, include_examples=False)
    if bag.import_errors:
        raise SystemExit(f"DAG import errors: {bag.import_errors}")
    if airflow3():
        sync_bag_to_db(bag, "dags-folder", None)
    else:
        bag.sync_to_db()
    return bag.get_dag(DAG_ID)


def run(date: datetime) -> None:
    dag = the_dag()
    if airflow3():
        dag.test(logical_date=date)
    else:
        dag.test(execution_date=date)
    state(date)


def worker(date: datetime) -> None:
    """2.x: what the scheduler and a worker do with one try, up to the worker's own command.

    A scheduler Job (the one the heartbeat sweep runs as) creates the dag run and queues the task
    instance (queued_by_job_id: the sweep only fails what its scheduler queued); then this process
    becomes the worker, `airflow tasks run --local`: a LocalTaskJob that marks the try running,
    heartbeats, and runs the task in a forked child (the KubernetesPodOperator's execute()).
    """
    from airflow.jobs.job import Job
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState, TaskInstanceState
    from airflow.utils.types import DagRunType

    dag = the_dag()
    with create_session() as session:
        job = Job()
        SchedulerJobRunner(job=job)
        job.prepare_for_execution(session=session)
        run = dag.create_dagrun(
            run_id=f"scheduled__{date.isoformat()}",
            execution_date=date,
            data_interval=dag.timetable.infer_manual_data_interval(run_after=date),
            state=DagRunState.RUNNING,
            run_type=DagRunType.SCHEDULED,
            external_trigger=False,
            session=session,
        )
        ti = run.get_task_instance(TASK_ID, session=session)
        ti.task = dag.get_task(TASK_ID)
        run.schedule_tis([ti], session=session)
        ti = run.get_task_instance(TASK_ID, session=session)
        ti.state, ti.queued_by_job_id = TaskInstanceState.QUEUED, job.id
        session.commit()
        run_id = run.run_id
    airflow = os.path.join(os.path.dirname(sys.executable), "airflow")
    os.execv(airflow, [airflow, "tasks", "run", DAG_ID, TASK_ID, run_id, "--local"])


def sweep(date: datetime) -> None:
    """2.x: the scheduler's heartbeat sweep (zombie detection) and the DAG processor's handling of it.

    _find_zombies is the scheduler's own query (a running try whose LocalTaskJob stopped heartbeating
    longer than [scheduler] scheduler_zombie_task_threshold ago); the TaskCallbackRequest is the one
    _purge_zombies sends, executed as the DAG processor executes it (handle_failure).
    """
    from airflow.callbacks.callback_requests import TaskCallbackRequest
    from airflow.dag_processing.processor import DagFileProcessor
    from airflow.jobs.job import Job
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
    from airflow.models.dagbag import DagBag
    from airflow.models.taskinstance import SimpleTaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        job = session.get(Job, task_instance(date, session).queued_by_job_id)
        runner = SchedulerJobRunner(job=job)
        requests = [
            TaskCallbackRequest(full_filepath=fileloc, processor_subdir=subdir, simple_task_instance=SimpleTaskInstance.from_ti(ti), msg="heartbeat timeout")
            for ti, fileloc, subdir in runner._find_zombies(session=session)
        ]
    dagbag = DagBag(os.environ["AIRFLOW__CORE__DAGS_FOLDER"], include_examples=False)
    with create_session() as session:
        # unit_test_mode False: handle_failure as the DAG processor calls it in production.
        DagFileProcessor.execute_callbacks(dagbag, requests, False, session=session)
    state(date, zombies=len(requests))


def task_instance(date: datetime, session):
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance as TI

    date_column = DagRun.logical_date if airflow3() else DagRun.execution_date
    run = session.query(DagRun).filter(DagRun.dag_id == DAG_ID, date_column == date).one()
    return session.query(TI).filter_by(dag_id=DAG_ID, run_id=run.run_id, task_id=TASK_ID, map_index=-1).one()


def mark_failed(date: datetime) -> None:
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState

    with create_session() as session:
        ti = task_instance(date, session)
        run_id = ti.run_id
    # What PATCH /dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id} {"new_state": "failed"}
    # calls, on the DAG as that API server loads it (3.x: the serialized DAG from the DB).
    with create_session() as session:
        if airflow3():
            from airflow.models.dagbag import DBDagBag

            dag = DBDagBag().get_latest_version_of_dag(DAG_ID, session=session)
        else:
            dag = the_dag()
        dag.set_task_instance_state(task_id=TASK_ID, run_id=run_id, state=TaskInstanceState.FAILED, commit=True, session=session)
    state(date)


def state(date: datetime, **extra) -> None:
    from airflow.utils.session import create_session

    with create_session() as session:
        ti = task_instance(date, session)
        if airflow3():
            from airflow.models.xcom import XComModel as XCom

            row = session.query(XCom).filter_by(dag_id=DAG_ID, run_id=ti.run_id, task_id=TASK_ID, map_index=-1, key="pod_name").one_or_none()
            pod_name = None if row is None else XCom.deserialize_value(row)
        else:
            from airflow.models.xcom import XCom

            pod_name = XCom.get_one(key="pod_name", dag_id=DAG_ID, task_id=TASK_ID, run_id=ti.run_id, map_index=-1, session=session)
        emit({"dagId": ti.dag_id, "taskId": ti.task_id, "runId": ti.run_id, "state": ti.state, "tryNumber": ti.try_number, "podName": pod_name, "pid": ti.pid, "hostname": ti.hostname, **extra})


def main() -> None:
    command, date = sys.argv[1], datetime.fromisoformat(sys.argv[2])
    {"run": run, "worker": worker, "sweep": sweep, "mark-failed": mark_failed, "state": state}[command](date)


if __name__ == "__main__":
    main()
