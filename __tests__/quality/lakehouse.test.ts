import { readFileSync } from "node:fs";
import { curatedTables, icebergColumns } from "../../modules/catalog";
import { loadQualityRules, QUALITY_RULES_FILE, renderDqdl } from "../../modules/quality";
import { configWith, policyOf, rawConfig, resourcesOfType, single, synthEnvironment } from "../helpers/synth";

type Ruleset = { name: string; ruleset: string; target_table: { database_name: string; table_name: string } };
type Job = { name: string; default_arguments: Record<string, string>; command: { script_location: string } };
type IcebergTable = {
  name: string;
  open_table_format_input: unknown;
  partition_keys?: unknown;
  storage_descriptor: { location: string; columns: Array<{ name: string; type: string }> };
  lifecycle: { ignore_changes: string[] };
};
type Trigger = { actions: Array<{ job_name?: string; crawler_name?: string }>; predicate?: unknown };

/** The rules of a DQDL ruleset the module renders, read back: [metric SQL, threshold]. */
function parseDqdl(dqdl: string): Array<[string, number]> {
  expect(dqdl.startsWith("Rules = [\n") && dqdl.endsWith("\n]")).toBe(true);
  return dqdl
    .slice("Rules = [\n".length, -"\n]".length)
    .split(",\n")
    .map((line) => {
      const match = /^ {2}CustomSql "([^"]+)" <= ([0-9.]+)$/.exec(line);
      if (!match) throw new Error(`not a rule of the rendered form: ${line}`);
      return [match[1], Number(match[2])];
    });
}

function withEtl(changes: Record<string, unknown>) {
  const raw = rawConfig("dev");
  return configWith("dev", { etl: { ...(raw.etl as Record<string, unknown>), ...changes } });
}

describe("data quality as code", () => {
  const rules = loadQualityRules();

  it("deploys one ruleset per curated table with exactly the job's rules and the config's threshold", () => {
    const config = withEtl({ maxRuleViolationRatio: 0.02 });
    const { lake } = synthEnvironment(config);
    const rulesets = resourcesOfType(lake, "aws_glue_data_quality_ruleset").map((r) => r.config as Ruleset);
    expect(rulesets.map((r) => r.target_table.table_name).sort()).toEqual(Object.keys(rules).sort());
    for (const ruleset of rulesets) {
      const table = ruleset.target_table.table_name;
      expect(parseDqdl(ruleset.ruleset)).toEqual(Object.values(rules[table]).map((sql) => [sql, 0.02]));
      expect(ruleset.target_table.database_name).toMatch(
        /aws_glue_catalog_database\.catalog_curated-database/,
      );
    }
  });

  it("reads the generated rules file (the pytest side checks it against the job's rules)", () => {
    const file = JSON.parse(readFileSync(QUALITY_RULES_FILE, "utf8")) as { tables: Record<string, unknown> };
    expect(Object.keys(file.tables).sort()).toEqual([
      "general_payments",
      "ownership_interests",
      "research_payments",
    ]);
    expect(() => renderDqdl({ r: "SELECT 1 FROM primary" }, 1.5)).toThrow("must be between 0 and 1");
  });
});

describe("curated format from config", () => {
  const jobsOf = (lake: ReturnType<typeof synthEnvironment>["lake"]) =>
    Object.fromEntries(
      resourcesOfType(lake, "aws_glue_job").map((r) => {
        const job = r.config as Job;
        return [job.name.split("-").at(-1) ?? job.name, job] as const;
      }),
    );

  it("defaults to Parquet: catalog tables, curated crawler, no Iceberg arguments, threshold from config", () => {
    const { lake } = synthEnvironment(withEtl({}));
    const jobs = jobsOf(lake);
    expect(Object.keys(jobs).sort()).toEqual(["clean", "curate"]);
    expect(jobs.curate.default_arguments).toMatchObject({
      "--curated_format": "parquet",
      "--max_rule_violation_ratio": "0.01",
    });
    expect(jobs.curate.default_arguments["--datalake-formats"]).toBeUndefined();
    expect(resourcesOfType(lake, "aws_glue_catalog_table")).toHaveLength(3);
    expect(resourcesOfType(lake, "aws_glue_crawler")).toHaveLength(2);
  });

  it("iceberg: the curate job writes Iceberg through the Glue catalog, then the maintenance job runs", () => {
    const { lake } = synthEnvironment(withEtl({ curatedFormat: "iceberg" }));
    const jobs = jobsOf(lake);
    expect(Object.keys(jobs).sort()).toEqual(["clean", "curate", "maintain"]);
    const args = jobs.curate.default_arguments;
    expect(args["--curated_format"]).toBe("iceberg");
    expect(args["--datalake-formats"]).toBe("iceberg");
    expect(args["--iceberg_namespace"]).toMatch(
      /^lake\.\$\{aws_glue_catalog_database\.catalog_curated-database_\w+\.name\}$/,
    );
    const conf: string[] = args["--conf"].split(" --conf ");
    expect(conf).toEqual(
      expect.arrayContaining([
        "spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
        "spark.sql.catalog.lake=org.apache.iceberg.spark.SparkCatalog",
        "spark.sql.catalog.lake.catalog-impl=org.apache.iceberg.aws.glue.GlueCatalog",
        "spark.sql.catalog.lake.io-impl=org.apache.iceberg.aws.s3.S3FileIO",
        "spark.sql.catalog.lake.s3.sse.type=kms",
      ]),
    );
    // Files under the curated bucket's curated/ prefix (the roles' existing scope), encrypted with the data key.
    expect(conf.find((c) => c.includes(".warehouse="))).toMatch(
      /\.warehouse=s3:\/\/[^/]+\/curated\/iceberg\/$/,
    );
    expect(conf.find((c) => c.includes(".s3.sse.key="))).toContain("aws_kms_key");
    expect(jobs.maintain.default_arguments).toMatchObject({
      "--iceberg_namespace": args["--iceberg_namespace"],
      "--datalake-formats": "iceberg",
      "--conf": args["--conf"],
    });
    // No curated crawler: the job's Iceberg commits register what it writes.
    expect(resourcesOfType(lake, "aws_glue_crawler")).toHaveLength(1);
    // The workflow: ... curate, then maintain once curate succeeded.
    const triggers = resourcesOfType(lake, "aws_glue_trigger").map((t) => t.config as Trigger);
    const maintain = triggers.filter((t) => t.actions[0].job_name?.includes("aws_glue_job.etl_job-maintain"));
    expect(maintain).toHaveLength(1);
    expect(JSON.stringify(maintain[0].predicate)).toContain("aws_glue_job.etl_job-curate");
  });

  it("iceberg: terraform creates each curated table as an empty Iceberg table, then leaves it to the job", () => {
    const { lake } = synthEnvironment(withEtl({ curatedFormat: "iceberg" }));
    const tables = resourcesOfType(lake, "aws_glue_catalog_table").map((r) => r.config as IcebergTable);
    expect(tables.map((t) => t.name).sort()).toEqual(
      curatedTables()
        .map((t) => t.tableName)
        .sort(),
    );
    for (const spec of curatedTables()) {
      const table = single(
        tables.filter((t) => t.name === spec.tableName),
        spec.tableName,
      );
      expect(table.open_table_format_input).toEqual({
        iceberg_input: { metadata_operation: "CREATE", version: "2" },
      });
      // Glue's CreateTable takes no partitions: program_year is a column until the job adds the partition field.
      expect(table.partition_keys).toBeUndefined();
      expect(table.storage_descriptor.columns).toEqual(icebergColumns(spec));
      expect(table.storage_descriptor.columns.at(-1)).toEqual({ name: "program_year", type: "int" });
      expect(table.storage_descriptor.location).toMatch(
        new RegExp(
          `^s3://\\$\\{aws_s3_bucket\\.storage_curated_bucket_\\w+\\.bucket\\}/curated/iceberg/${spec.tableName}$`,
        ),
      );
      // The job's commits move metadata_location and the columns: terraform must not revert them.
      expect(table.lifecycle.ignore_changes).toEqual(["parameters", "storage_descriptor", "partition_keys"]);
    }
  });

  it("iceberg: rulesets and Lake Formation tags name a table only after terraform created it", () => {
    const { lake } = synthEnvironment(
      configWith("dev", {
        etl: {
          ...(rawConfig("dev").etl as Record<string, unknown>),
          curatedFormat: "iceberg",
          qualityRulesets: true,
        },
        lakeFormation: { admins: ["arn:aws:iam::111111111111:role/DataLakeAdmin"] },
      }),
    );
    const tableAddresses = resourcesOfType(lake, "aws_glue_catalog_table").map((r) => r.address);
    expect(tableAddresses).toHaveLength(curatedTables().length);
    const naming = [
      ...resourcesOfType(lake, "aws_glue_data_quality_ruleset"),
      ...resourcesOfType(lake, "aws_lakeformation_resource_lf_tags").filter(
        (r) => "table" in r.config || "table_with_columns" in r.config,
      ),
    ];
    expect(naming.length).toBeGreaterThanOrEqual(2 * curatedTables().length);
    for (const resource of naming) {
      const dependsOn = (resource.config as { depends_on?: string[] }).depends_on ?? [];
      expect({ resource: resource.address, dependsOn }).toEqual({
        resource: resource.address,
        dependsOn: expect.arrayContaining(tableAddresses),
      });
    }
  });

  it("iceberg: the deployer may write only the tables' metadata files, with the data key through S3", () => {
    const deployPolicies = (format: "parquet" | "iceberg") =>
      resourcesOfType(synthEnvironment(withEtl({ curatedFormat: format })).lake, "aws_iam_policy")
        .filter((r) => String((r.config as { name: string }).name).includes("ci-deploy"))
        .map((r) => policyOf((r.config as { policy: string }).policy));
    const statement = (format: "parquet" | "iceberg", sid: string) =>
      deployPolicies(format)
        .flatMap((p) => p.Statement)
        .filter((st) => st.Sid === sid);
    expect(statement("parquet", "CreateIcebergTableMetadata")).toEqual([]);
    const [metadata] = statement("iceberg", "CreateIcebergTableMetadata");
    expect(metadata.Action).toEqual(["s3:PutObject", "s3:GetObject"]);
    expect(metadata.Resource).toEqual(
      curatedTables().map((t) =>
        expect.stringMatching(new RegExp(`/curated/iceberg/${t.tableName}/metadata/\\*\\.metadata\\.json$`)),
      ),
    );
    const [key] = statement("iceberg", "IcebergMetadataWithDataKey");
    expect(key.Condition).toEqual({
      StringEquals: expect.objectContaining({ "kms:ViaService": expect.stringMatching(/^s3\./) }),
    });
  });

  it("refuses an unknown format naming the field", () => {
    expect(() => withEtl({ curatedFormat: "delta" })).toThrow(
      /etl\.curatedFormat.*must be parquet or iceberg/s,
    );
  });
});
