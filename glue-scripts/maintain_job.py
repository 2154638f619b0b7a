"""Glue job `maintain` (curated Iceberg tables only): compaction and snapshot expiry. Thin shell."""

import logging

from open_payments_lake.arguments import resolve
from open_payments_lake.iceberg import MAINTAIN_ARGUMENTS, MaintainOptions, maintain_namespace
from open_payments_lake.session import build_session
from open_payments_lake.spec import load_spec

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    options = MaintainOptions.from_arguments(resolve(MAINTAIN_ARGUMENTS))
    tables = [d.curated_table for d in load_spec().curated_datasets]
    maintain_namespace(build_session("open-payments-maintain"), options, tables)
