"""Deterministic generator of realistic CMS Open Payments files (test and benchmark data, not deployed).

Writes every requested layout x program year with the exact CMS headers (from datasets/open-payments.json),
both quoting styles (legacy publications quote every text value; modern ones quote only when needed and
sometimes write "" for empty), embedded newlines and doubled quotes inside quoted fields, dirty values
(#N/A, leading apostrophes and tabs, mixed-case cities, impossible dates, amounts with 3 decimals), duplicate
Record_IDs and a removed/deleted file listing some of the year's records.

    python glue-scripts/sample_data.py --out DIR --rows 300 --seed 7 --years 2022,2023 \
        --layouts general.modern-91,ownership.legacy-29,removed-deleted-4 [--raw --parts 2]

--layouts also takes a layout kind: modern (the default) or legacy, each dataset's layout of that generation.

--raw writes the raw-zone layout of the lake (raw/<dataset>/program_year=<YYYY>/publication=<stamp>/<stem>/
ingestion=<id>/part-<NNNNN>.csv + manifest.json, record-aligned parts each starting with the header, as one
ingestion writes them); otherwise the files are written flat, named as CMS names them.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from open_payments_lake.raw_objects import publication_dates, publication_order
from open_payments_lake.spec import Dataset, Layout, Spec, load_spec

# Publication stamps by layout kind: legacy files come from old publications (old stamp style).
DEFAULT_STAMPS = {"legacy": "P06302021", "modern": "P01302025_01212025"}
REMOVED_LAYOUT = "removed-deleted-4"
LAYOUT_KINDS = tuple(DEFAULT_STAMPS)


def layouts_of(kind: str, spec: Spec | None = None) -> list[str]:
    """The layouts of one CMS generation: each detail dataset's layout of `kind` ("modern" or "legacy"), then
    the removed/deleted records' (one layout in every year)."""
    if kind not in LAYOUT_KINDS:
        raise ValueError(f"unknown layout kind {kind!r}: expected one of {list(LAYOUT_KINDS)}")
    layouts = (spec or load_spec()).layouts
    return [x.id for x in layouts if x.kind == kind and x.id != REMOVED_LAYOUT] + [REMOVED_LAYOUT]


FIRST = ["JOHN", "Maria", "david", "Wei", "Aisha", "Robert", "Linda", "José", "Priya", "Thomas", "Olga"]
LAST = ["SMITH", "Garcia", "o'neil", "Nguyen", "Patel", "Johnson", "Kowalski", "Chen", "Brown", "Okafor"]
LAST += ["Wolf"]  # ends in the letter f: trimming must not take it for a form feed
SPECIALTIES = [
    "Allopathic & Osteopathic Physicians|Radiology|Diagnostic Radiology",
    "Allopathic & Osteopathic Physicians|Orthopaedic Surgery",
    "Allopathic & Osteopathic Physicians|Family Medicine",
    "Dental Providers|Dentist|General Practice",
    "Physician Assistants & Advanced Practice Nursing Providers|Nurse Practitioner|Family",
    "Student, Health Care|Student in an Organized Health Care Education/Training Program",
]
RECIPIENT_TYPES = [
    "Covered Recipient Physician",
    "Covered Recipient Non-Physician Practitioner",
    "Covered Recipient Teaching Hospital",
]
FORMS = ["In-kind items and services", "Cash or cash equivalent"]
IN_KIND = {"Food and Beverage", "Travel and Lodging", "Education", "Gift", "Entertainment"}


@dataclass(frozen=True)
class Amounts:
    """A payment amount distribution: log-normal around `median` dollars, clipped to [low, high]."""

    median: float
    spread: float  # sigma of the underlying normal: 1.0 puts ~2/3 of the amounts within median / 2.7 .. x 2.7
    low: float
    high: float

    def draw(self, rng: random.Random) -> str:
        dollars = min(self.high, max(self.low, rng.lognormvariate(math.log(self.median), self.spread)))
        cents = max(1, round(dollars * 100))
        return f"{cents // 100}.{cents % 100:02d}"


@dataclass(frozen=True)
class Nature:
    name: str
    share: float  # of a year's General payment rows
    amounts: Amounts


# General payments by nature, PY2021 on (CMS's categories since the speaker ones merged). Shares and amounts
# approximate the published data (../shared/open-payments/README.md): Food and Beverage is ~90% of the rows
# at small amounts; consulting, speaking and royalties are few rows with most of the dollars, royalties the
# largest.
NATURES = (
    Nature("Food and Beverage", 0.900, Amounts(18, 0.8, 1, 2_500)),
    Nature("Travel and Lodging", 0.025, Amounts(300, 1.0, 10, 25_000)),
    Nature(
        "Compensation for services other than consulting, including serving as faculty or as a speaker at a "
        "venue other than a continuing education program",
        0.025,
        Amounts(1_800, 0.8, 100, 100_000),
    ),
    Nature("Education", 0.020, Amounts(40, 1.2, 1, 10_000)),
    Nature("Consulting Fee", 0.012, Amounts(2_500, 1.2, 100, 250_000)),
    Nature("Gift", 0.005, Amounts(60, 1.2, 1, 5_000)),
    Nature(
        "Compensation for serving as faculty or as a speaker for a medical education program",
        0.004,
        Amounts(2_000, 1.0, 100, 100_000),
    ),
    Nature("Honoraria", 0.002, Amounts(1_500, 1.0, 100, 50_000)),
    Nature("Grant", 0.002, Amounts(10_000, 1.3, 500, 1_000_000)),
    Nature("Royalty or License", 0.001, Amounts(40_000, 1.6, 500, 10_000_000)),
    Nature("Space rental or facility fees", 0.001, Amounts(800, 1.0, 50, 50_000)),
    Nature("Entertainment", 0.001, Amounts(100, 1.0, 5, 5_000)),
    Nature("Charitable Contribution", 0.001, Amounts(5_000, 1.2, 100, 500_000)),
    Nature("Long term medical supply or device loan", 0.0005, Amounts(3_000, 1.0, 100, 100_000)),
    Nature(
        "Current or prospective ownership or investment interest",
        0.0002,
        Amounts(25_000, 1.5, 1_000, 5_000_000),
    ),
    Nature("Debt forgiveness", 0.0002, Amounts(800, 1.2, 10, 100_000)),
    Nature("Acquisitions", 0.0001, Amounts(150_000, 1.5, 10_000, 10_000_000)),
)
MODERN_NATURES_FROM = 2021
_SPEAKER = "Compensation for serving as faculty or as a speaker for "


def natures(program_year: int) -> tuple[Nature, ...]:
    """The categories of a program year: before PY2021 CMS had two continuing-education speaker categories
    (merged since) and no debt forgiveness, device loans or acquisitions (their share goes to food)."""
    if program_year >= MODERN_NATURES_FROM:
        return NATURES
    added = {"Long term medical supply or device loan", "Debt forgiveness", "Acquisitions"}
    out = []
    for n in NATURES:
        if n.name in added:
            continue
        if n.name.startswith(_SPEAKER):
            for kind in ("an accredited or certified", "an unaccredited and non-certified"):
                out.append(Nature(f"{_SPEAKER}{kind} continuing education program", n.share / 2, n.amounts))
        elif n.name == "Food and Beverage":
            share = n.share + sum(m.share for m in NATURES if m.name in added)
            out.append(Nature(n.name, share, n.amounts))
        else:
            out.append(n)
    return tuple(out)


# Research payments and ownership interests (no nature of payment): one distribution each.
RESEARCH_AMOUNTS = Amounts(1_500, 1.8, 1, 5_000_000)
INVESTED_AMOUNTS = Amounts(
    10_000, 1.5, 100, 5_000_000
)  # drawn for 2 in 3 interests; the others invested 0.00
INTEREST_VALUES = Amounts(20_000, 1.6, 100, 20_000_000)


@dataclass(frozen=True)
class Reference:
    """Real (city, state, ZIP) triples and real companies, from sample_reference.json."""

    locations: tuple[tuple[str, str, str], ...]
    companies: tuple[dict, ...]
    company_weights: tuple[int, ...]


REFERENCE_FILE = Path(__file__).resolve().parent / "sample_reference.json"


@cache
def reference() -> Reference:
    table = json.loads(REFERENCE_FILE.read_text(encoding="utf-8"))
    return Reference(
        locations=tuple((x["city"], x["state"], x["zip"]) for x in table["locations"]),
        companies=tuple(table["manufacturers"]),
        company_weights=tuple(x["weight"] for x in table["manufacturers"]),
    )


PRODUCTS = ["StabiliT", "STAR Tumor Ablation System", "HUMIRA", "ELIQUIS", "OZEMPIC", "Mako SmartRobotics"]
TERMS = ["Stock", "Common Stock", "Convertible Debt", "Shares", "Stock options"]
CHANGE_TYPES = ["UNCHANGED"] * 6 + ["NEW", "CHANGED", "ADD"]


@dataclass(frozen=True)
class Stem:
    dataset: str
    program_year: int
    publication: str

    def file_stem(self, spec: Spec) -> str:
        token = spec.dataset(self.dataset).file_token
        prefix = "OP" if self.dataset == "removed_deleted" else "OP_DTL"
        return f"{prefix}_{token}_PGYR{self.program_year}_{self.publication}"


class _Facts:
    """Draws the values of a row that belong together: the recipient's place (a real city, state and ZIP),
    the paying company (a real one, spelled one of its published ways), the nature and the amount."""

    PAYER = "applicable_manufacturer_or_applicable_gpo_making_payment"
    NATURE = "nature_of_payment_or_transfer_of_value"
    FORM = "form_of_payment_or_transfer_of_value"

    def __init__(self, dataset: Dataset, year: int) -> None:
        self.dataset = dataset
        self.reference = reference()
        self.company_weights = list(itertools.accumulate(self.reference.company_weights))
        self.natures = natures(year) if self.NATURE in dataset.column_names else ()
        self.nature_weights = list(itertools.accumulate(n.share for n in self.natures))
        self.by_nature = {n.name: n for n in self.natures}

    def fill(self, row: dict[str, str], rng: random.Random) -> None:
        city, state, zip_code = rng.choice(self.reference.locations)
        row["recipient_city"], row["recipient_state"], row["recipient_zip_code"] = city, state, zip_code
        if "covered_recipient_license_state_code1" in row:
            row["covered_recipient_license_state_code1"] = state
        company = rng.choices(self.reference.companies, cum_weights=self.company_weights)[0]
        name = rng.choice(company["names"])
        row[f"{self.PAYER}_name"] = row["submitting_applicable_manufacturer_or_applicable_gpo_name"] = name
        row[f"{self.PAYER}_id"], row[f"{self.PAYER}_state"] = company["id"], company["state"]
        if self.natures:
            nature = rng.choices(self.natures, cum_weights=self.nature_weights)[0]
            row[self.NATURE] = nature.name
            row[self.FORM] = FORMS[0] if nature.name in IN_KIND else FORMS[1]
        if "value_of_interest" in row:
            row["value_of_interest"] = INTEREST_VALUES.draw(rng)
        if self.dataset.amount_column:
            row[self.dataset.amount_column] = self.amount(row, rng)

    def amount(self, row: dict[str, str], rng: random.Random) -> str:
        """An amount as the row's nature pays it (a correction of the row draws again)."""
        if self.natures:
            return self.by_nature[row[self.NATURE]].amounts.draw(rng)
        if self.dataset.payment_date_column:
            return RESEARCH_AMOUNTS.draw(rng)
        return "0.00" if rng.random() < 1 / 3 else INVESTED_AMOUNTS.draw(rng)


def _payment_date(rng: random.Random, year: int) -> date:
    return date(year, 1, 1) + timedelta(days=rng.randrange(365))


def _value_maker(name: str, column_type: str, year: int, pub_date: date) -> Callable[[random.Random], str]:
    """How to draw a realistic clean value of a canonical column (dirty values are injected afterwards).

    Decided once per column, so generating millions of rows stays fast.
    """
    if name == "change_type":
        return lambda rng: rng.choice(CHANGE_TYPES)
    if name == "program_year":
        return lambda rng: str(year)
    if name == "payment_publication_date":
        return lambda rng: pub_date.strftime("%m/%d/%Y")
    if column_type == "decimal":
        return lambda rng: ""  # amounts are drawn with the row's other facts (_Facts)
    if column_type == "date":
        return lambda rng: _payment_date(rng, year).strftime("%m/%d/%Y")
    if column_type == "integer":
        return lambda rng: str(rng.choice([1, 1, 1, 2, 3]))
    if column_type == "boolean":
        return lambda rng: rng.choice(["No", "No", "No", "Yes", ""])
    if name == "covered_recipient_type":
        return lambda rng: rng.choice(RECIPIENT_TYPES)
    if name.endswith("_ccn"):
        return lambda rng: f"{rng.randrange(1, 670000):06d}" if rng.random() < 0.1 else ""
    if name.endswith("_npi"):
        return lambda rng: str(rng.randrange(1000000000, 2000000000))
    if name.endswith("profile_id") or name.endswith("_id"):
        return lambda rng: str(rng.randrange(10000, 1500000)) if "principal_investigator" not in name else ""
    if "principal_investigator" in name or name.startswith("noncovered"):
        return lambda rng: (
            ""
        )  # most research payments name no principal investigator columns beyond the first
    if name.endswith("first_name"):
        return lambda rng: rng.choice(FIRST)
    if name.endswith("last_name"):
        return lambda rng: rng.choice(LAST)
    if name.endswith("middle_name"):
        return lambda rng: rng.choice(["", "", "B", "D"])
    if name.endswith("address_line1"):
        return lambda rng: (
            f"{rng.randrange(1, 9999)} {rng.choice(['Main St', 'AERO DRIVE', 'Silver Falls Court'])}"
        )
    if name.endswith("address_line2"):
        return lambda rng: rng.choice(["", "", "", "STE 200", "Suite 4"])
    if name.endswith("_country"):
        return lambda rng: "United States"
    if name in ("covered_recipient_primary_type_1", "physician_primary_type"):
        return lambda rng: rng.choice(["Medical Doctor", "Doctor of Dentistry", "Nurse Practitioner"])
    if name in ("covered_recipient_specialty_1", "physician_specialty"):
        return lambda rng: rng.choice(SPECIALTIES)
    if name == "form_of_payment_or_transfer_of_value":
        return lambda rng: rng.choice(FORMS)
    if name == "third_party_payment_recipient_indicator":
        return lambda rng: "No Third Party Payment"
    if name == "terms_of_interest":
        return lambda rng: rng.choice(TERMS)
    if name == "interest_held_by_physician_or_an_immediate_family_member":
        return lambda rng: "Physician Covered Recipient"
    if name in ("contextual_information", "context_of_research", "name_of_study"):
        return lambda rng: rng.choice(["", "", "", 'Dinner at "Bistro" with staff', "Speaker program, Q3"])
    if name.endswith("_1") and name.startswith("name_of_drug"):
        return lambda rng: rng.choice(PRODUCTS)
    if name == "indicate_drug_or_biological_or_device_or_medical_supply_1":
        return lambda rng: rng.choice(["Drug", "Device", "Biological"])
    if name == "covered_or_noncovered_indicator_1":
        return lambda rng: "Covered"
    return lambda rng: ""


# Every 50th record (the 26th, 76th, ...) repeats a recent one: 2% duplicates, at least one in a file of 26+.
DUPLICATE_EVERY = 50

DIRTY_KINDS = ("three_decimals", "impossible_date", "amount_na", "date_outside_year", "invalid_state")


def _dirty(rng: random.Random, row: dict[str, str], dataset: Dataset, year: int, kind: str | None) -> None:
    """Inject the quirks CMS files really have: `kind` (scheduled) plus random text repairs."""
    amount = dataset.amount_column
    date_column = dataset.payment_date_column
    if kind == "three_decimals" and amount:
        row[amount] = row[amount] + "5"  # quarantined
    elif kind == "impossible_date" and date_column:
        row[date_column] = f"02/30/{year}"  # quarantined
    elif kind == "amount_na" and amount:
        row[amount] = "#N/A"  # spreadsheet error in a typed column: quarantined
    elif kind == "date_outside_year" and date_column:
        row[date_column] = f"12/31/{year - 1}"  # kept, counted by data quality
    elif kind == "invalid_state":
        row["recipient_state"] = "XX"  # kept, counted by data quality
    roll = rng.random()
    if roll < 0.03:
        row["recipient_city"] = "#N/A"  # spreadsheet error in a text column: nulled
    elif roll < 0.06:
        row["recipient_zip_code"] = "'" + row["recipient_zip_code"]  # leading apostrophe: stripped
    elif roll < 0.09:
        row["recipient_city"] = "\t" + row["recipient_city"]  # leading tab: stripped
    if rng.random() < 0.05:
        text_column = next(
            c
            for c in (
                "contextual_information",
                "terms_of_interest",
                "recipient_primary_business_street_address_line2",
            )
            if c in row
        )
        row[text_column] = 'Line one, with comma\nline two with "quotes"'


def generate_rows(
    spec: Spec,
    dataset_name: str,
    year: int,
    publication: str,
    rows: int,
    rng: random.Random,
    dirty_every: int,
) -> Iterator[dict[str, str]]:
    """Canonical rows (dicts) of one detail file, streamed, including duplicates of recent Record_IDs.

    Every `dirty_every`-th record gets the next dirty kind of DIRTY_KINDS (3 of the 5 quarantine the row).
    Every DUPLICATE_EVERY-th record repeats a recent one: an exact copy or, for a record not itself CHANGED,
    a CHANGED correction (which must win).
    """
    dataset = spec.dataset(dataset_name)
    pub_date = publication_dates(publication)[0]
    record_base = rng.randrange(10**8, 9 * 10**8)
    makers = [(c.name, _value_maker(c.name, c.type, year, pub_date)) for c in dataset.columns]
    facts = _Facts(dataset, year)
    recent: list[dict[str, str]] = []  # bounded pool of records not duplicated yet
    for index in range(rows):
        if recent and index % DUPLICATE_EVERY == DUPLICATE_EVERY // 2:
            original = recent.pop(rng.randrange(len(recent)))
            duplicate = dict(original)
            if rng.random() < 0.5 and original["change_type"] != "CHANGED":
                duplicate["change_type"] = "CHANGED"
                if dataset.amount_column:
                    duplicate[dataset.amount_column] = facts.amount(original, rng)
            yield duplicate
            continue
        row = {name: make(rng) for name, make in makers}
        facts.fill(row, rng)
        row[dataset.record_key] = str(record_base + index * 7)
        kind = DIRTY_KINDS[(index // dirty_every) % len(DIRTY_KINDS)] if index % dirty_every == 3 else None
        _dirty(rng, row, dataset, year, kind)
        recent.append(row)
        if len(recent) > 512:
            recent.pop(0)
        yield row


def removed_rows(record_ids: dict[str, list[str]], year: int, rng: random.Random) -> list[dict[str, str]]:
    """Removed/deleted records: a few Record_IDs of each detail file, plus IDs no file holds."""
    payment_types = {
        "general": "General Payment",
        "research": "Research Payment",
        "ownership": "Ownership Payment",
    }
    out = []
    for dataset_name in sorted(record_ids):
        ids = sorted(set(record_ids[dataset_name]))
        for record_id in [*rng.sample(ids, max(1, len(ids) // 50)), str(rng.randrange(10**9, 2 * 10**9))]:
            out.append(
                {
                    "change_type": rng.choice(["DELETED", "REMOVED"]),
                    "program_year": str(year),
                    "payment_type": payment_types[dataset_name],
                    "record_id": record_id,
                }
            )
    return out


def _field(value: str, quote_all: bool, quote_empty: bool) -> str:
    if value == "":
        return '""' if quote_empty else ""
    if quote_all or any(ch in value for ch in ',"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value


def csv_lines(
    layout: Layout, dataset: Dataset, rows: Iterable[dict[str, str]], rng: random.Random
) -> Iterator[str]:
    """Records (no header) in the quoting style of the layout (legacy: quote all text; modern: minimal)."""
    quote_all = layout.kind == "legacy"
    unquoted = {c.name for c in dataset.columns if c.type == "decimal"}
    for row in rows:
        quote_empty = not quote_all and rng.random() < 0.3
        fields = (
            _field(row.get(c, ""), quote_all and c not in unquoted, quote_empty and c.endswith("specialty_2"))
            for c in layout.canonical
        )
        yield ",".join(fields) + "\n"


def header_line(layout: Layout) -> str:
    return ",".join(layout.header) + "\n"


def ingestion_id(file_stem: str, at: str = "20250201T000000000Z") -> str:
    """An ingestion id as the ingestion CLI makes them (UTC time, then 6 hex digits), deterministic here."""
    return f"{at}-{hashlib.md5(file_stem.encode()).hexdigest()[:6]}"


def _write_raw(
    out: Path,
    spec: Spec,
    stem: Stem,
    layout: Layout,
    records: Iterator[str],
    count: int,
    parts: int,
    ingestion: str | None,
) -> Path:
    """Record-aligned parts (header repeated) + manifest.json in one ingestion's folder, streamed."""
    file_stem = stem.file_stem(spec)
    ingestion = ingestion or ingestion_id(file_stem)
    folder = out / "raw" / stem.dataset / f"program_year={stem.program_year}"
    folder = folder / f"publication={stem.publication}" / file_stem / f"ingestion={ingestion}"
    folder.mkdir(parents=True, exist_ok=True)
    header = header_line(layout).encode("utf-8")
    whole = hashlib.sha256(header)
    whole_bytes = len(header)
    per_part = max(1, -(-count // parts))
    manifest_parts = []
    for index in range(max(1, -(-count // per_part))):
        name = f"part-{index:05d}.csv"
        digest, size, written = hashlib.sha256(header), len(header), 0
        with (folder / name).open("wb") as handle:
            handle.write(header)
            for line in itertools.islice(records, per_part):
                data = line.encode("utf-8")
                handle.write(data)
                digest.update(data)
                whole.update(data)
                size += len(data)
                whole_bytes += len(data)
                written += 1
        manifest_parts.append({"key": name, "sha256": digest.hexdigest(), "bytes": size, "records": written})
    manifest = {
        "version": 1,
        "ingestionId": ingestion,
        "dataset": stem.dataset,
        "programYear": stem.program_year,
        "publication": stem.publication,
        "layout": layout.id,
        "source": f"sample_data.py/{file_stem}.csv",
        "ingestedAt": "2025-02-01T00:00:00Z",
        "original": {
            "fileName": f"{file_stem}.csv",
            "sha256": whole.hexdigest(),
            "bytes": whole_bytes,
            "records": count,
        },
        "parts": manifest_parts,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return folder


def generate(
    out: Path,
    rows: int,
    seed: int,
    years: list[int],
    layout_ids: list[str],
    raw: bool = False,
    parts: int = 1,
    publication: str | None = None,
    spec: Spec | None = None,
    dirty_every: int = 64,
    ingestion: str | None = None,
) -> list[Path]:
    """Write the files; returns the written file (flat) or folder (raw) paths. `ingestion`: the id of the
    raw folders (default: one per file, dated 2025-02-01)."""
    spec = spec or load_spec()
    layouts = [spec.layout(i) for i in layout_ids]
    written = []
    for year in years:
        rng = random.Random(f"{seed}-{year}")
        record_ids: dict[str, list[str]] = {}
        stamps = []
        for layout in layouts:
            if layout.id == REMOVED_LAYOUT:
                continue
            stamp = publication or DEFAULT_STAMPS[layout.kind]
            stamps.append(stamp)
            ids = record_ids.setdefault(layout.dataset, [])
            detail = generate_rows(spec, layout.dataset, year, stamp, rows, rng, dirty_every)
            tracked = (ids.append(row["record_id"]) or row for row in detail)
            stem = Stem(layout.dataset, year, stamp)
            written.append(_emit(out, spec, stem, layout, tracked, rows, rng, raw, parts, ingestion))
        if REMOVED_LAYOUT in layout_ids:
            layout = spec.layout(REMOVED_LAYOUT)
            stamp = publication or max(stamps or [DEFAULT_STAMPS["modern"]], key=publication_order)
            removed = removed_rows(record_ids, year, rng)
            stem = Stem("removed_deleted", year, stamp)
            written.append(
                _emit(out, spec, stem, layout, iter(removed), len(removed), rng, raw, 1, ingestion)
            )
    return written


def _emit(
    out: Path,
    spec: Spec,
    stem: Stem,
    layout: Layout,
    rows: Iterator[dict[str, str]],
    count: int,
    rng: random.Random,
    raw: bool,
    parts: int,
    ingestion: str | None,
) -> Path:
    records = csv_lines(layout, spec.dataset(stem.dataset), rows, rng)
    if raw:
        return _write_raw(out, spec, stem, layout, records, count, parts, ingestion)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{stem.file_stem(spec)}.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(header_line(layout))
        handle.writelines(records)
    return path


def main(argv: list[str] | None = None) -> int:
    spec = load_spec()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--rows", type=int, default=300, help="records per detail file")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--years", default="2023", help="comma-separated program years")
    parser.add_argument(
        "--layouts",
        default="modern",
        help=f"a layout kind ({', '.join(LAYOUT_KINDS)}: each dataset's layout of that kind, with the "
        f"removed/deleted records') or comma-separated layout ids of {[x.id for x in spec.layouts]}",
    )
    parser.add_argument("--raw", action="store_true", help="write the raw-zone layout with manifests")
    parser.add_argument("--parts", type=int, default=1, help="record-aligned parts per file (with --raw)")
    parser.add_argument("--publication", help="publication stamp for every file (default by layout kind)")
    parser.add_argument(
        "--dirty-every",
        type=int,
        default=64,
        help="every N-th record gets a dirty value (default 64: <1%% quarantined)",
    )
    args = parser.parse_args(argv)
    if args.rows < 1 or args.parts < 1 or args.dirty_every < 1:
        parser.error("--rows, --parts and --dirty-every must be at least 1")
    try:
        years = [int(y) for y in args.years.split(",")]
        layouts = (
            layouts_of(args.layouts, spec)
            if args.layouts in LAYOUT_KINDS
            else [x.strip() for x in args.layouts.split(",")]
        )
        for layout_id in layouts:
            try:
                spec.layout(layout_id)
            except ValueError as error:
                raise ValueError(f"--layouts: {error}, or a layout kind of {list(LAYOUT_KINDS)}") from None
        if args.publication:
            publication_dates(args.publication)
    except ValueError as error:
        parser.error(str(error))
    for path in generate(
        args.out,
        args.rows,
        args.seed,
        years,
        layouts,
        args.raw,
        args.parts,
        args.publication,
        spec,
        dirty_every=args.dirty_every,
    ):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
