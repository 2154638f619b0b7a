"""The local Athena engine (contract 8): CLI and function, types and values as Athena returns them, errors,
bytes read, empty tables, and an s3:// warehouse on a moto server started here on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import boto3
import pytest

from local_athena import QueryError, connect, run_query

REPO = Path(__file__).resolve().parents[3]
ENGINE = REPO / "tools" / "local-athena" / "local_athena.py"
MOTO = Path(sys.executable).parent / "moto_server"
# Fake credentials for the local S3: moto accepts any.
LOCAL_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ENGINE), *args], capture_output=True, text=True, env=env, cwd=REPO, check=False
    )


def test_types_and_values_as_athena_returns_them(curated_lake):
    result = run_query(
        str(curated_lake["warehouse"]),
        curated_lake["database"],
        "SELECT record_id, total_amount_of_payment_usdollars, date_of_payment, program_year, 7 / 2 AS halves "
        "FROM general_payments ORDER BY record_id LIMIT 1",
    )
    types = [c["type"] for c in result["columns"]]
    assert types == ["varchar", "decimal(18,2)", "date", "integer", "integer"]
    expected = min(curated_lake["rows"]["general"], key=lambda r: r["record_id"])
    assert result["rows"] == [
        [
            expected["record_id"],
            str(expected["total_amount_of_payment_usdollars"]),
            expected["date_of_payment"].isoformat(),
            expected["program_year"],
            3,  # Trino divides integers as integers
        ]
    ]


def test_tables_answer_by_plain_and_database_qualified_names(curated_lake):
    counts = [
        run_query(str(curated_lake["warehouse"]), curated_lake["database"], sql)["rows"]
        for sql in (
            "SELECT count(*) FROM ownership_interests",
            f"SELECT count(*) FROM {curated_lake['database']}.ownership_interests",
        )
    ]
    assert counts == [[[len(curated_lake["rows"]["ownership"])]]] * 2


def test_bytes_scanned_follow_partitions_and_columns(curated_lake):
    def scanned(sql: str) -> int:
        return run_query(str(curated_lake["warehouse"]), curated_lake["database"], sql)["bytesScanned"]

    everything = scanned("SELECT * FROM general_payments")
    one_year = scanned("SELECT * FROM general_payments WHERE program_year = 2022")
    one_column = scanned("SELECT sum(total_amount_of_payment_usdollars) FROM general_payments")
    assert 0 < one_year < everything
    assert 0 < one_column < everything


def test_an_empty_warehouse_has_empty_tables_with_the_same_columns(curated_lake, tmp_path):
    def describe(warehouse: Path) -> list[tuple]:
        con = connect(warehouse, curated_lake["database"])
        return [
            con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {t})").fetchall()
            for t in ("general_payments", "research_payments", "ownership_interests")
        ]

    assert describe(tmp_path) == describe(curated_lake["warehouse"])
    assert run_query(str(tmp_path), "db", "SELECT count(*) FROM research_payments")["rows"] == [[0]]


def test_sql_errors_raise_and_exit_2_with_the_engine_message(curated_lake):
    with pytest.raises(QueryError, match="no_such_column"):
        run_query(str(curated_lake["warehouse"]), "db", "SELECT no_such_column FROM general_payments")
    with pytest.raises(QueryError, match="exactly one SQL statement"):
        run_query(str(curated_lake["warehouse"]), "db", "SELECT 1; SELECT 2")
    failed = cli("--warehouse", str(curated_lake["warehouse"]), "--database", "db", "--sql", "SELEC 1 FROM")
    assert failed.returncode == 2
    assert failed.stdout == ""
    assert failed.stderr.strip()


def test_a_missing_warehouse_exits_1_naming_it(tmp_path):
    missing = tmp_path / "nowhere"
    failed = cli("--warehouse", str(missing), "--database", "db", "--sql", "SELECT 1")
    assert failed.returncode == 1
    assert str(missing) in failed.stderr


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def moto(tmp_path):
    port = free_port()
    log = (tmp_path / "moto.log").open("w")
    server = subprocess.Popen([str(MOTO), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    output = (tmp_path / "moto.log").read_text()
                    raise RuntimeError(f"moto_server did not start: {output}") from None
                time.sleep(0.2)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def test_s3_warehouse_on_a_local_s3_gives_the_local_answer(curated_lake, moto):
    warehouse = Path(curated_lake["warehouse"])
    s3 = boto3.client(
        "s3",
        endpoint_url=moto,
        aws_access_key_id=LOCAL_AWS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_AWS["AWS_SECRET_ACCESS_KEY"],
        region_name=LOCAL_AWS["AWS_DEFAULT_REGION"],
    )
    s3.create_bucket(Bucket="lake-curated")
    for path in warehouse.rglob("*"):
        if path.is_file():
            s3.upload_file(str(path), "lake-curated", f"curated/{path.relative_to(warehouse).as_posix()}")
    sql_file = REPO / "sql" / "analytics" / "top_manufacturers_by_year.sql"
    env = {**os.environ, **LOCAL_AWS}
    args = ["--database", curated_lake["database"], "--file", str(sql_file)]
    from_s3 = cli("--warehouse", "s3://lake-curated/curated/", "--s3-endpoint", moto, *args, env=env)
    assert from_s3.returncode == 0, from_s3.stderr
    from_dir = cli("--warehouse", str(warehouse), *args, env=env)
    assert json.loads(from_s3.stdout)["rows"] == json.loads(from_dir.stdout)["rows"]
    assert json.loads(from_s3.stdout)["rows"]
    missing = cli("--warehouse", "s3://no-such-bucket/curated/", "--s3-endpoint", moto, *args, env=env)
    assert missing.returncode == 1
    assert "no-such-bucket" in missing.stderr
