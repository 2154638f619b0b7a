"""The benchmark's reference: the jobs' raw -> cleaned -> curated conversion, done by DuckDB.

The same work as the two Glue jobs, so that the time ratio compares engines rather than a validated pipeline
with a bare CSV -> Parquet copy: the same sealed, listed parts of the latest publication; every column read as
text and typed by the clean job's rules (its own patterns, the spec's columns and types); the same quarantine
reasons and repairs; cleaned and quarantine Parquet by program year; removed/deleted records dropped,
duplicates resolved by the same precedence, the same derived columns and quality-rule counts; curated Parquet
ZSTD by program year, sorted as the job sorts it. tests/test_duckdb_reference.py requires its outputs to equal
the jobs' outputs, value for value.

What it leaves out: records with the wrong number of fields (Spark's corrupt-record column) are refused by
DuckDB's reader instead of quarantined (the benchmark's files have none), and identical-precedence duplicates
that differ in content are ordered by DuckDB's hash, not Spark's xxhash64 (the generator never writes them).
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from pathlib import Path

import duckdb

from open_payments_lake.clean_pipeline import FOLDERS_GLOBS, MANIFEST, PartInput, file_report
from open_payments_lake.clean_transforms import (
    PROVENANCE,
    RECORD_ID_PATTERN,
    SPREADSHEET_ERRORS,
    TYPE_PATTERNS,
    WHITESPACE,
)
from open_payments_lake.curate_pipeline import REMOVED_DATASET
from open_payments_lake.curate_transforms import (
    CHANGE_TYPE_PRECEDENCE,
    CORPORATE_SUFFIXES,
    MANUFACTURER_COLUMN,
    curated_columns,
    specialty_column,
)
from open_payments_lake.quality import STATE_CODES
from open_payments_lake.raw_objects import (
    KEY_PATTERN,
    current_ingestions,
    parse_raw_folder,
    parse_raw_uri,
    publication_order,
)
from open_payments_lake.spec import Dataset, Spec, load_spec, parse_header_line


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _chars(text: str) -> str:
    """A SQL expression for a string of (control) characters, spelled with chr(): the SQL stays printable."""
    return " || ".join(f"chr({ord(c)})" for c in text)


def _in_list(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join(lit(v) for v in values)


def _is_spreadsheet_error(text: str) -> str:
    # A pattern, not IN (...): DuckDB plans each constant list as a join, ~200 of them in one query.
    return f"regexp_full_match({text}, {lit('|'.join(re.escape(e) for e in SPREADSHEET_ERRORS))})"


def plan(spec: Spec, raw_root: Path) -> list[PartInput]:
    """The parts the clean job reads: listed by the manifest of a current sealed ingestion (the newest of each
    file of the latest publication)."""
    manifests = {}
    for folders in FOLDERS_GLOBS:
        for manifest_path in sorted(raw_root.glob(f"{folders}/{MANIFEST}")):
            folder = parse_raw_folder(manifest_path.parent.as_posix())
            manifests[folder.key] = (folder, json.loads(manifest_path.read_text(encoding="utf-8")))
    parts = []
    for current in current_ingestions(folder for folder, _ in manifests.values()).current:
        folder, manifest = manifests[current.key]
        for entry in manifest["parts"]:
            part = parse_raw_uri(f"{folder.uri}/{entry['key']}")
            with open(part.uri, encoding="utf-8", newline="") as handle:
                header = parse_header_line(handle.readline())
            layout = spec.detect_layout(header, part.key)
            parts.append(PartInput(part, layout, entry.get("records"), manifest.get("ingestionId")))
    return parts


def _read_csv(parts: list[PartInput]) -> str:
    layout = parts[0].layout
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(layout.header))) + "}"
    files = "[" + ", ".join(lit(p.part.uri) for p in parts) + "]"
    return (
        f"read_csv({files}, header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
        f"columns = {columns}, filename = true, hive_partitioning = false)"
    )


def _clean_text(raw: str) -> str:
    return f"nullif(rtrim(ltrim({raw}, {_chars(WHITESPACE)} || ''''), {_chars(WHITESPACE)}), '')"


def _typed_value(text: str, column_type: str) -> str:
    if column_type == "string":
        return f"CASE WHEN NOT {_is_spreadsheet_error(text)} THEN {text} END"
    valid = f"regexp_matches({text}, {lit(TYPE_PATTERNS[column_type])})"
    value = {
        "decimal": f"CAST({text} AS DECIMAL(18,2))",
        "integer": f"CAST({text} AS INTEGER)",
        "boolean": f"lower({text}) = 'yes'",
        "date": f"CAST(try_strptime({text}, '%m/%d/%Y') AS DATE)",
    }[column_type]
    return f"CASE WHEN {valid} THEN {value} END"


def clean_select(parts: list[PartInput], dataset: Dataset) -> str:
    """Typed rows of the parts of one layout, with `reason`, `_repairs` and (quarantined rows) `raw_values`,
    as clean_transforms.type_and_validate computes them."""
    layout = parts[0].layout
    position = {name: i for i, name in enumerate(layout.canonical)}
    facts = ", ".join(
        f"({lit(p.part.key)}, {lit(p.part.publication)}, "
        f"{lit(p.ingestion_id) if p.ingestion_id else 'NULL'}, {p.part.program_year})"
        for p in parts
    )
    texts = ", ".join(
        f"{_clean_text(f'c{position[c.name]}') if c.name in position else 'NULL::VARCHAR'} AS {ident(c.name)}"
        for c in dataset.columns
    )
    # Each typed value is computed once (as "v:<column>") and read by both the reason and the output.
    values = ", ".join(
        f"{_typed_value(f't.{ident(c.name)}', c.type)} AS {ident('v:' + c.name)}" for c in dataset.columns
    )
    labels = []
    for c in dataset.columns:
        if c.type != "string":
            labels.append(
                f"CASE WHEN {_is_spreadsheet_error(f't.{ident(c.name)}')} "
                f"THEN {lit('spreadsheet_error:' + c.name)} "
                f"WHEN t.{ident(c.name)} IS NOT NULL AND t.{ident('v:' + c.name)} IS NULL "
                f"THEN {lit(f'invalid_{c.type}:{c.name}')} END"
            )
    required = [dataset.record_key, "program_year", dataset.amount_column, dataset.payment_date_column]
    for name in (r for r in required if r):
        labels.append(f"CASE WHEN t.{ident(name)} IS NULL THEN {lit('missing:' + name)} END")
    key = f"t.{ident(dataset.record_key)}"
    labels.append(
        f"CASE WHEN {key} IS NOT NULL AND NOT regexp_matches({key}, {lit(RECORD_ID_PATTERN)}) "
        f"THEN {lit('invalid_record_id:' + dataset.record_key)} END"
    )
    labels.append(
        "CASE WHEN t.program_year <> CAST(t._file_program_year AS VARCHAR) "
        "THEN 'program_year_mismatch:program_year' END"
    )
    repairs = []
    for index, name in enumerate(layout.canonical):
        raw = f"ltrim(t.c{index})"
        repairs.append(
            f"CASE WHEN starts_with({raw}, '''') OR starts_with({raw}, chr(9)) "
            f"THEN {lit('leading_quote_or_tab:' + name)} END"
        )
        if dataset.column(name).type == "string":
            repairs.append(
                f"CASE WHEN {_is_spreadsheet_error(f't.{ident(name)}')} "
                f"THEN {lit('spreadsheet_error_nulled:' + name)} END"
            )
    # Spark's to_json leaves out null fields.
    raw_json = (
        "'{' || concat_ws(',', "
        + ", ".join(
            f"CASE WHEN t.c{i} IS NOT NULL THEN {lit(json.dumps(h) + ':')} || to_json(t.c{i}) END"
            for i, h in enumerate(layout.header)
        )
        + ") || '}'"
    )
    outputs = ", ".join(f"t.{ident('v:' + c.name)} AS {ident(c.name)}" for c in dataset.columns)
    return f"""
        WITH parts(source_object, publication_stamp, ingestion_id, _file_program_year) AS (VALUES {facts}),
        t AS (
            SELECT raw.*, {texts}, parts.publication_stamp, parts.ingestion_id, parts._file_program_year,
                parts.source_object, {lit(layout.id)} AS layout_id
            FROM (SELECT *, regexp_extract(filename, {lit(KEY_PATTERN)}, 0) AS _key
                  FROM {_read_csv(parts)}) raw
            JOIN parts ON parts.source_object = raw._key
        ),
        v AS (SELECT t.*, {values} FROM t t),
        labelled AS (
            SELECT t.*, nullif(concat_ws(';', {", ".join(labels)}), '') AS reason,
                nullif(concat_ws(';', {", ".join(repairs)}), '') AS _repairs
            FROM v t
        )
        SELECT {outputs}, {", ".join(f"t.{p}" for p in PROVENANCE)}, t._file_program_year,
            t.c{layout.canonical.index(dataset.record_key)} AS _raw_record_id, t._repairs, t.reason,
            CASE WHEN t.reason IS NOT NULL THEN {raw_json} END AS raw_values
        FROM labelled t
    """


def _copy(connection: duckdb.DuckDBPyConnection, select: str, target: Path, order: str = "") -> None:
    target.mkdir(parents=True, exist_ok=True)
    connection.execute(
        f"COPY ({select}{' ORDER BY ' + order if order else ''}) TO {lit(target.as_posix())} "
        "(FORMAT parquet, COMPRESSION zstd, PARTITION_BY (program_year), OVERWRITE_OR_IGNORE true)"
    )


def clean(connection: duckdb.DuckDBPyConnection, spec: Spec, parts: list[PartInput], out: Path) -> list[dict]:
    """raw -> cleaned + quarantine under out/; the per-file entries of the clean job's report."""
    by_dataset: dict[str, list[PartInput]] = defaultdict(list)
    for p in parts:
        by_dataset[p.part.dataset].append(p)
    files = []
    for name in sorted(by_dataset):
        dataset = spec.dataset(name)
        by_layout: dict[str, list[PartInput]] = defaultdict(list)
        for p in by_dataset[name]:
            by_layout[p.layout.id].append(p)
        union = " UNION ALL BY NAME ".join(
            f"({clean_select(by_layout[layout_id], dataset)})" for layout_id in sorted(by_layout)
        )
        table = ident(f"typed_{name}")
        connection.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {union}")
        data_columns = ", ".join(ident(c) for c in dataset.column_names if c != "program_year")
        _copy(
            connection,
            f"SELECT {data_columns}, {', '.join(PROVENANCE)}, program_year FROM {table} WHERE reason IS NULL",
            out / "cleaned" / name,
        )
        outcomes = connection.execute(
            f"SELECT source_object, reason, _repairs, count(*) AS count FROM {table} GROUP BY ALL"
        )
        columns = [d[0] for d in outcomes.description]
        dataset_files = file_report(
            by_dataset[name], [dict(zip(columns, r, strict=True)) for r in outcomes.fetchall()]
        )
        if any(f["quarantined"] for f in dataset_files):
            _copy(
                connection,
                f"SELECT {lit(name)} AS dataset, {', '.join(PROVENANCE)}, _raw_record_id AS record_id, "
                "reason, raw_values, _file_program_year AS program_year "
                f"FROM {table} WHERE reason IS NOT NULL",
                out / "quarantine" / name,
            )
        files += dataset_files
        connection.execute(f"DROP TABLE {table}")
    return files


def _normalized_manufacturer(name: str) -> str:
    words = f"regexp_replace(upper({name}), '[^A-Z0-9]+', ' ', 'g')"
    suffixes = lit(r"(\s+(" + "|".join(CORPORATE_SUFFIXES) + r"))+$")
    stripped = f"trim(regexp_replace(trim({words}), {suffixes}, ''))"
    return f"nullif({stripped}, '')"


def _rule_columns(dataset: Dataset) -> list[str]:
    """quality.row_rules as SQL sums (violations per program year)."""
    key = ident(dataset.record_key)
    rules = {
        "record_id_not_null": f"{key} IS NULL",
        "program_year_matches_partition": "program_year <> "
        "CAST(regexp_extract(source_object, 'program_year=([0-9]{4})', 1) AS INTEGER)",
        "state_code_valid": "recipient_state IS NOT NULL "
        f"AND recipient_state NOT IN ({_in_list(STATE_CODES)})",
    }
    if dataset.amount_column:
        amount = ident(dataset.amount_column)
        if dataset.payment_date_column:
            rules["amount_positive"] = f"{amount} IS NULL OR {amount} <= 0"
        else:
            rules["amount_not_negative"] = f"{amount} IS NULL OR {amount} < 0"
    if dataset.payment_date_column:
        rules["payment_date_in_program_year"] = f"year({ident(dataset.payment_date_column)}) <> program_year"
    return [f"count(*) FILTER (WHERE {condition}) AS {name}" for name, condition in rules.items()]


def curate(connection: duckdb.DuckDBPyConnection, spec: Spec, out: Path) -> dict[str, dict[int, dict]]:
    """cleaned -> curated under out/, reading the cleaned Parquet `clean` wrote; {dataset: {year: counts}}."""

    def cleaned(name: str) -> str | None:
        folder = out / "cleaned" / name
        if not any(folder.glob("program_year=*/*.parquet")):
            return None
        return f"read_parquet({lit((folder / '**' / '*.parquet').as_posix())}, hive_partitioning = true)"

    removed = cleaned(REMOVED_DATASET)
    results = {}
    for dataset in spec.curated_datasets:
        source = cleaned(dataset.name)
        if source is None:
            continue
        stamps = {
            r[0] for r in connection.execute(f"SELECT DISTINCT publication_stamp FROM {source}").fetchall()
        }
        if removed:
            stamps |= {
                r[0]
                for r in connection.execute(f"SELECT DISTINCT publication_stamp FROM {removed}").fetchall()
            }
        ranks = ", ".join(f"({lit(s)}, {i})" for i, s in enumerate(sorted(stamps, key=publication_order)))
        listed = (
            f"SELECT program_year, record_id, max(_pub_rank) AS _removed_rank FROM {removed} "
            "JOIN ranks USING (publication_stamp) GROUP BY ALL"
            if removed
            else "SELECT NULL::INTEGER AS program_year, NULL::VARCHAR AS record_id, "
            "NULL::INTEGER AS _removed_rank WHERE false"
        )
        change_rank = (
            "CASE "
            + " ".join(
                f"WHEN upper(change_type) = {lit(v)} THEN {i}" for i, v in enumerate(CHANGE_TYPE_PRECEDENCE)
            )
            + f" ELSE {len(CHANGE_TYPE_PRECEDENCE)} END"
        )
        key = ident(dataset.record_key)
        content = ", ".join(ident(c) for c in dataset.column_names if c != "program_year")
        month = (
            f"CAST(date_trunc('month', {ident(dataset.payment_date_column)}) AS DATE) AS payment_month"
            if dataset.payment_date_column
            else None
        )
        derived = [
            d
            for d in (
                month,
                f"nullif(trim(split_part({ident(specialty_column(dataset))}, '|', 1)), '') "
                "AS specialty_top_level",
                f"{_normalized_manufacturer(ident(MANUFACTURER_COLUMN))} AS manufacturer_name_normalized",
            )
            if d
        ]
        table = ident(f"curated_{dataset.name}")
        connection.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE marked AS
            WITH ranks(publication_stamp, _pub_rank) AS (VALUES {ranks}),
            listed AS ({listed})
            SELECT c.*, r._pub_rank, coalesce(l._removed_rank >= r._pub_rank, false) AS _removed
            FROM {source} c JOIN ranks r USING (publication_stamp)
            LEFT JOIN listed l ON l.program_year = c.program_year AND l.record_id = c.{key}
            """
        )
        connection.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {table} AS
            SELECT *, {", ".join(derived)} FROM marked WHERE NOT _removed
            QUALIFY row_number() OVER (
                PARTITION BY program_year, {key}
                ORDER BY _pub_rank DESC, {change_rank}, source_object, hash({content})
            ) = 1
            """
        )
        per_year = {
            year: {"cleaned_rows": rows, "removed": removed_rows}
            for year, rows, removed_rows in connection.execute(
                "SELECT program_year, count(*), count(*) FILTER (WHERE _removed) FROM marked GROUP BY ALL"
            ).fetchall()
        }
        rules = connection.execute(
            f"SELECT program_year, count(*) AS rows, {', '.join(_rule_columns(dataset))}, "
            f"count(*) - count(DISTINCT {key}) AS record_id_unique FROM {table} GROUP BY ALL"
        ).fetchall()
        names = [d[0] for d in connection.description]
        publication = connection.execute(
            f"""
            WITH per_value AS (
                SELECT program_year, source_object, payment_publication_date, count(*) AS n
                FROM {table} GROUP BY ALL
            )
            SELECT program_year, sum(total - top) FROM (
                SELECT program_year, source_object, sum(n) AS total, max(n) AS top FROM per_value GROUP BY ALL
            ) GROUP BY ALL
            """
        ).fetchall()
        for row in rules:
            counts = dict(zip(names, row, strict=True))
            year = counts.pop("program_year")
            per_year[year].update(counts)
        for year, violations in publication:
            per_year[year]["publication_date_constant_per_file"] = int(violations)
        _copy(
            connection,
            f"SELECT {', '.join(ident(c) for c in curated_columns(dataset))} FROM {table}",
            out / "curated" / dataset.name,
            order="program_year, manufacturer_name_normalized, record_id",
        )
        connection.execute(f"DROP TABLE {table}")
        connection.execute("DROP TABLE marked")
        results[dataset.name] = per_year
    return results


def run(raw_root: Path, out: Path, threads: int) -> dict:
    """The whole conversion; returns the counts and the seconds of each step."""
    spec = load_spec()
    connection = duckdb.connect()
    connection.execute(f"SET threads = {threads}")
    connection.execute("SET enable_progress_bar = false")
    started = time.perf_counter()
    parts = plan(spec, raw_root)
    files = clean(connection, spec, parts, out)
    cleaned_at = time.perf_counter()
    partitions = curate(connection, spec, out)
    finished = time.perf_counter()
    connection.close()
    return {
        "clean_seconds": round(cleaned_at - started, 3),
        "curate_seconds": round(finished - cleaned_at, 3),
        "seconds": round(finished - started, 3),
        "clean_files": files,
        "curated": partitions,
    }
