"""The curate job (cleaned -> curated): removed/deleted records, duplicates, derived columns, quality."""

from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from . import iceberg, quality, storage
from .arguments import ratio, selection
from .curate_transforms import (
    curated_columns,
    derive,
    duplicated_keys,
    mark_removed,
    publication_ranks,
    resolve_duplicates,
)
from .reports import ThresholdExceeded, reported_run
from .spec import Spec, load_spec
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
        "partitions": [],
        "totals": _totals([]),
    }
    with reported_run(spark, options.report_path, report):
        _curate(spark, options, spec or load_spec(), report)
    return report


def _totals(entries: list[dict]) -> dict:
    keys = ("cleaned_rows", "removed", "duplicates_resolved", "curated_rows")
    return {key: sum(e[key] for e in entries) for key in keys}


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
    failures: list[str] = []
    outputs = []
    # The duplicated keys of each dataset are held until its curated rows are written.
    with ExitStack() as held:
        for dataset in datasets:
            cleaned = read_cleaned(spark, options, dataset.name)
            if cleaned is None:
                log.info("%s: no cleaned data", dataset.name)
                continue
            publications = {r[0] for r in cleaned.select("publication_stamp").distinct().collect()}
            stamps = publications | removed_stamps
            ranks = publication_ranks(spark, stamps)
            # The rows are not cached: re-reading the cleaned Parquet for each of the few passes is much
            # cheaper than building Spark's in-memory cache of ~100-column rows (docs/benchmarks.md).
            rows = cleaned.join(F.broadcast(ranks), "publication_stamp")
            marked = mark_removed(rows, removed, ranks)
            kept = marked.where(~F.col("_removed")).drop("_removed")
            duplicated = held.enter_context(duplicated_keys(kept, dataset))
            curated = derive(resolve_duplicates(kept, dataset, duplicated), dataset).select(
                *curated_columns(dataset)
            )
            cleaned_counts, kept_counts = _per_year_counts(marked)
            rules = quality.rule_counts(curated, dataset)
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
            report["totals"] = _totals(entries)
            log.info("%s: %s", dataset.name, {y: rules[y]["rows"] for y in sorted(rules)})
            failures += quality.threshold_failures(dataset.name, rules, options.max_rule_violation_ratio)
            outputs.append((dataset, curated, set(cleaned_counts), set(rules), publications))

        report["failures"] = failures
        if failures:
            raise ThresholdExceeded("curate job failed; curated zone left unchanged:\n" + "\n".join(failures))
        for dataset, curated, years, years_with_rows, publications in outputs:
            if options.curated_format == "iceberg":
                table = iceberg.Namespace.parse(options.iceberg_namespace).table(dataset.curated_table)
                snapshot = iceberg.apply_publication(
                    spark, table, curated, dataset.record_key, years, publications
                )
                report.setdefault("iceberg_snapshots", {})[table] = snapshot
                continue
            ordered = curated.sortWithinPartitions("program_year", *iceberg.SORT_COLUMNS)
            replace_partitions(
                spark, ordered, storage.join(options.curated_path, dataset.name), years, years_with_rows
            )
