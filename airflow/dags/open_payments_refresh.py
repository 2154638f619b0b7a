"""Starts the Open Payments Lake refresh state machine and waits for it: for teams that schedule with
Airflow (MWAA). The state machine does the work (docs/orchestration.md); this DAG only starts it and reports
its outcome.

Set the state machine's ARN as the DAG's `state_machine_arn` parameter (or the environment variable
OPEN_PAYMENTS_REFRESH_ARN on the workers) and give the AWS connection `aws_default` a role that may call
states:StartExecution on it and states:DescribeExecution on its executions.

OPEN_PAYMENTS_REFRESH_POKE_SECONDS (default 60) sets how often the sensor asks for the execution's state; the
tests lower it. It is read when the DAG is parsed because a sensor's interval is not templated.
"""

from __future__ import annotations

import os

import pendulum
from airflow.providers.amazon.aws.operators.step_function import StepFunctionStartExecutionOperator
from airflow.providers.amazon.aws.sensors.step_function import StepFunctionExecutionSensor
from airflow.sdk import DAG, Param

DAG_ID = "open_payments_refresh"
START_TASK = "start_refresh"
WAIT_TASK = "wait_for_refresh"
POKE_SECONDS_ENV = "OPEN_PAYMENTS_REFRESH_POKE_SECONDS"


def poke_seconds(env: dict[str, str]) -> int:
    """The sensor's poke interval from the environment: a positive whole number of seconds, 60 when unset."""
    raw = env.get(POKE_SECONDS_ENV, "60")
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{POKE_SECONDS_ENV}={raw!r}: expected a positive whole number of seconds, e.g. 60")
    return int(raw)


with DAG(
    dag_id=DAG_ID,
    description="Start the lake's refresh state machine and wait for its outcome",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["open-payments-lake"],
    params={
        "state_machine_arn": Param(
            os.environ.get("OPEN_PAYMENTS_REFRESH_ARN", ""), type="string", minLength=1
        ),
        # The state machine's input: {} asks CMS about the configured years; {"programYears": [2023]} or
        # {"sources": [...]} narrow it (docs/orchestration.md, "Starting it").
        "refresh_input": Param({}, type="object"),
    },
) as dag:
    start = StepFunctionStartExecutionOperator(
        task_id=START_TASK,
        state_machine_arn="{{ params.state_machine_arn }}",
        state_machine_input="{{ params.refresh_input | tojson }}",
    )
    # A refresh can run for hours (the General files): reschedule mode frees the worker slot between pokes.
    StepFunctionExecutionSensor(
        task_id=WAIT_TASK,
        execution_arn=start.output,
        mode="reschedule",
        poke_interval=poke_seconds(dict(os.environ)),
        timeout=24 * 3600,
    )
