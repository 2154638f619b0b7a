"""Whole-job runs on local Spark: the session's lake (tests/job_lake.py: generated files of every dataset x
layout, the real CMS Ownership files and the legacy General sample) and small lakes of their own, reconciled
with independent expectations (tests/oracle.py)."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path

import pytest
from job_lake import REAL_2022, REAL_STAMP, SAMPLE, expectations, place_raw, run_jobs
from oracle import FileExpectation, curated_rows
from pyspark.sql import functions as F

import sample_data
from open_payments_lake import storage
from open_payments_lake.clean_pipeline import (
    FOLDERS_GLOBS,
    IncompleteIngestionError,
    ThresholdExceeded,
    discover,
    run_clean,
)
from open_payments_lake.concurrency import concurrently, raise_first
from open_payments_lake.curate_pipeline import REMOVED_DATASET, assess_dataset, read_cleaned, run_curate
from open_payments_lake.local_zones import CLEAN_REPORTS, CURATE_REPORTS, TEMP, LocalZones
from open_payments_lake.session import CLEAN_CONF, job_settings
from open_payments_lake.spec import UnknownLayoutError, load_spec


def oracle_curated(expected: dict[str, FileExpectation], dataset: str) -> dict[tuple[int, str], dict]:
    removed: dict[int, list[tuple[str, str]]] = {}
    for f in expected.values():
        if f.dataset == "removed_deleted":
            for row in f.clean_rows:
                removed.setdefault(f.program_year, []).append((row["record_id"], f.publication))
    return curated_rows([f for f in expected.values() if f.dataset == dataset], removed)


def test_every_raw_record_is_cleaned_or_quarantined(lake):
    files = {f["source_object"]: f for f in lake["clean"]["files"]}
    assert set(files) == set(lake["expected"])
    for key, expected in lake["expected"].items():
        got = files[key]
        assert got["raw_records"] == expected.records, key
        assert got["cleaned"] == len(expected.clean_rows), key
        assert got["quarantined"] == expected.quarantined, key
        assert got["cleaned"] + got["quarantined"] == got["raw_records"]
        if got["manifest_records"] is not None:
            assert got["manifest_records"] == got["raw_records"]
    # The generated files carry dirty values: some rows must have been quarantined, some values repaired.
    assert lake["clean"]["totals"]["quarantined"] > 0
    assert any(f["repairs"] for f in files.values())


def test_only_sealed_folders_and_their_listed_parts_are_read(lake):
    report = lake["clean"]
    assert report["unsealed_folders"] == sorted(lake["unsealed"])
    assert report["unlisted_parts"] == [lake["unlisted"]]
    read = {f["source_object"] for f in report["files"]}
    assert lake["unlisted"] not in read
    assert not any(key.startswith(folder) for key in read for folder in lake["unsealed"])
    assert {"dataset": "general", "program_year": 2023, "publication_stamp": REAL_STAMP} in report[
        "authoritative_publications"
    ]


def failed_report(root: Path, reports: str, error: BaseException) -> dict:
    """The report a refused or failed run left: latest.json and its copy named by the run's start, both with
    status failed, the error's type and message."""
    folder = Path(LocalZones(root).path(reports))
    report = json.loads((folder / "latest.json").read_text())
    (copy,) = [p for p in folder.glob("*.json") if p.name != "latest.json"]
    assert json.loads(copy.read_text()) == report
    assert report["status"] == "failed" and report["finished_at"] >= report["started_at"]
    # The message as raised, less the Java stack frames of a Spark error (the run's log keeps those).
    frames = re.compile(r"^\s+(at |\.\.\. \d+ more)")
    message = [line for line in str(error).splitlines() if not frames.match(line)]
    assert report["error"] == {"type": type(error).__name__, "message": "\n".join(message)}
    assert report["failures"]
    return report


def test_one_listing_finds_what_hadoop_globs_find(spark, tmp_path):
    """discover lists the raw zone once and matches its patterns itself: the same files as Hadoop's globs,
    a wildcard never spanning folders, and nothing (not an error) under a zone that does not exist yet."""
    for key in (
        "general/program_year=2023/publication=P01/f/ingestion=1/part-00001.csv",
        "general/program_year=2023/publication=P01/f/ingestion=1/manifest.json",
        "general/program_year=2023/publication=P01/f/part-00001.csv",
        "general/program_year=2023/publication=P01/f/ingestion=1/old/part-00001.csv",
        "general/program_year=2023/publication=P01/part-00001.csv",
        "general/program_year=2023/publication=P01/f/ingestion=1/part-00001.csv.tmp",
        "ownership/program_year=2022/publication=P02/g/ingestion=7/part-00002.csv",
    ):
        (tmp_path / "raw" / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "raw" / key).write_text("x")
    root = str(tmp_path / "raw")
    patterns = [f"{folders}/{name}" for folders in FOLDERS_GLOBS for name in ("part-*.csv", "manifest.json")]
    found = storage.glob_under(spark, root, patterns)
    assert found == {p: storage.glob(spark, storage.join(root, p)) for p in patterns}
    assert sum(map(len, found.values())) == 4
    assert storage.glob_under(spark, str(tmp_path / "nothing"), patterns) == {p: [] for p in patterns}


def test_datasets_run_concurrently_and_every_one_ends_before_a_failure_is_raised():
    # The items that succeed wait for each other at a barrier: run one after the other, it would time out.
    together = threading.Barrier(3, timeout=10)
    ended = []

    def work(item):
        if item == "b":
            raise ValueError("b broke")
        together.wait()
        time.sleep(0.3 if item == "d" else 0)  # still working when "b" has failed
        ended.append(item)
        return item.upper()

    outcomes = concurrently(work, ["a", "b", "c", "d"])
    shown = [o if isinstance(o, str) else repr(o) for o in outcomes]
    assert shown == ["A", "ValueError('b broke')", "C", "D"]
    assert sorted(ended) == ["a", "c", "d"]
    with pytest.raises(ValueError, match="b broke"):
        raise_first(outcomes)
    raise_first(["A", "C"])


def test_a_listed_part_that_is_missing_fails_before_anything_is_written(spark, tmp_path):
    (folder,) = sample_data.generate(tmp_path, 6, 3, [2023], ["ownership.modern-30"], raw=True, parts=2)
    (folder / "part-00001.csv").unlink()
    z = LocalZones(tmp_path)
    with pytest.raises(IncompleteIngestionError) as error:
        run_clean(spark, z.clean_options(1.0))
    missing = f"{folder.relative_to(tmp_path).as_posix()}/part-00001.csv"
    assert missing in str(error.value)
    assert not (tmp_path / "cleaned/cleaned").exists()
    report = failed_report(tmp_path, CLEAN_REPORTS, error.value)
    assert report["failures"] == [f"IncompleteIngestionError: {error.value}"] and report["files"] == []


def test_per_file_the_newest_sealed_ingestion_is_read_and_older_ones_are_superseded(lake):
    report = lake["clean"]
    file_folder = lake["current_2023"].rsplit("/", 1)[0]
    current = lake["current_2023"]
    read = {f["source_object"] for f in report["files"] if f["source_object"].startswith(file_folder)}
    assert read == {f"{current}/part-00000.csv", f"{current}/part-00001.csv"}
    assert f"{lake['older']}/part-00000.csv" in report["superseded_parts"]
    # A folder written before per-ingestion folders is read (PY2017-2021) and older than an ingestion= folder
    # of the same file (PY2022).
    ownership = sorted(f["source_object"] for f in report["files"] if f["dataset"] == "ownership")
    legacy = [k for k in ownership if "/ingestion=" not in k]
    assert [int(k.split("program_year=")[1][:4]) for k in legacy] == [2017, 2018, 2019, 2020, 2021]
    assert [k for k in ownership if "program_year=2022" in k] == [
        f"raw/ownership/program_year=2022/publication={REAL_STAMP}/{REAL_2022}/"
        f"ingestion={sample_data.ingestion_id(REAL_2022)}/part-00000.csv"
    ]
    assert (
        f"raw/ownership/program_year=2022/publication={REAL_STAMP}/{REAL_2022}/part-00000.csv"
        in report["superseded_parts"]
    )


def test_superseded_publication_is_not_cleaned(lake):
    assert any("P06302017" in key for key in lake["clean"]["superseded_parts"])
    assert {"dataset": "general", "program_year": 2016, "publication_stamp": "P06302021"} in lake["clean"][
        "authoritative_publications"
    ]


def test_cleaned_and_quarantine_outputs_match_the_report(spark, lake):
    z = LocalZones(lake["root"])
    files = {f["source_object"]: f for f in lake["clean"]["files"]}
    for dataset in ("general", "research", "ownership", "removed_deleted"):
        cleaned = spark.read.parquet(z.cleaned + dataset)
        counts = {r["source_object"]: r["count"] for r in cleaned.groupBy("source_object").count().collect()}
        for key, count in counts.items():
            assert files[key]["cleaned"] == count
    quarantine = spark.read.parquet(z.quarantine + "general")
    rows = quarantine.collect()
    assert rows and all(r["reason"] and r["dataset"] == "general" for r in rows)
    raw_values = json.loads(rows[0]["raw_values"])
    assert "Total_Amount_of_Payment_USDollars" in raw_values and "Record_ID" in raw_values
    reasons = {r["reason"] for r in rows}
    assert any(r.startswith("invalid_decimal:total_amount_of_payment_usdollars") for r in reasons)
    assert any("invalid_date:date_of_payment" in r for r in reasons)
    assert any("spreadsheet_error:total_amount_of_payment_usdollars" in r for r in reasons)


@pytest.mark.parametrize("dataset", ["general", "research", "ownership"])
def test_curated_rows_and_amounts_reconcile_to_the_cent(spark, lake, dataset):
    spec = load_spec()
    amount = spec.dataset(dataset).amount_column
    expected = oracle_curated(lake["expected"], dataset)
    curated = spark.read.parquet(LocalZones(lake["root"]).curated + dataset)
    got = {
        (r["program_year"], r["record_id"]): r[amount]
        for r in curated.select("program_year", "record_id", amount).collect()
    }
    assert set(got) == set(expected)
    assert all(got[k] == expected[k][amount] for k in expected)
    for year in {k[0] for k in expected}:
        total = sum((v[amount] for k, v in expected.items() if k[0] == year), Decimal("0"))
        assert sum((v for k, v in got.items() if k[0] == year), Decimal("0")) == total
    entries = [e for e in lake["curate"]["partitions"] if e["dataset"] == dataset]
    assert sum(e["curated_rows"] for e in entries) == len(expected)


@pytest.mark.parametrize("dataset", ["general", "research", "ownership"])
def test_every_curated_value_equals_the_oracle(spark, lake, dataset):
    """Every canonical column of every curated row, texts included: trimming may only remove the documented
    characters (a set trim once also stripped the letter f, as in "Wolf" -> "Wol")."""
    columns = load_spec().dataset(dataset).column_names
    expected = oracle_curated(lake["expected"], dataset)
    curated = spark.read.parquet(LocalZones(lake["root"]).curated + dataset).select(*columns).collect()
    got = {(r["program_year"], r["record_id"]): r.asDict() for r in curated}
    assert set(got) == set(expected)
    mismatches = [
        (key, column, got[key][column], expected[key][column])
        for key in sorted(expected)
        for column in columns
        if got[key][column] != expected[key][column]
    ]
    assert mismatches == []


def test_curated_types_provenance_and_derived_columns(spark, lake):
    curated = spark.read.parquet(LocalZones(lake["root"]).curated + "general")
    types = dict(curated.dtypes)
    assert types["total_amount_of_payment_usdollars"] == "decimal(18,2)"
    assert types["date_of_payment"] == "date"
    assert types["payment_month"] == "date"
    assert types["number_of_payments_included_in_total_amount"] == "int"
    assert types["related_product_indicator"] == "boolean"
    assert types["program_year"] == "int"
    assert types["covered_recipient_npi"] == "string"
    for column in ("source_object", "publication_stamp", "layout_id", "ingestion_id", "specialty_top_level"):
        assert column in types
    rows = curated.collect()
    for row in rows:
        assert row["payment_month"] == row["date_of_payment"].replace(day=1)
        assert row["source_object"].startswith(f"raw/general/program_year={row['program_year']}/")
        if row["applicable_manufacturer_or_applicable_gpo_making_payment_name"] == "Xhale, Inc.":
            assert row["manufacturer_name_normalized"] == "XHALE"
        if (
            row["applicable_manufacturer_or_applicable_gpo_making_payment_name"]
            == "Johnson & Johnson Health Care Systems Inc."
        ):
            assert row["manufacturer_name_normalized"] == "JOHNSON JOHNSON HEALTH CARE SYSTEMS"
        if row["covered_recipient_specialty_1"]:
            assert row["specialty_top_level"] == row["covered_recipient_specialty_1"].split("|")[0]
        assert row["recipient_zip_code"] is None or not row["recipient_zip_code"].startswith("'")
        city = row["recipient_city"]
        assert city is None or (city != "#N/A" and "\t" not in city)
    legacy = [r for r in rows if r["layout_id"] == "general.legacy-75"]
    modern = [r for r in rows if r["layout_id"] == "general.modern-91"]
    assert legacy and modern
    # Legacy Physician_* columns land on the modern Covered_Recipient_* names; columns legacy lacks are null.
    assert all(r["covered_recipient_profile_id"] and r["covered_recipient_npi"] is None for r in legacy)
    assert all(r["covered_recipient_npi"] for r in modern)
    assert {r["ingestion_id"] is not None for r in rows} == {True}
    ownership = spark.read.parquet(LocalZones(lake["root"]).curated + "ownership")
    assert "payment_month" not in ownership.columns
    real = ownership.where(F.col("program_year").between(2017, 2022))  # the real CMS files
    manifests = {
        p.parent.relative_to(lake["root"]).as_posix(): json.loads(p.read_text())["ingestionId"]
        for p in (lake["root"] / "raw/ownership").rglob("manifest.json")
    }
    for row in real.select("source_object", "ingestion_id").distinct().collect():
        assert row["ingestion_id"] == manifests[row["source_object"].rsplit("/", 1)[0]]
    assert real.where(F.col("terms_of_interest").contains("\n")).count() > 0  # embedded newlines survived


def test_curate_report_counts_removed_and_duplicates(lake):
    entries = {(e["dataset"], e["program_year"]): e for e in lake["curate"]["partitions"]}
    for dataset in ("general", "research", "ownership"):
        expected = oracle_curated(lake["expected"], dataset)
        for (ds, year), entry in entries.items():
            if ds != dataset:
                continue
            cleaned = sum(
                len(f.clean_rows)
                for f in lake["expected"].values()
                if (f.dataset, f.program_year) == (ds, year)
            )
            assert entry["cleaned_rows"] == cleaned
            assert entry["curated_rows"] == sum(1 for k in expected if k[0] == year)
            assert (
                entry["cleaned_rows"] - entry["removed"] - entry["duplicates_resolved"]
                == entry["curated_rows"]
            )
            assert entry["rules"]["record_id_unique"] == 0
            assert entry["rules"]["program_year_matches_partition"] == 0
    generated = entries[("general", 2023)]
    assert generated["removed"] > 0 and generated["duplicates_resolved"] > 0
    assert generated["rules"]["payment_date_in_program_year"] > 0  # injected 12/31 of the previous year
    assert generated["rules"]["state_code_valid"] > 0  # injected XX
    assert lake["curate"]["status"] == "passed"


def _snapshot(spark, path: str) -> list[tuple]:
    df = spark.read.parquet(path)
    return sorted(tuple(str(v) for v in r) for r in df.select(sorted(df.columns)).collect())


def test_rerun_gives_the_same_rows_and_a_republication_replaces_one_year_compiling_nothing_again(
    spark, lake, tmp_path
):
    root = tmp_path / "lake"
    shutil.copytree(lake["root"], root)  # the session's lake stays as its readers expect it
    curated = LocalZones(root).curated
    before = {d: _snapshot(spark, curated + d) for d in ("general", "ownership")}
    # CMS re-publishes PY2023 General. The re-run (General only, to keep the suite fast) must replace PY2023
    # with the new publication and give exactly the same rows for PY2016, whose input did not change.
    new_stamp = "P06302025_06202025"
    sample_data.generate(
        root, 50, 99, [2023], ["general.modern-91"], raw=True, parts=1, publication=new_stamp
    )
    compiled = spark._jvm.org.apache.spark.metrics.source.CodegenMetrics.METRIC_COMPILATION_TIME()
    compiled_before = compiled.getCount()
    clean, curate = run_jobs(spark, root, {"general"})
    # The session keeps the classes compiled for the lake's run (session.REUSED_SESSION_CONF); with Spark's
    # default cache the runs in between evicted them and this run compiled 117 again.
    assert compiled.getCount() == compiled_before
    general = spark.read.parquet(curated + "general")
    stamps = {
        (r["program_year"], r["publication_stamp"])
        for r in general.select("program_year", "publication_stamp").distinct().collect()
    }
    assert stamps == {(2023, new_stamp), (2016, "P06302021")}
    expected = oracle_curated(expectations(root), "general")
    got = {(r["program_year"], r["record_id"]) for r in general.select("program_year", "record_id").collect()}
    assert got == set(expected)
    old_2016 = [r for r in before["general"] if "P06302021" in r]
    new_2016 = [r for r in _snapshot(spark, curated + "general") if "P06302021" in r]
    assert old_2016 and new_2016 == old_2016
    assert _snapshot(spark, curated + "ownership") == before["ownership"]
    assert any(new_stamp in key for key in (f["source_object"] for f in clean["files"]))
    # What the run was limited to, for readers of the zone (tools/smoke takes the other partitions' counts
    # from earlier reports); the session's lake was built over everything.
    assert clean["selection"] == {"datasets": ["general", "removed_deleted"], "program_years": "all"}
    assert curate["selection"] == {"datasets": ["general"], "program_years": "all"}
    assert (
        lake["clean"]["selection"]
        == lake["curate"]["selection"]
        == {"datasets": "all", "program_years": "all"}
    )


def test_unknown_layout_is_refused_and_nothing_is_written(spark, tmp_path):
    sample_data.generate(tmp_path, 5, 1, [2023], ["ownership.modern-30"], raw=True)
    legacy_2014 = tmp_path / "OP_DTL_GNRL_PGYR2014_P06302016.csv"
    header = load_spec().layout("general.legacy-75").header[:65]
    legacy_2014.write_text(",".join(header) + "\n" + ",".join("x" * 65) + "\n", encoding="utf-8")
    place_raw(tmp_path, legacy_2014, "general", 2014, "P06302016", legacy_2014.stem)
    z = LocalZones(tmp_path)
    with pytest.raises(UnknownLayoutError) as error:
        run_clean(spark, z.clean_options(1.0))
    message = str(error.value)
    assert "OP_DTL_GNRL_PGYR2014_P06302016/" in message and "/part-00000.csv: " in message
    assert "65 columns; nearest known layout is general.legacy-75" in message
    assert "program years 2013-2015) are not supported" in message
    assert not (tmp_path / "cleaned/cleaned").exists()
    assert (
        "nearest known layout is general.legacy-75"
        in failed_report(tmp_path, CLEAN_REPORTS, error.value)["error"]["message"]
    )


def test_threshold_fails_the_job_after_writing_the_report(spark, tmp_path):
    sample_data.generate(tmp_path, 80, 5, [2023], ["general.modern-91"], raw=True, dirty_every=10)
    z = LocalZones(tmp_path)
    with pytest.raises(ThresholdExceeded, match="max_quarantine_ratio") as error:
        run_clean(spark, z.clean_options(0.0))
    report = failed_report(tmp_path, CLEAN_REPORTS, error.value)
    assert all(f in str(error.value) for f in report["failures"])
    assert report["files"][0]["quarantined"] > 0
    assert (tmp_path / "cleaned/quarantine/general").exists()
    assert not (tmp_path / "cleaned/cleaned").exists()


def test_the_cms_legacy_sample_cleans_onto_modern_names(spark, tmp_path):
    place_raw(tmp_path, SAMPLE, "general", 2016, "P06302017", "OP_DTL_GNRL_PGYR2016_P06302017")
    z = LocalZones(tmp_path)
    report = run_clean(spark, z.clean_options(0.0))
    assert report["totals"] == {"raw_records": 1, "cleaned": 1, "quarantined": 0}
    row = spark.read.parquet(z.cleaned + "general").collect()[0]
    assert row["record_id"] == "346039438"
    assert row["covered_recipient_profile_id"] == "132655"
    assert (
        row["covered_recipient_specialty_1"]
        == "Allopathic & Osteopathic Physicians|Radiology|Diagnostic Radiology"
    )
    assert row["total_amount_of_payment_usdollars"] == Decimal("90.87")
    assert str(row["date_of_payment"]) == "2016-02-12"
    assert row["layout_id"] == "general.legacy-75" and row["publication_stamp"] == "P06302017"


def test_the_staged_typed_rows_are_removed_after_a_run(lake, spark, tmp_path):
    """The typed rows are staged under --TempDir (folders stay there) and no file of them is left, after a
    passing run (the module's lake) and after a failing one."""
    sample_data.generate(tmp_path, 20, 6, [2023], ["general.modern-91"], raw=True, dirty_every=5)
    with pytest.raises(ThresholdExceeded):
        run_clean(spark, LocalZones(tmp_path).clean_options(0.0))
    for root in (lake["root"], tmp_path):
        temp = Path(LocalZones(root).path(TEMP))
        assert temp.is_dir()
        assert [p for p in temp.rglob("*") if p.is_file()] == []


def test_the_clean_job_runs_with_its_own_settings_and_gives_the_session_back(spark, tmp_path, monkeypatch):
    sample_data.generate(tmp_path, 6, 3, [2023], ["ownership.modern-30"], raw=True)
    seen = []

    def discover_and_look(session, raw_path):
        seen.append({key: session.conf.get(key) for key in CLEAN_CONF})
        return discover(session, raw_path)

    monkeypatch.setattr("open_payments_lake.clean_pipeline.discover", discover_and_look)
    before = {key: spark.conf.get(key) for key in CLEAN_CONF}
    assert before != CLEAN_CONF
    run_clean(spark, LocalZones(tmp_path).clean_options())
    assert seen == [CLEAN_CONF]
    assert {key: spark.conf.get(key) for key in CLEAN_CONF} == before


def test_a_record_count_differing_from_the_manifest_fails_the_run_with_its_report(spark, tmp_path):
    (folder,) = sample_data.generate(tmp_path, 6, 3, [2023], ["ownership.modern-30"], raw=True)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["parts"][0]["records"] += 1
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ThresholdExceeded, match="records would be lost") as error:
        run_clean(spark, LocalZones(tmp_path).clean_options(1.0))
    report = failed_report(tmp_path, CLEAN_REPORTS, error.value)
    (entry,) = report["files"]
    assert entry["manifest_records"] == entry["raw_records"] + 1
    assert not (tmp_path / "cleaned/cleaned").exists()


def test_a_clean_run_that_breaks_mid_way_reports_the_error_and_raises_it(spark, tmp_path):
    """A real failure after planning: the staging location (--TempDir) cannot be created."""
    sample_data.generate(tmp_path, 6, 3, [2023], ["ownership.modern-30"], raw=True)
    (tmp_path / TEMP.split("/")[0]).write_text("a file where the scratch folder should be")
    with pytest.raises(Exception) as error:
        run_clean(spark, LocalZones(tmp_path).clean_options(1.0))
    report = failed_report(tmp_path, CLEAN_REPORTS, error.value)
    assert "ParentNotDirectoryException" in report["error"]["message"]
    assert "\tat " not in report["error"]["message"]  # Java stack frames stay in the log
    assert report["authoritative_publications"]  # what was known when it broke
    assert not (tmp_path / "cleaned/cleaned").exists()


def test_a_curate_run_that_breaks_mid_way_reports_the_error_and_raises_it(spark, tmp_path):
    """A real failure: cleaned data Spark cannot read (a Parquet file that is not Parquet)."""
    year = tmp_path / "cleaned/cleaned/general/program_year=2023"
    year.mkdir(parents=True)
    (year / "part-00000.parquet").write_text("not parquet")
    with pytest.raises(Exception) as error:
        run_curate(spark, LocalZones(tmp_path).curate_options(1.0))
    report = failed_report(tmp_path, CURATE_REPORTS, error.value)
    assert "is not a Parquet file" in report["error"]["message"]
    assert report["partitions"] == [] and report["job"] == "curate"
    assert not (tmp_path / "curated/curated").exists()


# HotSpot's default HugeMethodLimit: a longer method is never compiled (DontCompileHugeMethods) and runs
# interpreted, however hot.
JIT_METHOD_LIMIT = 8000


def test_the_curated_rows_main_stage_is_small_enough_for_the_jit_to_compile(spark, lake):
    # The stage that reads every cleaned row, drops the removed ones and passes the rows of unduplicated keys
    # (the left anti join) runs in every pass over the curate plan; curate_transforms.outside_generated_code
    # keeps the manufacturer name's regular expressions out of it (9,172 bytes with them).
    options = LocalZones(lake["root"]).curate_options()
    removed = read_cleaned(spark, options, REMOVED_DATASET)
    stamps = {r[0] for r in removed.select("publication_stamp").distinct().collect()}
    with ExitStack() as held:
        assessed = assess_dataset(spark, options, load_spec().dataset("general"), removed, stamps, held)
        # Adaptive execution plans stages as it runs them: their code is known only without it.
        with job_settings(spark, {"spark.sql.adaptive.enabled": "false"}):
            plan = assessed.curated.select("*")._jdf.queryExecution().executedPlan()
            stages = spark._jvm.org.apache.spark.sql.execution.debug.package.codegenStringSeq(plan)
    sizes = {}
    iterator = stages.iterator()
    while iterator.hasNext():
        stage = iterator.next()
        sizes[stage._1()] = stage._3().maxMethodCodeSize()
    (main,) = [size for tree, size in sizes.items() if "LeftAnti" in tree]
    assert 0 < main <= JIT_METHOD_LIMIT, f"the main stage's largest method: {main} bytes"
