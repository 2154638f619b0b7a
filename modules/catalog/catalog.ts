import { GlueCatalogDatabase } from "@cdktf/provider-aws/lib/glue-catalog-database";
import { GlueCatalogTable } from "@cdktf/provider-aws/lib/glue-catalog-table";
import { GlueCrawler } from "@cdktf/provider-aws/lib/glue-crawler";
import { Construct } from "constructs";
import openPayments from "../../datasets/open-payments.json";
import type { ITerraformDependable } from "../core";
import { icebergTableFolder } from "../storage/layout";
import {
  type CrawlPolicy,
  CURATED_CRAWL_POLICY,
  RAW_CRAWL_POLICY,
  validateCrawlPolicy,
} from "./crawl-policy";
import { curatedTables, icebergColumns, PARTITION_COLUMN } from "./curated-schema";

export interface LakeCatalogProps {
  readonly rawDatabaseName: string;
  readonly curatedDatabaseName: string;
  readonly rawCrawlerName: string;
  readonly curatedCrawlerName: string;
  readonly rawBucketName: string;
  readonly curatedBucketName: string;
  readonly crawlerRoleArn: string;
  /** Name of the Glue security configuration every crawler runs with. */
  readonly securityConfigurationName: string;
  /**
   * parquet (default): the curated tables are defined here and a crawler registers their partitions.
   * iceberg: the tables are created here as empty Iceberg tables (Glue writes their first metadata file), so the
   * data-quality rulesets and Lake Formation tags that name them apply before any data; the curate job gives them
   * their partition spec, sort order and properties and commits every publication. No curated crawler.
   */
  readonly curatedFormat?: "parquet" | "iceberg";
}

const IDENTIFIER = /^[a-z][a-z0-9_]{0,254}$/;
const PARQUET = {
  inputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
  outputFormat: "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
  serializationLibrary: "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
};

function crawlPolicyBlocks(crawler: string, policy: CrawlPolicy, target: "s3" | "catalog") {
  validateCrawlPolicy(crawler, policy, target);
  return {
    recrawlPolicy: { recrawlBehavior: policy.recrawlBehavior },
    schemaChangePolicy: { updateBehavior: policy.updateBehavior, deleteBehavior: policy.deleteBehavior },
  };
}

/**
 * The lake's Glue Data Catalog: a raw database filled by a crawler over `raw/<dataset>/`, and a curated
 * database whose tables (general_payments, research_payments, ownership_interests) are defined here from
 * the datasets file, with a crawler that registers their `program_year` partitions.
 */
export class LakeCatalog extends Construct {
  readonly rawDatabaseName: string;
  readonly curatedDatabaseName: string;
  readonly rawCrawlerName: string;
  /** Undefined for Iceberg curated tables (no crawler). */
  readonly curatedCrawlerName: string | undefined;
  /** Curated table name by dataset. */
  readonly curatedTableNames: Readonly<Record<string, string>>;
  /** The curated tables: what names one of them (rulesets, Lake Formation tags) depends on these. */
  readonly curatedTableResources: readonly ITerraformDependable[];

  constructor(scope: Construct, id: string, props: LakeCatalogProps) {
    super(scope, id);
    for (const [field, value] of Object.entries({
      rawDatabaseName: props.rawDatabaseName,
      curatedDatabaseName: props.curatedDatabaseName,
    })) {
      if (!IDENTIFIER.test(value)) {
        throw new Error(
          `${field} "${value}" must be lower-case letters, digits and underscores, starting with a letter ` +
            "(Athena cannot query other database names).",
        );
      }
    }

    const rawDatabase = new GlueCatalogDatabase(this, "raw-database", {
      name: props.rawDatabaseName,
      description:
        "CMS Open Payments files as published (CSV), one table per dataset, found by the raw crawler",
      locationUri: `s3://${props.rawBucketName}/raw/`,
    });
    const curatedDatabase = new GlueCatalogDatabase(this, "curated-database", {
      name: props.curatedDatabaseName,
      description:
        "Curated CMS Open Payments tables (Parquet, ZSTD, partitioned by program_year) for analysts",
      locationUri: `s3://${props.curatedBucketName}/curated/`,
    });

    const iceberg = props.curatedFormat === "iceberg";
    const tables = curatedTables().map((spec) => {
      const common = {
        databaseName: curatedDatabase.name,
        name: spec.tableName,
        description: openPayments.datasets[spec.dataset].title,
        tableType: "EXTERNAL_TABLE",
      };
      if (!iceberg) {
        return new GlueCatalogTable(this, `curated-${spec.dataset}`, {
          ...common,
          parameters: { classification: "parquet", EXTERNAL: "TRUE", "parquet.compression": "ZSTD" },
          partitionKeys: [PARTITION_COLUMN],
          storageDescriptor: {
            location: `s3://${props.curatedBucketName}/curated/${spec.dataset}/`,
            ...PARQUET,
            serDeInfo: { serializationLibrary: PARQUET.serializationLibrary },
            columns: spec.columns,
          },
        });
      }
      // Glue's CreateTable writes the table's first Iceberg metadata (format v2, no snapshot) from these
      // columns; it takes neither partitions nor table properties, so the partition column is a plain column
      // until the curate job's first run adds the partition field. From then on the table is Iceberg's: the
      // job's commits move metadata_location (parameters) and the column list (storage descriptor), which
      // terraform must neither revert nor re-apply (schema changes are the job's ALTER TABLE, not an UpdateTable).
      return new GlueCatalogTable(this, `curated-${spec.dataset}`, {
        ...common,
        openTableFormatInput: { icebergInput: { metadataOperation: "CREATE", version: "2" } },
        storageDescriptor: {
          location: `s3://${props.curatedBucketName}/${icebergTableFolder(spec.tableName)}`,
          columns: icebergColumns(spec),
        },
        lifecycle: { ignoreChanges: ["parameters", "storage_descriptor", "partition_keys"] },
      });
    });

    // Raw files are CSV with a header line; one S3 target per dataset gives one table per dataset, whose
    // partitions are program_year / publication / file stem. Manifests are not data.
    const rawCrawler = new GlueCrawler(this, "raw-crawler", {
      name: props.rawCrawlerName,
      description: "Catalogs new raw publications (CSV) under raw/<dataset>/",
      role: props.crawlerRoleArn,
      databaseName: rawDatabase.name,
      securityConfiguration: props.securityConfigurationName,
      s3Target: Object.keys(openPayments.datasets).map((dataset) => ({
        path: `s3://${props.rawBucketName}/raw/${dataset}/`,
        exclusions: ["**/manifest.json"],
      })),
      ...crawlPolicyBlocks(props.rawCrawlerName, RAW_CRAWL_POLICY, "s3"),
      configuration: JSON.stringify({
        Version: 1.0,
        // Level 3 of s3://bucket/raw/<dataset>/: one table per dataset, not per file.
        Grouping: { TableLevelConfiguration: 3 },
        CreatePartitionIndex: true,
      }),
    });

    const curatedCrawler = iceberg
      ? undefined
      : new GlueCrawler(this, "curated-crawler", {
          name: props.curatedCrawlerName,
          description: "Registers the program_year partitions the curate job writes",
          role: props.crawlerRoleArn,
          databaseName: curatedDatabase.name,
          securityConfiguration: props.securityConfigurationName,
          catalogTarget: [{ databaseName: curatedDatabase.name, tables: tables.map((t) => t.name) }],
          ...crawlPolicyBlocks(props.curatedCrawlerName, CURATED_CRAWL_POLICY, "catalog"),
          configuration: JSON.stringify({
            Version: 1.0,
            CrawlerOutput: { Partitions: { AddOrUpdateBehavior: "InheritFromTable" } },
          }),
        });

    this.rawDatabaseName = rawDatabase.name;
    this.curatedDatabaseName = curatedDatabase.name;
    this.rawCrawlerName = rawCrawler.name;
    this.curatedCrawlerName = curatedCrawler?.name;
    this.curatedTableNames = Object.fromEntries(curatedTables().map((t) => [t.dataset, t.tableName]));
    this.curatedTableResources = tables;
  }
}
