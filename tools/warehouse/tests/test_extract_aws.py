"""The AWS path of the extract (Athena UNLOAD to Parquet on S3, read back), on moto's in-process AWS.

moto's Athena accepts queries without running them, so the test writes the Parquet an UNLOAD would write; what
is proven is the plumbing around Athena (statements, polling, failures, reading the files back), not Athena.
"""

from __future__ import annotations

import io

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from moto import mock_aws

from extract import ExtractError, extract_queries, read_unloaded, run_unloads, unload_statement

BUCKET = "opl-dev-curated-111111111111-us-east-1"
PREFIX = f"s3://{BUCKET}/warehouse-extract/run-1/"


def test_unload_wraps_each_extract_query_without_its_comments():
    for name, sql in extract_queries().items():
        statement = unload_statement(sql, f"{PREFIX}{name}/")
        assert statement.startswith("UNLOAD (\nSELECT"), name
        assert statement.endswith(f"TO '{PREFIX}{name}/' WITH (format = 'PARQUET', compression = 'ZSTD')")
        assert "-- description" not in statement


@pytest.mark.parametrize("destination", ["s3://bucket/no-slash", "/local/folder/", "s3:/bucket/x/"])
def test_unload_refuses_a_destination_that_is_not_an_s3_prefix(destination):
    with pytest.raises(ExtractError, match="s3://bucket/prefix/"):
        unload_statement("SELECT 1", destination)


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


@mock_aws
def test_run_unloads_reads_every_query_back_from_its_prefix():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    for name in extract_queries():
        # Athena names UNLOAD files without an extension, in parts.
        for part in range(2):
            key = f"warehouse-extract/run-1/{name}/20261205_{part}"
            s3.put_object(Bucket=BUCKET, Key=key, Body=parquet_bytes(pa.table({"part": [part]})))
    athena = boto3.client("athena", region_name="us-east-1")
    tables = run_unloads(athena, s3, "primary", "opl_dev_curated", PREFIX, poll=lambda _: None)
    assert set(tables) == set(extract_queries())
    assert all(sorted(t.column("part").to_pylist()) == [0, 1] for t in tables.values())


class FailingAthena:
    def start_query_execution(self, **_: object) -> dict:
        return {"QueryExecutionId": "q-1"}

    def get_query_execution(self, QueryExecutionId: str) -> dict:
        return {"QueryExecution": {"Status": {"State": "FAILED", "StateChangeReason": "TABLE_NOT_FOUND"}}}


def test_a_failed_unload_names_the_extract_file_and_athenas_reason():
    with pytest.raises(ExtractError, match=r"extract/\w+\.sql: Athena query q-1 FAILED: TABLE_NOT_FOUND"):
        run_unloads(FailingAthena(), None, "primary", "db", PREFIX, poll=lambda _: None)


@mock_aws
def test_an_empty_unload_prefix_is_an_error_naming_it():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    with pytest.raises(ExtractError, match="run-1/top_payers/: no files"):
        read_unloaded(s3, f"{PREFIX}top_payers/")
