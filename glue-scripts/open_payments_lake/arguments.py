"""Job arguments: Glue's getResolvedOptions when awsglue is importable, else argparse with the same names.

Every argument is required (glue-scripts/jobs.json gives each a default, the ETL module sets --TempDir),
so both parsers behave alike.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

ALL = "all"


def resolve(names: Sequence[str], argv: Sequence[str] | None = None) -> dict[str, str]:
    argv = list(sys.argv if argv is None else argv)
    try:
        from awsglue.utils import getResolvedOptions  # type: ignore[import-not-found]
    except ImportError:
        parser = argparse.ArgumentParser(description="Open Payments Lake Glue job")
        for name in names:
            parser.add_argument(f"--{name}", required=True)
        # Glue passes its own arguments (--JOB_ID, --job-bookmark-option, ...) too: ignore unknown ones.
        known, _ = parser.parse_known_args(argv[1:])
        return {name: getattr(known, name) for name in names}
    return getResolvedOptions(argv, list(names))


def ratio(options: dict[str, str], name: str) -> float:
    text = options[name]
    try:
        value = float(text)
    except ValueError as error:
        raise ValueError(f"--{name} must be a number between 0 and 1, got {text!r}") from error
    if not 0 <= value <= 1:
        raise ValueError(f"--{name} must be between 0 and 1, got {text!r}")
    return value


def selection(options: dict[str, str], name: str, allowed: Sequence[str] | None = None) -> set[str] | None:
    """A comma-separated filter argument; None means everything ("all")."""
    text = options[name].strip()
    if text.lower() == ALL:
        return None
    values = {v.strip() for v in text.split(",") if v.strip()}
    if not values:
        raise ValueError(f"--{name} must be 'all' or a comma-separated list, got {text!r}")
    if allowed is not None and values - set(allowed):
        raise ValueError(
            f"--{name}: unknown {sorted(values - set(allowed))}; expected some of {sorted(allowed)}"
        )
    return values


def selection_report(datasets: set[str] | None, program_years: set[int] | None) -> dict:
    """What a run was limited to, for its report: readers of the zone take a limited run's counts for the
    partitions it ran over and older runs' for the rest (tools/smoke)."""
    return {
        "datasets": sorted(datasets) if datasets is not None else ALL,
        "program_years": sorted(program_years) if program_years is not None else ALL,
    }
