"""scale.py's regroup: the full-year run compares part counts on the same records, so regrouping must keep
every record and seal each new part with its true digest, size and record count, for the clean job to read."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import sample_data
from benchmarks.scale import regroup
from open_payments_lake.clean_pipeline import run_clean
from open_payments_lake.local_zones import LocalZones

LAYOUTS = ["general.modern-91", "removed-deleted-4"]


def _manifests(root: Path) -> dict[str, dict]:
    """Manifests by their folder under raw/."""
    return {
        m.parent.relative_to(root).as_posix(): json.loads(m.read_text(encoding="utf-8"))
        for m in (root / "raw").rglob("manifest.json")
    }


def _header_and_records(folder: Path, manifest: dict) -> tuple[set[bytes], bytes]:
    headers, records = set(), b""
    for part in manifest["parts"]:
        header, _, body = (folder / part["key"]).read_bytes().partition(b"\n")
        headers.add(header)
        records += body
    return headers, records


@pytest.fixture(scope="module")
def zones(tmp_path_factory) -> tuple[Path, Path]:
    source = tmp_path_factory.mktemp("regroup") / "source"
    sample_data.generate(source, 90, 31, [2023], LAYOUTS, raw=True, parts=4, dirty_every=9)
    return source, regroup(source, source.parent / "two-parts", 2)


def test_each_file_keeps_its_records_in_fewer_sealed_parts(zones):
    source, target = zones
    before, after = _manifests(source), _manifests(target)
    assert before.keys() == after.keys()
    for folder, manifest in after.items():
        original = before[folder]
        assert len(manifest["parts"]) == min(2, len(original["parts"])), folder
        assert manifest["original"] == original["original"], folder
        for part in manifest["parts"]:
            data = (target / folder / part["key"]).read_bytes()
            assert part["sha256"] == hashlib.sha256(data).hexdigest(), part
            assert part["bytes"] == len(data), part
        assert sum(p["records"] for p in manifest["parts"]) == original["original"]["records"], folder
        regrouped = _header_and_records(target / folder, manifest)
        assert regrouped == _header_and_records(source / folder, original), folder


def test_the_clean_job_reads_every_record_of_the_regrouped_parts(spark, zones):
    source, target = zones
    report = run_clean(spark, LocalZones(target).clean_options(1.0))
    removed = sum(m["original"]["records"] for f, m in _manifests(source).items() if "removed_deleted" in f)
    assert report["totals"]["raw_records"] == 90 + removed
