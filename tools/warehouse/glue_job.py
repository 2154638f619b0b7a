"""The warehouse loader's AWS Glue job: a thin shell over tools/warehouse's extract and loader.

Glue runs this file as the job's script (modules/warehouse WarehouseLoader) with the job's arguments:

    --athena_workgroup WG --curated_database DB --extract_prefix s3://<curated bucket>/warehouse-extract/
    --db_host HOST --db_port 5432 --db_name warehouse --db_user <login granted warehouse_loader and rds_iam>
    --run_id <the refresh execution's name; default: Glue's JOB_RUN_ID>

and copies `warehouse-loader.zip` (extract.py, loader.py and warehouse/sql/extract/, laid out as in the
repository, and psycopg's wheels unpacked under site/: Glue 5.0 lacks psycopg 3, the VPC has no route to
PyPI) into its working directory (`--extra-files`). It has Athena UNLOAD every extract query under
`<extract_prefix><run_id>/`, then loads, reconciles and swaps the marts in one transaction, logging in with an
IAM database authentication token (no password anywhere). Without `--db_host` it connects with WAREHOUSE_DSN
instead (a local PostgreSQL in the tests).

Exit codes: 0 loaded; 1 a step failed (the marts are unchanged), which fails the Glue run and so the refresh's
WarehouseLoad step; 2 bad arguments.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

# Its name and contents: tools/warehouse/glue-bundle.json (the module packs it, the tests check the name).
BUNDLE = "warehouse-loader.zip"


def code_root(workdir: Path) -> Path:
    """Where extract.py and loader.py are: the bundle Glue copied into the working directory, unpacked, or
    (run from a checkout) the repository."""
    bundle = workdir / BUNDLE
    if not bundle.exists():
        return Path(__file__).resolve().parents[2]
    target = Path(tempfile.mkdtemp(prefix="warehouse-loader-"))
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(target)
    return target


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="warehouse-loader-job", description=__doc__.split("\n\n")[0])
    for name in ("athena_workgroup", "curated_database", "extract_prefix"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--run_id", help="names the extract's prefix (default: Glue's JOB_RUN_ID)")
    parser.add_argument("--JOB_RUN_ID", default=None)
    parser.add_argument("--db_host", help="RDS endpoint: log in with IAM authentication (else WAREHOUSE_DSN)")
    parser.add_argument("--db_port", default="5432")
    parser.add_argument("--db_name", default="warehouse")
    parser.add_argument("--db_user", default="warehouse_loader_iam")
    # Glue adds its own arguments (--JOB_ID, --JOB_NAME, --TempDir, --enable-metrics, ...): not ours to judge.
    args, _ = parser.parse_known_args(argv)
    if not args.extract_prefix.startswith("s3://") or not args.extract_prefix.endswith("/"):
        parser.error(f"--extract_prefix {args.extract_prefix!r}: use s3://<curated bucket>/<prefix>/")
    args.run_id = args.run_id or args.JOB_RUN_ID
    if not args.run_id:
        parser.error("--run_id (or Glue's --JOB_RUN_ID) names the extract's prefix; neither was given")
    return args


def connection_environment(args: argparse.Namespace) -> dict[str, str]:
    """The loader's connection settings as tools/warehouse reads them (loader.conninfo_from_environment)."""
    if not args.db_host:
        return {}
    return {
        "WAREHOUSE_IAM_HOST": args.db_host,
        "WAREHOUSE_IAM_PORT": args.db_port,
        "WAREHOUSE_IAM_DATABASE": args.db_name,
        "WAREHOUSE_IAM_USER": args.db_user,
    }


def main(argv: list[str] | None = None, workdir: Path | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    root = code_root(workdir or Path.cwd())
    sys.path[:0] = [
        str(root / "tools" / "warehouse"),
        *([str(root / "site")] if (root / "site").is_dir() else []),
    ]
    import boto3
    import psycopg

    from extract import ExtractError, run_unloads
    from loader import ConnectionSettingsError, LoadError, conninfo_from_environment, load

    prefix = f"{args.extract_prefix}{args.run_id}/"
    print(f"psycopg {psycopg.__version__} ({psycopg.pq.__impl__} libpq) from {Path(psycopg.__file__).parent}")
    started = time.monotonic()
    try:
        conninfo = conninfo_from_environment({**os.environ, **connection_environment(args)})
        tables = run_unloads(
            boto3.client("athena"), boto3.client("s3"), args.athena_workgroup, args.curated_database, prefix
        )
        print(f"unloaded {len(tables)} queries to {prefix} ({time.monotonic() - started:.1f} s)")
        report = load(conninfo, tables, source=prefix, progress=print)
    except ConnectionSettingsError as e:
        print(f"warehouse loader: error: {e}", file=sys.stderr)
        return 2
    except (ExtractError, LoadError, psycopg.Error) as e:
        print(f"warehouse loader: error: {e}", file=sys.stderr)
        return 1
    print(
        f"load {report.load_id}: {report.payments} payments, ${report.total_usd}, reconciled and swapped in"
        f" ({time.monotonic() - started:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
