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
    """{program_year: {"rows": n, rule: violations}} for every rule (row, per-file and uniqueness rules)."""
    rules = row_rules(dataset)
    aggregates = [F.count(F.lit(1)).alias("rows")]
    aggregates += [F.sum(F.when(condition, 1).otherwise(0)).alias(name) for name, condition in rules.items()]
    aggregates.append(
        (F.count(F.lit(1)) - F.countDistinct(F.col(dataset.record_key))).alias("record_id_unique")
    )
    result: dict[int, dict[str, int]] = {}
    for row in rows.groupBy("program_year").agg(*aggregates).collect():
        counts = row.asDict()
        year = counts.pop("program_year")
        result[year] = {k: int(v or 0) for k, v in counts.items()}
    for year, violations in publication_date_violations(rows).items():
        result.setdefault(year, {"rows": 0})["publication_date_constant_per_file"] = violations
    for counts in result.values():
        counts.setdefault("publication_date_constant_per_file", 0)
    return result


def publication_date_violations(rows: DataFrame) -> dict[int, int]:
    """Rows whose Payment_Publication_Date differs from the most common one of their source file."""
    per_value = rows.groupBy("program_year", "source_object", "payment_publication_date").count()
    per_file = per_value.groupBy("program_year", "source_object").agg(
        (F.sum("count") - F.max("count")).alias("violations")
    )
    return {
        r["program_year"]: int(r["violations"])
        for r in per_file.groupBy("program_year").agg(F.sum("violations").alias("violations")).collect()
    }


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
