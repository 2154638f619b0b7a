"""The benchmark's DuckDB reference does the jobs' work: its cleaned, quarantine and curated outputs and its
counts equal those of the Spark jobs on the same raw zone, the Glue tests' lake (tests/job_lake.py: every
dataset, both layout generations, dirty values, duplicates, removed records, the real CMS Ownership files and
superseded, unsealed and unlisted inputs), so the benchmark's time ratio compares engines doing the same
conversion."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from benchmarks import duckdb_reference
from open_payments_lake.local_zones import LocalZones

DATASETS = ("general", "research", "ownership", "removed_deleted")


@pytest.fixture(scope="module")
def both(lake, tmp_path_factory):
    duckdb_out = tmp_path_factory.mktemp("duckdb")
    reference = duckdb_reference.run(lake["root"] / "raw", duckdb_out, threads=2)
    return {**lake, "duckdb": duckdb_out, "reference": reference}


def _differences(spark_folder: str, duckdb_folder: Path) -> tuple[int, int, int]:
    """(rows, rows only in Spark's output, rows only in DuckDB's), comparing whole rows (multisets) after
    requiring the same columns with the same types in the same order."""
    connection = duckdb.connect()

    def scan(folder: str | Path) -> str:
        return f"read_parquet('{Path(folder).as_posix()}/**/*.parquet', hive_partitioning = true)"

    def schema(folder: str | Path) -> list[tuple[str, str]]:
        return [
            (d[0], str(d[1])) for d in connection.execute(f"SELECT * FROM {scan(folder)} LIMIT 0").description
        ]

    assert schema(duckdb_folder) == schema(spark_folder)
    columns = [name for name, _ in schema(spark_folder)]
    listed = ", ".join(f'"{c}"' for c in columns)
    spark_rows = f"SELECT {listed} FROM {scan(spark_folder)}"
    duckdb_rows = f"SELECT {listed} FROM {scan(duckdb_folder)}"
    (rows,) = connection.execute(f"SELECT count(*) FROM ({spark_rows})").fetchone()
    (only_spark,) = connection.execute(
        f"SELECT count(*) FROM ({spark_rows} EXCEPT ALL {duckdb_rows})"
    ).fetchone()
    (only_duckdb,) = connection.execute(
        f"SELECT count(*) FROM ({duckdb_rows} EXCEPT ALL {spark_rows})"
    ).fetchone()
    return rows, only_spark, only_duckdb


def test_the_reference_counts_what_the_clean_job_counts(both):
    files = both["reference"]["clean_files"]
    assert files == both["clean"]["files"]
    assert {f["dataset"] for f in files} == set(DATASETS)
    assert any(f["quarantined"] for f in files) and any(f["repairs"] for f in files)


# Removed/deleted records are applied by the curate job, not curated themselves.
OUTPUTS = [
    (zone, dataset)
    for zone in ("cleaned", "quarantine", "curated")
    for dataset in DATASETS
    if (zone, dataset) != ("curated", "removed_deleted")
]


@pytest.mark.parametrize(("zone", "dataset"), OUTPUTS)
def test_the_reference_writes_the_rows_the_jobs_write(both, zone, dataset):
    zones = LocalZones(both["root"])
    spark_folder = {"cleaned": zones.cleaned, "quarantine": zones.quarantine, "curated": zones.curated}[zone]
    if zone == "quarantine" and not (Path(spark_folder) / dataset).exists():
        assert not (both["duckdb"] / zone / dataset).exists()
        return
    rows, only_spark, only_duckdb = _differences(spark_folder + dataset, both["duckdb"] / zone / dataset)
    assert rows > 0
    assert (only_spark, only_duckdb) == (0, 0)


def test_the_reference_counts_what_the_curate_job_counts(both):
    reference = both["reference"]["curated"]
    partitions = {(e["dataset"], e["program_year"]) for e in both["curate"]["partitions"]}
    assert {(d, y) for d, years in reference.items() for y in years} == partitions
    for entry in both["curate"]["partitions"]:
        got = both["reference"]["curated"][entry["dataset"]][entry["program_year"]]
        assert got["rows"] == entry["curated_rows"]
        assert got["cleaned_rows"] == entry["cleaned_rows"]
        assert got["removed"] == entry["removed"]
        assert {k: got[k] for k in entry["rules"]} == entry["rules"]
