import openPayments from "../../datasets/open-payments.json";
import {
  CURATED_CRAWL_POLICY,
  curatedTables,
  LakeCatalog,
  type LakeCatalogProps,
  LakeSecurityConfiguration,
  RAW_CRAWL_POLICY,
  validateCrawlPolicy,
} from "../../modules/catalog";
import { onlyResource, resourcesOf, synthesize } from "../access/synth-support";

const props: LakeCatalogProps = {
  rawDatabaseName: "opl_dev_raw",
  curatedDatabaseName: "opl_dev_curated",
  rawCrawlerName: "opl-dev-raw-crawler",
  curatedCrawlerName: "opl-dev-curated-crawler",
  rawBucketName: "raw-bucket",
  curatedBucketName: "curated-bucket",
  crawlerRoleArn: "arn:aws:iam::111111111111:role/opl-dev-glue-crawler",
  securityConfigurationName: "opl-dev-glue",
};

type Crawler = {
  name: string;
  security_configuration: string;
  recrawl_policy: { recrawl_behavior: string };
  schema_change_policy: { update_behavior: string; delete_behavior: string };
  s3_target?: { path: string; exclusions: string[] }[];
  catalog_target?: { database_name: string; tables: string[] }[];
};
type Table = {
  name: string;
  database_name: string;
  partition_keys: { name: string; type: string }[];
  storage_descriptor: { location: string; columns: { name: string; type: string }[]; input_format: string };
};

describe("LakeCatalog", () => {
  const stack = synthesize((scope) => new LakeCatalog(scope, "catalog", props));
  const crawlers = Object.values(resourcesOf(stack, "aws_glue_crawler")) as Crawler[];
  const crawler = (name: string) => crawlers.find((c) => c.name === name) as Crawler;
  const tables = Object.values(resourcesOf(stack, "aws_glue_catalog_table")) as Table[];

  it("creates the raw and curated databases", () => {
    const names = Object.values(resourcesOf(stack, "aws_glue_catalog_database")).map((d) => d.name);
    expect(names.sort()).toEqual(["opl_dev_curated", "opl_dev_raw"]);
  });

  it("runs every crawler with the security configuration", () => {
    expect(crawlers).toHaveLength(2);
    for (const c of crawlers) expect(c.security_configuration).toBe("opl-dev-glue");
  });

  it("crawls only new raw folders, logging schema changes and deletions, one target per dataset", () => {
    const raw = crawler(props.rawCrawlerName);
    expect(raw.recrawl_policy).toEqual({ recrawl_behavior: "CRAWL_NEW_FOLDERS_ONLY" });
    expect(raw.schema_change_policy).toEqual({ update_behavior: "LOG", delete_behavior: "LOG" });
    expect(raw.s3_target?.map((t) => t.path)).toEqual(
      Object.keys(openPayments.datasets).map((d) => `s3://raw-bucket/raw/${d}/`),
    );
    for (const target of raw.s3_target ?? []) expect(target.exclusions).toEqual(["**/manifest.json"]);
  });

  it("points the curated crawler at the three curated tables, never deleting them", () => {
    const curated = crawler(props.curatedCrawlerName);
    expect(curated.catalog_target).toHaveLength(1);
    expect(curated.catalog_target?.[0].tables).toHaveLength(3);
    expect(curated.schema_change_policy.delete_behavior).toBe("LOG");
    expect(curated.s3_target).toBeUndefined();
  });

  it("defines general_payments, research_payments and ownership_interests from the datasets file", () => {
    expect(tables.map((t) => t.name).sort()).toEqual([
      "general_payments",
      "ownership_interests",
      "research_payments",
    ]);
    for (const spec of curatedTables()) {
      const table = tables.find((t) => t.name === spec.tableName) as Table;
      expect(table.database_name).toContain("aws_glue_catalog_database");
      expect(table.partition_keys).toEqual([{ name: "program_year", type: "int" }]);
      expect(table.storage_descriptor.location).toBe(`s3://curated-bucket/curated/${spec.dataset}/`);
      expect(table.storage_descriptor.input_format).toMatch(/Parquet/);
      const columns = table.storage_descriptor.columns.map((c) => c.name);
      const canonical = openPayments.canonicalColumns[spec.dataset]
        .map((c) => c.name)
        .filter((n) => n !== "program_year");
      expect(columns.slice(0, canonical.length)).toEqual(canonical);
      expect(columns).toEqual(
        expect.arrayContaining([
          "source_object",
          "publication_stamp",
          "layout_id",
          "ingestion_id",
          "specialty_top_level",
        ]),
      );
      expect(new Set(columns).size).toBe(columns.length);
    }
  });

  it("types curated columns from canonical types and adds payment_month only where there is a payment date", () => {
    const general = tables.find((t) => t.name === "general_payments") as Table;
    const type = (t: Table, name: string) => t.storage_descriptor.columns.find((c) => c.name === name)?.type;
    expect(type(general, "total_amount_of_payment_usdollars")).toBe("decimal(18,2)");
    expect(type(general, "date_of_payment")).toBe("date");
    expect(type(general, "payment_month")).toBe("date");
    const ownership = tables.find((t) => t.name === "ownership_interests") as Table;
    expect(type(ownership, "payment_month")).toBeUndefined();
    expect(type(ownership, "manufacturer_name_normalized")).toBe("string");
  });

  it("rejects database names Athena cannot query", () => {
    expect(() =>
      synthesize(
        (scope) => new LakeCatalog(scope, "catalog", { ...props, curatedDatabaseName: "opl-dev-curated" }),
      ),
    ).toThrow(/curatedDatabaseName "opl-dev-curated" must be lower-case letters, digits and underscores/);
  });
});

describe("crawl policies", () => {
  it("accepts the lake's policies", () => {
    expect(() => validateCrawlPolicy("raw", RAW_CRAWL_POLICY, "s3")).not.toThrow();
    expect(() => validateCrawlPolicy("curated", CURATED_CRAWL_POLICY, "catalog")).not.toThrow();
  });

  it("rejects incremental crawls that would update or delete", () => {
    expect(() =>
      validateCrawlPolicy("raw", { ...RAW_CRAWL_POLICY, updateBehavior: "UPDATE_IN_DATABASE" }, "s3"),
    ).toThrow(
      "crawler raw: recrawlBehavior CRAWL_NEW_FOLDERS_ONLY requires updateBehavior LOG and deleteBehavior LOG",
    );
    expect(() =>
      validateCrawlPolicy("raw", { ...RAW_CRAWL_POLICY, deleteBehavior: "DEPRECATE_IN_DATABASE" }, "s3"),
    ).toThrow(/CRAWL_NEW_FOLDERS_ONLY requires/);
  });

  it("rejects catalog-target crawlers that delete tables", () => {
    expect(() =>
      validateCrawlPolicy(
        "curated",
        { ...CURATED_CRAWL_POLICY, deleteBehavior: "DELETE_FROM_DATABASE" },
        "catalog",
      ),
    ).toThrow("crawler curated: a catalog-target crawler requires deleteBehavior LOG.");
  });
});

describe("LakeSecurityConfiguration", () => {
  it("encrypts S3 output, CloudWatch logs and job bookmarks with the lake's keys", () => {
    const stack = synthesize(
      (scope) =>
        new LakeSecurityConfiguration(scope, "security", {
          name: "opl-dev-glue",
          dataKeyArn: "arn:aws:kms:us-east-1:111111111111:key/data",
          logsKeyArn: "arn:aws:kms:us-east-1:111111111111:key/logs",
        }),
    );
    const config = onlyResource(stack, "aws_glue_security_configuration");
    expect(config.encryption_configuration).toEqual({
      s3_encryption: {
        s3_encryption_mode: "SSE-KMS",
        kms_key_arn: "arn:aws:kms:us-east-1:111111111111:key/data",
      },
      cloudwatch_encryption: {
        cloudwatch_encryption_mode: "SSE-KMS",
        kms_key_arn: "arn:aws:kms:us-east-1:111111111111:key/logs",
      },
      job_bookmarks_encryption: {
        job_bookmarks_encryption_mode: "CSE-KMS",
        kms_key_arn: "arn:aws:kms:us-east-1:111111111111:key/data",
      },
    });
  });
});
