"""Raw-zone object keys (contract 2) and CMS publication stamps.

Key: raw/<dataset>/program_year=<YYYY>/publication=<stamp>/<file stem>/ingestion=<id>/part-<NNNNN>.csv
Every ingestion of a file writes a folder of its own (the id is a UTC time and a random suffix, so lexical
order is time order) and seals it with manifest.json once every part is verified. Raw is never overwritten:
the current content of a file is its newest sealed ingestion. Folders written before per-ingestion folders
existed (parts directly under <file stem>/) are still read, as older than any ingestion= folder of the file.
Stamp: P<MMDDYYYY> (up to Jan 2024) or P<MMDDYYYY>_<MMDDYYYY> (since): both parse to sortable dates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

# Java- and Python-compatible: Spark extracts the same key from input_file_name().
FOLDER_PATTERN = (
    r"raw/([a-z_]+)/program_year=([0-9]{4})/publication=(P[0-9_]+)/([^/]+)"  # dataset, year, stamp, file stem
    r"(?:/ingestion=([^/]+))?"  # the ingestion's id; absent in folders written before per-ingestion folders
)
KEY_PATTERN = FOLDER_PATTERN + r"/(part-[0-9]{5}\.csv)$"
_KEY = re.compile(r"(?:^|/)" + KEY_PATTERN)
_FOLDER = re.compile(r"(?:^|/)" + FOLDER_PATTERN + "$")
_STAMP = re.compile(r"^P(\d{8})(?:_(\d{8}))?$")
_EXPECTED = (
    "raw/<dataset>/program_year=<YYYY>/publication=<stamp>/<file stem>/ingestion=<id>"
    " (or, written before per-ingestion folders, without /ingestion=<id>)"
)


@dataclass(frozen=True)
class RawPart:
    """One record-aligned part of a raw CMS file."""

    uri: str  # as the file system lists it (file:/..., s3://...)
    key: str  # the object key inside the raw bucket, starting with raw/
    dataset: str
    program_year: int
    publication: str
    stem: str
    ingestion: str | None  # None: a folder written before per-ingestion folders
    part: str

    @property
    def file_prefix(self) -> str:
        """Key prefix of the ingestion folder (its parts and manifest.json live under it)."""
        return self.key.rsplit("/", 1)[0]


def parse_raw_uri(uri: str) -> RawPart:
    match = _KEY.search(uri)
    if not match:
        raise ValueError(f"{uri}: not a raw part path; expected {_EXPECTED}/part-<NNNNN>.csv")
    key = uri[match.start() :].lstrip("/")
    return RawPart(
        uri=uri,
        key=key,
        dataset=match[1],
        program_year=int(match[2]),
        publication=match[3],
        stem=match[4],
        ingestion=match[5],
        part=match[6],
    )


@dataclass(frozen=True)
class RawFolder:
    """The folder of one ingestion of a file: its part objects and, once sealed, manifest.json live in it."""

    uri: str
    key: str  # raw/<dataset>/program_year=<YYYY>/publication=<stamp>/<file stem>/ingestion=<id>
    dataset: str
    program_year: int
    publication: str
    stem: str
    ingestion: str | None  # None: a folder written before per-ingestion folders (the file's own folder)

    @property
    def ingestion_order(self) -> str:
        """Sort key among the ingestions of one file: older layout first, then by id (time)."""
        return "" if self.ingestion is None else f"1{self.ingestion}"


def parse_raw_folder(uri: str) -> RawFolder:
    match = _FOLDER.search(uri.rstrip("/"))
    if not match:
        raise ValueError(f"{uri}: not a raw ingestion folder; expected {_EXPECTED}")
    uri = uri.rstrip("/")
    return RawFolder(
        uri=uri,
        key=uri[match.start() :].lstrip("/"),
        dataset=match[1],
        program_year=int(match[2]),
        publication=match[3],
        stem=match[4],
        ingestion=match[5],
    )


@dataclass(frozen=True)
class CurrentIngestions:
    """Which sealed ingestion folders hold the lake's current raw data."""

    authoritative: dict[tuple[str, int], str]  # (dataset, program year) -> latest publication stamp
    current: list[RawFolder]  # per file of that publication, its newest sealed ingestion
    superseded: list[RawFolder]  # older publications, and older ingestions of the same file


def current_ingestions(sealed: Iterable[RawFolder]) -> CurrentIngestions:
    """Per (dataset, program year) the latest publication; per file stem in it, the newest sealed ingestion.

    `sealed` must hold only folders with a manifest.json: an unsealed folder (an ingestion in progress, or one
    that failed: raw is never deleted from) never supersedes anything.
    """
    sealed = list(sealed)
    authoritative = latest_publications(sealed)
    newest: dict[tuple[str, int, str], RawFolder] = {}
    for folder in sealed:
        if folder.publication != authoritative[(folder.dataset, folder.program_year)]:
            continue
        slot = (folder.dataset, folder.program_year, folder.stem)
        if slot not in newest or folder.ingestion_order > newest[slot].ingestion_order:
            newest[slot] = folder
    current = sorted(newest.values(), key=lambda f: f.key)
    chosen = {f.key for f in current}
    superseded = sorted((f for f in sealed if f.key not in chosen), key=lambda f: f.key)
    return CurrentIngestions(authoritative, current, superseded)


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
