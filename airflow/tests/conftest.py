"""Airflow for the tests: a throw-away AIRFLOW_HOME with a sqlite metadata DB, the project's DAGs folder as
the only bundle, a one-second sensor interval; and moto's server from .venv (as tools/local-aws/moto-server.ts
starts it) with Step Functions executing state machines for real.

Airflow reads its configuration when first imported, so the environment is set here, before any test module
imports it."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "airflow" / "dags"
MOTO_SERVER = REPO / ".venv" / "bin" / "moto_server"
LOCAL_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}

_home = tempfile.mkdtemp(prefix="airflow-home-")
os.environ.update(
    {
        "AIRFLOW_HOME": _home,
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_home}/airflow.db",
        "OPEN_PAYMENTS_REFRESH_POKE_SECONDS": "1",
        **LOCAL_AWS_ENV,
    }
)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_home, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post_json(url: str, body: dict) -> None:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    urllib.request.urlopen(req, timeout=10).close()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's server on a free loopback port; the `aws_default` connection points at it."""
    if not MOTO_SERVER.exists():
        raise RuntimeError(f"moto_server not found at {MOTO_SERVER}: run 'make setup' first")
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **LOCAL_AWS_ENV},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"moto_server exited ({proc.returncode}) before answering on {endpoint}")
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"moto_server did not answer on {endpoint} within 30 s") from None
                time.sleep(0.2)
        # By default moto's executions stay RUNNING for ever (or are FAILED from the start with
        # SF_EXECUTION_HISTORY_TYPE=FAILURE); this makes it run the definition, so Pass, Wait and Fail behave.
        _post_json(f"{endpoint}/moto-api/config", {"stepfunctions": {"execute_state_machine": True}})
        os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = json.dumps(
            {
                "conn_type": "aws",
                "login": LOCAL_AWS_ENV["AWS_ACCESS_KEY_ID"],
                "password": LOCAL_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
                "extra": {"endpoint_url": endpoint, "region_name": LOCAL_AWS_ENV["AWS_REGION"]},
            }
        )
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """The metadata DB `dag.test()` needs, created as `airflow db migrate` does."""
    from airflow.utils import db

    db.initdb()
