"""Curated tables as Apache Iceberg: each publication applied as one MERGE, tagged, then maintained.

The same SQL runs in Glue (the Glue Data Catalog as Iceberg catalog, set up by the job definition's
--datalake-formats iceberg and --conf) and locally (a Hadoop catalog: tables as folders under a warehouse).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import takewhile

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from . import storage
from .clean_transforms import PROVENANCE
from .curate_transforms import curated_columns
from .spec import Dataset

log = logging.getLogger(__name__)

# Sort order within each program year: the analyst queries group and filter by manufacturer (min/max pruning,
# compression), the record id makes the order total.
SORT_COLUMNS = ("manufacturer_name_normalized", "record_id")
PARTITION_COLUMN = "program_year"
TABLE_PROPERTIES = {
    "format-version": "2",
    "write.parquet.compression-codec": "zstd",
    # Copy-on-write: a MERGE rewrites the files it touches, so readers (Athena, pyiceberg, DuckDB) read plain
    # data files without delete files; CMS re-publishes whole years, so few files would be spared anyway.
    "write.merge.mode": "copy-on-write",
    "write.update.mode": "copy-on-write",
    "write.delete.mode": "copy-on-write",
}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TAG = re.compile(r"^P[0-9]{8}(_[0-9]{8})?$")


@dataclass(frozen=True)
class Namespace:
    """`<spark catalog>.<database>`: where the curated Iceberg tables live."""

    catalog: str
    database: str

    @classmethod
    def parse(cls, text: str) -> Namespace:
        parts = text.split(".")
        if len(parts) != 2 or not all(_IDENTIFIER.match(p) for p in parts):
            raise ValueError(
                f"--iceberg_namespace must be <spark catalog>.<database> (letters, digits, _), got {text!r}"
            )
        return cls(*parts)

    def table(self, name: str) -> str:
        if not _IDENTIFIER.match(name):
            raise ValueError(f"not a table name: {name!r}")
        return f"{self.catalog}.{self.database}.{name}"


def hadoop_catalog_conf(catalog: str, warehouse: str) -> dict[str, str]:
    """Spark settings of a local Hadoop catalog (runtime settings: a catalog is set up on first use)."""
    prefix = f"spark.sql.catalog.{catalog}"
    return {
        prefix: "org.apache.iceberg.spark.SparkCatalog",
        f"{prefix}.type": "hadoop",
        f"{prefix}.warehouse": warehouse,
    }


def use_hadoop_catalog(spark: SparkSession, catalog: str, warehouse: str) -> None:
    for key, value in hadoop_catalog_conf(catalog, warehouse).items():
        spark.conf.set(key, value)


def ensure_table(spark: SparkSession, table: str, schema_of: DataFrame) -> bool:
    """Create `table` (partitioned by program year, sorted, TABLE_PROPERTIES) with the columns of `schema_of`
    unless it exists, else bring an existing table to that layout (`converge_layout`); True when created."""
    if spark.catalog.tableExists(table):
        converge_layout(spark, table, schema_of)
        return False
    catalog_database = table.rsplit(".", 1)[0]
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {catalog_database}")
    # DDL, not a write of no rows: no empty first snapshot, so each snapshot is one publication.
    columns = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in schema_of.schema.fields)
    properties = ", ".join(f"'{k}' = '{v}'" for k, v in TABLE_PROPERTIES.items())
    spark.sql(
        f"CREATE TABLE {table} ({columns}) USING iceberg PARTITIONED BY ({PARTITION_COLUMN}) "
        f"TBLPROPERTIES ({properties})"
    )
    spark.sql(f"ALTER TABLE {table} WRITE ORDERED BY {', '.join(SORT_COLUMNS)}")
    return True


def column_differences(table_columns: dict[str, str], written: dict[str, str]) -> list[str]:
    """What keeps a MERGE of `written` (name -> Spark type) into a table of `table_columns` from working."""
    problems = [f"{c} is missing from the table" for c in written if c not in table_columns]
    problems += [f"{c} is in the table but not written" for c in table_columns if c not in written]
    problems += [
        f"{c} is {table_columns[c]} in the table but {t} written"
        for c, t in written.items()
        if c in table_columns and table_columns[c] != t
    ]
    return problems


def converge_layout(spark: SparkSession, table: str, schema_of: DataFrame) -> list[str]:
    """Give an existing table the layout `ensure_table` creates: the Glue catalog's CreateTable (terraform's
    table, docs/lakehouse.md) makes an unpartitioned, unsorted table without properties. Refuses a table whose
    columns differ from what the job writes. Returns the changes made (none on a table of this job)."""
    table_columns = {f.name: f.dataType.simpleString() for f in spark.table(table).schema.fields}
    written = {f.name: f.dataType.simpleString() for f in schema_of.schema.fields}
    problems = column_differences(table_columns, written)
    if problems:
        raise ValueError(
            f"{table} does not have the columns the curate job writes: {'; '.join(problems)}. Define the "
            "table from modules/catalog (curatedTables) or evolve it with ALTER TABLE before the run."
        )
    changes: list[str] = []
    properties = {r["key"]: r["value"] for r in spark.sql(f"SHOW TBLPROPERTIES {table}").collect()}
    missing = {k: v for k, v in TABLE_PROPERTIES.items() if properties.get(k) != v}
    if missing:
        listed = ", ".join(f"'{k}' = '{v}'" for k, v in missing.items())
        spark.sql(f"ALTER TABLE {table} SET TBLPROPERTIES ({listed})")
        changes.append(f"properties {sorted(missing)}")
    if PARTITION_COLUMN not in partition_fields(spark, table):
        spark.sql(f"ALTER TABLE {table} ADD PARTITION FIELD {PARTITION_COLUMN}")
        changes.append(f"partition field {PARTITION_COLUMN}")
    if sort_columns(properties.get("sort-order", "")) != list(SORT_COLUMNS):
        spark.sql(f"ALTER TABLE {table} WRITE ORDERED BY {', '.join(SORT_COLUMNS)}")
        changes.append(f"write order {', '.join(SORT_COLUMNS)}")
    for change in changes:
        log.info("%s: set %s", table, change)
    return changes


def partition_fields(spark: SparkSession, table: str) -> list[str]:
    """The table's current partition fields as DESCRIBE shows them: identity columns only under
    `# Partition Information`, else every transform (e.g. `bucket(16, id)`) as a `Part N` row."""
    rows = [(r["col_name"], r["data_type"]) for r in spark.sql(f"DESCRIBE TABLE {table}").collect()]
    names = [name for name, _ in rows]
    if "# Partition Information" in names:
        section = rows[names.index("# Partition Information") + 1 :]
        return [
            name
            for name, _ in takewhile(lambda r: r[0] and r[0] != "# Detailed Table Information", section)
            if not name.startswith("#")
        ]
    if "# Partitioning" in names:
        section = rows[names.index("# Partitioning") + 1 :]
        return [kind for _, kind in takewhile(lambda r: r[0].startswith("Part "), section)]
    return []


def sort_columns(sort_order: str) -> list[str]:
    """The columns of Iceberg's `sort-order` table property, e.g. `a ASC NULLS FIRST, b ASC NULLS FIRST`."""
    return [term.strip().split(" ")[0] for term in sort_order.split(",") if term.strip()]


def merge_statement(table: str, source_view: str, columns: list[str], key: str, years: set[int]) -> str:
    """MERGE of one publication: insert new records, update records whose content changed, delete the
    records of the processed program years the publication no longer has (removed/deleted or dropped).

    Provenance columns are not compared: a record CMS re-published unchanged keeps the provenance of the
    publication that last changed it, so its data file is not rewritten for a new file name.
    """
    compared = [c for c in columns if c not in (*PROVENANCE, key, PARTITION_COLUMN)]
    unchanged = " AND ".join(f"t.`{c}` <=> s.`{c}`" for c in compared)
    on = f"t.{PARTITION_COLUMN} = s.{PARTITION_COLUMN} AND t.`{key}` = s.`{key}`"
    statement = (
        f"MERGE INTO {table} t USING {source_view} s ON {on} "
        f"WHEN MATCHED AND NOT ({unchanged}) THEN UPDATE SET * "
        "WHEN NOT MATCHED THEN INSERT *"
    )
    if years:
        listed = ", ".join(str(int(y)) for y in sorted(years))
        statement += f" WHEN NOT MATCHED BY SOURCE AND t.{PARTITION_COLUMN} IN ({listed}) THEN DELETE"
    return statement


def apply_publication(
    spark: SparkSession, table: str, curated: DataFrame, key: str, years: set[int], stamps: set[str]
) -> int | None:
    """Bring the processed `years` of `table` to exactly the rows of `curated` in one MERGE (one atomic
    snapshot; other years untouched), then tag the current snapshot with every publication stamp not yet
    tagged. Returns the current snapshot id (None: the table is still empty)."""
    ensure_table(spark, table, curated)
    view = f"_publication_{abs(hash(table))}"
    curated.createOrReplaceTempView(view)
    try:
        spark.sql(merge_statement(table, view, curated.columns, key, years))
    finally:
        spark.catalog.dropTempView(view)
    snapshot = current_snapshot(spark, table)
    if snapshot is not None:
        for stamp in sorted(stamps):
            tag_publication(spark, table, stamp)
    return snapshot


def tag_publication(spark: SparkSession, table: str, stamp: str) -> None:
    """Tag the current snapshot with a publication stamp (P01302025 or P01302025_01212025), unless the tag
    exists: a tag marks the table as it was when that publication was first applied, and a later run
    re-applying older years must not move it."""
    if not _TAG.match(stamp):
        raise ValueError(f"not a CMS publication stamp: {stamp!r} (expected P<MMDDYYYY>[_<MMDDYYYY>])")
    spark.sql(f"ALTER TABLE {table} CREATE TAG IF NOT EXISTS `{stamp}`")


def current_snapshot(spark: SparkSession, table: str) -> int | None:
    rows = spark.sql(f"SELECT snapshot_id FROM {table}.refs WHERE name = 'main'").collect()
    return rows[0]["snapshot_id"] if rows else None


def read_tag(spark: SparkSession, table: str, stamp: str) -> DataFrame:
    """The table as it was when the publication `stamp` was applied (time travel by tag)."""
    if not _TAG.match(stamp):
        raise ValueError(f"not a CMS publication stamp: {stamp!r}")
    return spark.sql(f"SELECT * FROM {table} VERSION AS OF '{stamp}'")


@dataclass(frozen=True)
class MaintenanceResult:
    table: str
    rewritten_files: int
    added_files: int
    expired_snapshots: int
    snapshots_left: int


def maintain(
    spark: SparkSession, table: str, expire_older_than: datetime, retain_last: int = 1
) -> MaintenanceResult:
    """Compact small files (sorted by the table's sort order), then expire snapshots older than
    `expire_older_than` beyond the last `retain_last`; tagged publications are kept (tags retain their
    snapshots), so time travel by publication survives expiry."""
    catalog, database, name = table.split(".")
    target = f"{database}.{name}"
    rewrite = spark.sql(
        f"CALL {catalog}.system.rewrite_data_files(table => '{target}', strategy => 'sort')"
    ).collect()[0]
    before_expiry = snapshot_count(spark, table)
    cutoff = expire_older_than.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    spark.sql(
        f"CALL {catalog}.system.expire_snapshots(table => '{target}', "
        f"older_than => TIMESTAMP '{cutoff}', retain_last => {int(retain_last)})"
    ).collect()
    left = snapshot_count(spark, table)
    return MaintenanceResult(
        table,
        rewrite["rewritten_data_files_count"],
        rewrite["added_data_files_count"],
        before_expiry - left,
        left,
    )


def snapshot_count(spark: SparkSession, table: str) -> int:
    return spark.sql(f"SELECT count(*) AS n FROM {table}.snapshots").collect()[0]["n"]


MAINTAIN_ARGUMENTS = ("iceberg_namespace", "expire_after_days", "retain_last")


@dataclass(frozen=True)
class MaintainOptions:
    iceberg_namespace: str
    expire_after_days: int
    retain_last: int

    @classmethod
    def from_arguments(cls, options: dict[str, str]) -> MaintainOptions:
        Namespace.parse(options["iceberg_namespace"])
        numbers = {}
        for name in ("expire_after_days", "retain_last"):
            text = options[name]
            if not text.isdigit() or int(text) < 1:
                raise ValueError(f"--{name} must be a whole number >= 1, got {text!r}")
            numbers[name] = int(text)
        return cls(options["iceberg_namespace"], **numbers)


def maintain_namespace(
    spark: SparkSession, options: MaintainOptions, tables: list[str]
) -> list[MaintenanceResult]:
    """maintain() every existing table of the namespace (a table the curate job has not created yet is
    skipped); snapshots older than --expire_after_days go, tagged publications stay."""
    namespace = Namespace.parse(options.iceberg_namespace)
    cutoff = datetime.now(UTC) - timedelta(days=options.expire_after_days)
    results = []
    for name in tables:
        table = namespace.table(name)
        if not spark.catalog.tableExists(table):
            log.info("%s: not created yet, nothing to maintain", table)
            continue
        results.append(maintain(spark, table, cutoff, options.retain_last))
        log.info("%s", results[-1])
    return results


class MigrationMismatch(Exception):
    """The Iceberg table does not hold what the Parquet curated zone held (nothing is deleted either way)."""


def migrate_parquet(
    spark: SparkSession, curated_path: str, namespace: str, datasets: list[Dataset]
) -> list[dict]:
    """Convert a Parquet curated zone to Iceberg tables: each dataset's rows written as the table's first
    publication (tagged with the publication stamps the rows carry), then verified per program year (rows and
    amount to the cent). The Parquet files are read, never changed: switching back is a configuration change.
    Re-running is safe (the MERGE finds nothing to change)."""
    results = []
    for dataset in datasets:
        path = storage.join(curated_path, dataset.name)
        if not storage.glob(spark, storage.join(path, "program_year=*/*.parquet")):
            log.info("%s: no curated Parquet, nothing to migrate", dataset.name)
            continue
        rows = spark.read.option("basePath", path).parquet(path).select(*curated_columns(dataset))
        years = {r[0] for r in rows.select(PARTITION_COLUMN).distinct().collect()}
        stamps = {r[0] for r in rows.select("publication_stamp").distinct().collect() if r[0]}
        table = Namespace.parse(namespace).table(dataset.curated_table)
        apply_publication(spark, table, rows, dataset.record_key, years, stamps)
        before, after = (_year_totals(df, dataset) for df in (rows, spark.table(table)))
        if before != after:
            raise MigrationMismatch(
                f"{table}: Parquet {before} != Iceberg {after}; the Parquet zone is untouched"
            )
        results.append({"table": table, "years": before, "tags": sorted(stamps)})
        log.info("%s: migrated %s", table, before)
    return results


def _year_totals(rows: DataFrame, dataset: Dataset) -> dict[int, tuple[int, str]]:
    """{program_year: (rows, amount total)}: what a migration must keep."""
    amount = F.sum(dataset.amount_column).cast("string") if dataset.amount_column else F.lit("")
    return {
        r[0]: (r[1], r[2]) for r in rows.groupBy(PARTITION_COLUMN).agg(F.count(F.lit(1)), amount).collect()
    }
