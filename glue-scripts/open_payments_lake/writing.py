"""Writing partitioned Parquet so that a run replaces exactly the program years it processed."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from . import storage


def replace_partitions(
    spark: SparkSession, df: DataFrame, path: str, processed_years: set[int], years_with_rows: set[int]
) -> None:
    """Write `df` partitioned by program_year with dynamic overwrite (other years are untouched), and remove
    the partitions of processed years that now have no rows (dynamic overwrite never deletes those)."""
    if years_with_rows:
        (
            df.write.mode("overwrite")
            .option("partitionOverwriteMode", "dynamic")
            .option("compression", "zstd")
            .partitionBy("program_year")
            .parquet(path)
        )
    for year in sorted(processed_years - years_with_rows):
        storage.delete(spark, storage.join(path, f"program_year={year}"))
