"""Raw-zone object keys (contract 2) and CMS publication stamps.

Key: raw/<dataset>/program_year=<YYYY>/publication=<stamp>/<file stem>/part-<NNNNN>.csv
Stamp: P<MMDDYYYY> (up to Jan 2024) or P<MMDDYYYY>_<MMDDYYYY> (since): both parse to sortable dates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

# Java- and Python-compatible: Spark extracts the same key from input_file_name().
FOLDER_PATTERN = r"raw/([a-z_]+)/program_year=([0-9]{4})/publication=(P[0-9_]+)/([^/]+)"
KEY_PATTERN = FOLDER_PATTERN + r"/(part-[0-9]{5}\.csv)$"
_KEY = re.compile(r"(?:^|/)" + KEY_PATTERN)
_FOLDER = re.compile(r"(?:^|/)" + FOLDER_PATTERN + "$")
_STAMP = re.compile(r"^P(\d{8})(?:_(\d{8}))?$")


@dataclass(frozen=True)
class RawPart:
    """One record-aligned part of a raw CMS file."""

    uri: str  # as the file system lists it (file:/..., s3://...)
    key: str  # the object key inside the raw bucket, starting with raw/
    dataset: str
    program_year: int
    publication: str
    stem: str
    part: str

    @property
    def file_prefix(self) -> str:
        """Key prefix of the original file (its parts and manifest.json live under it)."""
        return self.key.rsplit("/", 1)[0]


def parse_raw_uri(uri: str) -> RawPart:
    match = _KEY.search(uri)
    if not match:
        raise ValueError(
            f"{uri}: not a raw part path; expected raw/<dataset>/program_year=<YYYY>/publication=<stamp>/"
            "<file stem>/part-<NNNNN>.csv"
        )
    key = uri[match.start() :].lstrip("/")
    return RawPart(
        uri=uri,
        key=key,
        dataset=match[1],
        program_year=int(match[2]),
        publication=match[3],
        stem=match[4],
        part=match[5],
    )


@dataclass(frozen=True)
class RawFolder:
    """The folder of one ingested file: its part objects and manifest.json live in it."""

    uri: str
    key: str  # raw/<dataset>/program_year=<YYYY>/publication=<stamp>/<file stem>
    dataset: str
    program_year: int
    publication: str
    stem: str


def parse_raw_folder(uri: str) -> RawFolder:
    match = _FOLDER.search(uri.rstrip("/"))
    if not match:
        raise ValueError(
            f"{uri}: not a raw file folder; expected raw/<dataset>/program_year=<YYYY>/publication=<stamp>/"
            "<file stem>"
        )
    uri = uri.rstrip("/")
    return RawFolder(
        uri=uri,
        key=uri[match.start() :].lstrip("/"),
        dataset=match[1],
        program_year=int(match[2]),
        publication=match[3],
        stem=match[4],
    )


def publication_dates(stamp: str) -> tuple[date, date | None]:
    """The dates of a publication stamp: (publication date, second date of the new style or None)."""
    match = _STAMP.match(stamp)
    if not match:
        raise ValueError(f"{stamp!r} is not a CMS publication stamp (P<MMDDYYYY> or P<MMDDYYYY>_<MMDDYYYY>)")

    def parse(text: str) -> date:
        try:
            return datetime.strptime(text, "%m%d%Y").date()
        except ValueError as error:
            raise ValueError(f"{stamp!r}: {text} is not a valid MMDDYYYY date") from error

    return parse(match[1]), parse(match[2]) if match[2] else None


def publication_order(stamp: str) -> tuple[date, date]:
    """Sort key: later publication date first decides; the second date breaks ties (absent = earliest)."""
    first, second = publication_dates(stamp)
    return first, second or date.min


class Published(Protocol):
    dataset: str
    program_year: int
    publication: str


def latest_publications(items: Iterable[Published]) -> dict[tuple[str, int], str]:
    """The authoritative publication per (dataset, program year): the latest stamp among `items`.

    CMS re-publishes every open year in full, so the latest publication supersedes all earlier ones.
    """
    latest: dict[tuple[str, int], str] = {}
    for item in items:
        slot = (item.dataset, item.program_year)
        if slot not in latest or publication_order(item.publication) > publication_order(latest[slot]):
            latest[slot] = item.publication
    return latest
