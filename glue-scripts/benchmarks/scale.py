"""Full-year scale run of the jobs on local Spark, beside DuckDB on the same rows (a script, not a test).

    .venv/bin/python glue-scripts/benchmarks/scale.py --work /tmp/opl-scale [--rows 15000000] [--parts 2,4,8]

A program year of General payments is about 15 M rows (6-9 GB of CSV). The rows are generated once, in
the largest part count (default: cores, 2x cores, 4x cores); each smaller count gets the same records
regrouped into fewer record-aligned parts (generating 15 M rows takes a quarter of an hour; regrouping, a
minute). For each part count the script runs clean + curate in a fresh JVM (cold, as every Glue job run is);
DuckDB's same conversion (benchmarks/duckdb_reference.py) runs once, in a fresh process, on the first part
count's raw zone (the same records whatever the parts). It prints wall time, CPU time, peak memory and output
sizes, then projects the Spark run to Glue G.1X workers from the CPU time it measured. The generated data is
deleted at the end unless --keep.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # glue-scripts/, when run as a script

from benchmarks.benchmark import positive, prepare
from benchmarks.measure import in_fresh_process, tree_bytes

# A Glue G.1X worker: 4 vCPU, 16 GB. One worker of a job hosts the driver; the others run executors.
G1X_VCPU = 4


def regroup(source: Path, target: Path, parts: int) -> Path:
    """A copy of `source`'s raw zone whose multi-part files have `parts` record-aligned parts instead.

    Consecutive parts are concatenated (the header once per part); each manifest lists the new parts with
    their own digests, sizes and records, and keeps the original file's entry as it was.
    """
    shutil.rmtree(target, ignore_errors=True)
    for manifest_path in (source / "raw").rglob("manifest.json"):
        folder = target / manifest_path.parent.relative_to(source)
        folder.mkdir(parents=True)
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        entries = manifest["parts"]
        size = -(-len(entries) // min(parts, len(entries)))
        regrouped = []
        for index, start in enumerate(range(0, len(entries), size)):
            name = f"part-{index:05d}.csv"
            digest, written, records = hashlib.sha256(), 0, 0
            with (folder / name).open("wb") as out:
                for position, entry in enumerate(entries[start : start + size]):
                    with (manifest_path.parent / entry["key"]).open("rb") as part:
                        header = part.readline()
                        if position == 0:
                            out.write(header)
                            digest.update(header)
                            written += len(header)
                        while chunk := part.read(1 << 24):
                            out.write(chunk)
                            digest.update(chunk)
                            written += len(chunk)
                    records += entry["records"]
            regrouped.append(
                {"key": name, "sha256": digest.hexdigest(), "bytes": written, "records": records}
            )
        manifest["parts"] = regrouped
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return target


def gib(n: int) -> str:
    return f"{n / 2**30:.2f}"


def projection(cpu_seconds: float, workers: int) -> float:
    """Seconds of a CPU-bound run spread over the executors of `workers` G.1X workers (parts >= vCPUs)."""
    return cpu_seconds / (G1X_VCPU * (workers - 1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="scratch directory (GBs at 15 M rows)")
    parser.add_argument("--rows", type=positive, default=15_000_000)
    parser.add_argument("--parts", default="", help="comma-separated part counts (default: cores, 2x, 4x)")
    parser.add_argument("--cores", type=positive, default=os.cpu_count() or 2)
    parser.add_argument("--driver-memory", default="8g", help="the local JVM heap (a G.1X worker: 16 GB)")
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    args = parser.parse_args(argv)

    parts_list = [int(p) for p in args.parts.split(",") if p] or [args.cores * k for k in (1, 2, 4)]
    print(f"scale run: {args.rows:,} General rows, parts {parts_list}, {args.cores} cores", flush=True)
    generated = prepare(args.work, args.rows, max(parts_list))
    runs = []
    duck: dict = {}
    for parts in parts_list:
        root = generated
        if parts != max(parts_list):
            started = time.perf_counter()
            root = regroup(generated, args.work / f"{args.rows}-{parts}", parts)
            print(f"  regrouped into {parts} parts in {time.perf_counter() - started:.1f}s", flush=True)
        raw_bytes = tree_bytes(root / "raw" / "general", ".csv")
        print(f"  {parts} parts: Spark clean + curate (fresh JVM) ...", flush=True)
        spark = in_fresh_process("spark", root, args.cores, args.driver_memory)
        print(f"  {parts} parts: {spark['clean_seconds']} s + {spark['curate_seconds']} s", flush=True)
        if not duck:
            print(f"  {parts} parts: DuckDB, the same conversion ...", flush=True)
            duck = in_fresh_process("duckdb", root, args.cores)
            print(f"  DuckDB: {duck['seconds']} s", flush=True)
        runs.append({"parts": parts, "raw_csv_bytes": raw_bytes, "spark": spark})
        if root != generated and not args.keep:
            shutil.rmtree(root)

    d = duck
    print(
        f"\nDuckDB, the same conversion of the same records ({parts_list[0]} parts): {d['seconds']} s wall "
        f"(clean {d['clean_seconds']} s + curate {d['curate_seconds']} s), {d['cpu_seconds']} s CPU, peak "
        f"{gib(d['peak_rss_bytes'])} GiB, curated {gib(d['curated_bytes'])} GiB, {d['curated_rows']:,} rows"
    )
    print(
        "\n| parts | raw GiB | clean s | curate s | Spark wall s | Spark CPU s | Spark peak GiB "
        "| cleaned GiB | curated GiB | wall / DuckDB | CPU / DuckDB | same rows as DuckDB |"
    )
    print("|" + "---:|" * 12)
    for run in runs:
        s = run["spark"]
        wall = s["clean_seconds"] + s["curate_seconds"]
        cells = [
            run["parts"],
            gib(run["raw_csv_bytes"]),
            s["clean_seconds"],
            s["curate_seconds"],
            round(wall, 1),
            s["cpu_seconds"],
            gib(s["peak_rss_bytes"]),
            gib(s["cleaned_bytes"]),
            gib(s["curated_bytes"]),
            f"{wall / d['seconds']:.1f}x",
            f"{s['cpu_seconds'] / d['cpu_seconds']:.1f}x",
            "yes" if s["curated_rows"] == d["curated_rows"] else "NO",
        ]
        print("| " + " | ".join(str(c) for c in cells) + " |")

    best = min(runs, key=lambda r: r["spark"]["cpu_seconds"])
    cpu = best["spark"]["cpu_seconds"]
    print(
        f"\nProjection to Glue G.1X ({G1X_VCPU} vCPU, 16 GB; one worker is the driver) from the least Spark "
        f"CPU time measured ({cpu:.0f} s with {best['parts']} parts, JVM start included), assuming the work "
        "stays CPU-bound and splits into at least as many parts as executor vCPUs; Glue's start-up excluded:"
    )
    for workers in (2, 5, 10, 20):
        print(
            f"  {workers:>2} workers ({G1X_VCPU * (workers - 1):>2} executor vCPU, parts >= that): "
            f"~{projection(cpu, workers):.0f} s"
        )
    (args.work / "scale.json").write_text(json.dumps({"duckdb": d, "spark": runs}, indent=2) + "\n", "utf-8")
    if not args.keep:
        shutil.rmtree(generated)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
