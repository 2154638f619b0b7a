"""The clean job (raw -> cleaned): plan, read, type, quarantine, write, report."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from . import storage
from .arguments import ratio, selection
from .cleaning import (
    CORRUPT,
    cleaned_rows,
    file_counts,
    positional,
    quarantine_rows,
    raw_schema,
    repair_counts,
    to_canonical_text,
    type_and_validate,
)
from .raw_objects import KEY_PATTERN, RawPart, latest_publications, parse_raw_uri
from .spec import Layout, Spec, UnknownLayoutError, load_spec, parse_header_line
from .writing import replace_partitions

log = logging.getLogger(__name__)

ARGUMENTS = (
    "raw_path",
    "cleaned_path",
    "quarantine_path",
    "report_path",
    "max_quarantine_ratio",
    "datasets",
    "program_years",
)
RAW_GLOB = "*/program_year=*/publication=*/*/part-*.csv"


class ThresholdExceeded(RuntimeError):
    """A data-quality threshold of the job arguments was exceeded (the report has the evidence)."""


@dataclass(frozen=True)
class CleanOptions:
    raw_path: str
    cleaned_path: str
    quarantine_path: str
    report_path: str
    max_quarantine_ratio: float
    datasets: set[str] | None = None
    program_years: set[int] | None = None

    @classmethod
    def from_arguments(cls, options: dict[str, str], spec: Spec) -> CleanOptions:
        years = selection(options, "program_years")
        if years is not None and not all(y.isdigit() and len(y) == 4 for y in years):
            raise ValueError(
                f"--program_years must be 'all' or four-digit years, got {options['program_years']!r}"
            )
        return cls(
            raw_path=options["raw_path"],
            cleaned_path=options["cleaned_path"],
            quarantine_path=options["quarantine_path"],
            report_path=options["report_path"],
            max_quarantine_ratio=ratio(options, "max_quarantine_ratio"),
            datasets=selection(options, "datasets", list(spec.datasets)),
            program_years={int(y) for y in years} if years is not None else None,
        )


@dataclass
class PartInput:
    part: RawPart
    layout: Layout
    manifest_records: int | None
    ingestion_id: str | None


@dataclass
class CleanPlan:
    inputs: list[PartInput]
    authoritative: dict[tuple[str, int], str]
    superseded: list[str] = field(default_factory=list)


def discover(spark: SparkSession, raw_path: str) -> list[RawPart]:
    return [parse_raw_uri(uri) for uri in storage.glob(spark, storage.join(raw_path, RAW_GLOB))]


def _manifest_facts(
    spark: SparkSession, part: RawPart, cache: dict[str, dict | None]
) -> tuple[int | None, str | None]:
    manifest_uri = part.uri.rsplit("/", 1)[0] + "/manifest.json"
    if manifest_uri not in cache:
        cache[manifest_uri] = (
            json.loads(storage.read_text(spark, manifest_uri))
            if storage.exists(spark, manifest_uri)
            else None
        )
    manifest = cache[manifest_uri]
    if manifest is None:
        return None, None
    records = next((p.get("records") for p in manifest.get("parts", []) if p.get("key") == part.part), None)
    return records, manifest.get("ingestionId")


def plan_clean(spark: SparkSession, spec: Spec, parts: list[RawPart], options: CleanOptions) -> CleanPlan:
    """Select the authoritative publication per dataset and year and detect every part's layout.

    Every header is checked before anything is written: one unknown layout fails the whole run.
    """
    wanted = [
        p
        for p in parts
        if (options.datasets is None or p.dataset in options.datasets)
        and (options.program_years is None or p.program_year in options.program_years)
    ]
    unknown = sorted({p.dataset for p in wanted} - set(spec.datasets))
    if unknown:
        raise ValueError(f"raw zone holds unknown datasets {unknown}; expected {sorted(spec.datasets)}")
    authoritative = latest_publications(wanted)
    plan = CleanPlan(inputs=[], authoritative=authoritative)
    errors = []
    manifests: dict[str, dict | None] = {}
    for part in wanted:
        if part.publication != authoritative[(part.dataset, part.program_year)]:
            plan.superseded.append(part.key)
            continue
        try:
            layout = spec.detect_layout(parse_header_line(storage.read_first_line(spark, part.uri)), part.key)
        except UnknownLayoutError as error:
            errors.append(str(error))
            continue
        if layout.dataset != part.dataset:
            errors.append(
                f"{part.key}: header is layout {layout.id} but the file is stored as dataset {part.dataset}"
            )
            continue
        records, ingestion_id = _manifest_facts(spark, part, manifests)
        plan.inputs.append(PartInput(part, layout, records, ingestion_id))
    if errors:
        raise UnknownLayoutError("refusing to clean anything:\n" + "\n".join(errors))
    return plan


def read_parts(spark: SparkSession, inputs: list[PartInput]) -> DataFrame:
    """All parts of one layout, read in parallel (one task per part), with their provenance columns.

    Provenance comes from each row's own file name (no join that could drop rows); a row whose file name is
    not a raw key gets an empty source_object, which the report step refuses loudly.
    """
    layout = inputs[0].layout
    raw = spark.read.csv(
        [i.part.uri for i in inputs],
        schema=raw_schema(layout),
        header=True,
        multiLine=True,
        quote='"',
        escape='"',
        encoding="UTF-8",
        mode="PERMISSIVE",
        columnNameOfCorruptRecord=CORRUPT,
        enforceSchema=True,
    )
    key = F.regexp_extract(F.input_file_name(), KEY_PATTERN, 0)
    ingestion_ids = [(i.part.key, i.ingestion_id) for i in inputs if i.ingestion_id]
    ingestion_id = (
        F.create_map(*[F.lit(x) for pair in ingestion_ids for x in pair])[key]
        if ingestion_ids
        else F.lit(None).cast(T.StringType())
    )
    return positional(raw, layout).select(
        "*",
        key.alias("source_object"),
        F.regexp_extract(key, KEY_PATTERN, 3).alias("publication_stamp"),
        F.lit(layout.id).alias("layout_id"),
        ingestion_id.alias("ingestion_id"),
        F.regexp_extract(key, KEY_PATTERN, 2).cast(T.IntegerType()).alias("_file_program_year"),
    )


def clean_dataset(spark: SparkSession, spec: Spec, dataset_name: str, inputs: list[PartInput]) -> DataFrame:
    """Typed rows (clean and quarantined, with `reason`) of every part of one dataset."""
    dataset = spec.dataset(dataset_name)
    by_layout: dict[str, list[PartInput]] = defaultdict(list)
    for i in inputs:
        by_layout[i.layout.id].append(i)
    frames = []
    for layout_id in sorted(by_layout):
        layout = spec.layout(layout_id)
        raw = read_parts(spark, by_layout[layout_id])
        frames.append(type_and_validate(to_canonical_text(raw, layout, dataset), layout, dataset))
    typed = frames[0]
    for frame in frames[1:]:
        typed = typed.unionByName(frame)
    return typed


def _file_report(inputs: list[PartInput], counts: list, repairs: list) -> list[dict]:
    by_file: dict[str, dict] = {}
    for i in inputs:
        by_file[i.part.key] = {
            "source_object": i.part.key,
            "dataset": i.part.dataset,
            "program_year": i.part.program_year,
            "publication_stamp": i.part.publication,
            "layout_id": i.layout.id,
            "ingestion_id": i.ingestion_id,
            "manifest_records": i.manifest_records,
            "raw_records": 0,
            "cleaned": 0,
            "quarantined": 0,
            "quarantine_reasons": {},
            "repairs": {},
        }
    for row in counts:
        if row["source_object"] not in by_file:
            raise RuntimeError(
                f"rows read from an unplanned object {row['source_object']!r}: refusing to guess"
            )
        entry = by_file[row["source_object"]]
        entry["raw_records"] += row["count"]
        if row["reason"] is None:
            entry["cleaned"] += row["count"]
        else:
            entry["quarantined"] += row["count"]
            entry["quarantine_reasons"][row["reason"]] = row["count"]
    for row in repairs:
        by_file[row["source_object"]]["repairs"][row["repair"]] = row["count"]
    return [by_file[k] for k in sorted(by_file)]


def threshold_failures(files: list[dict], max_quarantine_ratio: float) -> list[str]:
    failures = []
    for f in files:
        if f["manifest_records"] is not None and f["manifest_records"] != f["raw_records"]:
            failures.append(
                f"{f['source_object']}: read {f['raw_records']} records but manifest.json says "
                f"{f['manifest_records']}: records would be lost"
            )
        if f["raw_records"] and f["quarantined"] / f["raw_records"] > max_quarantine_ratio:
            failures.append(
                f"{f['source_object']}: {f['quarantined']} of {f['raw_records']} records quarantined "
                f"({f['quarantined'] / f['raw_records']:.2%}) > --max_quarantine_ratio {max_quarantine_ratio}"
            )
    return failures


def run_clean(spark: SparkSession, options: CleanOptions, spec: Spec | None = None) -> dict:
    """Run the clean job; returns the report (also written under --report_path)."""
    spec = spec or load_spec()
    started = datetime.now(UTC)
    parts = discover(spark, options.raw_path)
    log.info("found %d raw parts under %s", len(parts), options.raw_path)
    plan = plan_clean(spark, spec, parts, options)
    log.info("cleaning %d parts (%d superseded)", len(plan.inputs), len(plan.superseded))
    by_dataset: dict[str, list[PartInput]] = defaultdict(list)
    for i in plan.inputs:
        by_dataset[i.part.dataset].append(i)

    files: list[dict] = []
    written: list[tuple[str, DataFrame, set[int], set[int]]] = []
    for name in sorted(by_dataset):
        inputs = by_dataset[name]
        typed = clean_dataset(spark, spec, name, inputs).persist(StorageLevel.MEMORY_AND_DISK)
        dataset_files = _file_report(inputs, file_counts(typed).collect(), repair_counts(typed).collect())
        files.extend(dataset_files)
        years = {i.part.program_year for i in inputs}
        quarantined_years = {f["program_year"] for f in dataset_files if f["quarantined"]}
        cleaned_years = {f["program_year"] for f in dataset_files if f["cleaned"]}
        log.info(
            "%s: %d records, %d quarantined",
            name,
            sum(f["raw_records"] for f in dataset_files),
            sum(f["quarantined"] for f in dataset_files),
        )
        replace_partitions(
            spark,
            quarantine_rows(typed, spec.dataset(name)),
            storage.join(options.quarantine_path, name),
            years,
            quarantined_years,
        )
        written.append((name, typed, years, cleaned_years))

    failures = threshold_failures(files, options.max_quarantine_ratio)
    if not failures:
        for name, typed, years, cleaned_years in written:
            replace_partitions(
                spark,
                cleaned_rows(typed, spec.dataset(name)),
                storage.join(options.cleaned_path, name),
                years,
                cleaned_years,
            )
    for _, typed, _, _ in written:
        typed.unpersist()

    report = {
        "job": "clean",
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "raw_path": options.raw_path,
        "cleaned_path": options.cleaned_path,
        "quarantine_path": options.quarantine_path,
        "authoritative_publications": [
            {"dataset": d, "program_year": y, "publication_stamp": s}
            for (d, y), s in sorted(plan.authoritative.items())
        ],
        "superseded_parts": sorted(plan.superseded),
        "files": files,
        "totals": {key: sum(f[key] for f in files) for key in ("raw_records", "cleaned", "quarantined")},
        "thresholds": {"max_quarantine_ratio": options.max_quarantine_ratio},
        "status": "failed" if failures else "passed",
        "failures": failures,
    }
    write_report(spark, options.report_path, "clean", started, report)
    if failures:
        raise ThresholdExceeded("clean job failed; cleaned zone left unchanged:\n" + "\n".join(failures))
    return report


def write_report(spark: SparkSession, report_path: str, job: str, started: datetime, report: dict) -> None:
    """The run's report, plus latest.json (overwritten) for readers that want the newest."""
    stamp = started.strftime("%Y%m%dT%H%M%S%fZ")
    storage.write_json(spark, storage.join(report_path, f"{job}-{stamp}.json"), report)
    storage.write_json(spark, storage.join(report_path, "latest.json"), report)
