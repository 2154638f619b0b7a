"""Benchmark of the jobs raw -> cleaned -> curated on local Spark (a script, not a test).

    .venv/bin/python glue-scripts/benchmarks/benchmark.py --rows 1000000 --parts 4 --work /tmp/opl-bench \
        [--paired-runs 3] [--warm-runs 1] [--reference-runs 3] \
        [--scale-rows 100000,300000] [--scale-parts 1,2,4] [--scale-at 300000]

Prints (and writes to <work>/benchmark.json): rows/s of clean + curate, raw CSV bytes vs curated
Parquet bytes, the same raw -> curated conversion done by DuckDB (duckdb_reference.py: the same rules and
outputs, checked equal to the jobs' in tests/test_duckdb_reference.py; median of --reference-runs; ratio
Spark/DuckDB, and the curated row count of both), for comparison a bare CSV -> Parquet copy by DuckDB (its
sniffer's types, no cleaning) and by Spark (the engines' floor), and for three analyst queries the bytes a
columnar engine reads from curated (Parquet column chunks of the referenced columns, from the file
metadata) vs the raw CSV size; with --warm-runs, the jobs again in the same (now warm) JVM; then how time
grows with rows and with the number of parts; last, --paired-runs pairs of Spark (clean + curate in a fresh,
cold JVM) and DuckDB (its same conversion in a fresh process) run back to back, whose median ratio is the
figure the time targets use (a single cold run moves by a fifth from one run to the next).
Targets: curated >= 10x smaller; analyst queries read <= 5 % of raw bytes; Spark within 5x DuckDB doing the
same conversion, and within 2.5x at 1 M rows (the later goal).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
from pyspark.sql import SparkSession

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # glue-scripts/, when run as a script

import sample_data
from benchmarks.measure import (
    DRIVER_MEMORY,
    clear_outputs,
    duckdb_run,
    duckdb_target,
    in_fresh_process,
    run_jobs,
    tree_bytes,
)
from open_payments_lake.clean_pipeline import read_raw_csv
from open_payments_lake.local_zones import LocalZones
from open_payments_lake.session import local_session
from open_payments_lake.spec import load_spec

LAYOUTS = ["general.modern-91", "removed-deleted-4"]
YEAR = 2023
# Three analyst questions from the CMS README, with the curated columns each one reads.
QUERIES = {
    "top manufacturers by dollars": (
        ["manufacturer_name_normalized", "total_amount_of_payment_usdollars"],
        "SELECT manufacturer_name_normalized, sum(total_amount_of_payment_usdollars) AS dollars FROM general "
        "WHERE program_year = 2023 GROUP BY 1 ORDER BY 2 DESC LIMIT 10",
    ),
    "nature of payment: count vs dollars": (
        ["nature_of_payment_or_transfer_of_value", "total_amount_of_payment_usdollars"],
        "SELECT nature_of_payment_or_transfer_of_value, count(*), sum(total_amount_of_payment_usdollars) "
        "FROM general GROUP BY 1 ORDER BY 3 DESC",
    ),
    "monthly trend": (
        ["payment_month", "total_amount_of_payment_usdollars"],
        "SELECT payment_month, sum(total_amount_of_payment_usdollars) FROM general GROUP BY 1 ORDER BY 1",
    ),
}


def prepare(work: Path, rows: int, parts: int) -> Path:
    """Generated raw zone (General modern layout + a removed/deleted file) under work/rows-parts/."""
    root = work / f"{rows}-{parts}"
    if not (root / "raw").exists():
        started = time.perf_counter()
        sample_data.generate(root, rows, seed=42, years=[YEAR], layout_ids=LAYOUTS, raw=True, parts=parts)
        print(
            f"  generated {rows:,} rows in {parts} parts in {time.perf_counter() - started:.1f}s", flush=True
        )
    clear_outputs(root)
    return root


def duckdb_same_conversion(root: Path, threads: int, runs: int) -> dict:
    """The reference: DuckDB does the jobs' raw -> cleaned -> curated conversion of the same raw zone.

    Its time is the median of `runs` (it moves by tens of percent between runs on a shared machine).
    """
    results = [duckdb_run(root, threads) for _ in range(runs)]
    times = [r["seconds"] for r in results]
    return {
        "seconds": statistics.median(times),
        "runs_seconds": times,
        "clean_seconds": results[-1]["clean_seconds"],
        "curate_seconds": results[-1]["curate_seconds"],
        "curated_rows": results[-1]["curated_rows"],
        "curated_parquet_bytes": tree_bytes(duckdb_target(root) / "curated" / "general", ".parquet"),
    }


def duckdb_plain_conversion(root: Path, threads: int, runs: int) -> dict:
    """For comparison: DuckDB copies the same CSV parts (typed by its sniffer: money as DOUBLE, ZIP codes and
    NPIs as numbers) to Parquet ZSTD, with no cleaning, quarantine or curation. Median of `runs`."""
    parts = sorted(str(p) for p in (root / "raw" / "general").rglob("part-*.csv"))
    target = root / "duckdb" / "general.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect()
    connection.execute(f"SET threads = {threads}")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        connection.execute(
            "COPY (SELECT * FROM read_csv(?, header = true, quote = '\"', escape = '\"', "
            f"sample_size = -1)) TO '{target}' (FORMAT parquet, COMPRESSION zstd)",
            [parts],
        )
        times.append(round(time.perf_counter() - started, 3))
    return {
        "seconds": statistics.median(times),
        "runs_seconds": times,
        "parquet_bytes": target.stat().st_size,
    }


def spark_conversion(spark: SparkSession, root: Path) -> dict:
    """Spark's floor for the same conversion: the parts read as the clean job reads them (read_raw_csv),
    written as Parquet ZSTD with no cleaning, typing or curation."""
    parts = sorted(str(p) for p in (root / "raw" / "general").rglob("part-*.csv"))
    target = root / "spark-plain"
    started = time.perf_counter()
    rows = read_raw_csv(spark, parts, load_spec().layout(LAYOUTS[0]))
    rows.write.mode("overwrite").option("compression", "zstd").parquet(str(target))
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "parquet_bytes": tree_bytes(target, ".parquet"),
    }


def query_bytes(curated: Path, columns: list[str]) -> int:
    """Compressed bytes of the column chunks a columnar engine reads for these columns."""
    total = 0
    for file in curated.rglob("*.parquet"):
        metadata = pq.ParquetFile(file).metadata
        for group in range(metadata.num_row_groups):
            row_group = metadata.row_group(group)
            for index in range(row_group.num_columns):
                chunk = row_group.column(index)
                if chunk.path_in_schema in columns:
                    total += chunk.total_compressed_size
    return total


def analyst_queries(curated: Path, raw_bytes: int) -> list[dict]:
    connection = duckdb.connect()
    files = str(curated / "**" / "*.parquet").replace("'", "''")
    connection.execute(
        f"CREATE VIEW general AS SELECT * FROM read_parquet('{files}', hive_partitioning = true)"
    )
    results = []
    for name, (columns, sql) in QUERIES.items():
        started = time.perf_counter()
        rows = connection.execute(sql).fetchall()
        read = query_bytes(curated, columns)
        results.append(
            {
                "query": name,
                "bytes_read": read,
                "share_of_raw": round(read / raw_bytes, 4),
                "seconds": round(time.perf_counter() - started, 2),
                "result_rows": len(rows),
            }
        )
    return results


def paired_runs(root: Path, cores: int, pairs: int) -> dict:
    """Spark's clean + curate in a fresh JVM, then DuckDB's same conversion in a fresh process, `pairs` times.

    Each pair runs back to back, so a slower minute of a shared machine slows both sides of its ratio; the
    median ratio is the figure. Every Spark run is cold, as every Glue job run is.
    """
    runs = []
    for index in range(1, pairs + 1):
        spark = in_fresh_process("spark", root, cores)
        duck = in_fresh_process("duckdb", root, cores)
        ratio = spark["seconds"] / duck["seconds"]
        runs.append(
            {
                "spark_seconds": spark["seconds"],
                "spark_clean_seconds": spark["clean_seconds"],
                "spark_curate_seconds": spark["curate_seconds"],
                "duckdb_seconds": duck["seconds"],
                "ratio": ratio,
                "same_curated_rows": spark["curated_rows"] == duck["curated_rows"],
            }
        )
        print(
            f"  pair {index}/{pairs}: Spark {spark['seconds']} s (clean {spark['clean_seconds']} + curate "
            f"{spark['curate_seconds']}, fresh JVM), DuckDB {duck['seconds']} s: {ratio:.2f}x",
            flush=True,
        )
    return {
        "pairs": runs,
        "median_ratio": statistics.median(r["ratio"] for r in runs),
        "spark_median_seconds": statistics.median(r["spark_seconds"] for r in runs),
        "duckdb_median_seconds": statistics.median(r["duckdb_seconds"] for r in runs),
    }


def at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


positive = at_least(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--parts", type=int, default=4)
    parser.add_argument(
        "--work", type=Path, required=True, help="scratch directory (data is kept for re-runs)"
    )
    parser.add_argument("--scale-rows", default="", help="comma-separated row counts for the growth table")
    parser.add_argument("--scale-parts", default="", help="comma-separated part counts for the growth table")
    parser.add_argument("--scale-at", type=int, default=200_000, help="rows of the parts growth table")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--reference-runs", type=positive, default=3, help="DuckDB conversions to take the median of"
    )
    parser.add_argument(
        "--paired-runs",
        type=at_least(0),
        default=3,
        help="then this many pairs (Spark in a fresh JVM, DuckDB in a fresh process); the time targets use "
        "the median of their ratios (0: the main run's ratio)",
    )
    parser.add_argument(
        "--warm-runs",
        type=at_least(0),
        default=0,
        help="run the jobs again this many times in the same JVM (the targets use the first, cold run)",
    )
    args = parser.parse_args(argv)

    spark = local_session(
        "open-payments-benchmark", cores=args.cores, driver_memory=DRIVER_MEMORY, small_data=False
    )

    print(f"main run: {args.rows:,} General rows, {args.parts} parts, {args.cores} cores", flush=True)
    root = prepare(args.work, args.rows, args.parts)
    jobs = run_jobs(spark, root)
    raw_bytes = tree_bytes(root / "raw" / "general", ".csv")
    curated = Path(LocalZones(root).curated) / "general"
    curated_bytes = tree_bytes(curated, ".parquet")
    reference = duckdb_same_conversion(root, args.cores, args.reference_runs)
    duckdb_plain = duckdb_plain_conversion(root, args.cores, args.reference_runs)
    plain = spark_conversion(spark, root)
    spark_seconds = jobs["clean_seconds"] + jobs["curate_seconds"]
    summary = {
        "jobs": jobs,
        "raw_csv_bytes": raw_bytes,
        "curated_parquet_bytes": curated_bytes,
        "compression_ratio": round(raw_bytes / curated_bytes, 1),
        "duckdb": {
            **reference,
            "same_curated_rows": reference["curated_rows"] == jobs["curated_rows"],
            "compression_ratio": round(raw_bytes / reference["curated_parquet_bytes"], 1),
        },
        "spark_vs_duckdb_time": round(spark_seconds / reference["seconds"], 1),
        # For comparison: both engines' bare copy, and the pipeline vs those.
        "duckdb_plain_conversion": {
            **duckdb_plain,
            "compression_ratio": round(raw_bytes / duckdb_plain["parquet_bytes"], 1),
            "spark_pipeline_vs_duckdb_plain_time": round(spark_seconds / duckdb_plain["seconds"], 1),
        },
        "spark_plain_conversion": {
            **plain,
            "vs_duckdb_plain_time": round(plain["seconds"] / duckdb_plain["seconds"], 1),
            "pipeline_vs_plain_time": round(spark_seconds / plain["seconds"], 1),
        },
        "queries": analyst_queries(curated, raw_bytes),
        "warm_runs": [],
        "growth": [],
    }
    # The first run pays the JVM's warm-up (class loading, JIT compilation of Spark and of the generated
    # code), as every Glue job run does; later runs in the same JVM show the per-row cost alone.
    for _ in range(args.warm_runs):
        warm = run_jobs(spark, prepare(args.work, args.rows, args.parts))
        seconds = warm["clean_seconds"] + warm["curate_seconds"]
        summary["warm_runs"].append({**warm, "vs_duckdb_time": round(seconds / reference["seconds"], 1)})
    print(json.dumps(summary, indent=2), flush=True)

    growth = [(int(r), 4) for r in args.scale_rows.split(",") if r] + [
        (args.scale_at, int(p)) for p in args.scale_parts.split(",") if p
    ]
    for rows, parts in growth:
        print(f"growth run: {rows:,} rows, {parts} parts", flush=True)
        measured = run_jobs(spark, prepare(args.work, rows, parts))
        summary["growth"].append({"rows": rows, "parts": parts, **measured})
    if growth:
        print("\n| rows | parts | clean s | curate s | rows/s |\n|---:|---:|---:|---:|---:|")
        for g in summary["growth"]:
            cells = [
                f"{g['rows']:,}",
                g["parts"],
                g["clean_seconds"],
                g["curate_seconds"],
                f"{g['rows_per_second']:,}",
            ]
            print("| " + " | ".join(str(c) for c in cells) + " |")
    spark.stop()
    if args.paired_runs:
        summary["paired_runs"] = paired_runs(root, args.cores, args.paired_runs)
    (args.work / "benchmark.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    # The time targets use the paired runs when there are any (one cold run moves by a fifth), and the
    # unrounded ratio: 2.54 must not pass as 2.5.
    if args.paired_runs:
        ratio, basis = summary["paired_runs"]["median_ratio"], f"median of {args.paired_runs} paired runs"
    else:
        ratio, basis = spark_seconds / reference["seconds"], "the main run"
    print(f"Spark / DuckDB time, {basis}: {ratio:.2f}x")
    same_rows = summary["duckdb"]["same_curated_rows"] and all(
        p["same_curated_rows"] for p in summary.get("paired_runs", {}).get("pairs", [])
    )
    targets = {
        "curated >= 10x smaller than CSV": summary["compression_ratio"] >= 10,
        "analyst queries read <= 5% of raw": all(q["share_of_raw"] <= 0.05 for q in summary["queries"]),
        "Spark within 5x DuckDB doing the same conversion": ratio <= 5,
        "Spark within 2.5x DuckDB doing the same conversion (issue 16's goal at 1 M rows)": ratio <= 2.5,
        "DuckDB's conversion curated the same rows": same_rows,
    }
    for target, met in targets.items():
        print(f"{'MET ' if met else 'MISSED'} {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
