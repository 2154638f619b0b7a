"""The CMS material the tests read from outside the project: ../shared/open-payments next to the checkout, or
$LAKE_SHARED_DIR/open-payments. `make test` checks it first (scripts/check-test-prereqs.sh); run directly, a
missing folder fails at import with the same advice instead of a file-not-found inside a test."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OPEN_PAYMENTS = (REPO / os.environ.get("LAKE_SHARED_DIR", "../shared")).resolve() / "open-payments"

if not OPEN_PAYMENTS.is_dir():
    raise FileNotFoundError(
        f"test data missing: {OPEN_PAYMENTS} does not exist. The tests read CMS layouts and real CMS files "
        "from ../shared/open-payments next to the checkout; put it there or set LAKE_SHARED_DIR "
        "(scripts/check-test-prereqs.sh lists what is needed)."
    )
