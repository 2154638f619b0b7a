"""The curate job writing Iceberg on local Spark (pinned Iceberg runtime, Hadoop catalog): two publications of
the same program year, the second with changed amounts, new records, records dropped from the file and
records listed by a removed/deleted file, each applied as a MERGE and tagged; the current table and the
time-travel read of each tag reconcile with the oracle to the cent, before and after maintenance."""

from __future__ import annotations

import csv
import json
import subprocess
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from job_lake import place_raw
from oracle import curated_rows, expect_file
from shared_data import OPEN_PAYMENTS, REPO

import sample_data
from open_payments_lake import iceberg
from open_payments_lake.clean_pipeline import run_clean
from open_payments_lake.curate_pipeline import CurateOptions, run_curate
from open_payments_lake.local_zones import CURATE_REPORTS, LocalZones
from open_payments_lake.session import local_jars
from open_payments_lake.spec import load_spec

REAL = OPEN_PAYMENTS / "real" / "OP_DTL_OWNRSHP_PGYR2022_P01302025_01212025.csv"
YEAR = 2022
JANUARY, JUNE = "P01302025", "P06302025"
NAMESPACE = "lake.curated"
TABLE = f"{NAMESPACE}.ownership_interests"
AMOUNT = "total_amount_invested_usdollars"


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def stem(dataset_token: str, stamp: str) -> str:
    return f"OP_{dataset_token}_PGYR{YEAR}_{stamp}"


@pytest.fixture(scope="module")
def publications(spark, tmp_path_factory):
    """Runs clean + curate (Iceberg) after each publication lands in raw; returns the oracle of each."""
    root = tmp_path_factory.mktemp("iceberg-lake")
    files = tmp_path_factory.mktemp("iceberg-files")
    with REAL.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        real = [next(reader) for _ in range(30)]
    amount, record = header.index("Total_Amount_Invested_USDollars"), header.index("Record_ID")
    january = real[:24]
    # June re-publishes the year: 3 records dropped, 3 amounts corrected, 6 new records, and a
    # removed/deleted file listing 2 records (and one record id no file holds).
    june = [list(r) for r in january[3:]]
    for row in june[:3]:
        row[amount] = str(Decimal(row[amount] or "0") + Decimal("1234.56"))
    june += real[24:]
    removed_ids = [june[5][record], june[6][record], "999999999"]
    removed = [["DELETED", str(YEAR), "Ownership Payment", rid] for rid in removed_ids]

    spec = load_spec()
    zones = LocalZones(root)
    iceberg.use_hadoop_catalog(spark, "lake", zones.iceberg_warehouse)
    options = zones.curate_options(curated_format="iceberg", iceberg_namespace=NAMESPACE)
    oracle, reports = {}, {}
    for stamp, rows, listed in ((JANUARY, january, []), (JUNE, june, removed)):
        detail = write_csv(files / f"{stem('DTL_OWNRSHP', stamp)}.csv", header, rows)
        place_raw(root, detail, "ownership", YEAR, stamp, detail.stem)
        expected_removed = []
        if listed:
            removed_header = list(spec.layout("removed-deleted-4").header)
            removed_file = write_csv(files / f"{stem('REMOVED_DELETED', stamp)}.csv", removed_header, listed)
            place_raw(root, removed_file, "removed_deleted", YEAR, stamp, removed_file.stem)
            expected_removed = [(rid, stamp) for rid in removed_ids]
        run_clean(spark, zones.clean_options(1.0, {"ownership", "removed_deleted"}))
        reports[stamp] = run_curate(spark, options)
        expected = expect_file(spec, detail, "ownership", YEAR, stamp)
        oracle[stamp] = {k[1]: v for k, v in curated_rows([expected], {YEAR: expected_removed}).items()}
    return {"oracle": oracle, "reports": reports, "removed_ids": removed_ids}


def amounts(df) -> dict[str, Decimal]:
    return {r["record_id"]: r[AMOUNT] for r in df.select("record_id", AMOUNT).collect()}


def test_the_test_data_has_every_kind_of_change(publications):
    january, june = publications["oracle"][JANUARY], publications["oracle"][JUNE]
    assert set(january) - set(june), "records dropped or removed"
    assert set(june) - set(january), "new records"
    assert [k for k in set(january) & set(june) if january[k][AMOUNT] != june[k][AMOUNT]], "changed amounts"
    removed = set(publications["removed_ids"])
    assert removed & set(january) and not removed & set(june)


def test_current_table_is_the_latest_publication_to_the_cent(spark, publications):
    expected = {k: v[AMOUNT] for k, v in publications["oracle"][JUNE].items()}
    current = spark.table(TABLE)
    assert amounts(current) == expected
    total = current.agg({AMOUNT: "sum"}).collect()[0][0]
    assert total == sum(expected.values(), Decimal("0"))
    assert {r[0] for r in current.select("program_year").distinct().collect()} == {YEAR}


@pytest.mark.parametrize("stamp", [JANUARY, JUNE])
def test_time_travel_by_publication_tag_to_the_cent(spark, publications, stamp):
    expected = {k: v[AMOUNT] for k, v in publications["oracle"][stamp].items()}
    assert amounts(iceberg.read_tag(spark, TABLE, stamp)) == expected


def test_each_publication_is_one_merge_snapshot_with_its_tag(spark, publications):
    snapshots = spark.sql(
        f"SELECT snapshot_id, operation FROM {TABLE}.snapshots ORDER BY committed_at"
    ).collect()
    tags = {r["name"]: r["snapshot_id"] for r in spark.sql(f"SELECT * FROM {TABLE}.refs").collect()}
    assert tags[JANUARY] != tags[JUNE]
    assert tags["main"] == tags[JUNE] == publications["reports"][JUNE]["iceberg_snapshots"][TABLE]
    assert [(s["snapshot_id"], s["operation"]) for s in snapshots] == [
        (tags[JANUARY], "append"),
        (tags[JUNE], "overwrite"),
    ]


def test_maintenance_compacts_and_expires_but_keeps_tagged_publications(spark, publications):
    result = iceberg.maintain(spark, TABLE, expire_older_than=datetime.now(UTC), retain_last=1)
    tagged = {r["snapshot_id"] for r in spark.sql(f"SELECT * FROM {TABLE}.refs").collect()}
    assert result.snapshots_left == len(tagged)
    for stamp in (JANUARY, JUNE):
        expected = {k: v[AMOUNT] for k, v in publications["oracle"][stamp].items()}
        assert amounts(iceberg.read_tag(spark, TABLE, stamp)) == expected


def test_bad_format_namespace_and_stamp_are_refused_with_the_argument_named(spark, tmp_path):
    zones = LocalZones(tmp_path)
    with pytest.raises(ValueError, match="--curated_format must be one of parquet, iceberg"):
        zones.curate_options(curated_format="delta")
    with pytest.raises(ValueError, match="--iceberg_namespace must be"):
        CurateOptions("c", "d", "r", 0.1, iceberg_namespace="lake")
    with pytest.raises(ValueError, match="not a CMS publication stamp"):
        iceberg.tag_publication(spark, TABLE, "P1'; DROP")


def test_maintenance_job_arguments_are_checked_and_missing_tables_skipped(spark, tmp_path):
    iceberg.use_hadoop_catalog(spark, "maintained", str(tmp_path))
    with pytest.raises(ValueError, match="--expire_after_days must be a whole number >= 1"):
        iceberg.MaintainOptions.from_arguments(
            {"iceberg_namespace": NAMESPACE, "expire_after_days": "0", "retain_last": "1"}
        )
    options = iceberg.MaintainOptions.from_arguments(
        {"iceberg_namespace": "maintained.curated", "expire_after_days": "30", "retain_last": "5"}
    )
    assert iceberg.maintain_namespace(spark, options, ["not_created_yet"]) == []


def terraform_columns(table_name: str) -> list[tuple[str, str]]:
    """The columns terraform gives the Iceberg table: modules/catalog `icebergColumns`."""
    script = (
        "import { curatedTables, icebergColumns } from './modules/catalog';"
        f"const spec = curatedTables().find((t) => t.tableName === '{table_name}');"
        "if (!spec) throw new Error('no curated table {table_name}');"
        "console.log(JSON.stringify(icebergColumns(spec)));"
    )
    tsx = REPO / "node_modules" / ".bin" / "tsx"
    done = subprocess.run([str(tsx), "-e", script], cwd=REPO, check=True, capture_output=True, text=True)
    return [(c["name"], c["type"]) for c in json.loads(done.stdout)]


def test_a_table_terraform_created_takes_its_first_publication(spark, tmp_path):
    """Terraform's table (Glue CreateTable with an Iceberg input): an empty v2 table with the catalog's
    columns, no partition field, no sort order, no properties. The curate job gives it the layout, then merges
    and tags the publication, to the cent."""
    root, files = tmp_path / "lake", tmp_path / "files"
    files.mkdir()
    zones = LocalZones(root)
    # A catalog of its own: Spark keeps a catalog's first warehouse, and the module's tables use "lake".
    namespace = "terraform.curated"
    table = f"{namespace}.ownership_interests"
    iceberg.use_hadoop_catalog(spark, "terraform", zones.iceberg_warehouse)
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {namespace}")
    columns = ", ".join(f"`{name}` {kind}" for name, kind in terraform_columns("ownership_interests"))
    spark.sql(f"CREATE TABLE {table} ({columns}) USING iceberg TBLPROPERTIES ('format-version' = '2')")
    assert iceberg.partition_fields(spark, table) == []

    with REAL.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = [next(reader) for _ in range(20)]
    detail = write_csv(files / f"{stem('DTL_OWNRSHP', JANUARY)}.csv", header, rows)
    place_raw(root, detail, "ownership", YEAR, JANUARY, detail.stem)
    run_clean(spark, zones.clean_options(1.0, {"ownership"}))
    run_curate(spark, zones.curate_options(curated_format="iceberg", iceberg_namespace=namespace))

    expected = expect_file(load_spec(), detail, "ownership", YEAR, JANUARY)
    oracle = {k[1]: v[AMOUNT] for k, v in curated_rows([expected], {YEAR: []}).items()}
    assert amounts(spark.table(table)) == oracle
    assert iceberg.partition_fields(spark, table) == ["program_year"]
    files_years = spark.sql(f"SELECT DISTINCT partition.program_year AS y FROM {table}.files").collect()
    assert [r["y"] for r in files_years] == [YEAR]
    properties = {r["key"]: r["value"] for r in spark.sql(f"SHOW TBLPROPERTIES {table}").collect()}
    assert iceberg.sort_columns(properties["sort-order"]) == list(iceberg.SORT_COLUMNS)
    assert {k: properties.get(k) for k in iceberg.TABLE_PROPERTIES} == iceberg.TABLE_PROPERTIES
    refs = {r["name"]: r["snapshot_id"] for r in spark.sql(f"SELECT * FROM {table}.refs").collect()}
    assert refs[JANUARY] == refs["main"]
    # Converged once: the next run changes nothing.
    assert iceberg.converge_layout(spark, table, spark.table(table)) == []


def test_a_failed_table_write_still_reports_the_snapshots_the_others_committed(spark, tmp_path, monkeypatch):
    """The datasets are written at once: when one table's MERGE fails, the run fails with its error and the
    report names the snapshot each other table committed (Iceberg commits are atomic per table)."""
    sample_data.generate(tmp_path, 8, 5, [YEAR], ["ownership.modern-30", "general.modern-91"], raw=True)
    zones = LocalZones(tmp_path)
    run_clean(spark, zones.clean_options(1.0))
    namespace = "partial.curated"  # a catalog of its own (Spark keeps a catalog's first warehouse)
    iceberg.use_hadoop_catalog(spark, "partial", zones.iceberg_warehouse)
    merge = iceberg.apply_publication

    def merge_but_general(session, table, *args):
        if table.endswith(".general_payments"):
            raise RuntimeError(f"{table}: commit refused")
        return merge(session, table, *args)

    monkeypatch.setattr(iceberg, "apply_publication", merge_but_general)
    with pytest.raises(RuntimeError, match="general_payments: commit refused"):
        run_curate(spark, zones.curate_options(curated_format="iceberg", iceberg_namespace=namespace))
    report = json.loads((Path(zones.path(CURATE_REPORTS)) / "latest.json").read_text())
    assert report["status"] == "failed"
    table = f"{namespace}.ownership_interests"
    (committed,) = spark.sql(f"SELECT snapshot_id FROM {table}.snapshots").collect()
    assert report["iceberg_snapshots"] == {table: committed["snapshot_id"]}


def test_a_table_with_other_columns_is_refused_naming_them():
    written = {"record_id": "string", "amount": "decimal(18,2)", "program_year": "int"}
    assert iceberg.column_differences(dict(written), written) == []
    table = {"record_id": "string", "amount": "decimal(12,2)", "old": "string"}
    assert iceberg.column_differences(table, written) == [
        "program_year is missing from the table",
        "old is in the table but not written",
        "amount is decimal(12,2) in the table but decimal(18,2) written",
    ]


def test_local_jars_name_an_unpinned_artifact_and_a_jar_not_fetched(tmp_path):
    (tmp_path / ".build" / "jars").mkdir(parents=True)
    (tmp_path / "jars.lock").write_text("# pins\ng:fetched:1.0 abc\ng:absent:2.0 def\n", encoding="utf-8")
    (tmp_path / ".build" / "jars" / "fetched-1.0.jar").write_bytes(b"")
    assert local_jars("fetched", repo=tmp_path) == [str(tmp_path / ".build" / "jars" / "fetched-1.0.jar")]
    with pytest.raises(KeyError, match="unpinned is not pinned in"):
        local_jars("fetched", "unpinned", repo=tmp_path)
    with pytest.raises(FileNotFoundError, match=r"absent-2\.0\.jar is missing: run `make setup`"):
        local_jars("absent", repo=tmp_path)
