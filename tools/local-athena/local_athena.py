"""Local Athena: Athena (Trino) SQL on DuckDB over the curated Parquet the Glue jobs write (contract 8).

    .venv/bin/python tools/local-athena/local_athena.py --warehouse <dir | s3://bucket/curated/>
        [--s3-endpoint URL] --database <curated database> (--sql TEXT | --file PATH.sql)
        [--table-format parquet|iceberg [--as-of <publication stamp>]]

Prints one JSON object `{"columns": [{"name", "type"}], "rows": [[...]], "bytesScanned": N}` (decimals, dates
and timestamps as strings, as Athena returns them). Exit 0 on success, 2 on a SQL or engine error (the
engine's message on stderr), 1 when the warehouse cannot be read.

Each curated table (`<database>.<curatedTable>` of datasets/open-payments.json) is a view over
`<warehouse>/<dataset>/program_year=*/*.parquet` with hive partitioning (a table without files is empty, as in
the Glue catalog); `sql/views/*.sql` are created first, in file-name order. The query runs with the curated
database as the default schema, like Athena's QueryExecutionContext.Database.

With `--table-format iceberg` the warehouse is the folder of the curated Iceberg tables (the Hadoop
catalog's `<warehouse>/<database>/`, one folder per table, as `curate --curated_format iceberg` writes them):
pyiceberg reads each table's metadata and plans the data files of its current snapshot, or of the snapshot
tagged with the publication stamp `--as-of` names (Athena: `FOR VERSION AS OF`), and DuckDB reads exactly
those files. The tables are copy-on-write, so they have no delete files (a table with some is refused).

`bytesScanned` is DuckDB's profiler figure `io.total_bytes_read`: the bytes DuckDB read from the Parquet files
for the query (footers and the column chunks of the row groups it did not prune). It is a real columnar read
measure, not Athena's billing figure (no 10 MB minimum, different I/O granularity). For an s3:// warehouse the
objects are first copied whole to a temporary directory (DuckDB's httpfs extension cannot be installed here);
the copy is not counted, the reads from the copy are.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import duckdb
import sqlglot
from sqlglot.errors import SqlglotError

REPO = Path(__file__).resolve().parents[2]
VIEWS_DIR = REPO / "sql" / "views"
sys.path[:0] = [str(Path(__file__).resolve().parent), str(REPO / "glue-scripts")]

from curated_ddl import PARTITION, curated_schema  # noqa: E402
from open_payments_lake.spec import Dataset, load_spec  # noqa: E402  (glue-scripts is not an installed package)

# DuckDB type names that differ from Athena's (DuckDB sums integers into HUGEINT where Trino gives bigint);
# others are the lower-cased DuckDB name.
_ATHENA_TYPES = {"VARCHAR": "varchar", "FLOAT": "real", "HUGEINT": "bigint", "BLOB": "varbinary"}
_DUCKDB_TYPES = {
    "string": "VARCHAR",
    "decimal": "DECIMAL(18,2)",
    "date": "DATE",
    "integer": "INTEGER",
    "boolean": "BOOLEAN",
}


class QueryError(Exception):
    """The SQL does not parse, transpile or execute (exit 2)."""


class WarehouseError(Exception):
    """The warehouse cannot be read (exit 1)."""


def transpile(sql: str) -> str:
    """One Athena (Trino) statement as DuckDB SQL."""
    try:
        statements = [s for s in sqlglot.transpile(sql, read="athena", write="duckdb") if s.strip()]
    except SqlglotError as e:
        raise QueryError(f"not valid Athena SQL: {e}") from e
    if len(statements) != 1:
        raise QueryError(f"expected exactly one SQL statement, got {len(statements)}")
    return statements[0]


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@contextmanager
def local_warehouse(warehouse: str, s3_endpoint: str | None) -> Iterator[Path]:
    """The curated root as a local directory: itself, or a temporary copy of the s3:// prefix."""
    if not warehouse.startswith("s3://"):
        root = Path(warehouse)
        if not root.is_dir():
            raise WarehouseError(f"--warehouse {warehouse}: no such directory (expected the curated root)")
        yield root
        return
    with tempfile.TemporaryDirectory(prefix="local-athena-") as tmp:
        copy_parquet_from_s3(warehouse, s3_endpoint, Path(tmp))
        yield Path(tmp)


def copy_parquet_from_s3(warehouse: str, s3_endpoint: str | None, into: Path) -> None:
    """Download every curated Parquet object (`<prefix><dataset>/program_year=*/...parquet`) under `into`."""
    import boto3  # only needed for s3:// warehouses
    from botocore.exceptions import BotoCoreError, ClientError

    url = urlparse(warehouse)
    prefix = url.path.lstrip("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    try:
        for dataset in load_spec().curated_datasets:
            pages = s3.get_paginator("list_objects_v2").paginate(
                Bucket=url.netloc, Prefix=f"{prefix}{dataset.name}/{PARTITION}="
            )
            for page in pages:
                for obj in page.get("Contents", []):
                    if obj["Key"].endswith(".parquet"):
                        target = into / obj["Key"][len(prefix) :]
                        target.parent.mkdir(parents=True, exist_ok=True)
                        s3.download_file(url.netloc, obj["Key"], str(target))
    except (BotoCoreError, ClientError) as e:
        raise WarehouseError(f"cannot read {warehouse} (endpoint {s3_endpoint or 'AWS default'}): {e}") from e


def table_source(root: Path, dataset: Dataset) -> str:
    """The SELECT behind a curated table: its Parquet files, or an empty relation with its columns."""
    files = f"{root}/{dataset.name}/{PARTITION}=*/*.parquet"
    if any(root.glob(f"{dataset.name}/{PARTITION}=*/*.parquet")):
        return (
            f"SELECT * FROM read_parquet({sql_string(files)}, hive_partitioning = true, "
            f"hive_types = {{'{PARTITION}': INTEGER}}, union_by_name = true)"
        )
    columns = ", ".join(
        f"CAST(NULL AS {_DUCKDB_TYPES[kind]}) AS {quote(name)}" for name, kind in curated_schema(dataset)
    )
    return f"SELECT {columns} WHERE false"


def empty_source(dataset: Dataset) -> str:
    columns = ", ".join(
        f"CAST(NULL AS {_DUCKDB_TYPES[kind]}) AS {quote(name)}" for name, kind in curated_schema(dataset)
    )
    return f"SELECT {columns} WHERE false"


def iceberg_source(root: Path, dataset: Dataset, as_of: str | None) -> str:
    """The SELECT behind a curated Iceberg table: the data files its snapshot (current, or tagged `as_of`)
    lists. Paths in the metadata are absolute; they are taken relative to the table's recorded location, so a
    copied or moved warehouse reads its own files."""
    from pyiceberg.table import StaticTable  # only needed for Iceberg warehouses

    folder = root / dataset.curated_table
    hint = folder / "metadata" / "version-hint.text"
    if not hint.is_file():
        if as_of:
            raise QueryError(f"{dataset.curated_table}: no Iceberg table under {folder}, so no tag {as_of}")
        return empty_source(dataset)
    version = hint.read_text(encoding="utf-8").strip()
    table = StaticTable.from_metadata(str(folder / "metadata" / f"v{version}.metadata.json"))
    ref = as_of or "main"
    if ref not in table.metadata.refs:
        if as_of:
            tags = sorted(r for r in table.metadata.refs if r != "main")
            raise QueryError(f"{dataset.curated_table}: no publication tagged {as_of}; tagged: {tags}")
        return empty_source(dataset)
    location = _local_path(table.metadata.location)
    files = []
    for task in table.scan(snapshot_id=table.metadata.refs[ref].snapshot_id).plan_files():
        if task.delete_files:
            raise WarehouseError(f"{dataset.curated_table}: delete files found; the tables are copy-on-write")
        files.append(str(folder / _local_path(task.file.file_path).relative_to(location)))
    if not files:
        return empty_source(dataset)
    listed = ", ".join(sql_string(f) for f in sorted(files))
    # Typed as the Parquet tables are (the curated schema), whatever physical types the files chose.
    columns = ", ".join(
        f"CAST({quote(name)} AS {_DUCKDB_TYPES[kind]}) AS {quote(name)}"
        for name, kind in curated_schema(dataset)
    )
    return f"SELECT {columns} FROM read_parquet([{listed}], hive_partitioning = false, union_by_name = true)"


def _local_path(uri: str) -> Path:
    parsed = urlparse(uri)
    return Path(unquote(parsed.path) if parsed.scheme in ("file", "") else f"/{parsed.netloc}{parsed.path}")


def connect(
    root: Path, database: str, table_format: str = "parquet", as_of: str | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the curated tables and sql/views in schema `database`, the default schema."""
    if table_format not in ("parquet", "iceberg"):
        raise QueryError(f"--table-format must be parquet or iceberg, got {table_format!r}")
    if as_of and table_format != "iceberg":
        raise QueryError("--as-of reads a tagged publication: only with --table-format iceberg")
    con = duckdb.connect(":memory:")
    # Trino divides integers as integers; DuckDB's default `/` would return a double.
    con.execute("SET integer_division = true")
    con.execute(f"CREATE SCHEMA {quote(database)}")
    con.execute(f"USE {quote(database)}")
    for dataset in load_spec().curated_datasets:
        source = (
            iceberg_source(root, dataset, as_of) if table_format == "iceberg" else table_source(root, dataset)
        )
        con.execute(f"CREATE VIEW {quote(dataset.curated_table)} AS {source}")
    for view in sorted(VIEWS_DIR.glob("*.sql")):
        try:
            con.execute(transpile(view.read_text(encoding="utf-8")))
        except (QueryError, duckdb.Error) as e:
            raise QueryError(f"{view.relative_to(REPO)}: {e}") from e
    return con


def athena_type(duckdb_type: str) -> str:
    return _ATHENA_TYPES.get(duckdb_type, duckdb_type.lower())


def athena_value(value: Any) -> Any:
    """A JSON value as Athena's result set gives it: exact decimals and dates as strings."""
    if isinstance(value, Decimal | dt.date | dt.time | dt.datetime):
        if isinstance(value, dt.datetime):
            return value.isoformat(sep=" ", timespec="milliseconds")
        return str(value)
    if isinstance(value, list | tuple):
        return [athena_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): athena_value(v) for k, v in value.items()}
    return value


def run_query(
    warehouse: str,
    database: str,
    sql: str,
    s3_endpoint: str | None = None,
    table_format: str = "parquet",
    as_of: str | None = None,
) -> dict[str, Any]:
    """Run one Athena statement; returns `{"columns", "rows", "bytesScanned"}` (the CLI's output)."""
    statement = transpile(sql)
    if table_format == "iceberg" and warehouse.startswith("s3://"):
        raise WarehouseError("--table-format iceberg reads a local warehouse folder, not s3://")
    with local_warehouse(warehouse, s3_endpoint) as root:
        con = connect(root, database, table_format, as_of)
        try:
            con.execute("PRAGMA enable_profiling = 'no_output'")
            result = con.execute(statement)
            rows = result.fetchall()
            description = result.description or []
            profile = json.loads(con.get_profiling_information(format="json"))
        except duckdb.Error as e:
            raise QueryError(str(e)) from e
        finally:
            con.close()
    return {
        "columns": [{"name": d[0], "type": athena_type(str(d[1]))} for d in description],
        "rows": [[athena_value(v) for v in row] for row in rows],
        "bytesScanned": int(profile.get("io", {}).get("total_bytes_read", 0)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--warehouse", required=True, help="curated root: a directory or s3://<bucket>/curated/"
    )
    parser.add_argument("--s3-endpoint", help="S3 endpoint URL for an s3:// warehouse (e.g. a local moto)")
    parser.add_argument("--database", required=True, help="curated database name (the default schema)")
    query = parser.add_mutually_exclusive_group(required=True)
    query.add_argument("--sql", help="the Athena SQL text")
    query.add_argument("--file", type=Path, help="a .sql file with the Athena SQL")
    parser.add_argument(
        "--table-format",
        choices=("parquet", "iceberg"),
        default="parquet",
        help="iceberg: --warehouse is the curated Iceberg tables' folder (<catalog warehouse>/<database>/)",
    )
    parser.add_argument("--as-of", help="Iceberg only: read every table as tagged by this publication stamp")
    args = parser.parse_args(argv)
    sql = args.sql if args.sql is not None else args.file.read_text(encoding="utf-8")
    try:
        result = run_query(
            args.warehouse, args.database, sql, args.s3_endpoint, args.table_format, args.as_of
        )
    except QueryError as e:
        print(str(e), file=sys.stderr)
        return 2
    except WarehouseError as e:
        print(str(e), file=sys.stderr)
        return 1
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
