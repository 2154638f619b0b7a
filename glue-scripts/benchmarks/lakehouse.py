"""Parquet vs Iceberg curated tables on local Spark: size, analyst bytes scanned, MERGE of a re-publication vs
rewriting the year, snapshots after a year of publications (a script that prints figures, not a test).

    .venv/bin/python glue-scripts/benchmarks/lakehouse.py --rows 200000 --work /tmp/opl-lakehouse \
        [--publications 12] [--change-share 0.02]

1. Generated General payments of one program year (sample_data.py) through the clean and curate jobs: the
   Parquet curated zone; then the migration to Iceberg (iceberg.migrate_parquet). Sizes on disk (Iceberg: data
   and metadata) and the bytes the local Athena engine reads for every sql/analytics query on each.
2. A re-publication of the year (a --change-share of the records with corrected amounts, as many removed,
   as many new), applied twice from the same cached rows: as the Iceberg MERGE the curate job runs, and as the
   Parquet job does it (the year rewritten). Wall-clock of each.
3. --publications small re-publications (2,000 records), each a MERGE + tag; snapshots, tags and table bytes
   without maintenance vs with maintain() after each (compaction, expiry of untagged snapshots older than now,
   retain_last 1). Tagged publications are kept by design, so expiry removes only the untagged snapshots.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

GLUE_SCRIPTS = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(GLUE_SCRIPTS), str(GLUE_SCRIPTS.parent / "tools" / "local-athena")]

import sample_data  # noqa: E402
from local_athena import run_query  # noqa: E402
from open_payments_lake import iceberg  # noqa: E402
from open_payments_lake.clean_pipeline import run_clean  # noqa: E402
from open_payments_lake.curate_pipeline import run_curate  # noqa: E402
from open_payments_lake.local_zones import LocalZones  # noqa: E402
from open_payments_lake.session import local_session  # noqa: E402
from open_payments_lake.spec import load_spec  # noqa: E402
from open_payments_lake.writing import replace_partitions  # noqa: E402

YEAR = 2023
AMOUNT = "total_amount_of_payment_usdollars"
ANALYTICS = GLUE_SCRIPTS.parent / "sql" / "analytics"
CATALOG = "bench"


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.name.endswith(".crc"))


def analyst_bytes(warehouse: Path, table_format: str) -> int:
    return sum(
        run_query(str(warehouse), "bench", q.read_text(encoding="utf-8"), table_format=table_format)[
            "bytesScanned"
        ]
        for q in sorted(ANALYTICS.glob("*.sql"))
    )


def republication(current: DataFrame, share: float, stamp: str, salt: int) -> DataFrame:
    """The year re-published: `share` of the records with corrected amounts, as many dropped, as many new."""
    bucket = F.abs(F.xxhash64("record_id", F.lit(salt))) % 10_000
    cut = int(share * 10_000)
    changed = F.when(bucket < cut, F.col(AMOUNT) + F.lit(Decimal("1.00"))).otherwise(F.col(AMOUNT))
    kept = current.where(bucket >= 2 * cut).withColumn(AMOUNT, changed)
    new = current.where(bucket < cut).withColumn("record_id", F.concat(F.col("record_id"), F.lit(f"9{salt}")))
    return kept.unionByName(new).withColumn("publication_stamp", F.lit(stamp))


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/opl-lakehouse"))
    parser.add_argument("--publications", type=int, default=12)
    parser.add_argument("--change-share", type=float, default=0.02)
    args = parser.parse_args(argv)
    shutil.rmtree(args.work, ignore_errors=True)
    zones = LocalZones(args.work)
    spark: SparkSession = local_session("lakehouse-benchmark", driver_memory="3g", iceberg=True)
    iceberg.use_hadoop_catalog(spark, CATALOG, zones.iceberg_warehouse)
    namespace = f"{CATALOG}.curated"
    table = f"{namespace}.general_payments"
    general = load_spec().dataset("general")
    figures: dict[str, object] = {"rows": args.rows}

    print(
        f"generating {args.rows} General rows of {YEAR} and running clean + curate (Parquet) ...", flush=True
    )
    sample_data.generate(
        args.work, args.rows, 7, [YEAR], ["general.modern-91", "removed-deleted-4"], raw=True
    )
    run_clean(spark, zones.clean_options(1.0, {"general", "removed_deleted"}))
    run_curate(spark, zones.curate_options(1.0, {"general"}))
    print("migrating to Iceberg ...", flush=True)
    iceberg.migrate_parquet(spark, zones.curated, namespace, [general])
    parquet_dir, iceberg_dir = Path(zones.curated), Path(zones.iceberg_warehouse) / "curated"
    figures["curated_bytes"] = {
        "parquet": folder_bytes(parquet_dir / "general"),
        "iceberg": folder_bytes(iceberg_dir / "general_payments"),
    }
    figures["analyst_bytes_scanned"] = {
        "parquet": analyst_bytes(parquet_dir, "parquet"),
        "iceberg": analyst_bytes(iceberg_dir, "iceberg"),
    }

    current = spark.table(table)
    next_publication = republication(current, args.change_share, "P06302025", 1).cache()
    figures["republication_rows"] = next_publication.count()
    print("re-publication: MERGE vs rewriting the year ...", flush=True)
    figures["merge_seconds"] = timed(
        lambda: iceberg.apply_publication(spark, table, next_publication, "record_id", {YEAR}, {"P06302025"})
    )
    ordered = next_publication.sortWithinPartitions("program_year", *iceberg.SORT_COLUMNS)
    figures["rewrite_year_seconds"] = timed(
        lambda: replace_partitions(spark, ordered, str(args.work / "rewrite" / "general"), {YEAR}, {YEAR})
    )
    next_publication.unpersist()

    print(f"{args.publications} publications with and without maintenance ...", flush=True)
    small = spark.table(table).limit(2_000).cache()
    counts = {}
    for maintained in (False, True):
        name = f"{namespace}.year_{'maintained' if maintained else 'unmaintained'}"
        for n in range(args.publications):
            stamp = f"P{(n % 12) + 1:02d}01{2026 + n // 12}"
            rows = republication(small, args.change_share, stamp, n + 2)
            iceberg.apply_publication(spark, name, rows, "record_id", {YEAR}, {stamp})
            if maintained:
                iceberg.maintain(spark, name, datetime.now(UTC), retain_last=1)
        key = "with_maintenance" if maintained else "without_maintenance"
        counts[key] = {
            "snapshots": iceberg.snapshot_count(spark, name),
            "tags": spark.sql(f"SELECT count(*) FROM {name}.refs WHERE type = 'TAG'").collect()[0][0],
            "table_bytes": folder_bytes(iceberg_dir / name.rsplit(".", 1)[1]),
        }
    figures["snapshots_after_publications"] = {"publications": args.publications, **counts}
    spark.stop()
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
