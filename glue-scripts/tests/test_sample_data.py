"""The sample generator keeps to real-world structure (no Spark): places, companies, natures and amounts."""

from __future__ import annotations

import csv
import json
import math
import statistics
from collections import Counter, defaultdict
from pathlib import Path

import pytest

import sample_data
import sample_reference
from open_payments_lake.spec import load_spec

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "open-payments" / "real"
PAYER = "applicable_manufacturer_or_applicable_gpo_making_payment"
NATURE = "nature_of_payment_or_transfer_of_value"
AMOUNT = "total_amount_of_payment_usdollars"


def read_rows(path: Path) -> list[dict[str, str]]:
    """Rows keyed by canonical names, with the generator's text dirt undone (as the clean job repairs it)."""
    with path.open(encoding="utf-8", newline="") as handle:
        header, *records = list(csv.reader(handle))
    layout = load_spec().detect_layout(header, path.name)
    return [{c: v.strip().lstrip("'\t") for c, v in zip(layout.canonical, r, strict=True)} for r in records]


@pytest.fixture(scope="module")
def general_2023(tmp_path_factory) -> list[dict[str, str]]:
    out = tmp_path_factory.mktemp("samples")
    (path,) = sample_data.generate(out, 30_000, 11, [2023], ["general.modern-91"], dirty_every=10**9)
    return read_rows(path)


def test_the_reference_table_is_what_the_script_derives_from_the_real_cms_files():
    if not REAL.is_dir():
        pytest.fail(f"the real CMS files are missing: {REAL} (the shared folder next to the checkout)")
    text = sample_data.REFERENCE_FILE.read_text(encoding="utf-8")
    assert sample_reference.to_json(sample_reference.build(REAL)) == text
    committed = json.loads(text)
    assert len(committed["locations"]) == sample_reference.LOCATIONS
    assert any(len(m["names"]) > 1 for m in committed["manufacturers"])


def test_every_place_is_a_real_city_state_zip_triple(tmp_path):
    reference = json.loads(sample_data.REFERENCE_FILE.read_text())
    table = {(x["city"], x["state"], x["zip"]) for x in reference["locations"]}
    layouts = ["general.legacy-75", "research.modern-252", "ownership.modern-30", "ownership.legacy-29"]
    paths = sample_data.generate(tmp_path, 400, 5, [2016, 2023], layouts, dirty_every=7)
    places = Counter()
    for path in paths:
        for row in read_rows(path):
            # Scheduled dirt the lake must catch: an invalid state, a spreadsheet error for the city.
            if row["recipient_state"] == "XX" or row["recipient_city"] == "#N/A":
                continue
            places[(row["recipient_city"], row["recipient_state"], row["recipient_zip_code"])] += 1
    assert sum(places.values()) > 2500
    assert set(places) <= table, sorted(set(places) - table)[:5]
    assert len({state for _, state, _ in places}) > 30  # spread over the country, not a handful of states


def test_companies_are_real_with_their_real_ids_states_and_spelling_variants(general_2023):
    companies = json.loads(sample_data.REFERENCE_FILE.read_text())["manufacturers"]
    by_name = {name: c for c in companies for name in c["names"]}
    spelled = defaultdict(set)
    for row in general_2023:
        company = by_name[row[f"{PAYER}_name"]]
        assert (row[f"{PAYER}_id"], row[f"{PAYER}_state"]) == (company["id"], company["state"])
        assert row["submitting_applicable_manufacturer_or_applicable_gpo_name"] == row[f"{PAYER}_name"]
        spelled[company["id"]].add(row[f"{PAYER}_name"])
    # Companies CMS published under several spellings show up under several here too.
    assert any(len(names) > 1 for names in spelled.values())
    # Concentrated like the real files: the largest company makes far more payments than the median one.
    counts = Counter(by_name[row[f"{PAYER}_name"]]["id"] for row in general_2023)
    assert max(counts.values()) > 5 * statistics.median(counts.values())


def test_natures_of_payment_come_in_their_documented_shares(general_2023):
    natures = {n.name: n for n in sample_data.NATURES}
    assert math.isclose(sum(n.share for n in natures.values()), 1.0)
    counts = Counter(row[NATURE] for row in general_2023)
    assert set(counts) <= set(natures)
    total = sum(counts.values())
    for name, count in counts.items():
        share = natures[name].share
        # Within 4 standard deviations of the binomial share.
        assert abs(count / total - share) <= 4 * math.sqrt(share * (1 - share) / total) + 1 / total, name
    assert counts.most_common(1)[0][0] == "Food and Beverage"
    assert 0.88 < counts["Food and Beverage"] / total < 0.92


def test_amounts_follow_their_nature(general_2023):
    amounts = defaultdict(list)
    for row in general_2023:
        amounts[row[NATURE]].append(float(row[AMOUNT]))
    for name, values in amounts.items():
        spec = next(n for n in sample_data.NATURES if n.name == name).amounts
        assert spec.low <= min(values) and max(values) <= spec.high, name
        if len(values) >= 200:
            # The median of a log-normal draw: within 15% of the documented median.
            assert statistics.median(values) == pytest.approx(spec.median, rel=0.15), name
    food = statistics.median(amounts["Food and Beverage"])
    assert food < 50 < statistics.median(amounts["Consulting Fee"]) / 20


def test_royalties_are_few_payments_with_the_most_expected_dollars():
    """The distribution as documented: Royalty or License has the largest expected dollars of all natures
    (share x log-normal mean), Food and Beverage the most payments and the smallest median."""

    def expected_dollars(n: sample_data.Nature) -> float:
        return n.share * n.amounts.median * math.exp(n.amounts.spread**2 / 2)

    by_dollars = max(sample_data.NATURES, key=expected_dollars)
    assert by_dollars.name == "Royalty or License"
    assert by_dollars.share <= 0.001
    food = max(sample_data.NATURES, key=lambda n: n.share)
    assert food.name == "Food and Beverage"
    assert food.amounts.median == min(n.amounts.median for n in sample_data.NATURES)


def test_years_before_2021_use_the_categories_cms_had_then(tmp_path):
    (path,) = sample_data.generate(tmp_path, 3_000, 3, [2016], ["general.legacy-75"], dirty_every=10**9)
    seen = {row[NATURE] for row in read_rows(path)}
    legacy = {n.name for n in sample_data.natures(2016)}
    assert seen <= legacy
    assert "Debt forgiveness" not in legacy and "Acquisitions" not in legacy
    assert sum(n.startswith("Compensation for serving as faculty") for n in legacy) == 2
    assert math.isclose(sum(n.share for n in sample_data.natures(2016)), 1.0)


def test_generation_is_deterministic(tmp_path):
    first = sample_data.generate(tmp_path / "a", 50, 9, [2023], ["general.modern-91", "removed-deleted-4"])
    second = sample_data.generate(tmp_path / "b", 50, 9, [2023], ["general.modern-91", "removed-deleted-4"])
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


@pytest.mark.parametrize("kind", ["modern", "legacy"])
def test_a_layout_kind_names_one_layout_per_dataset_of_that_generation(kind, tmp_path, capsys):
    spec = load_spec()
    layouts = [spec.layout(x) for x in sample_data.layouts_of(kind)]
    assert sorted(x.dataset for x in layouts) == sorted(spec.datasets)
    assert all(x.kind == kind for x in layouts if x.dataset != "removed_deleted")
    # The CLI takes the kind for its ids (the local lake's samples step passes it).
    assert sample_data.main(["--out", str(tmp_path), "--rows", "3", "--layouts", kind]) == 0
    written = {Path(line).name for line in capsys.readouterr().out.split()}
    assert {spec.detect_layout(read_header(tmp_path / name), name).id for name in written} == {
        x.id for x in layouts
    }


def test_an_unknown_layout_kind_is_refused_naming_the_kinds(capsys):
    with pytest.raises(
        ValueError, match=r"unknown layout kind 'medieval': expected one of \['legacy', 'modern'\]"
    ):
        sample_data.layouts_of("medieval")
    with pytest.raises(SystemExit) as exit_info:
        sample_data.main(["--out", "unused", "--layouts", "medieval"])
    assert exit_info.value.code == 2
    assert "or a layout kind of ['legacy', 'modern']" in capsys.readouterr().err


def read_header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))
