import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { LakeQuery, type LakeQueryProps, readSqlFiles, SQL_FOLDERS } from "../../modules/query";
import { onlyResource, resourcesOf, synthesize } from "../access/synth-support";

const fixture = join(__dirname, "fixtures", "sql");
const repoSql = join(__dirname, "..", "..", "sql");

const props: LakeQueryProps = {
  workgroupName: "opl-dev-analysts",
  resultsBucketName: "results-b",
  resultsKeyArn: "arn:aws:kms:us-east-1:111111111111:key/data",
  account: "111111111111",
  bytesScannedCutoffPerQuery: 1_073_741_824,
  curatedDatabaseName: "opl_dev_curated",
  sqlDir: fixture,
};

type NamedQuery = { name: string; description: string; database: string; query: string; workgroup: string };

describe("LakeQuery", () => {
  const stack = synthesize((scope) => new LakeQuery(scope, "query", props));
  const queries = Object.values(resourcesOf(stack, "aws_athena_named_query")) as NamedQuery[];

  it("enforces engine v3, SSE_KMS results in the results bucket, the cutoff and CloudWatch metrics", () => {
    const workgroup = onlyResource(stack, "aws_athena_workgroup");
    expect(workgroup).toMatchObject({
      name: "opl-dev-analysts",
      force_destroy: false,
      configuration: {
        enforce_workgroup_configuration: true,
        publish_cloudwatch_metrics_enabled: true,
        bytes_scanned_cutoff_per_query: 1_073_741_824,
        engine_version: { selected_engine_version: "Athena engine version 3" },
        result_configuration: {
          output_location: "s3://results-b/results/",
          expected_bucket_owner: "111111111111",
          encryption_configuration: { encryption_option: "SSE_KMS", kms_key_arn: props.resultsKeyArn },
        },
      },
    });
  });

  it("creates one named query per .sql file, named <folder>/<stem>, in the curated database", () => {
    expect(queries.map((q) => q.name).sort()).toEqual([
      "analytics/top_manufacturers",
      "smoke/rows_exist",
      "views/payments_by_month",
    ]);
    for (const q of queries) {
      expect(q.database).toBe("opl_dev_curated");
      expect(q.workgroup).toContain("aws_athena_workgroup");
    }
  });

  it("takes the text from the file verbatim, escaping only Terraform template sequences", () => {
    const view = queries.find((q) => q.name === "views/payments_by_month") as NamedQuery;
    const text = readFileSync(join(fixture, "views", "payments_by_month.sql"), "utf8");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Terraform's template syntax inside SQL text
    const [interpolation, directive] = ["${x}", "%{y}"];
    expect(text).toContain(`'${interpolation}${directive}'`);
    expect(view.query).toBe(
      text.replace(interpolation, `$${interpolation}`).replace(directive, `%${directive}`),
    );
    const top = queries.find((q) => q.name === "analytics/top_manufacturers") as NamedQuery;
    expect(top.query).toBe(readFileSync(join(fixture, "analytics", "top_manufacturers.sql"), "utf8"));
  });

  it("describes each query from its description header, or by its file", () => {
    const byName = Object.fromEntries(queries.map((q) => [q.name, q.description]));
    expect(byName["smoke/rows_exist"]).toBe("The general table has rows.");
    expect(byName["views/payments_by_month"]).toBe("Query from sql/views/payments_by_month.sql");
  });

  it("rejects a cutoff below Athena's minimum", () => {
    expect(() =>
      synthesize((scope) => new LakeQuery(scope, "query", { ...props, bytesScannedCutoffPerQuery: 1000 })),
    ).toThrow(/bytesScannedCutoffPerQuery 1000 must be a whole number of bytes ≥ 10000000/);
  });
});

describe("the repository's sql/ folder", () => {
  it("turns every .sql file into a named query", () => {
    const files = SQL_FOLDERS.flatMap((folder) => {
      try {
        return readdirSync(join(repoSql, folder))
          .filter((f) => f.endsWith(".sql"))
          .map((f) => `${folder}/${f.replace(/\.sql$/, "")}`);
      } catch {
        return [];
      }
    });
    expect(files.length).toBeGreaterThan(0);
    const stack = synthesize((scope) => new LakeQuery(scope, "query", { ...props, sqlDir: undefined }));
    const names = Object.values(resourcesOf(stack, "aws_athena_named_query")).map((q) => q.name);
    expect(names.sort()).toEqual(files.sort());
    expect(
      readSqlFiles(repoSql)
        .map((f) => f.name)
        .sort(),
    ).toEqual(files.sort());
  });
});
