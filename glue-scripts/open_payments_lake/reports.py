"""The jobs' run reports, written however a run ends: a refused or failed run leaves its reason where the
passing ones leave their counts (`<report_path>/latest.json` and a copy named by the run's start)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from pyspark.sql import SparkSession

from . import storage

log = logging.getLogger(__name__)

STAMP = "%Y%m%dT%H%M%S%fZ"
# The frames of a Java stack trace inside a Spark (py4j) error: the run's log has them, the report need not.
JAVA_FRAME = re.compile(r"^\s+(at |\.\.\. \d+ more)")


class ThresholdExceeded(RuntimeError):
    """A data-quality threshold of the job arguments was exceeded (the report has the evidence)."""


def write_report(spark: SparkSession, report_path: str, job: str, started: datetime, report: dict) -> None:
    """The run's report, plus latest.json (overwritten) for readers that want the newest."""
    storage.write_json(spark, storage.join(report_path, f"{job}-{started.strftime(STAMP)}.json"), report)
    storage.write_json(spark, storage.join(report_path, "latest.json"), report)


def error_message(error: BaseException) -> str:
    """The error's message without Java stack frames (a Spark error carries the JVM's whole stack)."""
    return "\n".join(line for line in str(error).splitlines() if not JAVA_FRAME.match(line))


@contextmanager
def reported_run(spark: SparkSession, report_path: str, report: dict) -> Iterator[dict]:
    """Yields the run's report for the job to fill in as it learns; writes it when the run ends.

    `report` starts with the job's name, its start (`started_at`, ISO-8601) and the fields of an empty run. A
    run that raises is reported with status "failed", the error's type and message, and the failures known so
    far (else the error itself), then the error propagates so that Glue marks the run failed.
    """
    started = datetime.fromisoformat(report["started_at"])
    try:
        yield report
    except Exception as error:
        reason = {"type": type(error).__name__, "message": error_message(error)}
        report.update(status="failed", error=reason, finished_at=datetime.now(UTC).isoformat())
        report["failures"] = report.get("failures") or [f"{reason['type']}: {reason['message']}"]
        try:
            write_report(spark, report_path, report["job"], started, report)
        except Exception:
            # The run's own error matters more than the report's: log this one, raise that one.
            log.exception("could not write the failed run's report under %s", report_path)
        raise
    report.update(status="passed", failures=[], finished_at=datetime.now(UTC).isoformat())
    write_report(spark, report_path, report["job"], started, report)
