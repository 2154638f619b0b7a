"""One local SparkSession for the whole test run (JVM start-up is the expensive part), and one lake run
through both jobs for the tests that only read it."""

from __future__ import annotations

import pytest
from job_lake import build_lake

from open_payments_lake.session import local_session


@pytest.fixture(scope="session")
def spark():
    # With the Iceberg runtime loaded, so the Iceberg tests share this JVM (catalogs are runtime settings).
    session = local_session("open-payments-lake-tests", driver_memory="1536m", iceberg=True)
    yield session
    session.stop()


@pytest.fixture(scope="session")
def lake(spark, tmp_path_factory):
    """job_lake.build_lake's lake. Shared, so read-only: a test that changes it works on a copy."""
    return build_lake(spark, tmp_path_factory.mktemp("lake"))
