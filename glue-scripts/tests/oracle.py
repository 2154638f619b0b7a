"""Independent expectations for the jobs, computed with Python's csv, decimal and datetime only.

Mirrors the documented rules of glue-scripts/README.md without using any of the Spark code.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from open_payments_lake.spec import Spec

SPREADSHEET_ERRORS = {"#N/A", "#REF!", "#VALUE!", "#NAME?", "#DIV/0!", "#NULL!", "#NUM!"}
PRECEDENCE = {"CHANGED": 0, "ADD": 1, "NEW": 2, "UNCHANGED": 3}


def clean(value: str | None) -> str | None:
    if value is None:
        return None
    # ASCII: Java's \s, which the jobs trim, is space, \t, \n, \r, \f and \v only.
    value = re.sub(r"^[\s']+", "", value, flags=re.ASCII)
    value = re.sub(r"\s+$", "", value, flags=re.ASCII)
    return value or None


def typed(value: str | None, kind: str):
    """(ok, typed value)."""
    if value is None:
        return True, None
    if kind == "string":
        return True, None if value in SPREADSHEET_ERRORS else value
    if kind == "decimal":
        return (True, Decimal(value)) if re.fullmatch(r"-?\d{1,16}(\.\d{1,2})?", value) else (False, None)
    if kind == "integer":
        return (True, int(value)) if re.fullmatch(r"-?\d{1,9}", value) else (False, None)
    if kind == "boolean":
        return (True, value.lower() == "yes") if value.lower() in ("yes", "no") else (False, None)
    if kind == "date":
        if not re.fullmatch(r"\d{2}/\d{2}/\d{4}", value):
            return False, None
        try:
            return True, datetime.strptime(value, "%m/%d/%Y").date()
        except ValueError:
            return False, None
    raise ValueError(kind)


@dataclass
class FileExpectation:
    dataset: str
    program_year: int
    publication: str
    records: int = 0
    clean_rows: list[dict] = field(default_factory=list)
    quarantined: int = 0


def expect_file(spec: Spec, path: Path, dataset: str, program_year: int, publication: str) -> FileExpectation:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header = [h.removeprefix("\ufeff") for h in rows[0]]
    layout = next(x for x in spec.layouts if [h.lower() for h in x.header] == [h.lower() for h in header])
    ds = spec.dataset(dataset)
    result = FileExpectation(dataset, program_year, publication)
    required = [c for c in (ds.record_key, "program_year", ds.amount_column, ds.payment_date_column) if c]
    for raw in rows[1:]:
        result.records += 1
        if len(raw) != len(header):
            result.quarantined += 1
            continue
        texts = {canonical: clean(v) for canonical, v in zip(layout.canonical, raw, strict=True)}
        row, ok = {}, True
        for column in ds.columns:
            text = texts.get(column.name)
            if column.type != "string" and text in SPREADSHEET_ERRORS:
                ok = False
            good, value = typed(text, column.type)
            ok = ok and good
            row[column.name] = value
        ok = ok and all(row[c] is not None for c in required)
        ok = ok and re.fullmatch(r"\d{1,38}", texts[ds.record_key] or "") is not None
        ok = ok and row["program_year"] == program_year
        if ok:
            row["publication_stamp"] = publication
            result.clean_rows.append(row)
        else:
            result.quarantined += 1
    return result


def stamp_order(stamp: str) -> tuple:
    dates = [datetime.strptime(d, "%m%d%Y").date() for d in stamp[1:].split("_")]
    return (dates[0], dates[1] if len(dates) > 1 else datetime.min.date())


def curated_rows(
    files: list[FileExpectation], removed: dict[int, list[tuple[str, str]]]
) -> dict[tuple[int, str], dict]:
    """(program_year, record_id) -> the surviving row: removed/deleted records of the same or a later
    publication dropped, then one row per record by Change_Type precedence."""
    best: dict[tuple[int, str], tuple] = {}
    for f in files:
        for row in f.clean_rows:
            key = (f.program_year, row["record_id"])
            if any(
                rid == row["record_id"] and stamp_order(stamp) >= stamp_order(f.publication)
                for rid, stamp in removed.get(f.program_year, [])
            ):
                continue
            rank = PRECEDENCE.get((row["change_type"] or "").upper(), 4)
            if key not in best or rank < best[key][0]:
                best[key] = (rank, row)
    return {k: v[1] for k, v in best.items()}
