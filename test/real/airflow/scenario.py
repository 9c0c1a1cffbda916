"""Drives a real Airflow (2.10 or 3.x, from the venvs of scripts/real-airflow.sh) for
test/real/airflow*.test.ts, in one process per scenario.

    python scenario.py facts [VECTORS.json]
                                  Airflow's own facts (versions, state sets, alembic heads, and the
                                  provider's make_safe_label_value of each vector's input) as JSON
    python scenario.py world      parse and serialize dags/, create dag runs and move their task
                                  instances through their states with Airflow's own API, build each
                                  pod with the provider's own code and have the test create it
    python scenario.py reference  a retried task whose pod_name XCom a custom XCom backend stored as
                                  a reference (run with [core] xcom_backend = xcom_reference.ReferenceXCom)

The DB is the one AIRFLOW__DATABASE__SQL_ALCHEMY_CONN names (already migrated by `airflow db migrate`).
Pods: each manifest is built by the provider (KubernetesPodOperator.build_pod_request_obj, and
KubernetesJobOperator.build_job_request_obj for the Job) from the task instance as Airflow holds it,
then handed to the test on stdout as one `@@reap {"create": ...}` line; the test creates it in the
cluster (test/support/real-airflow/cluster.ts: the real kube-apiserver of test/support/real-kube.ts,
or the fake API server where that is not built) and answers with the created object on stdin, so pods exist in the order a worker would
create them (the stale-try rule compares a pod's creationTimestamp with the try's start_date).

State changes go through Airflow's own code: 2.10 the ORM TaskInstance methods a worker and the
scheduler call (schedule_tis, check_and_change_state_before_execution, handle_failure, defer_task,
xcom_push); 3.x the Execution API the Task SDK talks to (in process, as dag.test() does: run,
state, deferral, XCom). The last line is `@@reap {"result": ...}`: every pod with Airflow's own
verdict on it, computed from Airflow's objects (State.finished, try numbers, the deserialized
task's execution_timeout), for the test to compare with what airflow-reap reports.
"""
from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime, timedelta, timezone

MARK = "@@reap "
AIRFLOW3 = False


def emit(message: dict) -> None:
    sys.stdout.write(MARK + json.dumps(message, default=str) + "\n")
    sys.stdout.flush()


def ask(message: dict) -> dict:
    emit(message)
    line = sys.stdin.readline()
    if not line:
        raise SystemExit("the test closed stdin")
    answer = json.loads(line)
    if "error" in answer:
        raise SystemExit(f"the test could not do {list(message)}: {answer['error']}")
    return answer


def airflow_facts(vectors_file: str | None) -> dict:
    import airflow
    from airflow.providers.cncf.kubernetes import __version__ as provider_version
    from airflow.utils.state import State

    try:
        from airflow.utils.db import _REVISION_HEADS_MAP as heads
    except ImportError:  # pragma: no cover - moved in some releases
        heads = {}
    from airflow.providers.cncf.kubernetes.pod_generator import make_safe_label_value

    inputs = [v["input"] for v in json.load(open(vectors_file, encoding="utf-8"))["vectors"]] if vectors_file else []
    return {
        "labels": {value: make_safe_label_value(value) for value in inputs},
        "airflow": airflow.__version__,
        "provider": provider_version,
        "finished": sorted(s.value for s in State.finished),
        "unfinished": sorted(s.value if s is not None else "none" for s in State.unfinished),
        "revisionHeads": dict(heads),
    }


# --- the world -----------------------------------------------------------------------------------


class World:
    """A DAG bag synced to the DB and helpers that move task instances as Airflow itself does."""

    def __init__(self, dags_folder: str):
        from airflow.utils.session import create_session

        self.session_scope = create_session
        self.dags_folder = dags_folder
        self.pods: list[dict] = []
        self.overdue: list[dict] = []
        self.bag = self._sync()

    # Parsing and serialization ---------------------------------------------------------------

    def _sync(self):
        if AIRFLOW3:
            from airflow.dag_processing.bundles.manager import DagBundlesManager
            from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db

            manager = DagBundlesManager()
            with self.session_scope() as session:
                manager.sync_bundles_to_db(session=session)
            bundle = next(b for b in manager.get_all_dag_bundles() if b.name == "dags-folder")
            bag = BundleDagBag(dag_folder=self.dags_folder, bundle_path=self.dags_folder, bundle_name=bundle.name)
            assert not bag.import_errors, bag.import_errors
            sync_bag_to_db(bag, bundle.name, None)
            return bag
        from airflow.models.dagbag import DagBag

        bag = DagBag(dag_folder=self.dags_folder, include_examples=False)
        assert not bag.import_errors, bag.import_errors
        bag.sync_to_db()
        return bag

    def scheduler_dag(self, dag_id: str):
        """The DAG as the scheduler sees it: deserialized from the DB."""
        if AIRFLOW3:
            from airflow.models.dagbag import DBDagBag

            return DBDagBag().get_latest_version_of_dag(dag_id, session=self._session)
        from airflow.models.serialized_dag import SerializedDagModel

        return SerializedDagModel.get_dag(dag_id)

    # Dag runs -------------------------------------------------------------------------------

    def create_run(self, dag_id: str, logical_date: datetime):
        from airflow.models.dagrun import DagRun
        from airflow.utils.state import DagRunState
        from airflow.utils.types import DagRunType

        dag = self.scheduler_dag(dag_id)
        interval = dag.timetable.infer_manual_data_interval(run_after=logical_date)
        if AIRFLOW3:
            from airflow.utils.types import DagRunTriggeredByType

            run_id = DagRun.generate_run_id(run_type=DagRunType.SCHEDULED, logical_date=logical_date, run_after=logical_date)
            run = dag.create_dagrun(
                run_id=run_id,
                logical_date=logical_date,
                data_interval=interval,
                run_after=logical_date,
                run_type=DagRunType.SCHEDULED,
                triggered_by=DagRunTriggeredByType.TIMETABLE,
                state=DagRunState.RUNNING,
                start_date=datetime.now(timezone.utc),
                session=self._session,
            )
        else:
            run_id = DagRun.generate_run_id(DagRunType.SCHEDULED, logical_date)
            run = dag.create_dagrun(
                run_id=run_id,
                execution_date=logical_date,
                data_interval=interval,
                run_type=DagRunType.SCHEDULED,
                state=DagRunState.RUNNING,
                start_date=datetime.now(timezone.utc),
                external_trigger=False,
                session=self._session,
            )
        self._session.commit()
        return run

    def ti(self, run, task_id: str, map_index: int = -1):
        from airflow.models.taskinstance import TaskInstance as TI

        self._session.expire_all()
        ti = (
            self._session.query(TI)
            .filter_by(dag_id=run.dag_id, run_id=run.run_id, task_id=task_id, map_index=map_index)
            .one()
        )
        return ti

    # One try of a task instance, as the scheduler and a worker move it ------------------------

    def start_try(self, run, task_id: str, map_index: int = -1, started_ago: timedelta = timedelta(0)):
        """The scheduler schedules a new try (try_number + 1) and queues it; a worker starts it."""
        from airflow.utils.state import TaskInstanceState

        ti = self.ti(run, task_id, map_index)
        # As the scheduler does: the run and its task instances carry the serialized DAG's tasks.
        run.dag = self.scheduler_dag(run.dag_id)
        ti.task = run.dag.get_task(task_id)
        assert run.schedule_tis([ti], session=self._session) == 1, "not scheduled"

        self._session.commit()
        ti = self.ti(run, task_id, map_index)
        ti.set_state(TaskInstanceState.QUEUED, session=self._session)
        self._session.commit()
        when = datetime.now(timezone.utc) - started_ago
        if AIRFLOW3:
            self.api.task_instances.start(ti.id, os.getpid(), when)
        else:
            ti.refresh_from_task(self.bag.get_dag(run.dag_id).get_task(task_id))
            assert ti.check_and_change_state_before_execution(session=self._session), "deps not met"
            if started_ago:
                # A worker that started this long ago (2.x sets start_date to its own now).
                ti.start_date = when
                self._session.merge(ti)
            self._session.commit()
        return self.ti(run, task_id, map_index)

    def build_pod(self, run, ti, *, push_xcom: bool = True, defer: bool = False) -> dict:
        """The provider builds the pod for this try; the test creates it; the try pushes pod_name."""
        from kubernetes.client import ApiClient

        op = self.unmapped_task(run, ti)
        context = self.context(run, ti, op)
        pod = op.build_pod_request_obj(context)
        created = ask({"create": ApiClient().sanitize_for_serialization(pod)})["object"]
        if push_xcom:
            # KubernetesPodOperator pushes pod_name and pod_namespace right after creating the pod.
            self.xcom_push(ti, "pod_name", created["metadata"]["name"])
            self.xcom_push(ti, "pod_namespace", created["metadata"]["namespace"])
        if defer:
            self.defer(run, ti, op, pod, context)
        return created

    def build_job_pod(self, run, ti) -> dict:
        """KubernetesJobOperator: the provider builds the Job; the test plays the Job controller."""
        from kubernetes.client import ApiClient

        op = self.unmapped_task(run, ti)
        job = op.build_job_request_obj(self.context(run, ti, op))
        answer = ask({"createJob": ApiClient().sanitize_for_serialization(job)})
        return answer["pod"]

    def unmapped_task(self, run, ti):
        task = self.bag.get_dag(run.dag_id).get_task(ti.task_id)
        if ti.map_index < 0:
            return task
        # A mapped task is unmapped for one map index by rendering it, as the worker does.
        if AIRFLOW3:
            context = self.context(run, ti, task)
            holder = _TaskHolder(ti, task)
            context["ti"] = holder
            task.render_template_fields(context)
            return holder.task
        ti.refresh_from_task(task)
        ti.render_templates(ti.get_template_context(session=self._session))
        return ti.task

    def context(self, run, ti, task) -> dict:
        if not AIRFLOW3:
            ti.refresh_from_task(task)
            return ti.get_template_context(session=self._session)
        # 3.x builds the context in the worker (Task SDK RuntimeTaskInstance); what the provider reads
        # from it to label a pod is ti (dag_id, task_id, map_index, try_number), run_id and dag.
        return {"ti": ti, "task_instance": ti, "run_id": run.run_id, "dag_run": run, "dag": task.dag, "task": task, "params": {}}

    def xcom_push(self, ti, key: str, value) -> None:
        if AIRFLOW3:
            from airflow.sdk.execution_time.comms import SetXCom
            from airflow.sdk.execution_time.xcom import resolve_xcom_backend
            from airflow.sdk.execution_time.request_handlers import handle_set_xcom

            # What the task's xcom_push sends the supervisor, and what the supervisor does with it.
            serialized = resolve_xcom_backend().serialize_value(value, key=key, task_id=ti.task_id, dag_id=ti.dag_id, run_id=ti.run_id, map_index=ti.map_index)
            msg = SetXCom(key=key, value=serialized, dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id, map_index=ti.map_index)
            handle_set_xcom(self.api, msg)
        else:
            ti.xcom_push(key=key, value=value, session=self._session)
            self._session.commit()

    def defer(self, run, ti, op, pod, context) -> None:
        import inspect

        from airflow.exceptions import TaskDeferred

        op.pod = pod
        try:
            # As execute_async calls it: newer providers take the context, to give the trigger the
            # execution_timeout deadline (trigger_kwargs["_execution_deadline"], provider 10.25.0).
            if "context" in inspect.signature(op.invoke_defer_method).parameters:
                op.invoke_defer_method(context=context)
            else:
                op.invoke_defer_method()
        except TaskDeferred as deferred:
            if AIRFLOW3:
                from airflow.sdk.execution_time.task_runner import _defer_task

                msg, _ = _defer_task(deferred, _TaskHolder(ti, op), _NullLog())
                self.api.task_instances.defer(ti.id, msg)
            else:
                ti = self.ti(run, ti.task_id, ti.map_index)
                ti.refresh_from_task(op)
                ti.defer_task(exception=deferred, session=self._session)
                self._session.commit()
            return
        raise AssertionError("invoke_defer_method did not defer")

    def fail(self, run, task_id: str, map_index: int = -1):
        """The try fails: up_for_retry while retries remain, else failed (Airflow decides)."""
        from airflow.utils.state import TaskInstanceState

        ti = self.ti(run, task_id, map_index)
        now = datetime.now(timezone.utc)
        if AIRFLOW3:
            task = self.bag.get_dag(run.dag_id).get_task(task_id)
            if ti.try_number <= task.retries:
                self.api.task_instances.retry(ti.id, now, None)
            else:
                self.api.task_instances.finish(ti.id, TaskInstanceState.FAILED, now, None)
        else:
            ti.refresh_from_task(self.bag.get_dag(run.dag_id).get_task(task_id))
            ti.handle_failure("the pod failed", session=self._session)
            self._session.commit()
        return self.ti(run, task_id, map_index)

    def succeed(self, run, task_id: str, map_index: int = -1):
        from airflow.utils.state import TaskInstanceState

        ti = self.ti(run, task_id, map_index)
        if AIRFLOW3:
            self.api.task_instances.succeed(ti.id, datetime.now(timezone.utc), [], [], None)
        else:
            ti.set_state(TaskInstanceState.SUCCESS, session=self._session)
            self._session.commit()
        return self.ti(run, task_id, map_index)

    # Airflow's own verdicts ------------------------------------------------------------------

    def record(self, pod: dict, run, task_id: str, map_index: int = -1) -> None:
        self.pods.append({"name": pod["metadata"]["name"], "namespace": pod["metadata"]["namespace"], "run": run, "task_id": task_id, "map_index": map_index, "labels": pod["metadata"].get("labels", {}), "owned": bool(pod["metadata"].get("ownerReferences"))})

    def verdicts(self) -> dict:
        from airflow.models.xcom import XCom
        from airflow.utils.state import State, TaskInstanceState

        now = datetime.now(timezone.utc)
        out = []
        overdue = []
        for entry in self.pods:
            run = entry.pop("run")
            ti = self.ti(run, entry["task_id"], entry["map_index"])
            pod_try = int(entry["labels"]["try_number"])
            current = self.xcom_value(ti)
            if ti.state in State.finished:
                verdict = "finished"
            elif ti.state in (TaskInstanceState.RUNNING, TaskInstanceState.DEFERRED) and pod_try < ti.try_number and current not in (None, entry["name"]):
                verdict = "retried"
            else:
                verdict = "live"
            task = self.scheduler_dag(run.dag_id).get_task(entry["task_id"])
            timeout = getattr(task, "execution_timeout", None)
            if timeout is None and hasattr(task, "partial_kwargs"):
                timeout = task.partial_kwargs.get("execution_timeout")
            is_overdue = (
                ti.state in (TaskInstanceState.RUNNING, TaskInstanceState.DEFERRED)
                and timeout is not None
                and ti.start_date + timeout < now
            )
            out.append({**entry, "dagId": ti.dag_id, "runId": ti.run_id, "state": ti.state, "tryNumber": ti.try_number, "podNameXCom": current, "verdict": verdict, "overdue": bool(is_overdue), "executionTimeout": timeout.total_seconds() if timeout else None, "startDate": ti.start_date})
        return {"pods": out}

    def xcom_value(self, ti):
        from airflow.models.xcom import XCom

        if AIRFLOW3:
            from airflow.models.xcom import XComModel

            row = self._session.query(XComModel).filter_by(dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id, map_index=ti.map_index, key="pod_name").one_or_none()
            return None if row is None else XComModel.deserialize_value(row)
        return XCom.get_one(key="pod_name", dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id, map_index=ti.map_index, session=self._session)


class _TaskHolder:
    """What the 3.x worker code reads of a RuntimeTaskInstance here: ids, try number, and .task."""

    def __init__(self, ti, task):
        self.dag_id, self.task_id, self.run_id = ti.dag_id, ti.task_id, ti.run_id
        self.map_index, self.try_number, self.start_date = ti.map_index, ti.try_number, ti.start_date
        self.task = task


class _NullLog:
    def info(self, *args, **kwargs):
        pass


def build_world(world: World) -> None:
    """The scenario: every kind of KPO task, each left in a state whose pods Airflow has a view on."""
    pause = 1.1  # creationTimestamp has whole seconds: a new try starts strictly after its old pod

    run = world.create_run("reap_kpo", datetime(2026, 11, 22, tzinfo=timezone.utc))

    # plain (retries=3): try 1 creates a pod and fails -> up_for_retry; try 2 starts, creates its own
    # pod and pushes its name: the try-1 pod is a stale try that Airflow has left behind.
    ti = world.start_try(run, "plain")
    world.record(world.build_pod(run, ti), run, "plain")
    world.fail(run, "plain")
    time.sleep(pause)
    ti = world.start_try(run, "plain")
    world.record(world.build_pod(run, ti), run, "plain")

    # mapped: index 0 succeeded, 1 still running, 2 failed (no retries).
    for index in range(3):
        ti = world.start_try(run, "mapped", index)
        world.record(world.build_pod(run, ti), run, "mapped", index)
    world.succeed(run, "mapped", 0)
    world.fail(run, "mapped", 2)

    # A task inside a TaskGroup: its dotted id is the label; failed.
    ti = world.start_try(run, "grp.extract")
    world.record(world.build_pod(run, ti), run, "grp.extract")
    world.fail(run, "grp.extract")

    # deferrable=True, execution_timeout=10m: started 30 minutes ago, deferred on its pod: overdue.
    ti = world.start_try(run, "deferrable", started_ago=timedelta(minutes=30))
    world.record(world.build_pod(run, ti, defer=True), run, "deferrable")

    # execution_timeout=20m, running for 5 minutes: neither zombie nor overdue.
    ti = world.start_try(run, "slow", started_ago=timedelta(minutes=5))
    world.record(world.build_pod(run, ti), run, "slow")

    # @task.kubernetes: ran and succeeded; its pod was left behind.
    ti = world.start_try(run, "decorated")
    world.record(world.build_pod(run, ti), run, "decorated")
    world.succeed(run, "decorated")

    # KubernetesJobOperator: the Job's pod carries the KPO labels but belongs to the Job.
    ti = world.start_try(run, "job")
    world.record(world.build_job_pod(run, ti), run, "job")
    world.succeed(run, "job")

    # Long, non-ASCII dag and task ids: every label hashed; succeeded.
    from reap_kpo import LONG_DAG

    long_run = world.create_run(LONG_DAG, datetime(2026, 11, 22, tzinfo=timezone.utc))
    long_task = world.bag.get_dag(LONG_DAG).task_ids[0]
    ti = world.start_try(long_run, long_task)
    # (No pod_name XCom: the 3.x in-process Execution API cannot route a non-ASCII dag_id in the XCom
    # URL, a limit of its WSGI bridge; a finished task's XCom plays no part in the verdict anyway.)
    world.record(world.build_pod(long_run, ti, push_xcom=False), long_run, long_task)
    world.succeed(long_run, long_task)


def build_reference_world(world: World) -> None:
    """plain's two tries again, with pod_name stored by a custom XCom backend as a reference."""
    run = world.create_run("reap_kpo", datetime(2026, 11, 23, tzinfo=timezone.utc))
    ti = world.start_try(run, "plain")
    world.record(world.build_pod(run, ti), run, "plain")
    world.fail(run, "plain")
    time.sleep(1.1)
    ti = world.start_try(run, "plain")
    world.record(world.build_pod(run, ti), run, "plain")


def main() -> None:
    global AIRFLOW3
    import airflow

    AIRFLOW3 = int(airflow.__version__.split(".")[0]) >= 3
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "facts":
        emit({"result": airflow_facts(sys.argv[2] if len(sys.argv) > 2 else None)})
        return
    if command not in ("world", "reference"):
        raise SystemExit(f"usage: {sys.argv[0]} facts|world|reference")
    dags = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dags")
    sys.path.insert(0, dags)
    from airflow import settings

    world = World(dags)
    world._session = settings.Session()
    if AIRFLOW3:
        from airflow.sdk.execution_time.supervisor import InProcessTestSupervisor

        world.api = InProcessTestSupervisor._api_client(world.bag.get_dag("reap_kpo"))
    build_world(world) if command == "world" else build_reference_world(world)
    emit({"result": world.verdicts()})


if __name__ == "__main__":
    main()
