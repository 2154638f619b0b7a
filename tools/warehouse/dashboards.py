"""The dashboards' queries: warehouse/sql/dashboards/<name>.sql on the marts (PostgreSQL, psycopg named
parameters) and <name>.athena.sql, the same answer computed from curated (Athena SQL with `?` parameters in
the order of its `-- params:` line). The benchmark times both; the tests check they agree."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import psycopg

from local_athena import transpile

REPO = Path(__file__).resolve().parents[2]
DASHBOARDS = REPO / "warehouse" / "sql" / "dashboards"


@dataclass(frozen=True)
class Dashboard:
    name: str
    marts_sql: str
    curated_sql: str
    params: tuple[str, ...]

    def on_marts(self, conn: psycopg.Connection, values: dict[str, Any]) -> list[tuple]:
        return conn.execute(self.marts_sql, values).fetchall()

    def on_curated(self, con: duckdb.DuckDBPyConnection, values: dict[str, Any]) -> list[tuple]:
        return con.execute(transpile(self.curated_sql), [values[p] for p in self.params]).fetchall()


def dashboards() -> list[Dashboard]:
    found = []
    for marts_file in sorted(p for p in DASHBOARDS.glob("*.sql") if not p.name.endswith(".athena.sql")):
        curated_file = marts_file.with_suffix(".athena.sql")
        if not curated_file.exists():
            raise FileNotFoundError(f"{marts_file.name} has no {curated_file.name} (its answer from curated)")
        curated_sql = curated_file.read_text(encoding="utf-8")
        params = next((line for line in curated_sql.splitlines() if line.startswith("-- params:")), None)
        if params is None:
            raise ValueError(f"{curated_file.name}: missing its `-- params: a, b` line")
        names = tuple(p.strip() for p in params.removeprefix("-- params:").split(",") if p.strip())
        found.append(Dashboard(marts_file.stem, marts_file.read_text(encoding="utf-8"), curated_sql, names))
    return found


def sample_parameters(conn: psycopg.Connection) -> dict[str, Any]:
    """Parameters that hit data: the latest year, its top payer, its busiest state, part of a top name."""
    year, manufacturer = conn.execute(
        "SELECT program_year, manufacturer FROM marts.top_payers"
        " ORDER BY program_year DESC, payer_rank LIMIT 1"
    ).fetchone()
    (state,) = conn.execute(
        "SELECT recipient_state FROM marts.payments_by_state_specialty_year"
        " WHERE program_year = %s AND recipient_state IS NOT NULL"
        " GROUP BY 1 ORDER BY sum(payments) DESC, 1 LIMIT 1",
        (year,),
    ).fetchone()
    (name,) = conn.execute(
        "SELECT recipient_name FROM marts.recipient_search WHERE recipient_name IS NOT NULL"
        " ORDER BY total_usd DESC LIMIT 1"
    ).fetchone()
    return {"year": year, "manufacturer": manufacturer, "state": state, "name": name[:3]}
