"""Every analyst query of sql/analytics/ runs on the jobs' curated Parquet and equals the answer computed in
plain Python from the generated CSV files (tests/analytics_oracle.py), to the cent."""

from __future__ import annotations

from pathlib import Path

import pytest
from analytics_oracle import EXPECTED, matches

from local_athena import run_query

ANALYTICS = Path(__file__).resolve().parents[3] / "sql" / "analytics"


def test_every_analytics_query_has_an_independent_expectation():
    assert {p.stem for p in ANALYTICS.glob("*.sql")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_analytics_query_matches_python(curated_lake, name):
    result = run_query(
        str(curated_lake["warehouse"]),
        curated_lake["database"],
        (ANALYTICS / f"{name}.sql").read_text(encoding="utf-8"),
    )
    expected = EXPECTED[name](curated_lake["rows"]["general"], curated_lake["rows"]["research"])
    assert expected, f"{name}: the generated lake gives this query nothing to answer"
    assert len(result["rows"]) == len(expected), name
    for position, (want, got) in enumerate(zip(expected, result["rows"], strict=True)):
        assert len(got) == len(want), (name, position)
        mismatched = [(i, w, g) for i, (w, g) in enumerate(zip(want, got, strict=True)) if not matches(w, g)]
        assert not mismatched, f"{name} row {position}: (column, expected, got) {mismatched}\nrow {got}"
