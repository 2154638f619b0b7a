"""Data-quality rules over curated rows: per program year, the number of rows violating each rule.

Rules come from the CMS README's checks. Violations are counted (rows stay); --max_rule_violation_ratio fails
the job when violations / rows exceeds it for any rule, dataset and year.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from .spec import Dataset

# US states, DC, territories and military post codes (CMS lists all of them as recipient states).
STATE_CODES = [
    "AL",
    "AK",
    "AZ",
    "AR",
    "CA",
    "CO",
    "CT",
    "DE",
    "FL",
    "GA",
    "HI",
    "ID",
    "IL",
    "IN",
    "IA",
    "KS",
    "KY",
    "LA",
    "ME",
    "MD",
    "MA",
    "MI",
    "MN",
    "MS",
    "MO",
    "MT",
    "NE",
    "NV",
    "NH",
    "NJ",
    "NM",
    "NY",
    "NC",
    "ND",
    "OH",
    "OK",
    "OR",
    "PA",
    "RI",
    "SC",
    "SD",
    "TN",
    "TX",
    "UT",
    "VT",
    "VA",
    "WA",
    "WV",
    "WI",
    "WY",
    "DC",
    "AS",
    "GU",
    "MP",
    "PR",
    "VI",
    "UM",
    "FM",
    "MH",
    "PW",
    "AA",
    "AE",
    "AP",
]


def row_rules(dataset: Dataset) -> dict[str, Column]:
    """Rules decidable row by row: name -> condition that is true when the row violates the rule."""
    key = F.col(dataset.record_key)
    rules = {
        "record_id_not_null": key.isNull(),
        "program_year_matches_partition": F.col("program_year")
        != F.regexp_extract(F.col("source_object"), r"program_year=([0-9]{4})", 1).cast("int"),
        "state_code_valid": F.col("recipient_state").isNotNull()
        & ~F.col("recipient_state").isin(*STATE_CODES),
    }
    if dataset.amount_column:
        amount = F.col(dataset.amount_column)
        if dataset.payment_date_column:
            rules["amount_positive"] = amount.isNull() | (amount <= 0)
        else:
            # Ownership: an interest may be held without money invested (0.00 is common), never negative.
            rules["amount_not_negative"] = amount.isNull() | (amount < 0)
    if dataset.payment_date_column:
        rules["payment_date_in_program_year"] = F.year(F.col(dataset.payment_date_column)) != F.col(
            "program_year"
        )
    return rules


def rule_counts(rows: DataFrame, dataset: Dataset) -> dict[int, dict[str, int]]:
    """{program_year: {"rows": n, rule: violations}} for every rule (row, per-file and uniqueness rules).

    One aggregation: the rows are not cached, so each Spark action recomputes the whole curate lineage. A
    rollup over (year, file, publication date) gives the per-year counts and, at its finest level, the rows
    per publication date of each file that the per-file rule needs.
    """
    rules = row_rules(dataset)
    aggregates = [
        F.count(F.lit(1)).alias("rows"),
        *(F.sum(F.when(condition, 1).otherwise(0)).alias(name) for name, condition in rules.items()),
        F.countDistinct(F.col(dataset.record_key)).alias("_distinct_keys"),
        F.grouping_id().alias("_level"),
    ]
    grouped = rows.rollup("program_year", "source_object", "payment_publication_date").agg(*aggregates)
    # grouping_id: 0 = (year, file, date), 3 = (year); the (year, file) and grand-total levels are not used.
    result: dict[int, dict[str, int]] = {}
    per_date: list[tuple[int, str, int]] = []
    for row in grouped.where(F.col("_level").isin(0, 3)).collect():
        counts = row.asDict()
        year = counts["program_year"]
        if counts["_level"] == 0:
            per_date.append((year, counts["source_object"], counts["rows"]))
            continue
        result[year] = {"rows": counts["rows"], **{name: int(counts[name] or 0) for name in rules}}
        result[year]["record_id_unique"] = counts["rows"] - counts["_distinct_keys"]
    for year, violations in publication_date_violations(per_date).items():
        result.setdefault(year, {"rows": 0})["publication_date_constant_per_file"] = violations
    for counts in result.values():
        counts.setdefault("publication_date_constant_per_file", 0)
    return result


def publication_date_violations(per_date: list[tuple[int, str, int]]) -> dict[int, int]:
    """Per year, the rows whose Payment_Publication_Date differs from the most common one of their file,
    from (year, file, rows with one publication date) counts."""
    per_file: dict[tuple[int, str], list[int]] = {}
    for year, source, count in per_date:
        per_file.setdefault((year, source), []).append(count)
    violations: dict[int, int] = {}
    for (year, _), counts in per_file.items():
        violations[year] = violations.get(year, 0) + sum(counts) - max(counts)
    return violations


def threshold_failures(dataset: str, counts: dict[int, dict[str, int]], max_ratio: float) -> list[str]:
    failures = []
    for year, rules in sorted(counts.items()):
        rows = rules["rows"]
        for name, violations in sorted(rules.items()):
            if name != "rows" and rows and violations / rows > max_ratio:
                failures.append(
                    f"{dataset} {year}: rule {name} violated by {violations} of {rows} rows "
                    f"({violations / rows:.2%}) > --max_rule_violation_ratio {max_ratio}"
                )
    return failures
