"""Measuring the jobs and DuckDB's same conversion, here or in a fresh process (cold, as a Glue run is).

    .venv/bin/python glue-scripts/benchmarks/measure.py --child spark|duckdb --root <work>/<rows>-<parts> \
        [--cores 2] [--driver-memory 4g]

runs one measurement and prints it as one line of JSON; benchmark.py and scale.py call it that way.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # glue-scripts/, when run as a script

from pyspark.sql import SparkSession

from benchmarks import duckdb_reference
from open_payments_lake.clean_pipeline import run_clean
from open_payments_lake.curate_pipeline import run_curate
from open_payments_lake.local_zones import LocalZones
from open_payments_lake.session import local_session

TICKS = os.sysconf("SC_CLK_TCK")
# The local JVM heap of benchmark.py's runs (scale.py passes its own).
DRIVER_MEMORY = "4g"


def tree_bytes(path: Path, suffix: str) -> int:
    return sum(p.stat().st_size for p in path.rglob(f"*{suffix}"))


def clear_outputs(root: Path) -> None:
    """Remove the jobs' outputs under `root`, so a run starts from the raw zone alone."""
    for zone in ("cleaned", "curated"):
        shutil.rmtree(root / zone, ignore_errors=True)


def run_jobs(spark: SparkSession, root: Path) -> dict:
    """Clean then curate the raw zone under `root` (zones as local_zones lays them out), timed."""
    zones = LocalZones(root)
    started = time.perf_counter()
    clean = run_clean(spark, zones.clean_options())
    clean_seconds = time.perf_counter() - started
    started = time.perf_counter()
    curate = run_curate(spark, zones.curate_options())
    curate_seconds = time.perf_counter() - started
    records = clean["totals"]["raw_records"]
    return {
        "raw_records": records,
        "curated_rows": curate["totals"]["curated_rows"],
        "clean_seconds": round(clean_seconds, 1),
        "curate_seconds": round(curate_seconds, 1),
        "rows_per_second": round(records / (clean_seconds + curate_seconds)),
    }


def process_usage(pid: int) -> tuple[float, int]:
    """(CPU seconds, peak resident bytes) of a live process, from /proc (the JVM is not ours to wait for)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime
    peak_kb = next(
        int(line.split()[1])
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("VmHWM:")
    )
    return cpu, peak_kb * 1024


def self_usage() -> tuple[float, int]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def spark_run(root: Path, cores: int, driver_memory: str) -> dict:
    """Clean + curate in a new local Spark session (in a fresh process: a cold JVM); CPU, memory, sizes."""
    clear_outputs(root)
    started = time.perf_counter()
    spark = local_session("open-payments-measure", cores=cores, driver_memory=driver_memory, small_data=False)
    jvm_start = round(time.perf_counter() - started, 1)
    jobs = run_jobs(spark, root)
    jvm_cpu, jvm_peak = process_usage(spark.sparkContext._gateway.proc.pid)
    py_cpu, py_peak = self_usage()
    zones = LocalZones(root)
    result = {
        **jobs,
        "seconds": round(jobs["clean_seconds"] + jobs["curate_seconds"], 1),
        "jvm_start_seconds": jvm_start,
        "cpu_seconds": round(jvm_cpu + py_cpu, 1),
        "peak_rss_bytes": jvm_peak + py_peak,
        "cleaned_bytes": tree_bytes(Path(zones.cleaned), ".parquet"),
        "curated_bytes": tree_bytes(Path(zones.curated), ".parquet"),
    }
    spark.stop()
    return result


def duckdb_target(root: Path) -> Path:
    """Where duckdb_run writes DuckDB's cleaned and curated zones for the raw zone under `root`."""
    return root / "duckdb-same"


def duckdb_run(root: Path, cores: int) -> dict:
    """DuckDB's same conversion (duckdb_reference.py) of the raw zone under `root`, into duckdb_target."""
    target = duckdb_target(root)
    shutil.rmtree(target, ignore_errors=True)
    run = duckdb_reference.run(root / "raw", target, cores)
    cpu, peak = self_usage()
    return {
        "clean_seconds": run["clean_seconds"],
        "curate_seconds": run["curate_seconds"],
        "seconds": run["seconds"],
        "cpu_seconds": round(cpu, 1),
        "peak_rss_bytes": peak,
        "curated_rows": sum(y["rows"] for d in run["curated"].values() for y in d.values()),
        "curated_bytes": tree_bytes(target / "curated", ".parquet"),
    }


def in_fresh_process(kind: str, root: Path, cores: int, driver_memory: str = DRIVER_MEMORY) -> dict:
    """spark_run or duckdb_run in a child interpreter (and, for Spark, a fresh JVM): nothing warmed up."""
    completed = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            kind,
            "--root",
            str(root),
            "--cores",
            str(cores),
            "--driver-memory",
            driver_memory,
        ],
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", choices=["spark", "duckdb"], required=True)
    parser.add_argument("--root", type=Path, required=True, help="a prepared <work>/<rows>-<parts> folder")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--driver-memory", default=DRIVER_MEMORY)
    args = parser.parse_args(argv)
    if not (args.root / "raw").is_dir():
        parser.error(f"--root {args.root} has no raw/ folder: prepare it with benchmark.py or scale.py first")
    measured = (
        spark_run(args.root, args.cores, args.driver_memory)
        if args.child == "spark"
        else duckdb_run(args.root, args.cores)
    )
    print(json.dumps(measured))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
