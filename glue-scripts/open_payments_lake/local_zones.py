"""The lake's zones as folders under one root on this machine: the one layout that tests, fixtures and the
benchmark run the jobs over (the lake's buckets in miniature; Glue jobs get S3 paths from their arguments)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .clean_pipeline import CleanOptions
from .curate_pipeline import CurateOptions

RAW = "raw"
CLEANED = "cleaned/cleaned"
QUARANTINE = "cleaned/quarantine"
CLEAN_REPORTS = "cleaned/reports/clean"
TEMP = "glue-temp/clean"
CURATED = "curated/curated"
CURATE_REPORTS = "curated/reports/curate"
ICEBERG_WAREHOUSE = "curated/curated/iceberg"


@dataclass(frozen=True)
class LocalZones:
    root: Path

    def path(self, zone: str) -> str:
        """A zone's folder, with the trailing slash the jobs' path arguments carry."""
        return f"{self.root}/{zone}/"

    @property
    def cleaned(self) -> str:
        return self.path(CLEANED)

    @property
    def quarantine(self) -> str:
        return self.path(QUARANTINE)

    @property
    def curated(self) -> str:
        return self.path(CURATED)

    def clean_options(
        self, max_quarantine_ratio: float = 1.0, datasets: set[str] | None = None
    ) -> CleanOptions:
        return CleanOptions(
            self.path(RAW),
            self.cleaned,
            self.quarantine,
            self.path(CLEAN_REPORTS),
            self.path(TEMP),
            max_quarantine_ratio,
            datasets,
        )

    def curate_options(
        self,
        max_rule_violation_ratio: float = 1.0,
        datasets: set[str] | None = None,
        curated_format: str = "parquet",
        iceberg_namespace: str = "lake.curated",
    ) -> CurateOptions:
        return CurateOptions(
            self.cleaned,
            self.curated,
            self.path(CURATE_REPORTS),
            max_rule_violation_ratio,
            datasets,
            curated_format=curated_format,
            iceberg_namespace=iceberg_namespace,
        )

    @property
    def iceberg_warehouse(self) -> str:
        """The local Hadoop catalog's warehouse: the curated bucket's curated/iceberg/ prefix in miniature."""
        return self.path(ICEBERG_WAREHOUSE)
