"""cleaned -> curated: pure DataFrame transforms (no I/O).

Rules (documented in glue-scripts/README.md):
- removed/deleted: a record is dropped when the removed/deleted file of its program year, from the same or a
  later publication, lists its Record_ID.
- duplicates: one row per (program_year, record_id), chosen by: latest publication, then Change_Type
  precedence CHANGED > ADD > NEW > UNCHANGED, then lowest source_object, then lowest content hash
  (only identical rows tie).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from .clean_transforms import PROVENANCE
from .raw_objects import publication_order
from .spec import Dataset

# Up to this many duplicated (program_year, record key) pairs travel to every executor (tens of MB).
BROADCAST_DUPLICATE_KEYS = 1_000_000
CHANGE_TYPE_PRECEDENCE = ("CHANGED", "ADD", "NEW", "UNCHANGED")
MANUFACTURER_COLUMN = "applicable_manufacturer_or_applicable_gpo_making_payment_name"
DERIVED = ("payment_month", "specialty_top_level", "manufacturer_name_normalized")
CORPORATE_SUFFIXES = (
    "INC",
    "INCORPORATED",
    "LLC",
    "LLP",
    "LP",
    "LTD",
    "LIMITED",
    "CORP",
    "CORPORATION",
    "CO",
    "COMPANY",
    "PLC",
    "PC",
    "PLLC",
    "GMBH",
    "AG",
    "SA",
    "NV",
    "BV",
    "AB",
    "SPA",
    "USA",
    "US",
)


def publication_rank(stamps: set[str]) -> Column:
    """A row's `_pub_rank`: the rank of its publication_stamp among `stamps`, growing with the publication
    date (both stamp styles); null for a stamp not among them.

    A literal map looked up per row, not a (stamp, rank) table joined in: a table made from a Python list is a
    Python RDD, so every query over the curate lineage ran Python tasks only to broadcast its few rows (one
    clean + curate of 40 rows x 2 years: 24 such jobs, 10.8 s of job time per curate run).
    """
    ordered = sorted(stamps, key=publication_order)
    pairs = [c for rank, stamp in enumerate(ordered) for c in (F.lit(stamp), F.lit(rank))]
    if not pairs:
        return F.lit(None).cast(T.IntegerType())
    return F.create_map(*pairs)[F.col("publication_stamp")]


def mark_removed(rows: DataFrame, removed: DataFrame | None, rank: Column) -> DataFrame:
    """Rows plus `_removed`: listed by a removed/deleted file of the same year and the same or a later
    publication.

    `rows` must carry `_pub_rank`; `removed` is cleaned removed_deleted data (None: nothing is removed),
    ranked by `rank` (publication_rank over both sides' stamps).
    """
    if removed is None:
        return rows.withColumn("_removed", F.lit(False))
    listed = (
        removed.withColumn("_pub_rank", rank)
        .groupBy("program_year", "record_id")
        .agg(F.max("_pub_rank").alias("_removed_rank"))
    )
    joined = rows.join(F.broadcast(listed), ["program_year", "record_id"], "left")
    flag = F.col("_removed_rank").isNotNull() & (F.col("_removed_rank") >= F.col("_pub_rank"))
    return joined.withColumn("_removed", flag).drop("_removed_rank")


def change_type_rank(change_type: Column) -> Column:
    rank = F.lit(len(CHANGE_TYPE_PRECEDENCE))
    for index, value in reversed(list(enumerate(CHANGE_TYPE_PRECEDENCE))):
        rank = F.when(F.upper(change_type) == value, F.lit(index)).otherwise(rank)
    return rank


@contextmanager
def duplicated_keys(rows: DataFrame, dataset: Dataset) -> Iterator[DataFrame]:
    """The (program_year, record key) pairs that occur more than once in `rows`, for resolve_duplicates.

    Held (memory, spilling to disk) until the block ends, since every pass over the curated rows reads them;
    broadcast when few enough. Held in one partition per core: Spark 3.5 never coalesces the last stage of a
    plan it caches, so they would keep spark.sql.shuffle.partitions (200) partitions, and each of the passes
    would scan 200 tasks twice to broadcast them (1 M rows: curate 27-33 s -> 23-25 s).
    """
    keys = ["program_year", dataset.record_key]
    held = (
        rows.groupBy(*keys)
        .count()
        .where(F.col("count") > 1)
        .drop("count")
        .coalesce(rows.sparkSession.sparkContext.defaultParallelism)
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    try:
        yield F.broadcast(held) if held.count() <= BROADCAST_DUPLICATE_KEYS else held
    finally:
        held.unpersist()


def resolve_duplicates(rows: DataFrame, dataset: Dataset, duplicated: DataFrame) -> DataFrame:
    """One row per (program_year, record key), deterministic whatever the input order.

    Duplicates are rare (corrections within a publication), so only the rows of the `duplicated` keys (see
    duplicated_keys) are ranked: when those keys are few enough to broadcast, the full-width rows of every
    other key pass through without a shuffle or a sort.
    """
    keys = ["program_year", dataset.record_key]
    unique = rows.join(duplicated, keys, "left_anti")
    content = F.xxhash64(*[F.col(c) for c in dataset.column_names if c != "program_year"])
    window = Window.partitionBy(*keys).orderBy(
        F.col("_pub_rank").desc(),
        change_type_rank(F.col("change_type")),
        F.col("source_object"),
        content,
    )
    winners = (
        rows.join(duplicated, keys, "left_semi")
        .withColumn("_n", F.row_number().over(window))
        .where(F.col("_n") == 1)
        .drop("_n")
    )
    return unique.unionByName(winners)


def normalize_manufacturer(name: Column) -> Column:
    """Upper-case, punctuation to spaces, corporate suffixes (INC, LLC, CORP, ...) removed from the end."""
    words = F.regexp_replace(F.upper(name), r"[^A-Z0-9]+", " ")
    suffixes = "|".join(CORPORATE_SUFFIXES)
    stripped = F.trim(F.regexp_replace(F.trim(words), rf"(\s+({suffixes}))+$", ""))
    return F.when(stripped != "", stripped)


def top_level_specialty(specialty: Column) -> Column:
    top = F.trim(F.split(specialty, r"\|").getItem(0))
    return F.when(top != "", top)


def specialty_column(dataset: Dataset) -> str:
    """The (first) recipient specialty: the first canonical column named like a specialty."""
    return next(c for c in dataset.column_names if "specialty" in c)


def outside_generated_code(function: Callable[[Column], Column], column: Column) -> Column:
    """`function(column)`, the same value, evaluated by Spark's interpreter, not in generated code.

    A higher-order function (here over a one-value array) has no generated code, so the projection holding it
    is not fused into the stage below it. Why: the curate plan's main stage (the scan of ~100 columns, the
    removed and duplicate joins, the derived columns, the row writer) compiled to one method of 9,172 bytes
    of bytecode, past the 8,000 above which HotSpot does not compile a method (DontCompileHugeMethods), so
    it ran interpreted for every row of every pass. The manufacturer name's two regular expressions were
    1,316 of those bytes; outside it, the stage is 7,441 bytes and compiled (docs/benchmarks.md).
    """
    return F.transform(F.array(column), function)[0]


def derive(rows: DataFrame, dataset: Dataset) -> DataFrame:
    month = (
        F.trunc(F.col(dataset.payment_date_column), "month")
        if dataset.payment_date_column
        else F.lit(None).cast(T.DateType())
    )
    return rows.select(
        "*",
        month.alias("payment_month"),
        top_level_specialty(F.col(specialty_column(dataset))).alias("specialty_top_level"),
        outside_generated_code(normalize_manufacturer, F.col(MANUFACTURER_COLUMN)).alias(
            "manufacturer_name_normalized"
        ),
    )


def curated_columns(dataset: Dataset) -> list[str]:
    """Canonical columns, provenance, derived columns, then program_year (the partition)."""
    derived = [d for d in DERIVED if d != "payment_month" or dataset.payment_date_column]
    return [c for c in dataset.column_names if c != "program_year"] + [*PROVENANCE, *derived, "program_year"]
