"""The lake's single source of truth (datasets/open-payments.json) as typed Python objects.

The Glue zip carries a copy as package data (made at synth time); in the repo the file is read in place.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

SPEC_FILE_NAME = "open-payments.json"
_REPO_SPEC = Path(__file__).resolve().parents[2] / "datasets" / SPEC_FILE_NAME


class UnknownLayoutError(ValueError):
    """A raw file whose header matches no known CMS layout."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # string | decimal | date | integer | boolean


@dataclass(frozen=True)
class Layout:
    id: str
    dataset: str
    kind: str
    header: tuple[str, ...]  # exact CMS header names, in file order
    canonical: tuple[str, ...]  # canonical snake_case name of each header column, same order


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    file_token: str
    curated_table: str | None
    record_key: str
    amount_column: str | None
    payment_date_column: str | None
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"dataset {self.name!r} has no canonical column {name!r}")


@dataclass(frozen=True)
class Spec:
    zones: tuple[str, ...]
    datasets: dict[str, Dataset]
    layouts: tuple[Layout, ...]
    messages: dict[str, str]  # shared with the ingestion CLI: templates with {name} placeholders

    def dataset(self, name: str) -> Dataset:
        if name not in self.datasets:
            raise ValueError(f"unknown dataset {name!r}: expected one of {sorted(self.datasets)}")
        return self.datasets[name]

    def layout(self, layout_id: str) -> Layout:
        for layout in self.layouts:
            if layout.id == layout_id:
                return layout
        raise ValueError(f"unknown layout {layout_id!r}: expected one of {[x.id for x in self.layouts]}")

    @property
    def curated_datasets(self) -> tuple[Dataset, ...]:
        return tuple(d for d in self.datasets.values() if d.curated_table)

    def detect_layout(self, header: list[str] | tuple[str, ...], source: str) -> Layout:
        """The layout whose header equals `header` (names compared case-insensitively, order matters).

        Raises UnknownLayoutError with the message the ingestion CLI gives for the same header (the shared
        `unknownLayout` template): the file, its column count, the nearest known layout and the differences.
        """
        wanted = tuple(h.strip().lower() for h in header)
        for layout in self.layouts:
            if tuple(h.lower() for h in layout.header) == wanted:
                return layout
        nearest = self.nearest_layout(wanted)
        known = {h.lower() for h in nearest.header}
        missing = [h for h in nearest.header if h.lower() not in set(wanted)]
        unexpected = [h for h in header if h.strip().lower() not in known]
        difference = "; ".join(
            part
            for part in (
                f"missing {_list_some(missing)}" if missing else "",
                f"unexpected {_list_some(unexpected)}" if unexpected else "",
                "same columns in a different order" if not missing and not unexpected else "",
            )
            if part
        )
        raise UnknownLayoutError(
            self.messages["unknownLayout"].format(
                file=source,
                columns=len(wanted),
                nearest=nearest.id,
                nearestColumns=len(nearest.header),
                difference=difference,
            )
        )

    def nearest_layout(self, header: tuple[str, ...]) -> Layout:
        """The layout sharing the most column names with `header`, then the closest column count."""
        names = set(header)

        def distance(layout: Layout) -> tuple[float, int]:
            known = {h.lower() for h in layout.header}
            jaccard = len(names & known) / len(names | known) if names | known else 0.0
            return (-jaccard, abs(len(layout.header) - len(header)))

        return min(self.layouts, key=distance)


def _list_some(names: list[str]) -> str:
    """Up to five names, then how many more (as the ingestion CLI lists them)."""
    return ", ".join(names) if len(names) <= 5 else f"{', '.join(names[:5])} and {len(names) - 5} more"


def parse_header_line(line: str) -> list[str]:
    """Column names of a CSV header line (quoted or not), without a UTF-8 byte-order mark."""
    line = line.removeprefix("\ufeff")
    rows = list(csv.reader(io.StringIO(line)))
    return [name.strip() for name in rows[0]] if rows else []


def _spec_text() -> str:
    # Package data first (the deployed zip), then the repo's file.
    packaged = resources.files(__package__).joinpath(SPEC_FILE_NAME)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return _REPO_SPEC.read_text(encoding="utf-8")


def spec_from_json(raw: dict) -> Spec:
    datasets = {
        name: Dataset(
            name=name,
            title=d["title"],
            file_token=d["fileToken"],
            curated_table=d["curatedTable"],
            record_key=d["recordKey"],
            amount_column=d["amountColumn"],
            payment_date_column=d["paymentDateColumn"],
            columns=tuple(Column(c["name"], c["type"]) for c in raw["canonicalColumns"][name]),
        )
        for name, d in raw["datasets"].items()
    }
    layouts = tuple(
        Layout(
            id=x["id"],
            dataset=x["dataset"],
            kind=x["kind"],
            header=tuple(c["name"] for c in x["columns"]),
            canonical=tuple(c["canonical"] for c in x["columns"]),
        )
        for x in raw["layouts"]
    )
    messages = {name: text for name, text in raw["messages"].items() if not name.startswith("$")}
    return Spec(zones=tuple(raw["zones"]), datasets=datasets, layouts=layouts, messages=messages)


@cache
def load_spec() -> Spec:
    return spec_from_json(json.loads(_spec_text()))
