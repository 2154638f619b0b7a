"""Runs many smoke queries in one process on the local Athena engine (tools/local-athena).

    .venv/bin/python tools/smoke/local_worker.py --warehouse <dir | s3://bucket/curated/> \
        [--s3-endpoint URL] --database <curated database>

Reads one JSON request per stdin line, `{"id": N, "sql": "..."}`, and answers each with one stdout line:
`{"id": N, "result": {"columns", "rows", "bytesScanned"}}`, or `{"id": N, "error": "<engine message>"}` for a
query the engine rejects (what the engine's CLI reports with exit 2). One process instead of one per check
saves the interpreter and DuckDB start-up per query, and an s3:// warehouse is copied once per run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools" / "local-athena"))

from local_athena import QueryError, WarehouseError, local_warehouse, run_query


def serve(warehouse: str, s3_endpoint: str | None, database: str) -> int:
    with local_warehouse(warehouse, s3_endpoint) as root:
        for line in sys.stdin:
            if not line.strip():
                continue
            request = json.loads(line)
            try:
                answer = {"id": request["id"], "result": run_query(str(root), database, request["sql"])}
            except QueryError as e:
                answer = {"id": request["id"], "error": str(e)}
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", required=True)
    parser.add_argument("--s3-endpoint")
    parser.add_argument("--database", required=True)
    args = parser.parse_args(argv)
    try:
        return serve(args.warehouse, args.s3_endpoint, args.database)
    except WarehouseError as e:
        print(str(e), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
