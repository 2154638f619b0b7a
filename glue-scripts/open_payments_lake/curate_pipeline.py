"""The curate job (cleaned -> curated): removed/deleted records, duplicates, derived columns, quality."""

from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from . import iceberg, quality, storage
from .arguments import ratio, selection, selection_report
from .concurrency import concurrently, raise_first
from .curate_transforms import (
    curated_columns,
    derive,
    duplicated_keys,
    mark_removed,
    publication_rank,
    resolve_duplicates,
)
from .reports import ThresholdExceeded, reported_run
from .spec import Dataset, Spec, load_spec
from .writing import replace_partitions

log = logging.getLogger(__name__)

ARGUMENTS = (
    "cleaned_path",
    "curated_path",
    "report_path",
    "max_rule_violation_ratio",
    "datasets",
    "program_years",
    "curated_format",
    "iceberg_namespace",
)
REMOVED_DATASET = "removed_deleted"
CURATED_FORMATS = ("parquet", "iceberg")


@dataclass(frozen=True)
class CurateOptions:
    cleaned_path: str
    curated_path: str
    report_path: str
    max_rule_violation_ratio: float
    datasets: set[str] | None = None
    program_years: set[int] | None = None
    # parquet: files under curated_path/<dataset>/program_year=<YYYY>/; iceberg: one Iceberg table per dataset
    # in iceberg_namespace (<spark catalog>.<database>), each publication applied as a MERGE and tagged.
    curated_format: str = "parquet"
    iceberg_namespace: str = "lake.curated"

    def __post_init__(self) -> None:
        if self.curated_format not in CURATED_FORMATS:
            raise ValueError(
                f"--curated_format must be one of {', '.join(CURATED_FORMATS)}, got {self.curated_format!r}"
            )
        iceberg.Namespace.parse(self.iceberg_namespace)

    @classmethod
    def from_arguments(cls, options: dict[str, str], spec: Spec) -> CurateOptions:
        years = selection(options, "program_years")
        if years is not None and not all(y.isdigit() and len(y) == 4 for y in years):
            raise ValueError(
                f"--program_years must be 'all' or four-digit years, got {options['program_years']!r}"
            )
        return cls(
            cleaned_path=options["cleaned_path"],
            curated_path=options["curated_path"],
            report_path=options["report_path"],
            max_rule_violation_ratio=ratio(options, "max_rule_violation_ratio"),
            datasets=selection(options, "datasets", [d.name for d in spec.curated_datasets]),
            program_years={int(y) for y in years} if years is not None else None,
            curated_format=options["curated_format"].strip().lower(),
            iceberg_namespace=options["iceberg_namespace"].strip(),
        )


def read_cleaned(spark: SparkSession, options: CurateOptions, dataset: str) -> DataFrame | None:
    path = storage.join(options.cleaned_path, dataset)
    if not storage.glob(spark, storage.join(path, "program_year=*/*.parquet")):
        return None
    rows = spark.read.option("basePath", path).parquet(path)
    if options.program_years is not None:
        rows = rows.where(F.col("program_year").isin(*sorted(options.program_years)))
    return rows


def _per_year_counts(marked: DataFrame) -> tuple[dict[int, int], dict[int, int]]:
    """({year: cleaned rows}, {year: rows left after removed/deleted}) in one aggregation."""
    rows = marked.groupBy("program_year").agg(
        F.count(F.lit(1)).alias("rows"), F.sum(F.when(~F.col("_removed"), 1).otherwise(0)).alias("kept")
    )
    cleaned, kept = {}, {}
    for r in rows.collect():
        cleaned[r["program_year"]], kept[r["program_year"]] = r["rows"], r["kept"]
    return cleaned, kept


def run_curate(spark: SparkSession, options: CurateOptions, spec: Spec | None = None) -> dict:
    """Run the curate job; returns the report, also written under --report_path however the run ends (a failed
    run with status "failed" and its reason, then the error is raised)."""
    report = {
        "job": "curate",
        "started_at": datetime.now(UTC).isoformat(),
        "cleaned_path": options.cleaned_path,
        "curated_path": options.curated_path,
        "thresholds": {"max_rule_violation_ratio": options.max_rule_violation_ratio},
        "selection": selection_report(options.datasets, options.program_years),
        "partitions": [],
        "totals": _totals([]),
    }
    with reported_run(spark, options.report_path, report):
        _curate(spark, options, spec or load_spec(), report)
    return report


def _totals(entries: list[dict]) -> dict:
    keys = ("cleaned_rows", "removed", "duplicates_resolved", "curated_rows")
    return {key: sum(e[key] for e in entries) for key in keys}


@dataclass(frozen=True)
class AssessedDataset:
    """One dataset's curated rows (a plan, not yet written), its report entries and rule failures."""

    dataset: Dataset
    curated: DataFrame
    entries: list[dict]
    failures: list[str]
    years: set[int]
    years_with_rows: set[int]
    publications: set[str]


def assess_dataset(
    spark: SparkSession,
    options: CurateOptions,
    dataset: Dataset,
    removed: DataFrame | None,
    removed_stamps: set[str],
    held: ExitStack,
) -> AssessedDataset | None:
    """Plan one dataset's curated rows and count them per year and quality rule; None if it has no cleaned
    data. Its duplicated keys are held in `held` until the rows are written."""
    cleaned = read_cleaned(spark, options, dataset.name)
    if cleaned is None:
        log.info("%s: no cleaned data", dataset.name)
        return None
    publications = {r[0] for r in cleaned.select("publication_stamp").distinct().collect()}
    rank = publication_rank(publications | removed_stamps)
    # The rows are not cached: re-reading the cleaned Parquet for each of the few passes is much
    # cheaper than building Spark's in-memory cache of ~100-column rows (docs/benchmarks.md).
    rows = cleaned.withColumn("_pub_rank", rank)
    marked = mark_removed(rows, removed, rank)
    kept = marked.where(~F.col("_removed")).drop("_removed")
    duplicated = held.enter_context(duplicated_keys(kept, dataset))
    curated = derive(resolve_duplicates(kept, dataset, duplicated), dataset).select(*curated_columns(dataset))
    cleaned_counts, kept_counts = _per_year_counts(marked)
    rules = quality.rule_counts(curated, dataset)
    entries = []
    for year in sorted(cleaned_counts):
        curated_rows = rules.get(year, {}).get("rows", 0)
        entries.append(
            {
                "dataset": dataset.name,
                "curated_table": dataset.curated_table,
                "program_year": year,
                "cleaned_rows": cleaned_counts[year],
                "removed": cleaned_counts[year] - kept_counts.get(year, 0),
                "duplicates_resolved": kept_counts.get(year, 0) - curated_rows,
                "curated_rows": curated_rows,
                "rules": {k: v for k, v in rules.get(year, {}).items() if k != "rows"},
            }
        )
    log.info("%s: %s", dataset.name, {y: rules[y]["rows"] for y in sorted(rules)})
    return AssessedDataset(
        dataset,
        curated,
        entries,
        quality.threshold_failures(dataset.name, rules, options.max_rule_violation_ratio),
        set(cleaned_counts),
        set(rules),
        publications,
    )


def write_dataset(
    spark: SparkSession, options: CurateOptions, assessed: AssessedDataset
) -> dict[str, int | None]:
    """Write one dataset's curated rows; {table: the snapshot it committed} if the format is Iceberg."""
    dataset, curated = assessed.dataset, assessed.curated
    if options.curated_format == "iceberg":
        table = iceberg.Namespace.parse(options.iceberg_namespace).table(dataset.curated_table)
        snapshot = iceberg.apply_publication(
            spark, table, curated, dataset.record_key, assessed.years, assessed.publications
        )
        return {table: snapshot}
    ordered = curated.sortWithinPartitions("program_year", *iceberg.SORT_COLUMNS)
    replace_partitions(
        spark,
        ordered,
        storage.join(options.curated_path, dataset.name),
        assessed.years,
        assessed.years_with_rows,
    )
    return {}


def _curate(spark: SparkSession, options: CurateOptions, spec: Spec, report: dict) -> None:
    """Fills `report` as the run learns (each dataset's partitions), so a failure reports what was known."""
    removed = read_cleaned(spark, options, REMOVED_DATASET)
    removed_stamps = (
        {r[0] for r in removed.select("publication_stamp").distinct().collect()}
        if removed is not None
        else set()
    )
    datasets = [d for d in spec.curated_datasets if options.datasets is None or d.name in options.datasets]
    entries: list[dict] = report["partitions"]
    with ExitStack() as held:
        outcomes = concurrently(
            lambda dataset: assess_dataset(spark, options, dataset, removed, removed_stamps, held), datasets
        )
        assessed = [o for o in outcomes if isinstance(o, AssessedDataset)]
        for a in assessed:
            entries.extend(a.entries)
        report["totals"] = _totals(entries)
        raise_first(outcomes)
        report["failures"] = [failure for a in assessed for failure in a.failures]
        if report["failures"]:
            raise ThresholdExceeded(
                "curate job failed; curated zone left unchanged:\n" + "\n".join(report["failures"])
            )
        written = concurrently(lambda a: write_dataset(spark, options, a), assessed)
        if options.curated_format == "iceberg":  # the tables that did commit, even if another failed
            report["iceberg_snapshots"] = {
                table: snapshot for w in written if isinstance(w, dict) for table, snapshot in w.items()
            }
        raise_first(written)
