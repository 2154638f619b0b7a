import { LakeAccess, type LakeAccessProps } from "../../modules/access";
import { loadConfig, parseConfig } from "../../modules/config";
import { resourcesOf, synthesize } from "./synth-support";

const props: LakeAccessProps = {
  location: { account: "111111111111", region: "us-east-1", partition: "aws" },
  namePrefix: "opl-dev",
  buckets: {
    raw: { arn: "arn:aws:s3:::raw" },
    cleaned: { arn: "arn:aws:s3:::cleaned" },
    curated: { arn: "arn:aws:s3:::curated" },
    athenaResults: { arn: "arn:aws:s3:::results" },
  },
  dataKeyArn: "arn:aws:kms:us-east-1:111111111111:key/data",
  ingestionTableKeyArn: "arn:aws:kms:us-east-1:111111111111:key/data",
  ingestionTableArn: "arn:aws:dynamodb:us-east-1:111111111111:table/opl-dev-ingestion",
  rawDatabaseName: "opl_dev_raw",
  curatedDatabaseName: "opl_dev_curated",
  athenaWorkgroupName: "opl-dev-analysts",
  athenaResultsPrefix: "results",
  glueArtifactsPrefix: "glue-artifacts",
  glueTempPrefix: "glue-temp",
  ingestionPrincipalArns: ["arn:aws:iam::111111111111:role/DataIngestion"],
  analystPrincipalArns: ["arn:aws:iam::111111111111:role/DataAnalyst"],
};

describe("LakeAccess trust", () => {
  const stack = synthesize((scope) => new LakeAccess(scope, "access", props));
  const trustOf = (name: string) => {
    const role = Object.values(resourcesOf(stack, "aws_iam_role")).find((r) => r.name === name);
    return JSON.parse(role?.assume_role_policy as string).Statement;
  };

  it("lets only the configured roles assume the ingestion writer and analyst roles", () => {
    expect(trustOf("opl-dev-ingestion-writer")).toEqual([
      {
        Sid: "TrustedIngestionPrincipals",
        Effect: "Allow",
        Principal: { AWS: props.ingestionPrincipalArns },
        Action: ["sts:AssumeRole"],
      },
    ]);
    expect(trustOf("opl-dev-analyst")[0].Principal).toEqual({ AWS: props.analystPrincipalArns });
  });

  it("lets only Glue acting for this account assume the crawler and job roles", () => {
    for (const name of ["opl-dev-glue-crawler", "opl-dev-glue-job"]) {
      expect(trustOf(name)).toEqual([
        {
          Sid: "GlueAssumesRole",
          Effect: "Allow",
          Principal: { Service: "glue.amazonaws.com" },
          Action: ["sts:AssumeRole"],
          Condition: { StringEquals: { "aws:SourceAccount": "111111111111" } },
        },
      ]);
    }
  });

  it("refuses an account root or an empty list as trusted principals", () => {
    const build = (over: Partial<LakeAccessProps>) => () =>
      synthesize((scope) => new LakeAccess(scope, "access", { ...props, ...over }));
    expect(build({ analystPrincipalArns: ["arn:aws:iam::111111111111:root"] })).toThrow(
      /LakeAccess analystPrincipalArns: list the IAM role ARNs that may assume the role/,
    );
    expect(build({ ingestionPrincipalArns: [] })).toThrow(/LakeAccess ingestionPrincipalArns/);
  });

  it("rejects role names longer than IAM allows, naming the fix", () => {
    expect(() =>
      synthesize((scope) => new LakeAccess(scope, "access", { ...props, namePrefix: "x".repeat(60) })),
    ).toThrow(/must be 1-64 characters .* shorten the name prefix/);
  });
});

describe("config access block", () => {
  const dev = loadConfig("dev");
  const data = JSON.parse(JSON.stringify(dev));

  it("requires role ARNs of the environment's account", () => {
    data.access.analystPrincipalArns = [
      "arn:aws:iam::999999999999:role/Other",
      "arn:aws:iam::111111111111:root",
    ];
    expect(() => parseConfig(data, { source: "config/dev.json" })).toThrow(
      /config\/dev\.json: access\.analystPrincipalArns\.1: must be an IAM role ARN[\s\S]*access\.analystPrincipalArns\.0: must be a role of account 111111111111/,
    );
  });
});
