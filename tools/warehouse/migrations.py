"""Apply warehouse/sql/migrations/*.sql in file-name order, each once, each in its own transaction.

Applied files are recorded in warehouse_meta.schema_migrations with their SHA-256: a file changed after it was
applied is an error (add a new migration instead), so every database that ran a version has the same schema.
The files are also idempotent on their own (IF NOT EXISTS, guarded DO blocks), so a half-recorded run or a
hand re-run changes nothing. An advisory lock serializes concurrent runners.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[2]
MIGRATIONS = REPO / "warehouse" / "sql" / "migrations"
# An arbitrary constant shared by every runner of this project.
_LOCK_KEY = 19_2026


class MigrationError(Exception):
    """A migration is malformed, was changed after being applied, or failed."""


@dataclass(frozen=True)
class Migration:
    version: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def migrations(folder: Path = MIGRATIONS) -> list[Migration]:
    """The migration files, ordered; names are `<4 digits>_<words>.sql`."""
    found = sorted(folder.glob("*.sql"))
    for path in found:
        prefix = path.name.split("_", 1)[0]
        if len(prefix) != 4 or not prefix.isdigit():
            raise MigrationError(
                f"{path.name}: migration file names start with 4 digits and _ (e.g. 0004_x.sql)"
            )
    versions = [p.name[:4] for p in found]
    duplicates = sorted({v for v in versions if versions.count(v) > 1})
    if duplicates:
        raise MigrationError(f"{folder}: more than one migration numbered {', '.join(duplicates)}")
    return [Migration(p.name[:4], p) for p in found]


def apply(conninfo: str, folder: Path = MIGRATIONS) -> list[str]:
    """Apply what is not applied yet, as the connecting administrative user; returns the versions applied."""
    applied_now: list[str] = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            conn.execute("CREATE SCHEMA IF NOT EXISTS warehouse_meta")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS warehouse_meta.schema_migrations ("
                " version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = dict(
                conn.execute("SELECT version, checksum FROM warehouse_meta.schema_migrations").fetchall()
            )
            for migration in migrations(folder):
                if migration.version in done:
                    if done[migration.version] != migration.checksum:
                        raise MigrationError(
                            f"{migration.path.name} changed after it was applied; "
                            "restore it and add a new migration for the change"
                        )
                    continue
                try:
                    with conn.transaction():
                        conn.execute(migration.sql)
                        conn.execute(
                            "INSERT INTO warehouse_meta.schema_migrations (version, name, checksum)"
                            " VALUES (%s, %s, %s)",
                            (migration.version, migration.path.name, migration.checksum),
                        )
                except psycopg.Error as e:
                    raise MigrationError(f"{migration.path.name} failed: {e}") from e
                applied_now.append(migration.version)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied_now
