"""The Spark session of the jobs: only settings that are part of the jobs' semantics.

Storage access (S3A endpoint, credentials, fs.s3.impl) comes from outside: spark-submit --conf, the
environment, or Glue itself, so the same script runs in Glue and locally.
"""

from __future__ import annotations

from pyspark.sql import SparkSession

JOB_CONF = {
    # Dates are calendar dates: no time zone shifts anywhere.
    "spark.sql.session.timeZone": "UTC",
    # Strict MM/dd/yyyy parsing returns null for impossible dates instead of raising.
    "spark.sql.legacy.timeParserPolicy": "CORRECTED",
    "spark.sql.parquet.datetimeRebaseModeInWrite": "CORRECTED",
    # A re-publication of a year replaces exactly that year's partition.
    "spark.sql.sources.partitionOverwriteMode": "dynamic",
    "spark.sql.parquet.compression.codec": "zstd",
}


def build_session(app_name: str) -> SparkSession:
    spark = SparkSession.builder.appName(app_name).getOrCreate()
    configure(spark)
    return spark


def configure(spark: SparkSession) -> None:
    """Apply the job's runtime settings to an existing session (Glue creates the session itself)."""
    for key, value in JOB_CONF.items():
        spark.conf.set(key, value)
