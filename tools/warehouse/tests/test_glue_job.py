"""The loader's Glue job script (glue_job.py) run for real: as Glue runs it (a separate Python process, its
working directory holding the bundle modules/warehouse packs from glue-bundle.json, Glue's own arguments
mixed in), against moto's AWS server for Athena and S3 and the tests' real PostgreSQL.

moto's Athena accepts the UNLOAD statements without running them, so the test writes the Parquet an UNLOAD
would write: each extract query's real answer over the SQL tests' curated lake (the local Athena engine).
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import boto3
import psycopg
import pyarrow.parquet as pq
import pytest
from conftest import login
from moto.server import ThreadedMotoServer

import glue_job
from extract import extract_local

REPO = Path(__file__).resolve().parents[3]
SPEC = json.loads((REPO / "tools" / "warehouse" / "glue-bundle.json").read_text(encoding="utf-8"))
BUCKET = "opl-dev-curated-111111111111-us-east-1"
EXTRACT_PREFIX = f"s3://{BUCKET}/warehouse-extract/"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def bundle(into: Path) -> Path:
    """warehouse-loader.zip as the module packs it: glue-bundle.json's files under their repository paths, the
    wheels make setup downloaded unpacked under site/."""
    target = into / SPEC["bundle"]
    wheels = sorted((REPO / SPEC["wheels"]).glob("*.whl"))
    assert wheels, f"{SPEC['wheels']} has no wheels: run make setup"
    with zipfile.ZipFile(target, "w") as archive:
        for entry in SPEC["files"]:
            path = REPO / entry
            for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
                if file.is_file() and "__pycache__" not in file.parts:
                    archive.write(file, file.relative_to(REPO).as_posix())
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as contents:
                for name in contents.namelist():
                    archive.writestr(f"{SPEC['site']}/{name}", contents.read(name))
    return target


@pytest.fixture(scope="module")
def moto_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_the_bundle_is_what_the_script_expects():
    assert SPEC["bundle"] == glue_job.BUNDLE
    assert all((REPO / entry).exists() for entry in SPEC["files"])


def test_the_jobs_wheels_are_the_versions_the_project_runs():
    """glue-wheels.lock pins what requirements.lock pins: the job runs the driver the tests ran."""

    def pins(path: Path) -> dict[str, str]:
        found = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            name, sep, version = line.split(" ")[0].partition("==")
            if sep and not line.startswith("#"):
                found[name.lower()] = version
        return found

    wheels = pins(REPO / "tools" / "warehouse" / "glue-wheels.lock")
    assert set(wheels) == {"psycopg", "psycopg-binary", "typing-extensions"}
    project = pins(REPO / "requirements.lock")
    assert {name: project[name] for name in wheels} == wheels


def test_the_job_unloads_loads_and_swaps_the_marts(tmp_path, postgres, curated_root, moto_endpoint):
    # What Athena's UNLOAD of every extract query would leave under this run's prefix.
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1", **_keys())
    s3.create_bucket(Bucket=BUCKET)
    tables = extract_local(curated_root)
    for name, table in tables.items():
        sink = io.BytesIO()
        pq.write_table(table, sink)
        s3.put_object(Bucket=BUCKET, Key=f"warehouse-extract/exec-7/{name}/20261205_0", Body=sink.getvalue())
    # Glue copies the script and the --extra-files into a working directory of its own.
    shutil.copy(REPO / "tools" / "warehouse" / "glue_job.py", tmp_path / "glue_job.py")
    bundle(tmp_path)
    argv = ["--JOB_ID", "j_1", "--JOB_RUN_ID", "jr_1", "--JOB_NAME", "opl-dev-warehouse-loader"]
    argv += ["--job-bookmark-option", "job-bookmark-disable", "--enable-metrics", "true"]
    argv += ["--athena_workgroup", "primary", "--curated_database", "opl_dev_curated"]
    argv += ["--extract_prefix", EXTRACT_PREFIX, "--run_id", "exec-7"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WAREHOUSE_", "PYTHONPATH"))}
    env |= CREDENTIALS | {"AWS_ENDPOINT_URL": moto_endpoint, "WAREHOUSE_DSN": login(postgres, "loader")}
    run = subprocess.run(
        [sys.executable, "glue_job.py", *argv],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "reconciled and swapped in" in run.stdout
    # The driver came from the bundle's wheels (with their own libpq), not from this machine's environment.
    unpacked = re.escape(tempfile.gettempdir()) + r"/warehouse-loader-\w+/site/psycopg$"
    assert re.search(r"^psycopg 3\.3\.9 \(binary libpq\) from " + unpacked, run.stdout, re.M), run.stdout
    totals = tables["curated_totals"].to_pylist()
    with psycopg.connect(postgres.dsn()) as conn:
        source, payments, total = conn.execute(
            "SELECT source, payments, total_usd FROM warehouse_meta.loads ORDER BY loaded_at DESC LIMIT 1"
        ).fetchone()
        top = conn.execute("SELECT count(*) FROM marts.top_payers").fetchone()[0]
    assert source == f"{EXTRACT_PREFIX}exec-7/"
    assert payments == sum(t["payments"] for t in totals)
    assert total == sum(t["total_usd"] for t in totals)
    assert top == tables["top_payers"].num_rows > 0


def test_a_failed_unload_fails_the_job_and_names_the_prefix(tmp_path, postgres, moto_endpoint):
    # Nothing under this run's prefix: reading the UNLOAD back fails, the job exits 1 and the marts stay.
    shutil.copy(REPO / "tools" / "warehouse" / "glue_job.py", tmp_path / "glue_job.py")
    bundle(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WAREHOUSE_", "PYTHONPATH"))}
    env |= CREDENTIALS | {"AWS_ENDPOINT_URL": moto_endpoint, "WAREHOUSE_DSN": login(postgres, "loader")}
    argv = ["--athena_workgroup", "primary", "--curated_database", "db", "--extract_prefix", EXTRACT_PREFIX]
    run = subprocess.run(
        [sys.executable, "glue_job.py", *argv, "--JOB_RUN_ID", "jr_empty"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 1
    assert f"{EXTRACT_PREFIX}jr_empty/" in run.stderr and "no files" in run.stderr


def test_arguments_map_to_an_iam_login_and_a_run_prefix():
    common = ["--athena_workgroup", "wg", "--curated_database", "db", "--extract_prefix", EXTRACT_PREFIX]
    args = glue_job.parse(
        [*common, "--JOB_RUN_ID", "jr_9", "--db_host", "wh.example.internal", "--db_user", "loader_iam"]
    )
    assert args.run_id == "jr_9"
    assert glue_job.connection_environment(args) == {
        "WAREHOUSE_IAM_HOST": "wh.example.internal",
        "WAREHOUSE_IAM_PORT": "5432",
        "WAREHOUSE_IAM_DATABASE": "warehouse",
        "WAREHOUSE_IAM_USER": "loader_iam",
    }
    with pytest.raises(SystemExit) as bad:
        glue_job.parse(
            ["--athena_workgroup", "wg", "--curated_database", "db", "--extract_prefix", "s3://b/x"]
        )
    assert bad.value.code == 2


def test_an_iam_login_signs_a_token_and_requires_tls(monkeypatch):
    from loader import conninfo_from_environment

    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    conninfo = psycopg.conninfo.conninfo_to_dict(
        conninfo_from_environment(
            {"WAREHOUSE_IAM_HOST": "wh.example.internal", "WAREHOUSE_IAM_USER": "l_iam"}
        )
    )
    assert conninfo["sslmode"] == "require" and conninfo["user"] == "l_iam"
    # The token is a SigV4-presigned rds-db:connect request for exactly that user on that host.
    assert conninfo["password"].startswith("wh.example.internal:5432/?Action=connect&DBUser=l_iam")
    assert "X-Amz-Signature=" in conninfo["password"]


def _keys() -> dict[str, str]:
    return {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
