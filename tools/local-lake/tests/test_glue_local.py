"""glue_local.py, the local lake's Glue job runner: each run writes with its security configuration's key."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

import glue_local
from open_payments_lake.session import REUSED_SESSION_CONF, local_session

KEY = "arn:aws:kms:us-east-1:123456789012:key/1111"
OTHER_KEY = "arn:aws:kms:us-east-1:123456789012:key/2222"
# A job script that records the S3A encryption settings it runs with.
SCRIPT = """\
import json, pathlib, sys
from pyspark.sql import SparkSession
conf = SparkSession.builder.getOrCreate().sparkContext._jsc.hadoopConfiguration()
seen = [conf.get("fs.s3a.encryption.algorithm"), conf.get("fs.s3a.encryption.key")]
pathlib.Path(sys.argv[1]).write_text(json.dumps(seen))
"""


@pytest.fixture
def job(tmp_path: Path):
    """A job run request for the recording script; the driver's settings are undone afterwards."""
    conf = local_session("glue-local-tests").sparkContext._jsc.hadoopConfiguration()
    script = tmp_path / "job.py"
    script.write_text(SCRIPT)
    yield lambda key, seen: {"id": "job", "script": str(script), "argv": [str(seen)], "s3KmsKeyArn": key}
    conf.unset("fs.s3a.encryption.algorithm")
    conf.unset("fs.s3a.encryption.key")


def test_a_run_writes_with_its_key(job, tmp_path: Path) -> None:
    seen = tmp_path / "seen.json"
    assert glue_local.run_job(job(KEY, seen)) is None
    assert json.loads(seen.read_text()) == ["SSE-KMS", KEY]
    # The next run of the same lake: the same key, accepted.
    assert glue_local.run_job(job(KEY, seen)) is None


def test_a_run_with_another_key_fails_before_its_script_runs(job, tmp_path: Path) -> None:
    assert glue_local.run_job(job(KEY, tmp_path / "first.json")) is None
    error = glue_local.run_job(job(OTHER_KEY, tmp_path / "second.json"))
    assert error == (
        f"ValueError: this driver writes with {KEY}; a run with {OTHER_KEY} needs a driver of its own"
    )
    assert not (tmp_path / "second.json").exists()


def test_the_driver_keeps_the_classes_of_every_job_it_runs() -> None:
    # The settings of a session that runs the jobs again and again (their effect is shown on the tests' own
    # session: test_jobs' re-run compiles nothing). Read from the builder: this process has a session already.
    options = glue_local.driver_builder()._options
    assert REUSED_SESSION_CONF and all(options.get(k) == v for k, v in REUSED_SESSION_CONF.items())


def test_the_driver_starts_its_session_from_that_builder(monkeypatch) -> None:
    started = []
    builder = SimpleNamespace(getOrCreate=lambda: started.append(1))
    monkeypatch.setattr(glue_local, "driver_builder", lambda: builder)
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        closer = threading.Thread(target=lambda: server.accept()[0].close())
        closer.start()
        assert glue_local.main(port) == 0  # no request: the driver ends when the connection does
        closer.join()
    assert started == [1]
