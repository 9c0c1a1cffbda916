# KubernetesPodOperator tasks as users write them, for test/real/airflow*.test.ts: parsed and
# serialized by the real Airflow (2.10 and 3.x), their pods built by the provider's own code.
# Nothing here runs a pod: the test drives the task instances' states itself.
import os
from datetime import datetime, timedelta

try:  # Airflow 3: the Task SDK
    from airflow.sdk import DAG, TaskGroup, task
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.decorators import task
    from airflow.utils.task_group import TaskGroup

from airflow.providers.cncf.kubernetes.operators.job import KubernetesJobOperator
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

IMAGE = "busybox:1.36"
# The test gives each DB kind a namespace of its own on the one control plane of a test file.
NAMESPACE = os.environ.get("REAP_POD_NAMESPACE", "airflow")
COMMON = dict(namespace=NAMESPACE, image=IMAGE, cmds=["sh", "-c", "sleep 3600"], get_logs=False)

with DAG(dag_id="reap_kpo", start_date=datetime(2026, 1, 1), schedule=None, catchup=False) as dag:
    KubernetesPodOperator(task_id="plain", name="plain", retries=3, **COMMON)
    KubernetesPodOperator.partial(task_id="mapped", name="mapped", **COMMON).expand(arguments=[["a"], ["b"], ["c"]])
    with TaskGroup("grp"):
        KubernetesPodOperator(task_id="extract", name="extract", **COMMON)
    KubernetesPodOperator(
        task_id="deferrable",
        name="deferrable",
        deferrable=True,
        execution_timeout=timedelta(minutes=10),
        **COMMON,
    )
    KubernetesPodOperator(task_id="slow", name="slow", execution_timeout=timedelta(minutes=20), **COMMON)
    KubernetesJobOperator(task_id="job", name="job", namespace=NAMESPACE, image=IMAGE, cmds=["true"])

    @task.kubernetes(image="python:3.11-slim", namespace=NAMESPACE)
    def decorated():
        print("hello")

    decorated()

# Ids that Airflow accepts but a label cannot hold as they are: longer than 63 characters, and
# non-ASCII letters (Airflow's key regex is \w, which is Unicode) — make_safe_label_value hashes them.
LONG_DAG = "reap_kpo_ünïcödé_" + "d" * 70
with DAG(dag_id=LONG_DAG, start_date=datetime(2026, 1, 1), schedule=None, catchup=False):
    KubernetesPodOperator(task_id="tâche_" + "t" * 80, name="long", **COMMON)
