"""Each transform on tiny DataFrames (one shared local SparkSession)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pyspark.sql import functions as F
from rule_rows import RULE_ROWS, RULE_SCHEMA

from open_payments_lake import curate_transforms
from open_payments_lake.clean_transforms import (
    clean_text,
    has_leading_quote_or_tab,
    is_spreadsheet_error_sql,
    typed_value,
)
from open_payments_lake.curate_transforms import (
    duplicated_keys,
    mark_removed,
    normalize_manufacturer,
    publication_rank,
    resolve_duplicates,
    top_level_specialty,
)
from open_payments_lake.quality import row_rules, rule_counts
from open_payments_lake.session import CLEAN_CONF, job_settings
from open_payments_lake.spec import load_spec


def values(spark, texts, expression):
    df = spark.createDataFrame([(t,) for t in texts], "v string")
    return [r[0] for r in df.select(expression(F.col("v"))).collect()]


def test_clean_text_trims_strips_leading_quote_and_tab_and_nulls_empty(spark):
    texts = [
        "  a b ",
        "'06460",
        "\tTulsa",
        "",
        "   ",
        None,
        "O'Neil",
        " ' x\r\n",
        "\x0b\fx\v",
        "!a'",
        "''a\t",
        "\x01a",
        "é ",
        "a \u00a0",
        "Wolf",
        "fish",
        "x\f",
        "y\r",
    ]
    assert values(spark, texts, lambda _: clean_text("v")) == [
        "a b",
        "06460",
        "Tulsa",
        None,
        None,
        None,
        "O'Neil",
        "x",
        "x",
        "!a'",
        "a",
        "\x01a",
        "é",
        "a \u00a0",
        "Wolf",  # a letter f is not a form feed
        "fish",
        "x",
        "y",
    ]
    assert values(spark, texts, lambda _: has_leading_quote_or_tab("v")) == [
        False,
        True,
        True,
        False,
        False,
        None,
        False,
        True,
        False,
        False,
        True,
        False,
        False,
        False,
        False,
        False,
        False,
        False,
    ]


def test_clean_job_tests_spreadsheet_errors_with_one_set_lookup(spark):
    """The clean job's settings turn the seven-literal `IN` into one hash-set lookup (smaller generated code,
    session.CLEAN_CONF), with the same answers, null included."""
    texts = ["#N/A", "#NUM!", "#n/a", " #N/A", "x", None]
    expression = F.expr(is_spreadsheet_error_sql("v"))
    df = spark.createDataFrame([(t,) for t in texts], "v string").select(expression.alias("error"))
    with job_settings(spark, CLEAN_CONF):
        assert " INSET " in df._jdf.queryExecution().optimizedPlan().toString()
        assert [r[0] for r in df.collect()] == [True, True, False, False, False, None]


@pytest.mark.parametrize(
    ("kind", "texts", "expected"),
    [
        (
            "decimal",
            [
                "13.78",
                "32500.00",
                "400000000.00",
                "0.5",
                "1.234",
                "$5.00",
                "1,000.00",
                "#N/A",
                "99999999999999999",
            ],
            [
                Decimal("13.78"),
                Decimal("32500.00"),
                Decimal("400000000.00"),
                Decimal("0.50"),
                None,
                None,
                None,
                None,
                None,
            ],
        ),
        (
            "date",
            ["02/12/2016", "02/30/2016", "2/12/2016", "2016-02-12", "12/31/2023"],
            [date(2016, 2, 12), None, None, None, date(2023, 12, 31)],
        ),
        ("integer", ["1", "2023", "1.0", "12345678901"], [1, 2023, None, None]),
        ("boolean", ["Yes", "No", "yes", "Y", "maybe"], [True, False, True, None, None]),
        ("string", ["06460-2574", "#REF!", "#N/A"], ["06460-2574", None, None]),
    ],
)
def test_typed_values(spark, kind, texts, expected):
    assert values(spark, texts, lambda _: typed_value("v", kind)) == expected


def test_manufacturer_names_are_normalized(spark):
    names = [
        "Xhale, Inc.",
        "Johnson & Johnson Health Care Systems Inc.",
        " Stryker Corporation",
        "Medtronic USA, Inc.",
        "3M Co",
    ]
    assert values(spark, names, normalize_manufacturer) == [
        "XHALE",
        "JOHNSON JOHNSON HEALTH CARE SYSTEMS",
        "STRYKER",
        "MEDTRONIC",
        "3M",
    ]


def test_top_level_specialty(spark):
    got = values(
        spark,
        ["Allopathic & Osteopathic Physicians|Radiology|Diagnostic Radiology", "Dentist", None],
        top_level_specialty,
    )
    assert got == ["Allopathic & Osteopathic Physicians", "Dentist", None]


@pytest.mark.parametrize("broadcast_limit", [1_000_000, 0], ids=["broadcast keys", "planner join"])
def test_duplicates_resolve_by_publication_then_change_type_then_source(spark, monkeypatch, broadcast_limit):
    monkeypatch.setattr(curate_transforms, "BROADCAST_DUPLICATE_KEYS", broadcast_limit)
    general = load_spec().dataset("general")
    columns = [c for c in general.column_names if c not in ("record_id", "change_type", "program_year")]
    rows = [
        ("1", "UNCHANGED", 2023, "raw/a", 1),
        ("1", "CHANGED", 2023, "raw/b", 1),  # CHANGED beats UNCHANGED
        ("2", "CHANGED", 2023, "raw/a", 0),
        ("2", "UNCHANGED", 2023, "raw/c", 1),  # later publication beats Change_Type
        ("3", "NEW", 2023, "raw/b", 1),
        ("3", "NEW", 2023, "raw/a", 1),  # lowest source object
        ("3", "NEW", 2022, "raw/z", 1),  # another program year: its own record
    ]
    df = spark.createDataFrame(
        rows, "record_id string, change_type string, program_year int, source_object string, _pub_rank int"
    )
    df = df.select("*", *[F.lit(None).cast("string").alias(c) for c in columns])
    held_before = _persisted_rdds(spark)
    with duplicated_keys(df, general) as duplicated:
        assert _persisted_rdds(spark) == held_before + 1  # the keys are computed once and held
        got = sorted(
            (r["program_year"], r["record_id"], r["source_object"])
            for r in resolve_duplicates(df, general, duplicated).collect()
        )
    assert _persisted_rdds(spark) == held_before  # and released with the block
    assert got == [(2022, "3", "raw/z"), (2023, "1", "raw/b"), (2023, "2", "raw/c"), (2023, "3", "raw/a")]
    shuffled = df.orderBy(F.rand(seed=3)).repartition(3)
    with duplicated_keys(shuffled, general) as duplicated:
        resolved = resolve_duplicates(shuffled, general, duplicated).collect()
    assert sorted(r["source_object"] for r in resolved) == sorted(x[2] for x in got)


def test_duplicated_keys_are_held_in_one_partition_per_core_whatever_the_shuffle_partitions(spark):
    general = load_spec().dataset("general")
    keys = [("1", 2023), ("1", 2023), ("2", 2023), ("3", 2023), ("3", 2023)]
    df = spark.createDataFrame(keys, "record_id string, program_year int")
    many_shuffle_partitions = {"spark.sql.shuffle.partitions": "50"}
    with job_settings(spark, many_shuffle_partitions), duplicated_keys(df, general) as duplicated:
        assert duplicated.rdd.getNumPartitions() == spark.sparkContext.defaultParallelism
        assert sorted(r["record_id"] for r in duplicated.collect()) == ["1", "3"]


def test_removed_records_apply_to_same_or_earlier_publications_only(spark):
    rank = publication_rank({"P06302023", "P01302025_01212025", "P01182024"})
    stamps = spark.createDataFrame(
        [("P01182024",), ("P06302023",), ("P01302025_01212025",), ("P1",)], ["publication_stamp"]
    )
    ranked = stamps.select("publication_stamp", rank).orderBy("publication_stamp")
    assert [tuple(r) for r in ranked.collect()] == [
        ("P01182024", 1),
        ("P01302025_01212025", 2),
        ("P06302023", 0),
        ("P1", None),
    ]
    assert [tuple(r) for r in stamps.select(publication_rank(set())).distinct().collect()] == [(None,)]
    rows = spark.createDataFrame(
        [("1", 2023, 1), ("2", 2023, 1), ("3", 2023, 2), ("1", 2022, 1)],
        "record_id string, program_year int, _pub_rank int",
    )
    removed = spark.createDataFrame(
        [("1", 2023, "P01182024"), ("3", 2023, "P01182024")],
        "record_id string, program_year int, publication_stamp string",
    )
    marked = {
        (r["program_year"], r["record_id"]): r["_removed"]
        for r in mark_removed(rows, removed, rank).collect()
    }
    # 3 was re-published after its removal; 1 of 2022 is another year's record.
    assert marked == {(2023, "1"): True, (2023, "2"): False, (2023, "3"): False, (2022, "1"): False}
    assert mark_removed(rows, None, rank).where("_removed").count() == 0


def test_ranking_by_publication_runs_no_python_in_the_curate_plan(spark):
    # Inputs made in the JVM (the jobs read Parquet): whatever Python data the ranking added would show as an
    # RDD scan, which each query over the curate lineage would run as Python tasks.
    rows = spark.sql(
        "SELECT * FROM VALUES ('1', 2023, 'P06302023') AS t(record_id, program_year, publication_stamp)"
    )
    rank = publication_rank({"P06302023", "P01182024"})
    marked = mark_removed(rows.withColumn("_pub_rank", rank), rows, rank)
    plan = marked._jdf.queryExecution().executedPlan().toString()
    assert "LocalTableScan" in plan and "RDD" not in plan and "Python" not in plan
    assert [r["_removed"] for r in marked.collect()] == [True]


def test_quality_rules_flag_each_violation(spark):
    general = load_spec().dataset("general")
    df = spark.createDataFrame(RULE_ROWS[:3], RULE_SCHEMA)
    rules = row_rules(general)
    flagged = {
        name: [r[0] for r in df.select(F.when(c, 1).otherwise(0)).collect()] for name, c in rules.items()
    }
    assert flagged == {
        "record_id_not_null": [0, 1, 0],
        "program_year_matches_partition": [0, 1, 0],
        "state_code_valid": [0, 1, 0],
        "amount_positive": [0, 1, 1],
        "payment_date_in_program_year": [0, 1, 0],
    }
    # Rows 1 and 3 share a file with two publication dates; the null key counts as not unique.
    assert rule_counts(df, general) == {
        2023: {
            "rows": 3,
            "record_id_not_null": 1,
            "program_year_matches_partition": 1,
            "state_code_valid": 1,
            "amount_positive": 2,
            "payment_date_in_program_year": 1,
            "record_id_unique": 1,
            "publication_date_constant_per_file": 1,
        }
    }


def test_rule_counts_per_year_equal_a_plain_python_count(spark):
    """The single rollup pass against counting each rule row by row, over two years and several files."""
    general = load_spec().dataset("general")
    rows = []
    for i in range(60):
        year = 2022 + i % 2
        file = f"raw/general/program_year={year if i % 7 else year - 1}/part-{i % 3}"
        published = date(2025, 1, 30) if i % 5 else date(2025, 6, 30)
        key = None if i % 11 == 0 else str(i % 25)
        amount = Decimal(i % 4 - 1)
        paid = date(year if i % 9 else year - 1, 3, 1)
        rows.append((key, year, file, "CA" if i % 13 else "ZZ", amount, paid, published))
    df = spark.createDataFrame(rows, RULE_SCHEMA)
    expected: dict[int, dict[str, int]] = {}
    for key, year, file, state, amount, paid, _published in rows:
        counts = expected.setdefault(year, dict.fromkeys(["rows", *row_rules(general)], 0))
        counts["rows"] += 1
        counts["record_id_not_null"] += key is None
        counts["program_year_matches_partition"] += f"program_year={year}/" not in file
        counts["state_code_valid"] += state == "ZZ"
        counts["amount_positive"] += amount <= 0
        counts["payment_date_in_program_year"] += paid.year != year
    for year, counts in expected.items():
        keys = [r[0] for r in rows if r[1] == year]
        counts["record_id_unique"] = len(keys) - len({k for k in keys if k is not None})
        per_file: dict[str, list] = {}
        for r in rows:
            if r[1] == year:
                per_file.setdefault(r[2], []).append(r[6])
        counts["publication_date_constant_per_file"] = sum(
            len(dates) - max(dates.count(d) for d in dates) for dates in per_file.values()
        )
    assert rule_counts(df, general) == expected


def _persisted_rdds(spark) -> int:
    return spark.sparkContext._jsc.sc().getPersistentRDDs().size()


def test_job_settings_hold_inside_the_job_and_are_restored_after_it_even_on_failure(spark):
    key, absent = "spark.sql.codegen.maxFields", "spark.openpaymentslake.test.absent"
    before = spark.conf.get(key)
    with pytest.raises(RuntimeError), job_settings(spark, {key: "7", absent: "x"}):
        assert (spark.conf.get(key), spark.conf.get(absent)) == ("7", "x")
        raise RuntimeError("the job failed")
    assert spark.conf.get(key) == before
    assert spark.conf.get(absent, None) is None
