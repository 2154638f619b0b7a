"""The local Athena engine on curated Iceberg tables (pyiceberg plans, DuckDB reads), made by migrating the
curated Parquet zone (iceberg.migrate_parquet): the smoke checks and the analyst SQL answer exactly as on the
Parquet before the migration, the analyst answers equal the plain Python oracle, and time travel by
publication tag works and names a missing tag."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from analytics_oracle import EXPECTED, matches

import migrate_to_iceberg
from local_athena import QueryError, run_query
from open_payments_lake.spec import load_spec

SQL = Path(__file__).resolve().parents[3] / "sql"
QUERIES = sorted([*(SQL / "smoke").glob("*.sql"), *(SQL / "analytics").glob("*.sql")])
STAMP = "P01302025_01212025"  # the sample generator's publication of every year


def on_both(curated_lake, sql: str, **iceberg_options) -> tuple[dict, dict]:
    parquet = run_query(str(curated_lake["warehouse"]), curated_lake["database"], sql)
    iceberg = run_query(
        str(curated_lake["iceberg"]), curated_lake["database"], sql, table_format="iceberg", **iceberg_options
    )
    return parquet, iceberg


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: str(p.relative_to(SQL)))
def test_smoke_and_analyst_sql_answer_the_same_on_iceberg(curated_lake, path):
    text = path.read_text(encoding="utf-8")
    parquet, iceberg = on_both(curated_lake, text)
    assert iceberg["columns"] == parquet["columns"]
    if "-- expect: no rows" in text:  # a passing smoke check: no offending rows on either
        assert parquet["rows"] == [] == iceberg["rows"]
    else:
        assert parquet["rows"], f"{path.name}: nothing to compare"
    # Same multiset of rows (ties in ORDER BY may come in another order from other files).
    assert Counter(map(repr, iceberg["rows"])) == Counter(map(repr, parquet["rows"]))
    assert iceberg["bytesScanned"] > 0


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_analyst_sql_on_iceberg_matches_python(curated_lake, name):
    result = run_query(
        str(curated_lake["iceberg"]),
        curated_lake["database"],
        (SQL / "analytics" / f"{name}.sql").read_text(encoding="utf-8"),
        table_format="iceberg",
    )
    expected = EXPECTED[name](curated_lake["rows"]["general"], curated_lake["rows"]["research"])
    assert len(result["rows"]) == len(expected)
    for want, got in zip(expected, result["rows"], strict=True):
        assert all(matches(w, g) for w, g in zip(want, got, strict=True)), (name, want, got)


def test_the_migration_kept_every_record_and_tagged_the_publication(curated_lake):
    migrated = {m["table"]: m for m in curated_lake["migrated"]}
    for dataset in load_spec().curated_datasets:
        table = migrated[f"sql_lake.curated.{dataset.curated_table}"]
        assert sum(n for n, _ in table["years"].values()) == len(curated_lake["rows"][dataset.name])
        assert set(table["years"]) == {"2022", "2023"}
        assert table["tags"] == [STAMP]


def test_time_travel_by_publication_tag(curated_lake):
    sql = (
        "SELECT program_year, count(*) AS n, sum(total_amount_of_payment_usdollars) AS usd "
        "FROM general_payments GROUP BY 1 ORDER BY 1"
    )
    current, tagged = (
        run_query(
            str(curated_lake["iceberg"]), curated_lake["database"], sql, table_format="iceberg", as_of=a
        )
        for a in (None, STAMP)
    )
    assert tagged["rows"] == current["rows"] and len(current["rows"]) == 2
    with pytest.raises(
        QueryError, match=r"general_payments: no publication tagged P06302099; tagged: \['P01302025"
    ):
        run_query(
            str(curated_lake["iceberg"]),
            curated_lake["database"],
            sql,
            table_format="iceberg",
            as_of="P06302099",
        )
    with pytest.raises(QueryError, match="only with --table-format iceberg"):
        run_query(str(curated_lake["warehouse"]), curated_lake["database"], sql, as_of=STAMP)


def test_the_migration_command_refuses_an_unknown_dataset_before_touching_anything(capsys):
    command = migrate_to_iceberg.parse(["--curated-path", "c", "--warehouse", "w", "--datasets", "payments"])
    assert migrate_to_iceberg.run(None, command) == 2
    assert "--datasets: unknown ['payments']" in capsys.readouterr().err
