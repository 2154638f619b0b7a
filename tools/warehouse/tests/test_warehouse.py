"""The warehouse on a real PostgreSQL server: migrations, a load from the curated Parquet the Glue jobs wrote,
reconciliation with curated to the cent, the reader's limits, and a failed load leaving the marts intact."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from conftest import login

import cli
from dashboards import dashboards, sample_parameters
from extract import extract_local
from loader import PER_YEAR, LoadError, ReconciliationError, load
from local_athena import connect
from migrations import MIGRATIONS, MigrationError, apply

MARTS = sorted(p.stem for p in (MIGRATIONS.parent / "extract").glob("*.sql") if p.stem != "curated_totals")


def catalog(conn: psycopg.Connection) -> list[tuple]:
    """What the migrations define: warehouse roles, tables and indexes in the warehouse's schemas."""
    return conn.execute(
        "SELECT 'role', rolname, '' FROM pg_roles WHERE rolname LIKE 'warehouse%'"
        " UNION ALL SELECT 'table', schemaname, tablename FROM pg_tables"
        "  WHERE schemaname IN ('marts', 'marts_load', 'warehouse_meta')"
        " UNION ALL SELECT 'index', schemaname, indexname FROM pg_indexes WHERE schemaname = 'marts'"
        " ORDER BY 1, 2, 3"
    ).fetchall()


def snapshot(conn: psycopg.Connection) -> dict[str, list[tuple]]:
    return {m: conn.execute(f"SELECT * FROM marts.{m} ORDER BY 1, 2, 3, 4").fetchall() for m in MARTS}


def parquet_totals(curated_root: Path) -> dict[int, tuple[int, Decimal]]:
    """Curated's payments and dollars per year read straight from the Parquet files (pyarrow and Python's
    decimal, no SQL engine)."""
    table = ds.dataset(curated_root / "general", format="parquet", partitioning="hive").to_table(
        columns=["program_year", "total_amount_of_payment_usdollars"]
    )
    totals: dict[int, tuple[int, Decimal]] = {}
    for row in table.to_pylist():
        year, amount = row["program_year"], row["total_amount_of_payment_usdollars"] or 0
        payments, dollars = totals.get(year, (0, Decimal(0)))
        totals[year] = (payments + 1, dollars + amount)
    return totals


@pytest.fixture(scope="module")
def extracted(curated_root):
    return extract_local(curated_root)


@pytest.fixture(scope="module")
def loaded(postgres, extracted):
    return load(login(postgres, "loader"), extracted, source="test curated", progress=lambda _: None)


def test_migrations_apply_once_and_rerunning_them_changes_nothing(postgres, loaded):
    with psycopg.connect(postgres.dsn(), autocommit=True) as conn:
        before = catalog(conn)
        assert apply(postgres.dsn()) == [], "applied migrations are not applied again"
        for path in sorted(MIGRATIONS.glob("*.sql")):
            conn.execute(path.read_text(encoding="utf-8"))
        # Also after a load swapped every mart: the swapped-in tables carry the migrations' index names.
        assert catalog(conn) == before
    assert ("table", "marts", "recipient_search") in before
    assert ("index", "marts", "recipient_search_recipient_name_idx") in before


def test_every_mart_adds_up_to_curated_to_the_cent(postgres, loaded, curated_root):
    expected = parquet_totals(curated_root)
    assert sum(p for p, _ in expected.values()) > 50, "the generated lake has payments"
    assert loaded.payments == sum(p for p, _ in expected.values())
    assert loaded.total_usd == sum(d for _, d in expected.values())
    with psycopg.connect(login(postgres, "reader")) as conn:
        for mart in PER_YEAR:
            got = conn.execute(
                f"SELECT program_year, sum(payments)::bigint, sum(total_usd) FROM marts.{mart} GROUP BY 1"
            ).fetchall()
            assert {y: (p, d) for y, p, d in got} == expected, mart
        overall = conn.execute(
            "SELECT sum(payments)::bigint, sum(total_usd) FROM marts.recipient_search"
        ).fetchone()
        assert overall == (loaded.payments, loaded.total_usd)
        top = conn.execute(
            "SELECT program_year, manufacturer, total_usd FROM marts.top_payers"
            " WHERE payer_rank = 1 ORDER BY 1"
        ).fetchall()
        best = conn.execute(
            "SELECT DISTINCT ON (program_year) program_year, manufacturer, total_usd"
            " FROM marts.payments_by_manufacturer_year WHERE manufacturer IS NOT NULL"
            " ORDER BY program_year, total_usd DESC, manufacturer"
        ).fetchall()
        assert top == best and len(top) == len(expected)


def test_reader_reads_marts_only_and_writes_nothing(postgres, loaded):
    denied = [
        "INSERT INTO marts.top_payers VALUES (2099, 1, 'x', 1, 1, 1)",
        "UPDATE marts.payments_by_manufacturer_year SET total_usd = 0",
        "DELETE FROM marts.recipient_search",
        "TRUNCATE marts.payments_by_recipient_year",
        "DROP TABLE marts.top_payers",
        "CREATE TABLE marts.mine (x int)",
        "CREATE TABLE public.mine (x int)",
        "CREATE TEMPORARY TABLE mine (x int)",
        "SELECT * FROM warehouse_meta.loads",
        "SELECT * FROM warehouse_meta.schema_migrations",
        "SELECT * FROM marts_load.top_payers",
    ]
    with psycopg.connect(login(postgres, "reader"), autocommit=True) as conn:
        (rows,) = conn.execute(
            "SELECT count(*) FROM marts.recipient_search WHERE recipient_name ILIKE %s", ("%a%",)
        ).fetchone()
        assert rows > 0
        for statement in denied:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def test_a_failed_load_leaves_the_previous_marts_intact(postgres, loaded, extracted):
    loader = login(postgres, "loader")
    with psycopg.connect(postgres.dsn()) as conn:
        before, loads = snapshot(conn), conn.execute("SELECT count(*) FROM warehouse_meta.loads").fetchone()
    one_row_lost = dict(
        extracted, payments_by_recipient_year=extracted["payments_by_recipient_year"].slice(1)
    )
    with pytest.raises(ReconciliationError, match="payments_by_recipient_year"):
        load(loader, one_row_lost, source="one row lost", progress=lambda _: None)
    # A failure in the middle of the COPY of a later mart, after earlier marts were rebuilt.
    bad = extracted["top_payers"]
    bad_value = bad.set_column(
        bad.column_names.index("manufacturer"), "manufacturer", pa.nulls(bad.num_rows, pa.string())
    )
    with pytest.raises(LoadError, match="rolled back"):
        load(loader, dict(extracted, top_payers=bad_value), source="null payer", progress=lambda _: None)
    with psycopg.connect(postgres.dsn()) as conn:
        assert snapshot(conn) == before
        assert conn.execute("SELECT count(*) FROM warehouse_meta.loads").fetchone() == loads
        leftovers = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'marts_load'").fetchone()
        assert leftovers == (0,)


def test_dashboards_on_the_marts_answer_as_curated_does(postgres, loaded, curated_root):
    with psycopg.connect(login(postgres, "reader")) as conn:
        values = sample_parameters(conn)
        con = connect(curated_root, "open_payments_curated")
        for dashboard in dashboards():
            answer = dashboard.on_marts(conn, values)
            assert answer, f"{dashboard.name} answers something for {values}"
            assert answer == dashboard.on_curated(con, values), dashboard.name


def test_a_migration_changed_after_it_was_applied_is_refused(postgres):
    with psycopg.connect(postgres.dsn(), autocommit=True) as conn:
        (checksum,) = conn.execute(
            "SELECT checksum FROM warehouse_meta.schema_migrations WHERE version = '0003'"
        ).fetchone()
        conn.execute("UPDATE warehouse_meta.schema_migrations SET checksum = 'edited' WHERE version = '0003'")
        try:
            with pytest.raises(MigrationError, match=r"0003_marts\.sql changed after it was applied"):
                apply(postgres.dsn())
        finally:
            restore = "UPDATE warehouse_meta.schema_migrations SET checksum = %s WHERE version = '0003'"
            conn.execute(restore, (checksum,))


def test_cli_names_what_is_missing(monkeypatch, capsys):
    monkeypatch.delenv("WAREHOUSE_DSN", raising=False)
    monkeypatch.delenv("WAREHOUSE_IAM_HOST", raising=False)
    assert cli.main(["migrate"]) == 2
    assert "set WAREHOUSE_DSN" in capsys.readouterr().err
    assert cli.main(["load"]) == 2
    assert "load needs --curated" in capsys.readouterr().err


def test_cli_local_answers_one_dashboard_from_both_sides_as_json(curated_root, capsys):
    """What `make demo`'s warehouse step runs: its own server, the migrations, a load, the two answers."""
    assert cli.main(["local", "--curated", str(curated_root), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["dashboard"] == cli.DEMO_DASHBOARD
    assert answer["equal"] is True
    assert answer["marts"] == answer["curated"] and len(answer["marts"]) > 0
    totals = parquet_totals(curated_root)
    assert answer["load"]["payments"] == sum(p for p, _ in totals.values())
    assert Decimal(answer["load"]["total_usd"]) == sum((d for _, d in totals.values()), Decimal(0))
    assert answer["parameters"]["year"] == str(max(totals))
