"""Every .sql file under sql/ parses as Athena SQL and executes on DuckDB over the jobs' curated Parquet; the
reference DDL matches both the datasets file and the schema the jobs actually write."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import sqlglot
from sqlglot import exp

import curated_ddl
from local_athena import connect, run_query, transpile
from open_payments_lake.spec import load_spec

SQL = Path(__file__).resolve().parents[3] / "sql"
ALL_SQL = sorted(SQL.rglob("*.sql"))
QUERIES = [p for p in ALL_SQL if p.parent.name != "ddl"]


def test_the_sql_folder_has_every_kind_of_file():
    assert {p.parent.name for p in ALL_SQL} >= {"ddl", "views", "analytics", "smoke"}


@pytest.mark.parametrize("path", ALL_SQL, ids=lambda p: str(p.relative_to(SQL)))
def test_parses_as_one_athena_statement(path):
    statements = sqlglot.parse(path.read_text(encoding="utf-8"), read="athena")
    assert len([s for s in statements if s is not None]) == 1


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: str(p.relative_to(SQL)))
def test_executes_on_the_curated_lake(curated_lake, path):
    def run(sql: str) -> dict:
        return run_query(str(curated_lake["warehouse"]), curated_lake["database"], sql)

    result = run(path.read_text(encoding="utf-8"))
    if path.parent.name == "views":
        # A CREATE VIEW returns no rows; the view must then answer with one row per curated row.
        result = run(f"SELECT * FROM {path.stem}")
        dataset = next(d.name for d in load_spec().curated_datasets if path.stem == f"v_{d.curated_table}")
        assert len(result["rows"]) == len(curated_lake["rows"][dataset])
    assert result["columns"], path
    assert all(len(row) == len(result["columns"]) for row in result["rows"])
    assert result["bytesScanned"] > 0


def test_views_are_created_with_readable_typed_columns(curated_lake):
    con = connect(curated_lake["warehouse"], curated_lake["database"])
    views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    assert {p.stem for p in (SQL / "views").glob("*.sql")} <= views
    types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE v_general_payments)").fetchall())
    assert types["amount_usd"] == "DECIMAL(18,2)"
    assert types["payment_date"] == "DATE"
    assert types["recipient_npi"] == "VARCHAR"  # NPIs keep leading zeros


def test_ddl_files_are_generated_from_the_datasets_file():
    assert curated_ddl.main(["--check"]) == 0
    assert sorted(p.stem for p in (SQL / "ddl").glob("*.sql")) == sorted(
        d.curated_table for d in load_spec().curated_datasets
    )


@pytest.mark.parametrize("dataset", [d.name for d in load_spec().curated_datasets])
def test_ddl_declares_the_schema_the_jobs_write(curated_lake, dataset):
    spec = load_spec().dataset(dataset)
    text = (SQL / "ddl" / f"{spec.curated_table}.sql").read_text(encoding="utf-8")
    create = sqlglot.parse_one(text, read="athena")
    partitions = create.find(exp.PartitionedByProperty).find_all(exp.ColumnDef)
    assert [(c.name, c.args["kind"].sql("duckdb")) for c in partitions] == [("program_year", "INT")]
    # The DDL's columns as DuckDB types, against what DuckDB reads from the Parquet the curate job wrote.
    con = duckdb.connect()
    con.execute(transpile(text))
    declared = con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {spec.curated_table})").fetchall()
    lake = connect(curated_lake["warehouse"], curated_lake["database"])
    written = lake.execute(f"SELECT column_name, column_type FROM (DESCRIBE {spec.curated_table})").fetchall()
    assert [*declared, ("program_year", "INTEGER")] == written
