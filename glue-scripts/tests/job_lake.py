"""The Glue tests' lake: CMS files placed in a raw zone as the ingestion CLI seals them, the jobs run over it.

Built once per test session (conftest.py's `lake`), read by the job tests and the DuckDB reference's tests.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import uuid
from pathlib import Path

from oracle import FileExpectation, expect_file, stamp_order
from shared_data import OPEN_PAYMENTS

import sample_data
from open_payments_lake.clean_pipeline import run_clean
from open_payments_lake.curate_pipeline import run_curate
from open_payments_lake.local_zones import LocalZones
from open_payments_lake.raw_objects import parse_raw_uri
from open_payments_lake.spec import UnknownLayoutError, load_spec, parse_header_line

SHARED = OPEN_PAYMENTS
MODERN, LEGACY = sample_data.layouts_of("modern"), sample_data.layouts_of("legacy")
REAL_STAMP = "P01302025_01212025"
UNSEALED_STAMP = "P12302025_12202025"
SAMPLE = SHARED / "samples" / "OP_DTL_GNRL_PGYR2016_P06302017.sample.csv"
REAL_2022 = f"OP_DTL_OWNRSHP_PGYR2022_{REAL_STAMP}"


def place_raw(
    root: Path, source: Path, dataset: str, year: int, stamp: str, stem: str, own_folder: bool = False
) -> Path:
    """Put a CMS file into the raw zone as one part of one ingestion, sealed by a manifest.json as the
    ingestion CLI writes it (contract 2); returns the folder. `own_folder`: in the file's own folder, as
    ingestions wrote before per-ingestion folders."""
    ingestion = None if own_folder else sample_data.ingestion_id(stem)
    folder = root / "raw" / dataset / f"program_year={year}" / f"publication={stamp}" / stem
    if ingestion:
        folder = folder / f"ingestion={ingestion}"
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / "part-00000.csv"
    shutil.copyfile(source, part)
    with part.open(encoding="utf-8", newline="") as handle:
        header = parse_header_line(handle.readline())
        records = sum(1 for _ in csv.reader(handle))  # quoted newlines respected, header excluded
    try:
        layout = load_spec().detect_layout(header, stem).id
    except UnknownLayoutError:
        layout = None  # a file the ingestion would have refused, placed by hand to test the job's refusal
    facts = {"sha256": hashlib.sha256(part.read_bytes()).hexdigest(), "bytes": part.stat().st_size}
    manifest = {
        "version": 1,
        "ingestionId": ingestion or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{stem}/{stamp}")),
        "dataset": dataset,
        "programYear": year,
        "publication": stamp,
        "layout": layout,
        "source": source.name,
        "ingestedAt": "2025-02-01T00:00:00Z",
        "original": {"fileName": source.name, **facts, "records": records},
        "parts": [{"key": part.name, **facts, "records": records}],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def run_jobs(spark, root: Path, datasets: set[str] | None = None) -> tuple[dict, dict]:
    z = LocalZones(root)
    clean_datasets = datasets | {"removed_deleted"} if datasets else None
    clean = run_clean(spark, z.clean_options(1.0, clean_datasets))
    curate = run_curate(spark, z.curate_options(1.0, datasets))
    return clean, curate


def listed_part_keys(root: Path) -> list[str]:
    """Keys of the parts the manifests list: folders without a manifest.json are not sealed, not read."""
    keys = []
    for manifest in sorted((root / "raw").rglob("manifest.json")):
        folder = manifest.parent.relative_to(root).as_posix()
        keys += [f"{folder}/{p['key']}" for p in json.loads(manifest.read_text(encoding="utf-8"))["parts"]]
    return keys


def expectations(root: Path) -> dict[str, FileExpectation]:
    """Oracle per listed raw part key, for the authoritative (latest sealed) publication of each dataset and
    year and, per file of it, the newest sealed ingestion (a folder without ingestion= is the oldest)."""
    spec = load_spec()
    parts = [parse_raw_uri(key) for key in listed_part_keys(root)]
    latest: dict[tuple[str, int], str] = {}
    for p in parts:
        latest[(p.dataset, p.program_year)] = max(
            latest.get((p.dataset, p.program_year), p.publication),
            p.publication,
            key=stamp_order,
        )
    newest: dict[tuple[str, int, str], str] = {}
    for p in parts:
        slot = (p.dataset, p.program_year, p.stem)
        newest[slot] = max(newest.get(slot, ""), p.ingestion or "")
    return {
        p.key: expect_file(spec, root / p.key, p.dataset, p.program_year, p.publication)
        for p in parts
        if latest[(p.dataset, p.program_year)] == p.publication
        and newest[(p.dataset, p.program_year, p.stem)] == (p.ingestion or "")
    }


def build_lake(spark, root: Path) -> dict:
    """The Glue tests' lake in `root`, run through both jobs: generated files of every dataset x layout
    (dirty values, duplicates, removed records), the real CMS Ownership files and the legacy General sample,
    with superseded, unsealed and unlisted inputs beside them. Returns the reports and what tests look for."""
    sample_data.generate(
        root, rows=60, seed=11, years=[2023], layout_ids=MODERN, raw=True, parts=2, dirty_every=10
    )
    sample_data.generate(
        root, rows=40, seed=12, years=[2016], layout_ids=LEGACY, raw=True, parts=1, dirty_every=10
    )
    # The real files in the folders ingestions wrote before per-ingestion folders existed: still read, and
    # older than an ingestion= folder of the same file (PY2022's is superseded by one).
    for real in sorted((SHARED / "real").glob("OP_DTL_OWNRSHP_PGYR*.csv")):
        year = int(real.stem.split("PGYR")[1][:4])
        place_raw(root, real, "ownership", year, REAL_STAMP, real.stem, own_folder=True)
    place_raw(root, SHARED / "real" / f"{REAL_2022}.csv", "ownership", 2022, REAL_STAMP, REAL_2022)
    # The CMS legacy sample (P06302017) is superseded by the generated PY2016 publication (P06302021).
    place_raw(root, SAMPLE, "general", 2016, "P06302017", "OP_DTL_GNRL_PGYR2016_P06302017")
    # Two more ingestions of the generated PY2023 General file: an older sealed one (superseded by the
    # fixture's, of 2025-02-01) and a newer one that failed, so is unsealed (never read, supersedes nothing).
    (older,) = sample_data.generate(
        root, 9, 21, [2023], ["general.modern-91"], raw=True, ingestion="20250101T000000000Z-0a1b2c"
    )
    (failed,) = sample_data.generate(
        root, 7, 22, [2023], ["general.modern-91"], raw=True, ingestion="20250301T000000000Z-0d1e2f"
    )
    (failed / "manifest.json").unlink()
    # A part object the manifest does not list (e.g. written by hand): never read.
    sealed = older.parent / f"ingestion={sample_data.ingestion_id(older.parent.name)}"
    shutil.copyfile(sealed / "part-00000.csv", sealed / "part-00007.csv")
    # A later publication still being ingested (no manifest.json yet): not read, does not supersede.
    (unsealed,) = sample_data.generate(
        root, 20, 13, [2023], ["general.modern-91"], raw=True, publication=UNSEALED_STAMP
    )
    (unsealed / "manifest.json").unlink()
    clean, curate = run_jobs(spark, root)
    return {
        "root": root,
        "clean": clean,
        "curate": curate,
        "expected": expectations(root),
        "unlisted": (sealed / "part-00007.csv").relative_to(root).as_posix(),
        "unsealed": [unsealed.relative_to(root).as_posix(), failed.relative_to(root).as_posix()],
        "older": older.relative_to(root).as_posix(),
        "current_2023": sealed.relative_to(root).as_posix(),
    }
