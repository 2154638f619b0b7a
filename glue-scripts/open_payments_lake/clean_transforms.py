"""raw -> cleaned: pure DataFrame transforms (no I/O).

Column rules (documented in glue-scripts/README.md):
- every value: leading whitespace and leading apostrophes stripped (spreadsheet artefacts), trailing
  whitespace stripped, empty -> null. A stripped leading apostrophe or tab is counted as a repair.
- spreadsheet errors (#N/A, #REF!, ...): null in a string column (counted as a repair); in a typed column the
  row goes to quarantine (the value cannot be typed).
- decimal: [-]digits with at most 2 decimals, at most 16 integer digits -> DECIMAL(18,2); anything else
  (3 decimals, $, thousands separators, overflow) quarantines the row.
- date: MM/DD/YYYY, a real calendar date; integer: at most 9 digits; boolean: Yes/No (any case).
- required (row quarantined when null): the record key, program_year, and the dataset's amount and payment
  date columns; the record key must be digits (at most 38); program_year must equal the file's program year.
"""

from __future__ import annotations

import functools
import operator

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from .spec import Dataset, Layout

MONEY = T.DecimalType(18, 2)
CORRUPT = "_corrupt_record"
PROVENANCE = ("source_object", "publication_stamp", "layout_id", "ingestion_id")
QUARANTINE_COLUMNS = (
    "dataset",
    "program_year",
    *PROVENANCE,
    "record_id",
    "reason",
    "raw_values",
)
SPREADSHEET_ERRORS = ("#N/A", "#REF!", "#VALUE!", "#NAME?", "#DIV/0!", "#NULL!", "#NUM!")

TYPE_PATTERNS = {
    "decimal": r"^-?[0-9]{1,16}(\.[0-9]{1,2})?$",
    "integer": r"^-?[0-9]{1,9}$",
    "date": r"^[0-9]{2}/[0-9]{2}/[0-9]{4}$",
    "boolean": r"(?i)^(yes|no)$",
}
RECORD_ID_PATTERN = r"^[0-9]{1,38}$"
WHITESPACE = " \t\n\r\f\v"  # Java's \s: space, tab, newline, carriage return, form feed, vertical tab


def raw_column(index: int) -> str:
    """Positional name of a raw CSV column (header names clash with canonical ones: Spark ignores case)."""
    return f"_raw{index}"


def raw_schema(layout: Layout) -> T.StructType:
    """Every header column as a string (no inference: IDs, ZIPs and CCNs keep their leading zeros)."""
    return T.StructType(
        [T.StructField(name, T.StringType()) for name in layout.header]
        + [T.StructField(CORRUPT, T.StringType())]
    )


def positional(raw: DataFrame, layout: Layout) -> DataFrame:
    """Rename the header columns to positional names right after reading."""
    return raw.toDF(*[raw_column(i) for i in range(len(layout.header))], CORRUPT)


def clean_text(column: str) -> Column:
    """The named column trimmed, leading apostrophes/tabs removed, empty -> null.

    Character-set trims rather than regular expressions, each behind a guard of plain byte comparisons:
    Spark's set trims allocate on every call (the trailing one two arrays as long as the value), and almost no
    value starts or ends with a character of the set. `value < '!'` holds exactly when the value is empty or
    its first byte is at most a space, which covers every leading whitespace character.
    """
    value = F.col(column)
    leading = F.when(
        (value < "!") | value.startswith("'"), F.call_function("ltrim", F.lit(WHITESPACE + "'"), value)
    ).otherwise(value)
    trimmed = F.when(
        _any(leading.endswith(c) for c in WHITESPACE), F.call_function("rtrim", F.lit(WHITESPACE), leading)
    ).otherwise(leading)
    return F.when(trimmed != "", trimmed)


def _any(conditions) -> Column:
    return functools.reduce(operator.or_, conditions)


def has_leading_quote_or_tab(value: Column) -> Column:
    """The first non-space character is an apostrophe or a tab (prefix comparisons: no substring is built)."""
    stripped = F.ltrim(value)
    return stripped.startswith("'") | stripped.startswith("\t")


def is_spreadsheet_error(text: Column) -> Column:
    return text.isin(*SPREADSHEET_ERRORS)


def typed_value(text: Column, column_type: str) -> Column:
    """The typed value of a cleaned text, or null when the text is null or not a valid value of the type."""
    if column_type == "string":
        return F.when(~is_spreadsheet_error(text), text)
    valid = text.rlike(TYPE_PATTERNS[column_type])
    if column_type == "decimal":
        return F.when(valid, text.cast(MONEY))
    if column_type == "integer":
        return F.when(valid, text.cast(T.IntegerType()))
    if column_type == "boolean":
        return F.when(valid, F.lower(text) == "yes")
    if column_type == "date":
        # Spark's formatter resolves strictly: 02/30 is null, never 03/01.
        return F.when(valid, F.to_date(text, "MM/dd/yyyy"))
    raise ValueError(f"unknown column type {column_type!r}: expected string|decimal|date|integer|boolean")


def failures(labels: list[Column]) -> Column:
    """The non-null labels joined with `;`, or null when every label is null.

    concat_ws skips nulls natively: unlike array_compact (a higher-order function, evaluated interpreted with
    all of its arguments), this stays in generated code.
    """
    joined = F.concat_ws(";", *labels)
    return F.when(joined != "", joined)


def to_canonical_text(raw: DataFrame, layout: Layout, dataset: Dataset) -> DataFrame:
    """Header columns -> canonical columns (cleaned text, legacy-only gaps null), keeping the raw columns."""
    position = {name: i for i, name in enumerate(layout.canonical)}
    text_columns = [
        (
            clean_text(raw_column(position[c.name]))
            if c.name in position
            else F.lit(None).cast(T.StringType())
        ).alias(c.name)
        for c in dataset.columns
    ]
    return raw.select("*", *text_columns)


def repairs(layout: Layout, dataset: Dataset) -> Column:
    """The repairs of this row, `;`-separated (null when none): leading apostrophes/tabs stripped from any
    value, spreadsheet errors nulled in string columns. Reads the raw columns and the cleaned texts."""
    labels = []
    for index, name in enumerate(layout.canonical):
        labels.append(
            F.when(has_leading_quote_or_tab(F.col(raw_column(index))), F.lit(f"leading_quote_or_tab:{name}"))
        )
        if dataset.column(name).type == "string":
            labels.append(
                F.when(is_spreadsheet_error(F.col(name)), F.lit(f"spreadsheet_error_nulled:{name}"))
            )
    return failures(labels)


def type_and_validate(df: DataFrame, layout: Layout, dataset: Dataset) -> DataFrame:
    """Typed canonical columns plus `reason` (null when the row is clean) and `raw_values` (quarantined rows).

    Expects the output of to_canonical_text plus `_file_program_year` and the provenance columns. Adds
    `_repairs` (see `repairs`).
    """
    labels = [F.when(F.col(CORRUPT).isNotNull(), F.lit("malformed_record:field_count"))]
    typed = []
    for column in dataset.columns:
        text = F.col(column.name)
        value = typed_value(text, column.type)
        typed.append(value.alias(column.name))
        if column.type != "string":
            labels.append(
                F.when(is_spreadsheet_error(text), F.lit(f"spreadsheet_error:{column.name}")).when(
                    text.isNotNull() & value.isNull(), F.lit(f"invalid_{column.type}:{column.name}")
                )
            )
    required = [dataset.record_key, "program_year", dataset.amount_column, dataset.payment_date_column]
    for name in (r for r in required if r):
        labels.append(F.when(F.col(name).isNull(), F.lit(f"missing:{name}")))
    labels.append(
        F.when(
            F.col(dataset.record_key).isNotNull() & ~F.col(dataset.record_key).rlike(RECORD_ID_PATTERN),
            F.lit(f"invalid_record_id:{dataset.record_key}"),
        )
    )
    labels.append(
        F.when(
            F.col("program_year") != F.col("_file_program_year").cast(T.StringType()),
            F.lit("program_year_mismatch:program_year"),
        )
    )
    raw_values = F.to_json(F.struct(*[F.col(raw_column(i)).alias(h) for i, h in enumerate(layout.header)]))
    record_position = layout.canonical.index(dataset.record_key)
    # One projection computes each typed value once: the reason and the outputs both read it from here.
    return df.select(
        *typed,
        *PROVENANCE,
        "_file_program_year",
        F.col(raw_column(record_position)).alias("_raw_record_id"),
        repairs(layout, dataset).alias("_repairs"),
        failures(labels).alias("reason"),
        F.when(failures(labels).isNotNull(), raw_values).alias("raw_values"),
    )


def cleaned_rows(typed: DataFrame, dataset: Dataset) -> DataFrame:
    """Clean rows: canonical columns in canonical order (program_year last: the partition) + provenance."""
    data_columns = [c for c in dataset.column_names if c != "program_year"]
    return typed.where(F.col("reason").isNull()).select(*data_columns, *PROVENANCE, "program_year")


def quarantine_rows(typed: DataFrame, dataset: Dataset) -> DataFrame:
    """Rows that failed: contract 7's quarantine columns (program_year = the file's year, the partition)."""
    return typed.where(F.col("reason").isNotNull()).select(
        F.lit(dataset.name).alias("dataset"),
        *PROVENANCE,
        F.col("_raw_record_id").alias("record_id"),
        "reason",
        "raw_values",
        F.col("_file_program_year").alias("program_year"),
    )


def outcome_counts(typed: DataFrame) -> DataFrame:
    """Rows per source object, quarantine reason (null = cleaned) and repairs (null = none): one aggregation
    gives the per-file records, cleaned, quarantined, reasons and repairs of the report."""
    return typed.groupBy("source_object", "reason", "_repairs").count()
