"""The Spark session of the jobs: only settings that are part of the jobs' semantics.

Storage access (S3A endpoint, credentials, fs.s3.impl) comes from outside: spark-submit --conf, the
environment, or Glue itself, so the same script runs in Glue and locally.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pyspark.sql import SparkSession

JOB_CONF = {
    # Dates are calendar dates: no time zone shifts anywhere.
    "spark.sql.session.timeZone": "UTC",
    # Strict MM/dd/yyyy parsing returns null for impossible dates instead of raising.
    "spark.sql.legacy.timeParserPolicy": "CORRECTED",
    "spark.sql.parquet.datetimeRebaseModeInWrite": "CORRECTED",
    # A re-publication of a year replaces exactly that year's partition.
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    "spark.sql.parquet.compression.codec": "zstd",
    # Performance: adaptive execution sizes shuffles to the data (not inside persisted plans: the one
    # persisted set, curate_transforms.duplicated_keys, sizes itself).
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.coalescePartitions.enabled": "true",
    # A partitioned write keeps one file open per program year in its task instead of first sorting the
    # task's rows by year (a task's rows come from one or a few years; past 4 it sorts the rest as before).
    # Sorting ~100-column rows only to group them held 784 MB per task and took a third of the cleaned write
    # (1 M rows: 17.0 -> 11.8 s). Spark 3.4+ plans that sort before the writer sees the rows unless planned
    # writes are off; the curated write is sorted by program year first anyway and is not affected.
    "spark.sql.optimizer.plannedWrite.enabled": "false",
    "spark.sql.maxConcurrentOutputFileWriters": "4",
}
# The clean job's rows are the raw CSV rows (92 string columns in the modern General layout). Fused into one
# generated method they are more than the JIT's optimizing compiler handles: it spends ~5 s of CPU on each run
# and gives up ("out of nodes"), leaving the hottest loop in slower code. Wider stages than this are evaluated
# operator by operator with split methods instead (cold clean of 1 M rows: 49.0 -> 43.6 s, medians of 3; the
# curate job keeps the default: its wide stages run 20-25 s slower without whole-stage code generation).
# The spreadsheet-error test (`IN` seven literals) appears once per column: as a hash-set lookup it is a
# fraction of the generated code of seven comparisons, with the same result (clean projection of the General
# layout: 646 -> 476 k characters of Java; cold clean of 1 M rows, docs/benchmarks.md).
CLEAN_CONF = {
    "spark.sql.codegen.maxFields": "64",
    "spark.sql.optimizer.inSetConversionThreshold": "5",
}

# Start-up settings of a Spark that runs the jobs again and again: the tests' session, the local lake's and
# the refresh's local drivers (in Glue each job run has a JVM of its own: nothing to keep). Spark keeps the
# classes it compiles from generated code in a cache keyed by the code, 100 entries by default; one clean +
# curate of the modern layouts compiles ~200, so each run evicted what the next would have reused and compiled
# everything again. With 1000 a second run compiles none (40 rows x 2 years x 4 datasets in one session: the
# second and third runs 48.8 / 45.2 s -> 38.5 / 33.0 s; glue-scripts/README.md, Tests).
REUSED_SESSION_CONF = {"spark.sql.codegen.cache.maxEntries": "1000"}

# Iceberg's SQL (MERGE INTO, tags, CALL procedures); Glue adds it itself with --datalake-formats iceberg.
ICEBERG_EXTENSIONS = "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"
_REPO = Path(__file__).resolve().parents[2]


ICEBERG_RUNTIME = "iceberg-spark-runtime-3.5_2.12"


def local_jars(*artifacts: str, repo: Path = _REPO) -> list[str]:
    """These artifacts' jars, pinned in jars.lock, as scripts/fetch-jars.sh places them under .build/jars/."""
    pinned = {}
    for line in (repo / "jars.lock").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            _, artifact, version = line.split()[0].split(":")
            pinned[artifact] = repo / ".build" / "jars" / f"{artifact}-{version}.jar"
    jars = []
    for artifact in artifacts:
        if artifact not in pinned:
            raise KeyError(f"{artifact} is not pinned in {repo / 'jars.lock'}")
        if not pinned[artifact].is_file():
            raise FileNotFoundError(
                f"{pinned[artifact]} is missing: run `make setup` (scripts/fetch-jars.sh fetches jars.lock)"
            )
        jars.append(str(pinned[artifact]))
    return jars


def build_session(app_name: str) -> SparkSession:
    spark = SparkSession.builder.appName(app_name).getOrCreate()
    configure(spark)
    return spark


def local_session(
    app_name: str,
    cores: int = 2,
    driver_memory: str = "1g",
    small_data: bool = True,
    iceberg: bool = False,
) -> SparkSession:
    """A Spark on this machine for tests, fixtures and benchmarks (Glue and spark-submit build their own).

    `small_data` sizes shuffles and parallelism to the cores (test data); without it Spark keeps its defaults,
    as the jobs have in Glue. `iceberg` loads the pinned Iceberg runtime and its SQL extensions (catalogs are
    runtime settings: iceberg.use_hadoop_catalog).
    """
    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", driver_memory)
        .config(map=REUSED_SESSION_CONF)
    )
    if iceberg:
        builder = (
            builder.config("spark.jars", ",".join(local_jars(ICEBERG_RUNTIME)))
            .config("spark.sql.extensions", ICEBERG_EXTENSIONS)
            # Iceberg's vectorized Parquet reader (Arrow buffers from its shaded Netty allocator) crashed this
            # machine's JVM with SIGSEGV in MERGE and compaction reads of 20k+ rows; the row reader does not.
            .config("spark.sql.iceberg.vectorization.enabled", "false")
        )
    if small_data:
        builder = builder.config("spark.sql.shuffle.partitions", str(cores)).config(
            "spark.default.parallelism", str(cores)
        )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    configure(spark)
    return spark


def configure(spark: SparkSession) -> None:
    """Apply the job's runtime settings to an existing session (Glue creates the session itself)."""
    for key, value in JOB_CONF.items():
        spark.conf.set(key, value)


@contextmanager
def job_settings(spark: SparkSession, settings: dict[str, str]) -> Iterator[None]:
    """Runtime settings of one job, restored afterwards (tests and the benchmark share one session)."""
    previous = {key: spark.conf.get(key, None) for key in settings}
    for key, value in settings.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)
