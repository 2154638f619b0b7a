"""One curated lake for all SQL and warehouse tests: generated CMS files run through the real Glue jobs on
local Spark (a pytest plugin, loaded by the root conftest.py, so every test folder shares the one session).

The expected curated rows come from the Glue tests' independent oracle (Python csv + decimal, no Spark code):
glue-scripts/tests/oracle.py.
"""

from __future__ import annotations

import io
import json
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "glue-scripts" / "tests"))

from oracle import FileExpectation, curated_rows, expect_file, stamp_order  # noqa: E402

import migrate_to_iceberg  # noqa: E402  (glue-scripts/migrate_to_iceberg.py, the documented command)
import sample_data  # noqa: E402  (glue-scripts is on pytest's pythonpath)
from open_payments_lake.clean_pipeline import run_clean  # noqa: E402
from open_payments_lake.curate_pipeline import run_curate  # noqa: E402
from open_payments_lake.local_zones import LocalZones  # noqa: E402
from open_payments_lake.raw_objects import parse_raw_uri  # noqa: E402
from open_payments_lake.spec import load_spec  # noqa: E402

DATABASE = "open_payments_curated"


def authoritative_expectations(raw_root: Path) -> list[FileExpectation]:
    """The oracle for every raw part of the latest publication of its dataset and year."""
    spec = load_spec()
    parts = [parse_raw_uri(str(p)) for p in sorted((raw_root / "raw").rglob("part-*.csv"))]
    latest: dict[tuple[str, int], str] = {}
    for p in parts:
        current = latest.get((p.dataset, p.program_year), p.publication)
        latest[(p.dataset, p.program_year)] = max(current, p.publication, key=stamp_order)
    return [
        expect_file(spec, raw_root / p.key, p.dataset, p.program_year, p.publication)
        for p in parts
        if latest[(p.dataset, p.program_year)] == p.publication
    ]


def expected_curated(files: list[FileExpectation], dataset: str) -> list[dict]:
    removed: dict[int, list[tuple[str, str]]] = {}
    for f in files:
        if f.dataset == "removed_deleted":
            for row in f.clean_rows:
                removed.setdefault(f.program_year, []).append((row["record_id"], f.publication))
    rows = curated_rows([f for f in files if f.dataset == dataset], removed)
    return list(rows.values())


@pytest.fixture(scope="session")
def curated_lake(tmp_path_factory) -> dict:
    """{"warehouse": curated root, "iceberg": the same rows migrated to Iceberg tables (their folder),
    "migrated": the migration's per-table report, "database", "rows": {dataset: expected curated rows}}."""
    from pyspark.sql import SparkSession

    from open_payments_lake.session import local_session

    root = tmp_path_factory.mktemp("sql-lake")
    # Two modern years (year-over-year, monthly trend); the legacy layouts are the Glue tests' concern.
    sample_data.generate(
        root, rows=60, seed=41, years=[2022, 2023], layout_ids=sample_data.layouts_of("modern"), raw=True
    )

    created = SparkSession.getActiveSession() is None
    spark = local_session("open-payments-lake-tests", driver_memory="1536m", iceberg=True)
    # Thresholds wide open: the generated files are dirty on purpose.
    zones = LocalZones(root)
    run_clean(spark, zones.clean_options())
    run_curate(spark, zones.curate_options())
    # The same curated zone converted to Iceberg by the migration (docs/lakehouse.md): the SQL must answer
    # alike before and after.
    command = migrate_to_iceberg.parse(
        [
            "--curated-path",
            zones.curated,
            "--warehouse",
            zones.iceberg_warehouse,
            "--namespace",
            "sql_lake.curated",
        ]
    )
    with redirect_stdout(io.StringIO()) as printed:
        assert migrate_to_iceberg.run(spark, command) == 0
    migrated = [json.loads(line) for line in printed.getvalue().splitlines()]
    warehouse = Path(zones.curated)
    if created:
        spark.stop()
    files = authoritative_expectations(root)
    rows = {d.name: expected_curated(files, d.name) for d in load_spec().curated_datasets}
    iceberg_tables = Path(zones.iceberg_warehouse) / "curated"
    return {
        "warehouse": warehouse,
        "iceberg": iceberg_tables,
        "migrated": migrated,
        "database": DATABASE,
        "rows": rows,
    }
