"""Data quality as code: the Glue Data Quality rules (glue-scripts/quality-rules.json, rendered into DQDL by
modules/quality) are generated from the rules the curate job counts, and give the same figures: each rule's
metric SQL, run by Spark over the rows as `primary` (Glue's name for the evaluated table), equals the job's
violations / rows for the same rows (two program years, every rule violated at least once)."""

from __future__ import annotations

import json

import pytest
from rule_rows import RULE_ROWS, RULE_SCHEMA

from open_payments_lake import quality
from open_payments_lake.spec import load_spec


def test_the_rules_file_is_generated_from_the_jobs_rules():
    assert quality.main(["--check"]) == 0
    document = json.loads(quality.RULES_FILE.read_text(encoding="utf-8"))
    spec = load_spec()
    assert set(document["tables"]) == {d.curated_table for d in spec.curated_datasets}
    for dataset in spec.curated_datasets:
        counted = set(quality.row_rule_predicates(dataset)) | {
            "record_id_unique",
            "publication_date_constant_per_file",
        }
        assert set(document["tables"][dataset.curated_table]) == counted, dataset.name


@pytest.mark.parametrize("dataset_name", ["general", "ownership"])
def test_each_ruleset_metric_equals_the_jobs_count(spark, dataset_name):
    dataset = load_spec().dataset(dataset_name)
    rows = spark.createDataFrame(RULE_ROWS, RULE_SCHEMA)
    if dataset_name == "ownership":
        rows = rows.withColumnRenamed("total_amount_of_payment_usdollars", dataset.amount_column)
    counts = quality.rule_counts(rows, dataset)
    total = sum(c["rows"] for c in counts.values())
    rows.createOrReplaceTempView("primary")
    try:
        metrics = json.loads(quality.RULES_FILE.read_text(encoding="utf-8"))["tables"][dataset.curated_table]
        measured = {name: spark.sql(sql).collect()[0][0] for name, sql in metrics.items()}
    finally:
        spark.catalog.dropTempView("primary")
    expected = {name: sum(c[name] for c in counts.values()) / total for name in metrics}
    assert measured == pytest.approx(expected)
    assert all(expected.values()), f"every rule must be violated by the test rows: {expected}"
