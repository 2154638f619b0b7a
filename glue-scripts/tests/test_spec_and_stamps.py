"""Layouts, header detection, raw keys and publication stamps (no Spark)."""

from __future__ import annotations

from datetime import date

import pytest
from shared_data import OPEN_PAYMENTS

from open_payments_lake.arguments import ratio, resolve, selection
from open_payments_lake.raw_objects import latest_publications, parse_raw_uri, publication_dates
from open_payments_lake.spec import UnknownLayoutError, load_spec, parse_header_line

LAYOUTS = OPEN_PAYMENTS / "layouts"


@pytest.mark.parametrize(
    "layout_id",
    [
        "general.modern-91",
        "general.legacy-75",
        "research.modern-252",
        "research.legacy-176",
        "ownership.modern-30",
        "ownership.legacy-29",
        "removed-deleted-4",
    ],
)
def test_every_cms_header_is_detected(layout_id):
    line = (LAYOUTS / f"{layout_id}.header").read_text(encoding="utf-8").strip()
    assert load_spec().detect_layout(parse_header_line(line), "x.csv").id == layout_id
    quoted_with_bom = "\ufeff" + ",".join(f'"{h}"' for h in parse_header_line(line))
    assert load_spec().detect_layout(parse_header_line(quoted_with_bom), "x.csv").id == layout_id


def test_unknown_layout_names_file_count_and_nearest():
    """A PY2014 file is refused with the shared template of datasets/open-payments.json, the words the
    ingestion CLI uses (__tests__/ingest/names-and-layouts.test.ts compares both languages)."""
    legacy = load_spec().layout("research.legacy-176").header
    research_2014 = [*legacy[:165], "Extra_2014_Column"]
    with pytest.raises(UnknownLayoutError) as error:
        load_spec().detect_layout(research_2014, "OP_DTL_RSRCH_PGYR2014.csv")
    missing = ", ".join(legacy[165:170]) + " and 6 more"
    assert str(error.value) == (
        "OP_DTL_RSRCH_PGYR2014.csv: unknown header layout with 166 columns; nearest known layout is "
        f"research.legacy-176 (176 columns): missing {missing}; unexpected Extra_2014_Column. Files older "
        "than the 2016 layout (program years 2013-2015) are not supported; if CMS published a new layout, "
        "add it to datasets/open-payments.json."
    )


def test_raw_keys_parse_from_any_file_system_uri():
    uri = "s3a://lake-raw/raw/general/program_year=2023/publication=P01302025_01212025/OP_DTL_GNRL_PGYR2023_P01302025_01212025/part-00003.csv"
    part = parse_raw_uri(uri)
    assert part.key.startswith("raw/general/program_year=2023/")
    assert (part.dataset, part.program_year, part.publication, part.part) == (
        "general",
        2023,
        "P01302025_01212025",
        "part-00003.csv",
    )
    with pytest.raises(ValueError, match="not a raw part path"):
        parse_raw_uri("file:/tmp/raw/general/2023/x.csv")


def test_publication_stamps_of_both_styles_order_by_date():
    assert publication_dates("P06302017") == (date(2017, 6, 30), None)
    assert publication_dates("P01302025_01212025") == (date(2025, 1, 30), date(2025, 1, 21))
    with pytest.raises(ValueError, match="13302025 is not a valid"):
        publication_dates("P13302025")
    parts = [
        parse_raw_uri(f"raw/general/program_year=2021/publication={s}/F/part-00000.csv")
        for s in ("P01182024", "P06302023", "P01302025_01212025", "P06282024_06202024")
    ]
    assert latest_publications(parts) == {("general", 2021): "P01302025_01212025"}


def test_arguments_parse_like_glue_and_validate():
    options = resolve(
        ["raw_path", "datasets"],
        ["job.py", "--raw_path", "s3://b/raw/", "--datasets", "all", "--JOB_ID", "j"],
    )
    assert options == {"raw_path": "s3://b/raw/", "datasets": "all"}
    assert selection({"datasets": "all"}, "datasets") is None
    assert selection({"datasets": "general, ownership"}, "datasets", ["general", "ownership"]) == {
        "general",
        "ownership",
    }
    with pytest.raises(ValueError, match="unknown \\['genral'\\]"):
        selection({"datasets": "genral"}, "datasets", ["general"])
    with pytest.raises(ValueError, match="between 0 and 1"):
        ratio({"max_quarantine_ratio": "5"}, "max_quarantine_ratio")
