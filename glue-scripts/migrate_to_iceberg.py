"""Convert a local Parquet curated zone to Iceberg tables in a local Hadoop catalog (docs/lakehouse.md).

    .venv/bin/python glue-scripts/migrate_to_iceberg.py --curated-path <curated zone> --warehouse <dir>
        [--namespace lake.curated] [--datasets general,research,ownership]

Prints one line per table (rows and amount per program year, verified equal); exit 1 on a mismatch, leaving
the Parquet zone as it was.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from open_payments_lake import iceberg
from open_payments_lake.session import local_session
from open_payments_lake.spec import load_spec


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--curated-path", required=True, help="the Parquet curated zone (<dataset>/program_year=)"
    )
    parser.add_argument("--warehouse", required=True, help="the Hadoop catalog's warehouse folder")
    parser.add_argument("--namespace", default="lake.curated", help="<spark catalog>.<database>")
    parser.add_argument("--datasets", default="all", help="all or a comma list of curated datasets")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    spec = load_spec()
    datasets = [
        d for d in spec.curated_datasets if args.datasets == "all" or d.name in args.datasets.split(",")
    ]
    catalog = iceberg.Namespace.parse(args.namespace).catalog
    spark = local_session("open-payments-migrate", driver_memory="2g", iceberg=True)
    iceberg.use_hadoop_catalog(spark, catalog, args.warehouse)
    try:
        for result in iceberg.migrate_parquet(spark, args.curated_path, args.namespace, datasets):
            print(json.dumps(result))
    except iceberg.MigrationMismatch as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
