"""The serving warehouse's command line: migrations, loads, and a real local PostgreSQL to try them on.

    .venv/bin/python tools/warehouse/cli.py migrate                 # WAREHOUSE_DSN: an administrative user
    .venv/bin/python tools/warehouse/cli.py load --curated DIR|s3://bucket/curated/ [--s3-endpoint URL]
    .venv/bin/python tools/warehouse/cli.py load --athena-workgroup WG --database DB --unload-prefix s3://...
    .venv/bin/python tools/warehouse/cli.py local --curated DIR|s3://bucket/curated/ [--s3-endpoint URL] \
        [--json]

`migrate` and `load` connect with WAREHOUSE_DSN (a libpq connection string), or with IAM database
authentication when WAREHOUSE_IAM_HOST is set (WAREHOUSE_IAM_USER, WAREHOUSE_IAM_DATABASE, AWS_REGION; the
token is the password, TLS is required). `load --curated` computes the marts locally (the local Athena engine
over curated Parquet); `load --athena-workgroup` has Athena UNLOAD them to Parquet on S3 (the AWS path).
`local` starts a throw-away PostgreSQL server, applies the migrations, loads the marts from curated, prints
one dashboard's answer from the marts beside the same answer from curated (`--json`: as one JSON object on
stdout), and stops the server; `make demo` runs it as the local lake's `warehouse` step.

Exit codes: 0 done; 1 a step failed (migration, extract, load or reconciliation; the marts are unchanged);
2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "tools" / p) for p in ("warehouse", "local-athena")] + [str(REPO / "glue-scripts")]

from dashboards import dashboards, sample_parameters  # noqa: E402
from extract import ExtractError, extract_local, run_unloads  # noqa: E402
from loader import ConnectionSettingsError, LoadError, conninfo_from_environment, load  # noqa: E402
from local_athena import WarehouseError, connect, local_warehouse  # noqa: E402
from local_postgres import LocalPostgres, LocalPostgresError  # noqa: E402
from migrations import MigrationError, apply  # noqa: E402

DEMO_DASHBOARD = "top_manufacturers"


class UsageError(Exception):
    """Bad arguments (exit 2)."""


@contextmanager
def curated_root(curated: str, s3_endpoint: str | None) -> Iterator[Path]:
    """The curated zone as a local folder (an s3:// curated prefix is copied down first)."""
    try:
        with local_warehouse(curated, s3_endpoint) as root:
            yield root
    except WarehouseError as e:
        raise ExtractError(str(e)) from e


def timed(label: str, started: float) -> None:
    print(f"{label} ({time.monotonic() - started:.1f} s)", file=sys.stderr)


def load_from_curated(conninfo: str, curated: str, s3_endpoint: str | None) -> None:
    started = time.monotonic()
    with curated_root(curated, s3_endpoint) as root:
        tables = extract_local(root)
    timed(f"extracted {len(tables)} queries from {curated}", started)
    report = load(conninfo, tables, source=curated)
    timed(f"load {report.load_id}: {report.payments} payments, ${report.total_usd} swapped in", started)


def load_from_athena(conninfo: str, workgroup: str, database: str, prefix: str) -> None:
    import boto3  # only the AWS path needs it

    started = time.monotonic()
    tables = run_unloads(boto3.client("athena"), boto3.client("s3"), workgroup, database, prefix)
    timed(f"unloaded {len(tables)} queries to {prefix}", started)
    report = load(conninfo, tables, source=prefix)
    timed(f"load {report.load_id}: {report.payments} payments, ${report.total_usd} swapped in", started)


def as_text(answer: list[tuple]) -> list[list[str]]:
    """Rows with every value as text: decimals stay exact for callers that compare cents."""
    return [[str(v) for v in row] for row in answer]


def local(curated: str, s3_endpoint: str | None, as_json: bool = False) -> None:
    started = time.monotonic()
    with LocalPostgres() as pg, curated_root(curated, s3_endpoint) as root:
        timed(f"PostgreSQL started on 127.0.0.1:{pg.port}", started)
        apply(pg.dsn())
        timed("migrations applied", started)
        report = load(pg.dsn(), extract_local(root), source=curated)
        timed(f"marts loaded: {report.payments} payments, ${report.total_usd}, reconciled", started)
        dashboard = next(d for d in dashboards() if d.name == DEMO_DASHBOARD)
        with psycopg.connect(pg.dsn()) as conn:
            values = sample_parameters(conn)
            marts = dashboard.on_marts(conn, values)
        curated_answer = dashboard.on_curated(connect(root, "open_payments_curated"), values)
        equal = marts == curated_answer
        if as_json:
            print(
                json.dumps(
                    {
                        "dashboard": dashboard.name,
                        "parameters": {k: str(v) for k, v in values.items()},
                        "load": {"payments": report.payments, "total_usd": str(report.total_usd)},
                        "marts": as_text(marts),
                        "curated": as_text(curated_answer),
                        "equal": equal,
                    }
                )
            )
        else:
            print(f"\n{dashboard.name} {values['year']}: PostgreSQL marts | curated (local Athena engine)")
            for left, right in zip(marts, curated_answer, strict=False):
                print(f"  {left[0]:<40} {left[1]:>16} | {right[1]:>16}")
            print("  answers equal" if equal else "  ANSWERS DIFFER")
        if not equal:
            raise LoadError(f"{dashboard.name}: the marts and curated disagree")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="warehouse", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply warehouse/sql/migrations (WAREHOUSE_DSN: an admin user)")
    load_cmd = commands.add_parser("load", help="refresh the marts from curated, atomically and reconciled")
    local_cmd = commands.add_parser("local", help="a real PostgreSQL here: migrate, load, one dashboard")
    for sub in (load_cmd, local_cmd):
        sub.add_argument("--curated", help="curated root: a folder or s3://<bucket>/curated/")
        sub.add_argument("--s3-endpoint", help="S3 endpoint URL for an s3:// curated root (e.g. local AWS)")
    local_cmd.add_argument("--json", action="store_true", help="the answers as one JSON object on stdout")
    load_cmd.add_argument("--athena-workgroup", help="AWS path: the lake's Athena workgroup")
    load_cmd.add_argument("--database", help="AWS path: the curated Glue database")
    load_cmd.add_argument("--unload-prefix", help="AWS path: an empty s3://<curated bucket>/warehouse/<run>/")
    args = parser.parse_args(argv)
    try:
        if args.command == "migrate":
            applied = apply(conninfo_from_environment())
            print(f"applied {', '.join(applied) if applied else 'nothing (up to date)'}")
        elif args.command == "local":
            if not args.curated:
                raise UsageError("local needs --curated <folder or s3://bucket/curated/>")
            local(args.curated, args.s3_endpoint, args.json)
        elif args.curated:
            load_from_curated(conninfo_from_environment(), args.curated, args.s3_endpoint)
        elif args.athena_workgroup and args.database and args.unload_prefix:
            load_from_athena(
                conninfo_from_environment(), args.athena_workgroup, args.database, args.unload_prefix
            )
        else:
            raise UsageError("load needs --curated, or --athena-workgroup, --database and --unload-prefix")
    except (UsageError, ConnectionSettingsError) as e:
        print(f"warehouse: error: {e}", file=sys.stderr)
        return 2
    except (MigrationError, ExtractError, LoadError, LocalPostgresError, psycopg.Error) as e:
        print(f"warehouse: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
