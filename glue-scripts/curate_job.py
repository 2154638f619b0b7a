"""Glue job `curate` (cleaned -> curated). Thin shell: arguments, session, then curate_pipeline."""

import logging

from open_payments_lake.arguments import resolve
from open_payments_lake.curate_pipeline import ARGUMENTS, CurateOptions, run_curate
from open_payments_lake.session import build_session
from open_payments_lake.spec import load_spec

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    spec = load_spec()
    options = CurateOptions.from_arguments(resolve(ARGUMENTS), spec)
    run_curate(build_session("open-payments-curate"), options, spec)
