"""A custom XCom backend of the kind users configure ([core] xcom_backend) to keep values in object
storage: the metadata DB holds only a reference. scenario.py `reference` runs with it, so the test
sees a pod_name XCom as such a backend really stores it (airflow-reap must not take the reference
for a pod name). The "object storage" is the reference itself: the value is kept after the prefix.
"""
import json

PREFIX = "s3://airflow-xcom/"

try:  # Airflow 3: the Task SDK writes XComs
    from airflow.sdk.bases.xcom import BaseXCom
except ImportError:  # Airflow 2
    from airflow.models.xcom import BaseXCom


class ReferenceXCom(BaseXCom):
    @staticmethod
    def serialize_value(value, *, key=None, task_id=None, dag_id=None, run_id=None, map_index=None):
        reference = PREFIX + f"{dag_id}/{run_id}/{task_id}/{map_index}/{key}.json?" + json.dumps(value)
        return BaseXCom.serialize_value(reference)

    @staticmethod
    def deserialize_value(result):
        reference = BaseXCom.deserialize_value(result)
        if isinstance(reference, str) and reference.startswith(PREFIX):
            return json.loads(reference.split("?", 1)[1])
        return reference
