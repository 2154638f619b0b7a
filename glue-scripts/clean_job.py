"""Glue job `clean` (raw -> cleaned). A thin shell: arguments, session, then clean_pipeline."""

import logging

from open_payments_lake.arguments import resolve
from open_payments_lake.clean_pipeline import ARGUMENTS, CleanOptions, run_clean
from open_payments_lake.session import build_session
from open_payments_lake.spec import load_spec

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    spec = load_spec()
    options = CleanOptions.from_arguments(resolve(ARGUMENTS), spec)
    run_clean(build_session("open-payments-clean"), options, spec)
