"""Convert a local Parquet curated zone to Iceberg tables in a local Hadoop catalog (docs/lakehouse.md).

    .venv/bin/python glue-scripts/migrate_to_iceberg.py --curated-path <curated zone> --warehouse <dir>
        [--namespace lake.curated] [--datasets general,research,ownership]

Prints one JSON line per table (rows and amount per program year, verified equal, and the tags); exit 1 on a
mismatch, leaving the Parquet zone as it was; 2 on an unknown dataset.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from pyspark.sql import SparkSession

from open_payments_lake import iceberg
from open_payments_lake.session import local_session
from open_payments_lake.spec import load_spec


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--curated-path", required=True, help="the Parquet curated zone (<dataset>/program_year=)"
    )
    parser.add_argument("--warehouse", required=True, help="the Hadoop catalog's warehouse folder")
    parser.add_argument("--namespace", default="lake.curated", help="<spark catalog>.<database>")
    parser.add_argument("--datasets", default="all", help="all or a comma list of curated datasets")
    return parser.parse_args(argv)


def run(spark: SparkSession, args: argparse.Namespace) -> int:
    """The migration on a session with the Iceberg runtime; prints one JSON line per table."""
    spec = load_spec()
    names = {d.name for d in spec.curated_datasets}
    wanted = names if args.datasets == "all" else set(args.datasets.split(","))
    if wanted - names:
        print(
            f"error: --datasets: unknown {sorted(wanted - names)}; expected some of {sorted(names)}",
            file=sys.stderr,
        )
        return 2
    iceberg.use_hadoop_catalog(spark, iceberg.Namespace.parse(args.namespace).catalog, args.warehouse)
    datasets = [d for d in spec.curated_datasets if d.name in wanted]
    try:
        for result in iceberg.migrate_parquet(spark, args.curated_path, args.namespace, datasets):
            print(json.dumps(result))
    except iceberg.MigrationMismatch as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    spark = local_session("open-payments-migrate", driver_memory="2g", iceberg=True)
    try:
        return run(spark, args)
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main())
