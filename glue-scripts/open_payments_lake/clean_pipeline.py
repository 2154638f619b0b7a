"""The clean job (raw -> cleaned): plan, read, type, quarantine, write, report."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from . import storage
from .arguments import ratio, selection, selection_report
from .clean_transforms import (
    CORRUPT,
    cleaned_rows,
    outcome_counts,
    positional,
    quarantine_rows,
    raw_schema,
    to_canonical_text,
    type_and_validate,
)
from .concurrency import concurrently, raise_first
from .raw_objects import (
    KEY_PATTERN,
    RawFolder,
    RawPart,
    current_ingestions,
    parse_raw_folder,
    parse_raw_uri,
)
from .reports import ThresholdExceeded, reported_run
from .session import CLEAN_CONF, job_settings
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
    "TempDir",  # Glue's own scratch location (the ETL module sets it); the typed rows are staged there
)
# Ingestion folders, and the file folders written before per-ingestion folders existed (read as the oldest).
FOLDERS_GLOBS = ("*/program_year=*/publication=*/*/ingestion=*", "*/program_year=*/publication=*/*")
MANIFEST = "manifest.json"


class IncompleteIngestionError(ValueError):
    """A sealed raw folder (manifest.json present) lacks a part its manifest lists."""


@dataclass(frozen=True)
class CleanOptions:
    raw_path: str
    cleaned_path: str
    quarantine_path: str
    report_path: str
    temp_path: str
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
            temp_path=options["TempDir"],
            max_quarantine_ratio=ratio(options, "max_quarantine_ratio"),
            datasets=selection(options, "datasets", list(spec.datasets)),
            program_years={int(y) for y in years} if years is not None else None,
        )


@dataclass(frozen=True)
class IngestedFile:
    """One ingestion of a file in the raw zone: its folder, the part objects present and, once sealed, its
    manifest."""

    folder: RawFolder
    parts: tuple[RawPart, ...]  # sorted by key
    manifest: dict | None  # None: the ingestion has not sealed the folder (in progress or failed)


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
    unsealed_folders: list[str] = field(default_factory=list)
    unlisted_parts: list[str] = field(default_factory=list)


def discover(spark: SparkSession, raw_path: str) -> list[IngestedFile]:
    """The ingestions under raw_path: part objects grouped by folder, with the parsed manifest.json if any.

    The ingestion CLI writes manifest.json last, after every part is verified: a folder without one is an
    ingestion in progress (or a failed one, which raw keeps) and is never read.
    """
    patterns = [(f"{folders}/part-*.csv", f"{folders}/{MANIFEST}") for folders in FOLDERS_GLOBS]
    found = storage.glob_under(spark, raw_path, [p for pair in patterns for p in pair])
    parts: dict[str, list[RawPart]] = defaultdict(list)
    manifests: set[str] = set()
    for part_pattern, manifest_pattern in patterns:
        for uri in found[part_pattern]:
            parts[uri.rsplit("/", 1)[0]].append(parse_raw_uri(uri))
        for uri in found[manifest_pattern]:
            manifests.add(uri)
            parts.setdefault(uri.rsplit("/", 1)[0], [])
    files = []
    for folder_uri, folder_parts in sorted(parts.items()):
        manifest_uri = f"{folder_uri}/{MANIFEST}"
        manifest = json.loads(storage.read_text(spark, manifest_uri)) if manifest_uri in manifests else None
        files.append(
            IngestedFile(parse_raw_folder(folder_uri), tuple(sorted(folder_parts, key=_key)), manifest)
        )
    return files


def _key(part: RawPart) -> str:
    return part.key


def listed_parts(file: IngestedFile, manifest: dict) -> tuple[list[tuple[RawPart, dict]], list[str]]:
    """([(part, its manifest entry)] in manifest order, keys of part objects present but not listed).

    Raises IncompleteIngestionError naming every listed part that is missing.
    """
    present = {p.part: p for p in file.parts}
    entries = manifest.get("parts") or []
    missing = [e.get("key") for e in entries if e.get("key") not in present]
    if missing or not entries:
        raise IncompleteIngestionError(
            f"{file.folder.key}/{MANIFEST} lists parts that are missing: "
            + (", ".join(f"{file.folder.key}/{key}" for key in missing) or "(its parts list is empty)")
            + "; re-run the ingestion of this file"
        )
    listed = {e["key"] for e in entries}
    unlisted = [p.key for name, p in present.items() if name not in listed]
    return [(present[e["key"]], e) for e in entries], unlisted


def plan_clean(
    spark: SparkSession, spec: Spec, files: list[IngestedFile], options: CleanOptions
) -> CleanPlan:
    """Select the current sealed ingestions (per dataset and year the latest publication, per file in it the
    newest sealed ingestion) and detect the layout of every part their manifests list.

    Every header and every manifest is checked before anything is written: one unknown layout or one missing
    part fails the whole run.
    """
    wanted = [
        f
        for f in files
        if (options.datasets is None or f.folder.dataset in options.datasets)
        and (options.program_years is None or f.folder.program_year in options.program_years)
    ]
    unknown = sorted({f.folder.dataset for f in wanted} - set(spec.datasets))
    if unknown:
        raise ValueError(f"raw zone holds unknown datasets {unknown}; expected {sorted(spec.datasets)}")
    sealed = [(f, f.manifest) for f in wanted if f.manifest is not None]
    selection = current_ingestions(f.folder for f, _ in sealed)
    current = {folder.key for folder in selection.current}
    plan = CleanPlan(inputs=[], authoritative=selection.authoritative)
    for f in wanted:
        if f.manifest is None:
            log.warning("%s: no %s (ingestion in progress or failed): not read", f.folder.key, MANIFEST)
            plan.unsealed_folders.append(f.folder.key)
    manifest_errors, layout_errors = [], []
    for f, manifest in sealed:
        if f.folder.key not in current:  # an older publication, or an older ingestion of the same file
            plan.superseded.extend(p.key for p in f.parts)
            continue
        try:
            listed, unlisted = listed_parts(f, manifest)
        except IncompleteIngestionError as error:
            manifest_errors.append(str(error))
            continue
        plan.unlisted_parts.extend(unlisted)
        for part, entry in listed:
            try:
                header = parse_header_line(storage.read_first_line(spark, part.uri))
                layout = spec.detect_layout(header, part.key)
            except UnknownLayoutError as error:
                layout_errors.append(str(error))
                continue
            if layout.dataset != part.dataset:
                layout_errors.append(
                    f"{part.key}: header is layout {layout.id} but the file is stored as dataset "
                    f"{part.dataset}"
                )
                continue
            plan.inputs.append(PartInput(part, layout, entry.get("records"), manifest.get("ingestionId")))
    if manifest_errors or layout_errors:
        error_type = IncompleteIngestionError if manifest_errors else UnknownLayoutError
        raise error_type("refusing to clean anything:\n" + "\n".join(manifest_errors + layout_errors))
    return plan


def read_raw_csv(spark: SparkSession, uris: list[str], layout: Layout) -> DataFrame:
    """CSV files of one layout as the CMS writes them: quoted fields may span lines, `""` escapes a quote,
    every column a string; a record with the wrong field count keeps its text in the corrupt-record column."""
    return spark.read.csv(
        uris,
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


def read_parts(spark: SparkSession, inputs: list[PartInput]) -> DataFrame:
    """All parts of one layout, read in parallel (one task per part), with their provenance columns.

    Provenance comes from each row's own file name (no join that could drop rows): the raw key is extracted
    once per row, the rest is looked up in the plan by key. A row whose file is not a planned part gets a null
    publication_stamp, which the report step refuses loudly.
    """
    layout = inputs[0].layout
    raw = read_raw_csv(spark, [i.part.uri for i in inputs], layout)
    facts = F.create_map(
        *[
            item
            for i in inputs
            for item in (
                F.lit(i.part.key),
                F.struct(
                    F.lit(i.part.publication).alias("publication_stamp"),
                    F.lit(i.ingestion_id).cast(T.StringType()).alias("ingestion_id"),
                    F.lit(i.part.program_year).alias("program_year"),
                ),
            )
        ]
    )
    # Two projections: the key is computed once and the lookups read it (no per-row regex repeated).
    keyed = positional(raw, layout).select(
        "*", F.regexp_extract(F.input_file_name(), KEY_PATTERN, 0).alias("source_object")
    )
    with_facts = keyed.select("*", facts[F.col("source_object")].alias("_facts"))
    return with_facts.select(
        *[c for c in keyed.columns],
        F.col("_facts.publication_stamp").alias("publication_stamp"),
        F.lit(layout.id).alias("layout_id"),
        F.col("_facts.ingestion_id").alias("ingestion_id"),
        F.col("_facts.program_year").alias("_file_program_year"),
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


def stage(spark: SparkSession, typed: DataFrame, path: str) -> DataFrame:
    """The typed rows written once as Parquet and read back from there.

    The counts, the quarantine and the cleaned outputs each read them: re-reading Parquet costs a fraction of
    parsing and typing the CSV again, and of building Spark's in-memory cache of ~100-column rows
    (docs/benchmarks.md).
    """
    typed.write.mode("overwrite").parquet(path)
    return spark.read.parquet(path)


def file_report(inputs: list[PartInput], counts: list) -> list[dict]:
    """Per-file report entries from outcome_counts rows."""
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
        entry, count = by_file[row["source_object"]], row["count"]
        entry["raw_records"] += count
        if row["reason"] is None:
            entry["cleaned"] += count
        else:
            entry["quarantined"] += count
            reasons = entry["quarantine_reasons"]
            reasons[row["reason"]] = reasons.get(row["reason"], 0) + count
        for repair in row["_repairs"].split(";") if row["_repairs"] else ():
            entry["repairs"][repair] = entry["repairs"].get(repair, 0) + count
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


@dataclass(frozen=True)
class StagedDataset:
    """One dataset's typed rows, staged, with its per-file report entries and the years it touches."""

    name: str
    typed: DataFrame
    files: list[dict]
    years: set[int]
    cleaned_years: set[int]


def stage_dataset(
    spark: SparkSession,
    spec: Spec,
    name: str,
    inputs: list[PartInput],
    staging_path: str,
    quarantine_path: str,
) -> StagedDataset:
    """Type one dataset's parts, stage the rows, count each file's outcomes and write its quarantine."""
    typed = stage(spark, clean_dataset(spark, spec, name, inputs), staging_path)
    files = file_report(inputs, outcome_counts(typed).collect())
    years = {i.part.program_year for i in inputs}
    log.info(
        "%s: %d records, %d quarantined",
        name,
        sum(f["raw_records"] for f in files),
        sum(f["quarantined"] for f in files),
    )
    replace_partitions(
        spark,
        quarantine_rows(typed, spec.dataset(name)),
        storage.join(quarantine_path, name),
        years,
        {f["program_year"] for f in files if f["quarantined"]},
    )
    return StagedDataset(name, typed, files, years, {f["program_year"] for f in files if f["cleaned"]})


def run_clean(spark: SparkSession, options: CleanOptions, spec: Spec | None = None) -> dict:
    """Run the clean job; returns the report, also written under --report_path however the run ends (a refused
    or failed run with status "failed" and its reason, then the error is raised)."""
    started = datetime.now(UTC)
    report = {
        "job": "clean",
        "started_at": started.isoformat(),
        "raw_path": options.raw_path,
        "cleaned_path": options.cleaned_path,
        "quarantine_path": options.quarantine_path,
        "thresholds": {"max_quarantine_ratio": options.max_quarantine_ratio},
        "selection": selection_report(options.datasets, options.program_years),
        "authoritative_publications": [],
        "superseded_parts": [],
        "unsealed_folders": [],
        "unlisted_parts": [],
        "files": [],
        "totals": _totals([]),
    }
    with reported_run(spark, options.report_path, report), job_settings(spark, CLEAN_CONF):
        _clean(spark, options, spec or load_spec(), started, report)
    return report


def _totals(files: list[dict]) -> dict:
    return {key: sum(f[key] for f in files) for key in ("raw_records", "cleaned", "quarantined")}


def _clean(spark: SparkSession, options: CleanOptions, spec: Spec, started: datetime, report: dict) -> None:
    """Fills `report` as the run learns (the plan, each dataset's files): a failure reports what was known."""
    found = discover(spark, options.raw_path)
    log.info("found %d raw files under %s", len(found), options.raw_path)
    plan = plan_clean(spark, spec, found, options)
    log.info("cleaning %d parts (%d superseded)", len(plan.inputs), len(plan.superseded))
    report.update(
        authoritative_publications=[
            {"dataset": d, "program_year": y, "publication_stamp": s}
            for (d, y), s in sorted(plan.authoritative.items())
        ],
        superseded_parts=sorted(plan.superseded),
        unsealed_folders=sorted(plan.unsealed_folders),
        unlisted_parts=sorted(plan.unlisted_parts),
    )
    by_dataset: dict[str, list[PartInput]] = defaultdict(list)
    for i in plan.inputs:
        by_dataset[i.part.dataset].append(i)

    files: list[dict] = report["files"]
    staging = storage.join(options.temp_path, "clean-staging", started.strftime("%Y%m%dT%H%M%S%fZ"))
    try:
        outcomes = concurrently(
            lambda name: stage_dataset(
                spark, spec, name, by_dataset[name], storage.join(staging, name), options.quarantine_path
            ),
            sorted(by_dataset),
        )
        staged = [o for o in outcomes if isinstance(o, StagedDataset)]
        for dataset in staged:
            files.extend(dataset.files)
        report["totals"] = _totals(files)
        raise_first(outcomes)
        report["failures"] = threshold_failures(files, options.max_quarantine_ratio)
        if report["failures"]:
            raise ThresholdExceeded(
                "clean job failed; cleaned zone left unchanged:\n" + "\n".join(report["failures"])
            )
        raise_first(
            concurrently(
                lambda d: replace_partitions(
                    spark,
                    cleaned_rows(d.typed, spec.dataset(d.name)),
                    storage.join(options.cleaned_path, d.name),
                    d.years,
                    d.cleaned_years,
                ),
                staged,
            )
        )
    finally:
        storage.delete(spark, staging)
