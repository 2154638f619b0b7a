"""Refresh the marts from extracted rows, atomically, reconciled with curated to the cent.

One transaction, as the warehouse_loader role: every mart is rebuilt as a new table in schema marts_load
(`LIKE marts.<mart> INCLUDING ALL`: the migrations stay the one definition of columns and indexes), filled
with COPY, reconciled, and swapped into marts (drop the old table, move the new one). PostgreSQL's DDL is
transactional, so readers see the previous marts until the commit and all new marts after it; any failure
(bad rows, a reconciliation difference, a lost connection) rolls everything back and leaves the previous
marts in place.

Reconciliation (exact decimal arithmetic, no floats):
- the marts that partition curated's payments (each payment in exactly one row) add up to curated's payments
  and dollars per program year (`PER_YEAR`) or over all years (`OVERALL`);
- a ranking mart agrees row by row with the mart it ranks (`RANKS`).
"""

from __future__ import annotations

import io
import os
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql

from extract import TOTALS

PER_YEAR = ("payments_by_manufacturer_year", "payments_by_recipient_year", "payments_by_state_specialty_year")
OVERALL = ("recipient_search",)
RANKS = {"top_payers": "payments_by_manufacturer_year"}
LOADER_ROLE = "warehouse_loader"


class LoadError(Exception):
    """The load was rolled back and the previous marts are unchanged; the message names mart and cause."""


class ReconciliationError(LoadError):
    """The new marts do not add up to curated's totals."""


@dataclass(frozen=True)
class LoadReport:
    load_id: str
    rows: dict[str, int]
    payments: int
    total_usd: Decimal


def marts(tables: dict[str, pa.Table]) -> list[str]:
    """The mart names among the extracted tables; every one must have a reconciliation rule."""
    names = sorted(n for n in tables if n != TOTALS)
    if TOTALS not in tables:
        raise LoadError(f"the extract has no {TOTALS}: nothing to reconcile the marts with")
    unreconciled = [n for n in names if n not in (*PER_YEAR, *OVERALL, *RANKS)]
    if unreconciled:
        raise LoadError(f"no reconciliation rule for mart(s) {', '.join(unreconciled)}: add one in loader.py")
    return names


def curated_totals(totals: pa.Table) -> dict[int, tuple[int, Decimal]]:
    """{program_year: (payments, dollars)} from the curated_totals extract."""
    return {
        int(r["program_year"]): (int(r["payments"]), Decimal(r["total_usd"] or 0)) for r in totals.to_pylist()
    }


def table_columns(conn: psycopg.Connection, schema: str, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s"
        " ORDER BY ordinal_position",
        (schema, table),
    ).fetchall()
    if not rows:
        raise LoadError(f"{schema}.{table} does not exist: apply the migrations first (warehouse migrate)")
    return [r[0] for r in rows]


def copy_rows(conn: psycopg.Connection, table: str, columns: list[str], rows: pa.Table) -> None:
    """COPY an Arrow table into marts_load.<table> as CSV (exact decimals, NULL for nulls, "" for empty)."""
    missing = sorted(set(columns) - set(rows.column_names))
    extra = sorted(set(rows.column_names) - set(columns))
    if missing or extra:
        raise LoadError(
            f"warehouse/sql/extract/{table}.sql and marts.{table} disagree: "
            f"columns missing from the extract {missing}, not in the table {extra}"
        )
    statement = sql.SQL("COPY marts_load.{} ({}) FROM STDIN WITH (FORMAT csv)").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with conn.cursor().copy(statement) as copy:
        for batch in rows.select(columns).to_batches(max_chunksize=50_000):
            buffer = io.BytesIO()
            pacsv.write_csv(batch, buffer, pacsv.WriteOptions(include_header=False))
            copy.write(buffer.getvalue())


def reconcile(conn: psycopg.Connection, names: list[str], expected: dict[int, tuple[int, Decimal]]) -> None:
    """Raise ReconciliationError naming every difference between the new marts and curated."""
    differences = []
    overall = (sum(p for p, _ in expected.values()), sum((d for _, d in expected.values()), Decimal(0)))
    for name in names:
        table = sql.Identifier(name)
        if name in PER_YEAR:
            got = {
                int(y): (int(p), Decimal(d))
                for y, p, d in conn.execute(
                    sql.SQL(
                        "SELECT program_year, sum(payments), sum(total_usd) FROM marts_load.{} GROUP BY 1"
                    ).format(table)
                ).fetchall()
            }
            for year in sorted(set(got) | set(expected)):
                if got.get(year) != expected.get(year):
                    differences.append(f"{name} {year}: {got.get(year)} vs curated {expected.get(year)}")
        elif name in OVERALL:
            p, d = conn.execute(
                sql.SQL(
                    "SELECT coalesce(sum(payments), 0), coalesce(sum(total_usd), 0) FROM marts_load.{}"
                ).format(table)
            ).fetchone()
            if (int(p), Decimal(d)) != overall:
                differences.append(f"{name}: ({p}, {d}) vs curated {overall}")
        else:
            ranked = sql.Identifier(RANKS[name])
            (mismatched,) = conn.execute(
                sql.SQL(
                    "SELECT count(*) FROM marts_load.{} AS r LEFT JOIN marts_load.{} AS m"
                    " USING (program_year, manufacturer)"
                    " WHERE m.total_usd IS DISTINCT FROM r.total_usd"
                    " OR m.payments IS DISTINCT FROM r.payments"
                ).format(table, ranked)
            ).fetchone()
            if mismatched:
                differences.append(f"{name}: {mismatched} row(s) differ from {RANKS[name]}")
    if differences:
        raise ReconciliationError(
            "the new marts do not match curated; nothing changed:\n  " + "\n  ".join(differences)
        )


class ConnectionSettingsError(Exception):
    """Neither a connection string nor an IAM login is configured; the message says what to set."""


def conninfo_from_environment(environ: dict[str, str] | None = None) -> str:
    """WAREHOUSE_DSN, or an IAM authentication token for WAREHOUSE_IAM_USER on WAREHOUSE_IAM_HOST.

    With IAM database authentication the token (rds:GenerateDBAuthToken, signed locally with the caller's
    credentials, valid 15 minutes) is the password and TLS is required.
    """
    env = os.environ if environ is None else environ
    host = env.get("WAREHOUSE_IAM_HOST")
    if host:
        import boto3  # only the AWS path needs it

        user = env.get("WAREHOUSE_IAM_USER", "warehouse_loader_iam")
        port = int(env.get("WAREHOUSE_IAM_PORT", "5432"))
        token = boto3.client("rds").generate_db_auth_token(DBHostname=host, Port=port, DBUsername=user)
        database = env.get("WAREHOUSE_IAM_DATABASE", "warehouse")
        return psycopg.conninfo.make_conninfo(
            host=host, port=port, user=user, dbname=database, password=token, sslmode="require"
        )
    dsn = env.get("WAREHOUSE_DSN")
    if not dsn:
        raise ConnectionSettingsError(
            "set WAREHOUSE_DSN (a libpq connection string) or WAREHOUSE_IAM_HOST for IAM auth"
        )
    return dsn


def load(
    conninfo: str,
    tables: dict[str, pa.Table],
    source: str,
    progress: Callable[[str], None] = lambda m: print(m, file=sys.stderr),
) -> LoadReport:
    """Rebuild, reconcile and swap in every mart in one transaction (see the module docstring)."""
    names = marts(tables)
    expected = curated_totals(tables[TOTALS])
    payments = sum(p for p, _ in expected.values())
    total = sum((d for _, d in expected.values()), Decimal(0))
    load_id = uuid.uuid4().hex
    rows: dict[str, int] = {}
    try:
        with psycopg.connect(conninfo) as conn, conn.transaction():
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(LOADER_ROLE)))
            for name in names:
                table = sql.Identifier(name)
                columns = table_columns(conn, "marts", name)
                conn.execute(sql.SQL("DROP TABLE IF EXISTS marts_load.{}").format(table))
                conn.execute(
                    sql.SQL("CREATE TABLE marts_load.{} (LIKE marts.{} INCLUDING ALL)").format(table, table)
                )
                copy_rows(conn, name, columns, tables[name])
                rows[name] = tables[name].num_rows
                progress(f"  {name}: {rows[name]} rows copied")
            reconcile(conn, names, expected)
            progress("  reconciled with curated: every mart adds up to the cent")
            for name in names:
                table = sql.Identifier(name)
                conn.execute(sql.SQL("DROP TABLE marts.{}").format(table))
                conn.execute(sql.SQL("ALTER TABLE marts_load.{} SET SCHEMA marts").format(table))
                conn.execute(
                    sql.SQL("GRANT SELECT ON marts.{} TO warehouse_reader, warehouse_admin").format(table)
                )
            conn.execute(
                "INSERT INTO warehouse_meta.loads (load_id, source, payments, total_usd)"
                " VALUES (%s, %s, %s, %s)",
                (load_id, source, payments, total),
            )
    except psycopg.Error as e:
        raise LoadError(
            f"load {load_id} from {source} rolled back, the previous marts are unchanged: {e}"
        ) from e
    return LoadReport(load_id, rows, payments, total)
