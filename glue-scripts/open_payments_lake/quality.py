"""Data-quality rules over curated rows: per program year, the number of rows violating each rule.

Rules come from the CMS README's checks. Violations are counted (rows stay); --max_rule_violation_ratio
fails the job when violations / rows exceeds it for any rule, dataset and year. The same rules, as Spark SQL,
are the Glue Data Quality rulesets on the curated tables: `python -m open_payments_lake.quality --write`
renders them to glue-scripts/quality-rules.json (`--check`: exit 1 when it differs), which modules/quality
turns into DQDL.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

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


def row_rule_predicates(dataset: Dataset) -> dict[str, str]:
    """Rules decidable row by row: name -> Spark SQL condition that is true when the row violates the rule.

    SQL text, not Column objects, so the same conditions are the Glue Data Quality rulesets' (DQDL CustomSql,
    Spark SQL too): `python -m open_payments_lake.quality --write` renders them (see dqdl_metrics).
    """
    key = f"`{dataset.record_key}`"
    states = ", ".join(f"'{code}'" for code in STATE_CODES)
    rules = {
        "record_id_not_null": f"{key} IS NULL",
        "program_year_matches_partition": (
            "program_year <> CAST(regexp_extract(source_object, 'program_year=([0-9]{4})', 1) AS INT)"
        ),
        "state_code_valid": f"recipient_state IS NOT NULL AND recipient_state NOT IN ({states})",
    }
    if dataset.amount_column:
        amount = f"`{dataset.amount_column}`"
        if dataset.payment_date_column:
            rules["amount_positive"] = f"{amount} IS NULL OR {amount} <= 0"
        else:
            # Ownership: an interest may be held without money invested (0.00 is common), never negative.
            rules["amount_not_negative"] = f"{amount} IS NULL OR {amount} < 0"
    if dataset.payment_date_column:
        rules["payment_date_in_program_year"] = f"year(`{dataset.payment_date_column}`) <> program_year"
    return rules


def row_rules(dataset: Dataset) -> dict[str, Column]:
    """row_rule_predicates as Spark columns."""
    return {name: F.expr(condition) for name, condition in row_rule_predicates(dataset).items()}


def dqdl_metrics(dataset: Dataset, table: str = "primary") -> dict[str, str]:
    """Every rule the job counts, as one Spark SQL query giving violations / rows over `table` (Glue Data
    Quality's CustomSql names the evaluated table `primary`). The job counts per program year; a ruleset
    evaluates the whole table, with the same threshold."""
    ratio = "CAST({violations} AS DOUBLE) / COUNT(*)"
    metrics = {
        name: f"SELECT {ratio.format(violations=f'SUM(CASE WHEN {cond} THEN 1 ELSE 0 END)')} FROM {table}"
        for name, cond in row_rule_predicates(dataset).items()
    }
    key = f"`{dataset.record_key}`"
    metrics["record_id_unique"] = (
        f"SELECT {ratio.format(violations=f'(COUNT(*) - COUNT(DISTINCT program_year, {key}))')} FROM {table}"
    )
    metrics["publication_date_constant_per_file"] = (
        f"SELECT CAST(COALESCE(SUM(n - top), 0) AS DOUBLE) / (SELECT COUNT(*) FROM {table}) FROM "
        "(SELECT source_object, SUM(c) AS n, MAX(c) AS top FROM "
        f"(SELECT source_object, payment_publication_date, COUNT(*) AS c FROM {table} "
        "GROUP BY source_object, payment_publication_date) GROUP BY source_object)"
    )
    return dict(sorted(metrics.items()))


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


RULES_FILE = Path(__file__).resolve().parents[1] / "quality-rules.json"


def rules_document() -> dict:
    """{curated table: {rule: metric SQL}} for every curated dataset: what modules/quality deploys."""
    from .spec import load_spec

    return {
        "$comment": "Generated by `python -m open_payments_lake.quality --write` (quality.py); do not edit.",
        "tables": {d.curated_table: dqdl_metrics(d) for d in load_spec().curated_datasets},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render the data-quality rules for Glue Data Quality")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help=f"write {RULES_FILE.name}")
    mode.add_argument("--check", action="store_true", help=f"exit 1 when {RULES_FILE.name} is not current")
    args = parser.parse_args(argv)
    text = json.dumps(rules_document(), indent=2) + "\n"
    if args.write:
        RULES_FILE.write_text(text, encoding="utf-8")
        return 0
    if not RULES_FILE.is_file() or RULES_FILE.read_text(encoding="utf-8") != text:
        print(
            f"{RULES_FILE} is not current: run python -m open_payments_lake.quality --write", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
