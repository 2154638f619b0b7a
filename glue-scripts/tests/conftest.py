"""One local SparkSession for the whole test run (JVM start-up is the expensive part)."""

from __future__ import annotations

import pytest

from open_payments_lake.session import local_session


@pytest.fixture(scope="session")
def spark():
    # With the Iceberg runtime loaded, so the Iceberg tests share this JVM (catalogs are runtime settings).
    session = local_session("open-payments-lake-tests", driver_memory="1536m", iceberg=True)
    yield session
    session.stop()
