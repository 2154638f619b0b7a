"""Runs the lake's Glue job scripts in one local Spark driver, one job run per request read from stdin.

Started by tools/local-lake/glue-driver.ts for the local lake (lake.ts) and for the refresh state machine's
local run (tools/orchestration/local-run.ts). Each job runs through its own entry script, executed as
`__main__` with `sys.argv` set to the job run's arguments, so the code that runs is exactly what Glue runs;
only the driver is shared: the JVM, the hadoop-aws classes and S3A's connections start once instead of once
per job (each spark-submit costs a JVM start, a Maven resolution of hadoop-aws and a cold JIT).

    spark-submit ... glue_local.py PORT

Requests: one JSON object a line, {"id": "clean", "script": "/path/clean_job.py", "argv": [...],
"s3KmsKeyArn": "<the job's security configuration's key>"}, read from a TCP connection to 127.0.0.1:PORT
(spark-submit gives the Python driver no stdin); the driver ends when the connection does. Progress goes to
stdout as one JSON object a line: {"event": "ready"}, then for each request {"event": "start", "job": id} and
either {"event": "done", "job": id, "seconds": s} or {"event": "failed", "job": id, "seconds": s, "error":
"<exception>: <message>"} (its traceback on stderr). A failed job leaves the driver serving, as a failed Glue
run leaves the next run.
"""

from __future__ import annotations

import json
import runpy
import socket
import sys
import time
import traceback
from collections.abc import Iterable

from pyspark.sql import SparkSession

from open_payments_lake.session import REUSED_SESSION_CONF


def say(**event: object) -> None:
    print(json.dumps(event), flush=True)


def encrypt_with(key_arn: str) -> None:
    """S3A writes every object with this key (SSE-KMS), as a Glue security configuration's S3 encryption does.

    Set before the run's first S3 access. S3A reads it when it creates a bucket's file system, which Hadoop
    then caches for the driver's life: a later run with another key would still write with the first, so it
    fails.
    """
    conf = SparkSession.builder.getOrCreate().sparkContext._jsc.hadoopConfiguration()
    current = conf.get("fs.s3a.encryption.key")
    if current is not None and current != key_arn:
        raise ValueError(f"this driver writes with {current}; a run with {key_arn} needs a driver of its own")
    conf.set("fs.s3a.encryption.algorithm", "SSE-KMS")
    conf.set("fs.s3a.encryption.key", key_arn)


def run_job(job: dict) -> str | None:
    """Runs one entry script as Glue would; returns None when it succeeded, else the error it ended with."""
    sys.argv = [job["script"], *job["argv"]]
    try:
        encrypt_with(job["s3KmsKeyArn"])
        runpy.run_path(job["script"], run_name="__main__")
    except SystemExit as exit_:
        if exit_.code in (None, 0):
            return None
        traceback.print_exc()
        return f"SystemExit: {exit_.code}"
    except Exception as error:
        traceback.print_exc()
        return f"{type(error).__name__}: {error}"
    return None


def serve(requests: Iterable[str]) -> int:
    for line in requests:
        if not line.strip():
            continue
        job = json.loads(line)
        say(event="start", job=job["id"])
        started = time.monotonic()
        error = run_job(job)
        seconds = round(time.monotonic() - started, 1)
        if error is None:
            say(event="done", job=job["id"], seconds=seconds)
        else:
            say(event="failed", job=job["id"], seconds=seconds, error=error)
    return 0


def driver_builder() -> SparkSession.Builder:
    """Builds the session the entry scripts' build_session() gets back from getOrCreate(), with the start-up
    settings of a driver that runs many jobs."""
    return SparkSession.builder.config(map=REUSED_SESSION_CONF)


def main(port: int) -> int:
    driver_builder().getOrCreate()
    with (
        socket.create_connection(("127.0.0.1", port)) as connection,
        connection.makefile("r", encoding="utf-8") as requests,
    ):
        say(event="ready")
        return serve(requests)


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        sys.exit("usage: glue_local.py PORT (requests: one JSON job a line from 127.0.0.1:PORT)")
    sys.exit(main(int(sys.argv[1])))
