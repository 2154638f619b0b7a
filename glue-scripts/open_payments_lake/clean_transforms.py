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
# The least character above every whitespace character ('!'): a text that starts (ends) with a character
# sorting before it may start (end) with whitespace, one that does not cannot.
_ABOVE_WHITESPACE = chr(ord(max(WHITESPACE)) + 1)


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


# The per-column rules are spelled as Spark SQL and each output column is one F.expr: built from Column
# objects, every operator is a call into the JVM (~120 us each), about 100 per canonical column, so a
# 252-column Research layout took 56,000 calls and 6-7 s before Spark planned anything.


def sql_identifier(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def sql_string(text: str) -> str:
    """A Spark SQL string literal: backslashes and quotes escaped, every other character as itself."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _when(condition: str, value: str) -> str:
    return f"CASE WHEN {condition} THEN {value} END"


def clean_text_sql(column: str) -> str:
    """The named column trimmed, leading apostrophes/tabs removed, empty -> null.

    Character-set trims rather than regular expressions, each behind a guard of plain byte comparisons:
    Spark's set trims allocate on every call (the trailing one two arrays as long as the value), and almost no
    value starts or ends with a character of the set. Every character of the set sorts before '!'
    (_ABOVE_WHITESPACE), so `value < '!'` holds exactly when the value is empty or starts with a character at
    most a space, and `substring(value, -1) < '!'` when its last character is one. One comparison at the end
    rather than one `endswith` per whitespace character halves the code Spark generates for the 92-column
    projection, which a cold JVM spends its first minute compiling (docs/benchmarks.md).
    """
    value = sql_identifier(column)
    above = sql_string(_ABOVE_WHITESPACE)
    leading = (
        f"CASE WHEN {value} < {above} OR startswith({value}, {sql_string(chr(39))}) "
        f"THEN ltrim({sql_string(WHITESPACE + chr(39))}, {value}) ELSE {value} END"
    )
    trimmed = (
        f"CASE WHEN substring({leading}, -1) < {above} "
        f"THEN rtrim({sql_string(WHITESPACE)}, {leading}) ELSE {leading} END"
    )
    return _when(f"{trimmed} != ''", trimmed)


def clean_text(column: str) -> Column:
    return F.expr(clean_text_sql(column))


def has_leading_quote_or_tab_sql(column: str) -> str:
    """The first non-space character is an apostrophe or a tab (prefix comparisons: no substring is built)."""
    stripped = f"ltrim({sql_identifier(column)})"
    return f"(startswith({stripped}, {sql_string(chr(39))}) OR startswith({stripped}, {sql_string(chr(9))}))"


def has_leading_quote_or_tab(column: str) -> Column:
    return F.expr(has_leading_quote_or_tab_sql(column))


def is_spreadsheet_error_sql(text: str) -> str:
    return f"({text} IN ({', '.join(sql_string(e) for e in SPREADSHEET_ERRORS)}))"


def typed_value_sql(column: str, column_type: str) -> str:
    """The typed value of a cleaned text, or null when the text is null or not a valid value of the type."""
    text = sql_identifier(column)
    if column_type == "string":
        return _when(f"NOT {is_spreadsheet_error_sql(text)}", text)
    if column_type not in TYPE_PATTERNS:
        raise ValueError(f"unknown column type {column_type!r}: expected string|decimal|date|integer|boolean")
    valid = f"{text} RLIKE {sql_string(TYPE_PATTERNS[column_type])}"
    value = {
        "decimal": f"CAST({text} AS DECIMAL({MONEY.precision},{MONEY.scale}))",
        "integer": f"CAST({text} AS INT)",
        "boolean": f"lower({text}) = 'yes'",
        # Spark's formatter resolves strictly: 02/30 is null, never 03/01.
        "date": f"to_date({text}, 'MM/dd/yyyy')",
    }[column_type]
    return _when(valid, value)


def typed_value(column: str, column_type: str) -> Column:
    return F.expr(typed_value_sql(column, column_type))


def failures_sql(labels: list[str]) -> str:
    """The non-null labels joined with `;`, or null when every label is null.

    concat_ws skips nulls natively: unlike array_compact (a higher-order function, evaluated interpreted with
    all of its arguments), this stays in generated code.
    """
    joined = f"concat_ws(';', {', '.join(labels)})"
    return _when(f"{joined} != ''", joined)


def to_canonical_text(raw: DataFrame, layout: Layout, dataset: Dataset) -> DataFrame:
    """Header columns -> canonical columns (cleaned text, legacy-only gaps null), keeping the raw columns."""
    position = {name: i for i, name in enumerate(layout.canonical)}
    texts = {
        c.name: clean_text_sql(raw_column(position[c.name])) for c in dataset.columns if c.name in position
    }
    text_columns = [
        F.expr(f"{texts.get(c.name, 'CAST(NULL AS STRING)')} AS {sql_identifier(c.name)}")
        for c in dataset.columns
    ]
    return raw.select("*", *text_columns)


def repairs_sql(layout: Layout, dataset: Dataset) -> str:
    """The repairs of this row, `;`-separated (null when none): leading apostrophes/tabs stripped from any
    value, spreadsheet errors nulled in string columns. Reads the raw columns and the cleaned texts."""
    labels = []
    for index, name in enumerate(layout.canonical):
        labels.append(
            _when(has_leading_quote_or_tab_sql(raw_column(index)), sql_string(f"leading_quote_or_tab:{name}"))
        )
        if dataset.column(name).type == "string":
            labels.append(
                _when(
                    is_spreadsheet_error_sql(sql_identifier(name)),
                    sql_string(f"spreadsheet_error_nulled:{name}"),
                )
            )
    return failures_sql(labels)


def type_and_validate(df: DataFrame, layout: Layout, dataset: Dataset) -> DataFrame:
    """Typed canonical columns plus `reason` (null when the row is clean) and `raw_values` (quarantined rows).

    Expects the output of to_canonical_text plus `_file_program_year` and the provenance columns. Adds
    `_repairs` (see `repairs_sql`).
    """
    labels = [_when(f"{sql_identifier(CORRUPT)} IS NOT NULL", "'malformed_record:field_count'")]
    typed = []
    for column in dataset.columns:
        text = sql_identifier(column.name)
        value = typed_value_sql(column.name, column.type)
        typed.append(F.expr(f"{value} AS {text}"))
        if column.type != "string":
            labels.append(
                f"CASE WHEN {is_spreadsheet_error_sql(text)} "
                f"THEN {sql_string(f'spreadsheet_error:{column.name}')} "
                f"WHEN {text} IS NOT NULL AND ({value}) IS NULL "
                f"THEN {sql_string(f'invalid_{column.type}:{column.name}')} END"
            )
    required = [dataset.record_key, "program_year", dataset.amount_column, dataset.payment_date_column]
    for name in (r for r in required if r):
        labels.append(_when(f"{sql_identifier(name)} IS NULL", sql_string(f"missing:{name}")))
    key = sql_identifier(dataset.record_key)
    labels.append(
        _when(
            f"{key} IS NOT NULL AND NOT ({key} RLIKE {sql_string(RECORD_ID_PATTERN)})",
            sql_string(f"invalid_record_id:{dataset.record_key}"),
        )
    )
    labels.append(
        _when(
            "`program_year` != CAST(`_file_program_year` AS STRING)",
            "'program_year_mismatch:program_year'",
        )
    )
    raw_values = "to_json(named_struct({}))".format(
        ", ".join(f"{sql_string(h)}, {sql_identifier(raw_column(i))}" for i, h in enumerate(layout.header))
    )
    record_position = layout.canonical.index(dataset.record_key)
    reason = failures_sql(labels)
    # One projection computes each typed value once: the reason and the outputs both read it from here.
    return df.select(
        *typed,
        *PROVENANCE,
        "_file_program_year",
        F.col(raw_column(record_position)).alias("_raw_record_id"),
        F.expr(f"{repairs_sql(layout, dataset)} AS _repairs"),
        F.expr(f"{reason} AS reason"),
        F.expr(f"CASE WHEN ({reason}) IS NOT NULL THEN {raw_values} END AS raw_values"),
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
