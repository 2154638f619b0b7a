"""Runs the lake's Glue job scripts one after the other in one local Spark driver (submitted by lake.ts).

Each job runs through its own entry script, executed as `__main__` with `sys.argv` set to the arguments
glue-scripts/jobs.json gives it, so the code that runs is exactly what Glue runs; only the driver is shared:
the JVM, the hadoop-aws classes and S3A's connections start once instead of once per job (each spark-submit
costs a JVM start, a Maven resolution of hadoop-aws and a cold JIT).

    spark-submit ... glue_local.py JOBS.json

JOBS.json: [{"id": "clean", "script": "/path/clean_job.py", "argv": ["--raw_path", "s3://...", ...]}, ...].
Progress goes to stdout as one JSON object a line ({"event": "ready"}, then {"event": "start"|"done",
"job": id, "seconds": s}); a failing job's exception ends the driver with its traceback (exit code 1).
"""

from __future__ import annotations

import json
import runpy
import sys
import time

from pyspark.sql import SparkSession


def say(**event: object) -> None:
    print(json.dumps(event), flush=True)


def main(jobs_file: str) -> int:
    with open(jobs_file, encoding="utf-8") as handle:
        jobs = json.load(handle)
    # The session the entry scripts' build_session() gets back from getOrCreate().
    SparkSession.builder.getOrCreate()
    say(event="ready")
    for job in jobs:
        say(event="start", job=job["id"])
        started = time.monotonic()
        sys.argv = [job["script"], *job["argv"]]
        runpy.run_path(job["script"], run_name="__main__")
        say(event="done", job=job["id"], seconds=round(time.monotonic() - started, 1))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: glue_local.py JOBS.json")
    sys.exit(main(sys.argv[1]))
