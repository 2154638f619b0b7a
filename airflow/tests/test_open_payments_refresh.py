"""The refresh DAG: it loads with no import errors and the expected shape, and a run against moto's Step
Functions starts the state machine and ends as its execution ends."""

from __future__ import annotations

import json

import boto3
import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.models.taskreschedule import TaskReschedule
from airflow.sdk import DagRunState, TaskInstanceState
from airflow.utils.session import create_session
from conftest import DAGS, LOCAL_AWS_ENV
from sqlalchemy import func, select

DAG_ID = "open_payments_refresh"
ROLE_ARN = "arn:aws:iam::123456789012:role/refresh"
SUCCESS = TaskInstanceState.SUCCESS


@pytest.fixture(scope="module")
def dag():
    bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {}
    assert set(bag.dags) == {DAG_ID}
    return bag.dags[DAG_ID]


@pytest.fixture(scope="module")
def sfn(moto_endpoint):
    return boto3.client("stepfunctions", endpoint_url=moto_endpoint, region_name=LOCAL_AWS_ENV["AWS_REGION"])


def state_machine(sfn, name: str, states: dict, start: str) -> str:
    definition = json.dumps({"StartAt": start, "States": states})
    return sfn.create_state_machine(name=name, definition=definition, roleArn=ROLE_ARN)["stateMachineArn"]


def test_dagbag_loads_the_refresh_dag_with_start_then_wait(dag):
    assert set(dag.task_dict) == {"start_refresh", "wait_for_refresh"}
    assert dag.task_dict["start_refresh"].downstream_task_ids == {"wait_for_refresh"}
    assert dag.task_dict["wait_for_refresh"].upstream_task_ids == {"start_refresh"}
    sensor = dag.task_dict["wait_for_refresh"]
    assert sensor.mode == "reschedule"
    assert sensor.poke_interval == 1  # OPEN_PAYMENTS_REFRESH_POKE_SECONDS from conftest


def test_poke_interval_defaults_to_a_minute_and_rejects_nonsense():
    from open_payments_refresh import poke_seconds

    assert poke_seconds({}) == 60
    with pytest.raises(ValueError, match="OPEN_PAYMENTS_REFRESH_POKE_SECONDS='0'"):
        poke_seconds({"OPEN_PAYMENTS_REFRESH_POKE_SECONDS": "0"})


def states_of(run) -> dict[str, str]:
    return {ti.task_id: ti.state for ti in run.get_task_instances()}


def reschedules_of(run, task_id: str) -> int:
    """How often the sensor gave its slot back (reschedule mode) before it finished."""
    [ti] = [ti for ti in run.get_task_instances() if ti.task_id == task_id]
    with create_session() as session:
        return session.scalar(select(func.count()).where(TaskReschedule.ti_id == ti.id))


def test_run_starts_the_state_machine_and_waits_for_success(dag, sfn, airflow_db):
    # The Wait keeps the execution RUNNING past the first poke, so the sensor reschedules before it succeeds.
    arn = state_machine(
        sfn,
        "refresh-ok",
        {
            "Pause": {"Type": "Wait", "Seconds": 2, "Next": "Done"},
            "Done": {"Type": "Pass", "Result": {"files": 0}, "End": True},
        },
        "Pause",
    )
    run = dag.test(run_conf={"state_machine_arn": arn, "refresh_input": {"programYears": [2023]}})

    [execution] = sfn.list_executions(stateMachineArn=arn)["executions"]
    described = sfn.describe_execution(executionArn=execution["executionArn"])
    assert json.loads(described["input"]) == {"programYears": [2023]}
    assert described["status"] == "SUCCEEDED"
    assert states_of(run) == {"start_refresh": SUCCESS, "wait_for_refresh": SUCCESS}
    assert run.state == DagRunState.SUCCESS
    assert reschedules_of(run, "wait_for_refresh") >= 1  # it saw RUNNING first, then SUCCEEDED


def test_a_failed_execution_fails_the_run(dag, sfn, airflow_db):
    arn = state_machine(
        sfn, "refresh-fails", {"Boom": {"Type": "Fail", "Error": "CleanJobFailed", "Cause": "test"}}, "Boom"
    )
    run = dag.test(run_conf={"state_machine_arn": arn})

    [execution] = sfn.list_executions(stateMachineArn=arn)["executions"]
    assert sfn.describe_execution(executionArn=execution["executionArn"])["status"] == "FAILED"
    assert states_of(run) == {"start_refresh": SUCCESS, "wait_for_refresh": TaskInstanceState.FAILED}
    assert run.state == DagRunState.FAILED
