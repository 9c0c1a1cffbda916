# One KubernetesPodOperator really executed by test/real/airflow/execute.py (dag.test()), against
# the real kube-apiserver of the test, which plays the kubelet. The options are ones a user may set:
# get_logs=False (no kubelet here serves pods/log; the provider then polls the container status
# instead of streaming logs), on_finish_action="keep_pod" (the pod stays, as users keep them to
# debug; the provider labels it already_checked=True), 1 s polling so the test is quick.
import os
from datetime import datetime

try:  # Airflow 3: the Task SDK
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

with DAG(dag_id="reap_exec", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):
    KubernetesPodOperator(
        task_id="run_pod",
        name="run-pod",
        namespace=os.environ.get("REAP_POD_NAMESPACE", "airflow"),
        image="busybox:1.36",
        cmds=["sh", "-c", "echo done"],
        get_logs=False,
        on_finish_action="keep_pod",
        startup_check_interval_seconds=1,
        base_container_status_polling_interval=1,
    )
