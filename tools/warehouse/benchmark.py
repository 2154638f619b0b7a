"""Benchmark: the five dashboard queries on the PostgreSQL marts vs the same answers from curated through the
local SQL engine (DuckDB, tools/local-athena), on a generated curated table of 1 M+ general payments.

    .venv/bin/python tools/warehouse/benchmark.py [--rows 1200000] [--runs 200] [--curated-runs 10]

Generates curated Parquet with the curated schema (tools/local-athena/curated_ddl.py), three program years,
~150 k physicians, 2 k teaching hospitals, 1.5 k manufacturers; starts a real local PostgreSQL, applies the
migrations, loads the marts (timed), checks each dashboard's answer is the same from both, then prints p50/p95
latency per dashboard and engine. Target: every dashboard < 50 ms p95 on the marts. Exit 1 when an answer
differs or a dashboard misses the target.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "tools" / p) for p in ("warehouse", "local-athena")] + [str(REPO / "glue-scripts")]

from curated_ddl import PARTITION, curated_schema  # noqa: E402
from dashboards import dashboards, sample_parameters  # noqa: E402
from extract import extract_local  # noqa: E402
from loader import load  # noqa: E402
from local_athena import connect  # noqa: E402
from local_postgres import LocalPostgres  # noqa: E402
from migrations import apply  # noqa: E402
from open_payments_lake.spec import load_spec  # noqa: E402

TARGET_MS = 50.0
YEARS = (2021, 2022, 2023)
ARROW_TYPES = {
    "string": pa.string(),
    "decimal": pa.decimal128(18, 2),
    "date": pa.date32(),
    "integer": pa.int32(),
    "boolean": pa.bool_(),
}
STATES = (  # noqa: SIM905 (a list literal of 54 codes is 54 lines)
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT "
    "NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI"
).split()
SPECIALTIES = [
    "Allopathic & Osteopathic Physicians",
    "Dental Providers",
    "Podiatric Medicine & Surgery Service Providers",
    "Physician Assistants & Advanced Practice Nursing Providers",
    "Eye and Vision Services Providers",
    "Chiropractic Providers",
]
FIRST = "JAMES MARY ROBERT PATRICIA JOHN JENNIFER MICHAEL LINDA DAVID ELIZABETH WILLIAM".split()  # noqa: SIM905
LAST = "SMITH JOHNSON WILLIAMS BROWN JONES GARCIA MILLER DAVIS RODRIGUEZ MARTINEZ LOPEZ".split()  # noqa: SIM905
PHYSICIANS, HOSPITALS, MANUFACTURERS = 150_000, 2_000, 1_500
RECIPIENT_COLUMNS = (
    "covered_recipient_npi",
    "teaching_hospital_ccn",
    "teaching_hospital_name",
    "covered_recipient_first_name",
    "covered_recipient_last_name",
    "recipient_city",
    "recipient_state",
    "specialty_top_level",
)


def recipient(who: int) -> dict[str, str | None]:
    """A stable recipient for an id: physicians by NPI, then teaching hospitals by CCN."""
    place = who * 7919 % 4_000
    common = {"recipient_city": f"CITY {place}", "recipient_state": STATES[place % len(STATES)]}
    if who >= PHYSICIANS:
        return {
            **common,
            "teaching_hospital_ccn": str(100_000 + who),
            "teaching_hospital_name": f"HOSPITAL {who}",
        }
    return {
        **common,
        "covered_recipient_npi": str(1_000_000_000 + who),
        "covered_recipient_first_name": FIRST[who % len(FIRST)],
        "covered_recipient_last_name": f"{LAST[who // 7 % len(LAST)]} {who % 997}",
        "specialty_top_level": SPECIALTIES[who % len(SPECIALTIES)],
    }


def skewed(rng: random.Random, n: int, spread: float) -> int:
    """An id in [0, n): uniform with probability `spread` (most recipients appear), else heavy-tailed (a few
    recipients and manufacturers take a large share, as in the real files)."""
    return rng.randrange(n) if rng.random() < spread else int(rng.paretovariate(0.6)) % n


def curated_year(rows: int, year: int, rng: random.Random, columns: list[tuple[str, str]]) -> pa.Table:
    """One program year of curated general payments: skewed like the real files (a few recipients and
    manufacturers take most payments), realistic keys, nulls in the columns no dashboard reads."""
    people = [recipient(skewed(rng, PHYSICIANS + HOSPITALS, 0.7)) for _ in range(rows)]
    values: dict[str, list] = {name: [p.get(name) for p in people] for name in RECIPIENT_COLUMNS}
    values["manufacturer_name_normalized"] = [f"MAKER {skewed(rng, MANUFACTURERS, 0.5)}" for _ in range(rows)]
    values["total_amount_of_payment_usdollars"] = [
        Decimal(int(rng.lognormvariate(4.5, 1.6)) + 1).scaleb(-2) for _ in range(rows)
    ]
    values["record_id"] = [f"{year}{i:09d}" for i in range(rows)]
    return pa.table(
        {
            name: pa.array(values[name], ARROW_TYPES[kind])
            if name in values
            else pa.nulls(rows, ARROW_TYPES[kind])
            for name, kind in columns
            if name != PARTITION
        }
    )


def generate(root: Path, rows: int) -> None:
    dataset = next(d for d in load_spec().curated_datasets if d.name == "general")
    columns = curated_schema(dataset)
    rng = random.Random(19)
    for year in YEARS:
        folder = root / "general" / f"{PARTITION}={year}"
        folder.mkdir(parents=True)
        pq.write_table(curated_year(rows // len(YEARS), year, rng, columns), folder / "part-0.parquet")


def latencies_ms(run, times: int) -> list[float]:
    run()  # warm: plan cache, buffers
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def p50_p95(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=20, method="inclusive")
    return statistics.median(samples), cuts[18]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_200_000, help="curated general payments to generate")
    parser.add_argument("--runs", type=int, default=200, help="timed runs per dashboard on the marts")
    parser.add_argument("--curated-runs", type=int, default=10, help="timed runs per dashboard on curated")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="warehouse-bench-") as tmp, LocalPostgres() as pg:
        root = Path(tmp)
        started = time.monotonic()
        generate(root, args.rows)
        print(f"generated {args.rows} curated rows in {time.monotonic() - started:.1f} s", file=sys.stderr)
        apply(pg.dsn())
        started = time.monotonic()
        tables = extract_local(root)
        extracted = time.monotonic() - started
        report = load(pg.dsn(), tables, source="benchmark", progress=lambda m: print(m, file=sys.stderr))
        loaded = time.monotonic() - started - extracted
        print(
            f"refresh: extract {extracted:.1f} s (DuckDB over curated), load {loaded:.1f} s "
            f"({sum(report.rows.values())} mart rows; {report.payments} payments, ${report.total_usd})"
        )
        failures = 0
        curated = connect(root, "open_payments_curated")
        with psycopg.connect(pg.dsn()) as conn:
            conn.execute("ANALYZE")
            values = sample_parameters(conn)
            print(f"parameters: {values}")
            header = ("marts p50", "marts p95", "curated p50", "curated p95")
            print(f"{'dashboard':<28} " + " ".join(f"{h:>12}" for h in header))
            for d in dashboards():
                same = d.on_marts(conn, values) == d.on_curated(curated, values)
                marts = p50_p95(latencies_ms(lambda d=d: d.on_marts(conn, values), args.runs))
                lake = p50_p95(latencies_ms(lambda d=d: d.on_curated(curated, values), args.curated_runs))
                verdict = (
                    ""
                    if same and marts[1] < TARGET_MS
                    else "  <- " + ("answers differ" if not same else "over target")
                )
                failures += bool(verdict)
                figures = " ".join(f"{ms:>10.2f}ms" for ms in (*marts, *lake))
                print(f"{d.name:<28} {figures}{verdict}")
        outcome = "met" if not failures else "MISSED"
        print(f"target: p95 < {TARGET_MS:.0f} ms on the marts, same answers: {outcome}")
        return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
