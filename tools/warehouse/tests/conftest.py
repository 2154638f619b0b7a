"""One real PostgreSQL server, with the migrations applied, for all warehouse tests; the curated data is the
SQL tests' session lake (tools/local-athena/tests/curated_lake.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from local_postgres import LocalPostgres
from migrations import apply

LOGIN_PASSWORD = "local-only-password"


@pytest.fixture(scope="session")
def curated_root(curated_lake) -> Path:
    """The curated zone of the SQL tests' lake (curated_lake.py: the real Glue jobs over generated files)."""
    return Path(curated_lake["warehouse"])


@pytest.fixture(scope="session")
def postgres() -> Iterator[LocalPostgres]:
    """A fresh server, migrations applied, one login per role (as an operator would create them)."""
    with LocalPostgres() as pg:
        assert apply(pg.dsn()), "a fresh database applies every migration"
        with psycopg.connect(pg.dsn(), autocommit=True) as conn:
            for role in ("reader", "loader", "admin"):
                conn.execute(
                    f"CREATE ROLE {role}_login LOGIN PASSWORD '{LOGIN_PASSWORD}' IN ROLE warehouse_{role}"
                )
        yield pg


def login(pg: LocalPostgres, role: str) -> str:
    """DSN of the login that holds warehouse_<role>."""
    return pg.dsn(user=f"{role}_login", password=LOGIN_PASSWORD)
