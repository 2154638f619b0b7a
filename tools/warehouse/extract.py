"""The marts' rows, computed from curated by warehouse/sql/extract/<mart>.sql (Athena SQL, one file per mart,
plus `curated_totals.sql`, what the marts must add up to).

The same files run in both places: on AWS, Athena UNLOADs each query's result to Parquet under a run prefix of
the curated bucket (`unload_statement`, `run_unloads`); locally, the local Athena engine (DuckDB over the
curated Parquet the Glue jobs write) runs them (`extract_local`). Either way the loader gets one Arrow table
per file, keyed by file stem.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[2]
EXTRACT_SQL = REPO / "warehouse" / "sql" / "extract"
TOTALS = "curated_totals"
LOCAL_ATHENA = REPO / "tools" / "local-athena"


class ExtractError(Exception):
    """An extract query failed or its output cannot be read; the message names the query."""


def extract_queries() -> dict[str, str]:
    """{file stem: Athena SQL} of every extract file, the curated totals included."""
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(EXTRACT_SQL.glob("*.sql"))}


def extract_local(curated_root: Path, database: str = "open_payments_curated") -> dict[str, pa.Table]:
    """Run every extract query on the local curated Parquet (`<root>/<dataset>/program_year=*/`)."""
    # Imported here: the AWS path (the Glue loader job) has no DuckDB, and does not ship the local engine.
    if str(LOCAL_ATHENA) not in sys.path:
        sys.path.insert(0, str(LOCAL_ATHENA))
    from local_athena import connect, transpile

    if not curated_root.is_dir():
        raise ExtractError(f"{curated_root}: no such directory (expected the curated zone's root)")
    con = connect(curated_root, database)
    try:
        tables = {}
        for name, sql in extract_queries().items():
            try:
                tables[name] = con.sql(transpile(sql)).to_arrow_table()
            except Exception as e:  # DuckDB and sqlglot raise several unrelated types
                raise ExtractError(f"warehouse/sql/extract/{name}.sql failed on {curated_root}: {e}") from e
        return tables
    finally:
        con.close()


def unload_statement(sql: str, destination: str) -> str:
    """Athena UNLOAD of one extract query to Parquet (ZSTD) under `destination` (an empty s3:// prefix)."""
    if not destination.startswith("s3://") or not destination.endswith("/"):
        raise ExtractError(f"UNLOAD destination {destination!r}: use an s3://bucket/prefix/ ending in /")
    body = "\n".join(line for line in sql.strip().splitlines() if not line.startswith("--"))
    return f"UNLOAD (\n{body}\n) TO '{destination}' WITH (format = 'PARQUET', compression = 'ZSTD')"


def run_unloads(
    athena: Any,
    s3: Any,
    workgroup: str,
    database: str,
    prefix: str,
    poll: Callable[[float], None] = time.sleep,
) -> dict[str, pa.Table]:
    """UNLOAD every extract query under `<prefix><file stem>/` and read the Parquet back (AWS path).

    `prefix` is a new, empty s3://bucket/warehouse-extract/<run id>/ (UNLOAD refuses non-empty prefixes).
    """
    running = {}
    for name, sql in extract_queries().items():
        started = athena.start_query_execution(
            QueryString=unload_statement(sql, f"{prefix}{name}/"),
            QueryExecutionContext={"Database": database},
            WorkGroup=workgroup,
        )
        running[name] = started["QueryExecutionId"]
    for name, query_id in running.items():
        while True:
            status = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
            if status["State"] == "SUCCEEDED":
                break
            if status["State"] in ("FAILED", "CANCELLED"):
                reason = status.get("StateChangeReason", "no reason given")
                raise ExtractError(
                    f"warehouse/sql/extract/{name}.sql: Athena query {query_id} {status['State']}: {reason}"
                )
            poll(2.0)
    return {name: read_unloaded(s3, f"{prefix}{name}/") for name in running}


def read_unloaded(s3: Any, location: str) -> pa.Table:
    """Every Parquet object under an s3:// prefix as one table (UNLOAD writes one or more files)."""
    bucket, _, key_prefix = location.removeprefix("s3://").partition("/")
    parts = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key_prefix):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            parts.append(pq.read_table(pa.BufferReader(body)))
    if not parts:
        raise ExtractError(f"{location}: no files; did the UNLOAD write elsewhere?")
    return pa.concat_tables(parts)
