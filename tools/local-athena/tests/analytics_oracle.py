"""The answers of sql/analytics/*.sql computed in plain Python (decimal, no SQL engine) from the oracle's
expected curated rows (canonical column names, typed values).

Derived columns are recomputed here from the rules documented in glue-scripts/README.md, independently of
the Spark code. Each function returns the rows in the query's column order and row order.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CORPORATE_SUFFIXES = {
    *("INC", "INCORPORATED", "LLC", "LLP", "LP", "LTD", "LIMITED", "CORP", "CORPORATION", "CO", "COMPANY"),
    *("PLC", "PC", "PLLC", "GMBH", "AG", "SA", "NV", "BV", "AB", "SPA", "USA", "US"),
}
AMOUNT = "total_amount_of_payment_usdollars"
MANUFACTURER = "applicable_manufacturer_or_applicable_gpo_making_payment_name"


@dataclass(frozen=True)
class Near:
    """A value compared with a tolerance (results rounded or divided differently by the engines)."""

    value: float | Decimal
    tolerance: float


def manufacturer(row: dict) -> str | None:
    name = row[MANUFACTURER]
    if name is None:
        return None
    words = re.sub(r"[^A-Z0-9]+", " ", name.upper()).split()
    while len(words) > 1 and words[-1] in CORPORATE_SUFFIXES:
        words.pop()
    return " ".join(words) or None


def specialty_top_level(row: dict, column: str = "covered_recipient_specialty_1") -> str | None:
    value = row[column]
    return (value.split("|")[0].strip() or None) if value is not None else None


def nulls_last(value):
    return (value is None, value)


def group(rows: Iterable[dict], key: Callable[[dict], tuple]) -> dict[tuple, list[dict]]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return groups


def total(rows: Iterable[dict], column: str = AMOUNT) -> Decimal:
    return sum((r[column] for r in rows), Decimal("0"))


def ranked(groups: dict[tuple, list[dict]], limit: int, amount: str = AMOUNT) -> list[tuple]:
    """(year, rank, group key..., rows) for the top `limit` groups per year by dollars, ties by key."""
    out = []
    for year in sorted({k[0] for k in groups}):
        keys = sorted((k for k in groups if k[0] == year), key=lambda k: (-total(groups[k], amount), k[1:]))
        out += [(year, rank, *k[1:], groups[k]) for rank, k in enumerate(keys[:limit], start=1)]
    return out


def top_manufacturers_by_year(g: list[dict], r: list[dict]) -> list[tuple]:
    groups = group((x for x in g if manufacturer(x)), lambda x: (x["program_year"], manufacturer(x)))
    return [(y, rank, m, len(rows), total(rows)) for y, rank, m, rows in ranked(groups, 10)]


def nature_of_payment_breakdown(g: list[dict], r: list[dict]) -> list[tuple]:
    groups = group(g, lambda x: (x["program_year"], x["nature_of_payment_or_transfer_of_value"]))
    years = group(g, lambda x: (x["program_year"],))
    out = [
        (
            y,
            nature,
            len(rows),
            total(rows),
            Near(round(len(rows) / len(years[(y,)]), 6), 1e-6),
            Near(round(float(total(rows) / total(years[(y,)])), 6), 1e-6),
        )
        for (y, nature), rows in groups.items()
    ]
    return sorted(out, key=lambda t: (t[0], -t[3], nulls_last(t[1])))


def recipient_id(row: dict) -> str | None:
    return row["covered_recipient_npi"] or row["teaching_hospital_ccn"]


def payments_by_recipient_location(g: list[dict], r: list[dict]) -> list[tuple]:
    groups = group(g, lambda x: (x["program_year"], x["recipient_state"], x["recipient_city"]))
    out = [
        (y, state, city, len(rows), total(rows), len({recipient_id(x) for x in rows} - {None}))
        for (y, state, city), rows in groups.items()
    ]
    return sorted(out, key=lambda t: (t[0], nulls_last(t[1]), nulls_last(t[2])))


def specialty_average_per_physician(g: list[dict], r: list[dict]) -> list[tuple]:
    physicians = (x for x in g if x["covered_recipient_npi"] and specialty_top_level(x))
    groups = group(physicians, lambda x: (x["program_year"], specialty_top_level(x)))
    out = []
    for (y, specialty), rows in groups.items():
        count = len({x["covered_recipient_npi"] for x in rows})
        average = (total(rows) / count).quantize(Decimal("0.01"), ROUND_HALF_UP)
        out.append((y, specialty, count, total(rows), Near(average, 0.01)))
    return sorted(out, key=lambda t: (t[0], -t[3], t[1]))


def top_recipients(g: list[dict], r: list[dict]) -> list[tuple]:
    def kind(x: dict) -> str:
        return "physician" if x["covered_recipient_npi"] else "teaching hospital"

    def name(x: dict) -> str | None:
        if x["teaching_hospital_name"]:
            return x["teaching_hospital_name"]
        first, last = x["covered_recipient_first_name"], x["covered_recipient_last_name"]
        return f"{last}, {first}" if first is not None and last is not None else None

    groups = group((x for x in g if recipient_id(x)), lambda x: (x["program_year"], recipient_id(x), kind(x)))
    out = []
    for y, rank, rid, k, rows in ranked(groups, 25):
        names = [n for n in map(name, rows) if n is not None]
        out.append((y, rank, k, rid, max(names) if names else None, len(rows), total(rows)))
    return out


def manufacturer_year_over_year(g: list[dict], r: list[dict]) -> list[tuple]:
    groups = group((x for x in g if manufacturer(x)), lambda x: (manufacturer(x), x["program_year"]))
    out, previous = [], {}
    for m, y in sorted(groups):
        amount = total(groups[(m, y)])
        prev_year, prev = previous.get(m, (None, None))
        change = amount - prev if prev is not None else None
        pct = Near(round(float(change) / float(prev) * 100, 2), 0.01) if prev else None
        out.append((m, y, amount, prev_year, prev, change, pct))
        previous[m] = (y, amount)
    return out


def monthly_trend(g: list[dict], r: list[dict]) -> list[tuple]:
    groups = group(g, lambda x: (x["date_of_payment"].replace(day=1),))
    return [(month, len(rows), total(rows)) for (month,), rows in sorted(groups.items())]


def payment_concentration(g: list[dict], r: list[dict]) -> list[tuple]:
    out = []
    for (y,), rows in sorted(group(g, lambda x: (x["program_year"],)).items()):
        ordered = sorted(rows, key=lambda x: (-x[AMOUNT], x["record_id"]))
        top = ordered[: math.ceil(len(rows) * 0.01)]
        amounts = sorted(x[AMOUNT] for x in rows)
        share = Near(round(float(total(top) / total(rows)), 6), 1e-6)
        p99 = Near((amounts[0] + amounts[-1]) / 2, float(amounts[-1] - amounts[0]) / 2)  # inside [min, max]
        out.append((y, len(rows), len(top), total(rows), total(top), share, p99))
    return out


def top_products(g: list[dict], r: list[dict]) -> list[tuple]:
    slots = [
        {"program_year": x["program_year"], AMOUNT: x[AMOUNT], "product": x[name]}
        for x in g
        for name in (f"name_of_drug_or_biological_or_device_or_medical_supply_{i}" for i in range(1, 6))
        if x[name] is not None
    ]
    groups = group(slots, lambda x: (x["program_year"], x["product"]))
    return [(y, rank, p, len(rows), total(rows)) for y, rank, p, rows in ranked(groups, 25)]


def research_by_principal_investigator(g: list[dict], r: list[dict]) -> list[tuple]:
    investigators = [f"principal_investigator_{i}_npi" for i in range(1, 6)]
    pairs = {
        (x["program_year"], x["record_id"], x[AMOUNT], x["name_of_study"], x[pi])
        for x in r
        for pi in investigators
        if x[pi] is not None
    }
    groups: dict[tuple, list[tuple]] = defaultdict(list)
    for pair in pairs:
        groups[(pair[0], pair[4])].append(pair)
    out = [
        (y, npi, len(rows), sum((p[2] for p in rows), Decimal("0")), len({p[3] for p in rows} - {None}))
        for (y, npi), rows in groups.items()
    ]
    return sorted(out, key=lambda t: (t[0], -t[3], t[1]))


EXPECTED: dict[str, Callable[[list[dict], list[dict]], list[tuple]]] = {
    f.__name__: f
    for f in (
        top_manufacturers_by_year,
        nature_of_payment_breakdown,
        payments_by_recipient_location,
        specialty_average_per_physician,
        top_recipients,
        manufacturer_year_over_year,
        monthly_trend,
        payment_concentration,
        top_products,
        research_by_principal_investigator,
    )
}


def matches(expected, actual) -> bool:
    """One result value (JSON from the engine: decimals and dates as strings) against the expectation."""
    if isinstance(expected, Near):
        return actual is not None and abs(float(actual) - float(expected.value)) <= expected.tolerance + 1e-9
    if isinstance(expected, Decimal):
        return actual is not None and Decimal(actual) == expected
    if isinstance(expected, date):
        return actual == expected.isoformat()
    return actual == expected
