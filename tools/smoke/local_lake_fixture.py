"""Small local lakes for the smoke harness's local-mode test.

`build`: generated raw files, the real Glue jobs (clean, curate) on local Spark, and the ingestion records the
ingestion CLI would have written for them; prints one JSON object naming the curated warehouse, the ingestion
items file and the two job reports, relative to --out.
`break`: a copy of a curated warehouse broken on purpose: a duplicated general Record_ID in 2023, the
ownership 2022 partition gone, one research 2022 row missing.

    .venv/bin/python tools/smoke/local_lake_fixture.py build --out DIR [--rows 40] [--years 2022,2023]
    .venv/bin/python tools/smoke/local_lake_fixture.py break --warehouse DIR --out DIR
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "glue-scripts"))

import sample_data  # noqa: E402  (glue-scripts is not an installed package)
from open_payments_lake.clean_pipeline import run_clean  # noqa: E402
from open_payments_lake.curate_pipeline import run_curate  # noqa: E402
from open_payments_lake.local_zones import CLEAN_REPORTS, CURATE_REPORTS, CURATED, LocalZones  # noqa: E402
from open_payments_lake.raw_objects import parse_raw_folder  # noqa: E402
from open_payments_lake.session import local_session  # noqa: E402


def ingestion_items(raw_root: Path) -> list[dict]:
    """One verified item per manifest, keyed as the ingestion table keys it."""
    items = []
    for path in sorted(raw_root.rglob("manifest.json")):
        m = json.loads(path.read_text(encoding="utf-8"))
        stem = parse_raw_folder(path.parent.as_posix()).stem
        items.append(
            {
                "pk": f"FILE#{m['dataset']}#{m['programYear']}#{stem}",
                "sk": f"V#{m['original']['sha256']}",
                "status": "verified",
                "records": m["original"]["records"],
                "publication": m["publication"],
                "layout": m["layout"],
                "ingestionId": m["ingestionId"],
                "updatedAt": m["ingestedAt"],
            }
        )
    return items


def build(out: Path, rows: int, seed: int, years: list[int]) -> dict[str, str]:
    sample_data.generate(
        out, rows=rows, seed=seed, years=years, layout_ids=sample_data.layouts_of("modern"), raw=True
    )
    spark = local_session("smoke-local-lake")
    try:
        # Thresholds wide open: the generated data is dirty on purpose; the reports carry the counts.
        zones = LocalZones(out)
        run_clean(spark, zones.clean_options())
        run_curate(spark, zones.curate_options())
    finally:
        spark.stop()
    ingestion = out / "ingestion.json"
    ingestion.write_text(json.dumps(ingestion_items(out / "raw"), indent=1), encoding="utf-8")
    # Relative to --out, so the built lake can be moved (the test caches it).
    return {
        "warehouse": CURATED,
        "ingestion": ingestion.name,
        "cleanReport": f"{CLEAN_REPORTS}/latest.json",
        "curateReport": f"{CURATE_REPORTS}/latest.json",
    }


def _rewrite_first_file(partition: Path, select: str) -> None:
    """Replaces the partition's first Parquet file by `select` over it (`{f}` = the file)."""
    import duckdb

    first = sorted(partition.glob("*.parquet"))[0]
    tmp = first.with_suffix(".tmp")
    query = select.format(f=f"read_parquet('{first}')")
    duckdb.sql(f"COPY ({query}) TO '{tmp}' (FORMAT parquet)")
    tmp.replace(first)


def break_lake(warehouse: Path, out: Path) -> None:
    shutil.copytree(warehouse, out, ignore=shutil.ignore_patterns("*.crc"))
    _rewrite_first_file(
        out / "general" / "program_year=2023", "SELECT * FROM {f} UNION ALL (SELECT * FROM {f} LIMIT 1)"
    )
    shutil.rmtree(out / "ownership" / "program_year=2022")
    _rewrite_first_file(out / "research" / "program_year=2022", "SELECT * FROM {f} OFFSET 1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    b = commands.add_parser("build")
    b.add_argument("--out", required=True, type=Path)
    b.add_argument("--rows", type=int, default=40)
    b.add_argument("--seed", type=int, default=5)
    b.add_argument("--years", default="2022,2023")
    k = commands.add_parser("break")
    k.add_argument("--warehouse", required=True, type=Path)
    k.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    if args.command == "break":
        break_lake(args.warehouse, args.out)
        return 0
    result = build(args.out.resolve(), args.rows, args.seed, [int(y) for y in args.years.split(",")])
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
