"""One local SparkSession for the whole test run (JVM start-up is the expensive part)."""

from __future__ import annotations

import pytest

from open_payments_lake.session import local_session


@pytest.fixture(scope="session")
def spark():
    session = local_session("open-payments-lake-tests")
    yield session
    session.stop()
