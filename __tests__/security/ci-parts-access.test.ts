// What the CI roles may do to the optional parts of an environment (the serving warehouse, the hands-off
// refresh, Lake Formation, Iceberg curated tables), decided by the IAM policy simulator over the synthesized managed policies of the
// CI roles (and the key or bucket policy where AWS consults one): dev with every part on, dev with every part
// off, where the deployer holds none of the part grants, and dev as committed (the refresh only).
import { ROLE_PURPOSES } from "../../modules/access";
import { loadConfig } from "../../modules/config";
import { configWithEveryPart } from "../../scripts/ci-policy-sizes";
import type { PolicyDocument } from "../../scripts/policies";
import { synthEnvironment, synthStack } from "../helpers/synth";
import { type EnvironmentStacks, view } from "./guarantees";
import { type Decision, decide } from "./simulate";

const parts = configWithEveryPart("dev");
const stacks = synthEnvironment(parts);
const on: EnvironmentStacks = { config: parts, lake: stacks.lake, bootstrap: stacks["state-bootstrap"] };
const committed: EnvironmentStacks = {
  config: loadConfig("dev", { env: {} }),
  lake: synthStack("dev", "lake"),
  bootstrap: synthStack("dev", "state-bootstrap"),
};
const partsOff = {
  ...committed.config,
  orchestration: { ...committed.config.orchestration, enabled: false },
};
const offStacks = synthEnvironment(partsOff);
const off: EnvironmentStacks = {
  config: partsOff,
  lake: offStacks.lake,
  bootstrap: offStacks["state-bootstrap"],
};
const v = view(on);
const { partition, region, account } = v.location;
const p = v.naming.prefix;
const arn = (service: string, rest: string) => `arn:${partition}:${service}:${region}:${account}:${rest}`;
const dbArn = arn("rds", `db:${p}-warehouse`);
const own = { "aws:RequestTag/environment": "dev" };
const ownResource = { "aws:ResourceTag/environment": "dev" };
const tls = { "aws:SecureTransport": "true", "s3:TlsVersion": "1.3" };

type Context = Record<string, string | string[]>;
async function may(
  env: EnvironmentStacks,
  purpose: string,
  action: string,
  resource: string,
  context: Context = {},
  resourcePolicy?: PolicyDocument,
): Promise<Decision> {
  const w = view(env);
  return decide(
    { identity: [w.identity(purpose)], ...(resourcePolicy ? { resourcePolicy } : {}) },
    { principal: w.roleArn(purpose), action, resource, context },
  );
}
const deployer = (action: string, resource: string, context?: Context, resourcePolicy?: PolicyDocument) =>
  may(on, ROLE_PURPOSES.ciDeploy, action, resource, context, resourcePolicy);

type Case = readonly [action: string, resource: string, context?: Context];

/** Every case's decision, so one failing expectation shows them all. */
async function decisions(
  cases: readonly Case[],
  who = deployer,
): Promise<Array<{ action: string; resource: string; decision: Decision }>> {
  const out = [];
  for (const [action, resource, context] of cases)
    out.push({ action, resource, decision: await who(action, resource, context) });
  return out;
}
const all = (decision: Decision, cases: readonly Case[]) =>
  cases.map(([action, resource]) => ({ action, resource, decision }));

describe("the deployer creates and updates the warehouse in its own environment", () => {
  it("the network: created only with the environment tag, children only inside its own tagged VPC", async () => {
    const cases: Case[] = [
      ["ec2:DescribeVpcs", "*"],
      ["ec2:CreateVpc", arn("ec2", "vpc/vpc-0a"), own],
      ["ec2:CreateTags", arn("ec2", "vpc/vpc-0a"), { ...own, "ec2:CreateAction": "CreateVpc" }],
      ["ec2:ModifyVpcAttribute", arn("ec2", "vpc/vpc-0a"), ownResource],
      ["ec2:CreateSubnet", arn("ec2", "subnet/subnet-0a"), own],
      ["ec2:CreateSubnet", arn("ec2", "vpc/vpc-0a"), { ...own, ...ownResource }],
      ["ec2:CreateSecurityGroup", arn("ec2", "security-group/sg-0a"), own],
      ["ec2:RevokeSecurityGroupEgress", arn("ec2", "security-group/sg-0a"), ownResource],
      ["ec2:AuthorizeSecurityGroupIngress", arn("ec2", "security-group/sg-0a"), { ...own, ...ownResource }],
      ["ec2:AuthorizeSecurityGroupIngress", arn("ec2", "security-group-rule/sgr-0a"), own],
      ["ec2:CreateVpcEndpoint", arn("ec2", "vpc-endpoint/vpce-0a"), own],
      ["ec2:CreateVpcEndpoint", arn("ec2", "subnet/subnet-0a"), { ...own, ...ownResource }],
      ["ec2:CreateFlowLogs", arn("ec2", "vpc-flow-log/fl-0a"), own],
      ["ec2:AssociateRouteTable", arn("ec2", "route-table/rtb-0a"), ownResource],
      ["ec2:DeleteSubnet", arn("ec2", "subnet/subnet-0a"), ownResource],
    ];
    expect(await decisions(cases)).toEqual(all("Allowed", cases));
  });

  it("the database, its groups and alarms by name; its master secret only through RDS; the data key for RDS", async () => {
    const cases: Case[] = [
      ["rds:CreateDBInstance", dbArn],
      ["rds:CreateDBInstance", arn("rds", "og:default:postgres-16")],
      ["rds:CreateDBInstance", arn("rds", `pg:${p}-warehouse-pg16`)],
      ["rds:CreateDBInstance", arn("rds", `subgrp:${p}-warehouse`)],
      ["rds:ModifyDBInstance", dbArn],
      ["rds:ModifyDBParameterGroup", arn("rds", `pg:${p}-warehouse-pg16`)],
      [
        "secretsmanager:CreateSecret",
        arn("secretsmanager", "secret:rds!db-1a2b-abcdef"),
        { "aws:CalledVia": ["rds.amazonaws.com"] },
      ],
      [
        "secretsmanager:RotateSecret",
        arn("secretsmanager", "secret:rds!db-1a2b-abcdef"),
        { "aws:ResourceTag/aws:rds:primaryDBInstanceArn": dbArn },
      ],
      ["cloudwatch:PutMetricAlarm", arn("cloudwatch", `alarm:${p}-warehouse-cpu`)],
      ["glue:CreateConnection", arn("glue", "catalog"), own],
      ["glue:UpdateConnection", arn("glue", `connection/${p}-warehouse-loader`)],
      ["logs:CreateLogGroup", arn("logs", `log-group:/aws/rds/instance/${p}-warehouse/postgresql`)],
      ["logs:CreateLogGroup", arn("logs", `log-group:/aws/vpc/flow-logs/${p}-warehouse`)],
    ];
    expect(await decisions(cases)).toEqual(all("Allowed", cases));
    // KMS needs the key policy too: it admits the deployer through RDS, for grants to AWS resources only.
    const dataKey = v.keyArn(on.lake, v.naming.kmsAlias("data"));
    const keyPolicy = v.keyPolicy(dataKey);
    const viaRds = { "kms:ViaService": v.naming.viaService("rds") };
    expect(
      await deployer(
        "kms:CreateGrant",
        dataKey,
        { ...viaRds, "kms:GrantIsForAWSResource": "true" },
        keyPolicy,
      ),
    ).toBe("Allowed");
    expect(
      await deployer(
        "kms:CreateGrant",
        dataKey,
        { ...viaRds, "kms:GrantIsForAWSResource": "false" },
        keyPolicy,
      ),
    ).not.toBe("Allowed");
  });

  it("its three service roles only with the lake's boundary, each passed to its one service", async () => {
    const roles = [
      [`${p}-warehouse-flow-logs`, "vpc-flow-logs.amazonaws.com"],
      [`${p}-warehouse-monitoring`, "monitoring.rds.amazonaws.com"],
      [`${p}-warehouse-loader`, "glue.amazonaws.com"],
    ] as const;
    for (const [name, service] of roles) {
      const role = v.naming.roleArn(name);
      expect(await deployer("iam:CreateRole", role, { "iam:PermissionsBoundary": v.boundaryArn })).toBe(
        "Allowed",
      );
      expect(await deployer("iam:PutRolePolicy", role, { "iam:PermissionsBoundary": v.boundaryArn })).toBe(
        "Allowed",
      );
      expect(await deployer("iam:CreateRole", role)).not.toBe("Allowed");
      expect(
        await deployer("iam:CreateRole", role, { "iam:PermissionsBoundary": v.refreshBoundaryArn }),
      ).not.toBe("Allowed");
      expect(await deployer("iam:PassRole", role, { "iam:PassedToService": service })).toBe("Allowed");
      expect(await deployer("iam:PassRole", role, { "iam:PassedToService": "ec2.amazonaws.com" })).not.toBe(
        "Allowed",
      );
    }
  });

  it("the loader's Glue job, its code objects and its log group, under the lake's own Glue grants", async () => {
    const job = `${p}-warehouse-loader`;
    expect(await deployer("glue:CreateJob", arn("glue", `job/${job}`))).toBe("Allowed");
    expect(await deployer("glue:UpdateJob", arn("glue", `job/${job}`))).toBe("Allowed");
    expect(await deployer("logs:CreateLogGroup", arn("logs", `log-group:/aws-glue/jobs/${job}`))).toBe(
      "Allowed",
    );
    expect(await deployer("glue:StartJobRun", arn("glue", `job/${job}`))).not.toBe("Allowed");
  });
});

describe("the deployer creates and updates the refresh in its own environment", () => {
  it("functions, queues, state machine, schedule, build project, dashboard, budget, log groups, the landing notification", async () => {
    const cases: Case[] = [
      ["lambda:CreateFunction", arn("lambda", `function:${p}-refresh-ingest`)],
      ["lambda:UpdateFunctionCode", arn("lambda", `function:${p}-refresh-ingest`)],
      ["lambda:PutFunctionConcurrency", arn("lambda", `function:${p}-landing-validator`)],
      [
        "lambda:UpdateEventSourceMapping",
        arn("lambda", "event-source-mapping:0a1b"),
        { "lambda:FunctionArn": arn("lambda", `function:${p}-landing-validator`) },
      ],
      ["sqs:CreateQueue", arn("sqs", `${p}-landing-dlq`)],
      ["sqs:SetQueueAttributes", arn("sqs", `${p}-landing`)],
      ["states:CreateStateMachine", arn("states", `stateMachine:${p}-refresh`)],
      ["states:UpdateStateMachine", arn("states", `stateMachine:${p}-refresh`)],
      ["scheduler:CreateSchedule", arn("scheduler", `schedule/default/${p}-refresh`)],
      ["codebuild:CreateProject", arn("codebuild", `project/${p}-ingest-large`)],
      ["cloudwatch:PutDashboard", `arn:${partition}:cloudwatch::${account}:dashboard/${p}-lake`],
      ["cloudwatch:PutMetricAlarm", arn("cloudwatch", `alarm:${p}-alarm-refresh-failed`)],
      ["budgets:ModifyBudget", `arn:${partition}:budgets::${account}:budget/${p}-monthly`],
      ["logs:CreateLogGroup", arn("logs", `log-group:/aws/lambda/${p}-refresh-ingest`)],
      ["logs:PutRetentionPolicy", arn("logs", `log-group:/aws/vendedlogs/states/${p}-refresh`)],
    ];
    expect(await decisions(cases)).toEqual(all("Allowed", cases));
    expect(
      await deployer("s3:PutBucketNotification", v.bucketArn("cleaned"), tls, v.bucketPolicy("cleaned")),
    ).toBe("Allowed");
  });

  it("its roles only with the refresh's boundary (not the lake's, not none), each passed to its one service", async () => {
    const roles = [
      ["refresh-discover", "lambda.amazonaws.com"],
      ["refresh-ingest", "lambda.amazonaws.com"],
      ["refresh-smoke", "lambda.amazonaws.com"],
      ["landing-validator", "lambda.amazonaws.com"],
      ["ingest-large", "codebuild.amazonaws.com"],
      ["refresh", "states.amazonaws.com"],
      ["refresh-scheduler", "scheduler.amazonaws.com"],
    ] as const;
    const services = [...new Set(roles.map(([, s]) => s))];
    const found: Array<{ role: string; check: string; decision: Decision }> = [];
    const expected: typeof found = [];
    for (const [purpose, service] of roles) {
      const role = v.roleArn(purpose);
      const check = async (
        what: string,
        action: string,
        context: Context | undefined,
        want: Decision | "denied",
      ) => {
        const decision = await deployer(action, role, context);
        found.push({
          role: purpose,
          check: what,
          decision: want === "denied" && decision !== "Allowed" ? "ImplicitlyDenied" : decision,
        });
        expected.push({
          role: purpose,
          check: what,
          decision: want === "denied" ? "ImplicitlyDenied" : want,
        });
      };
      await check(
        "create under the refresh boundary",
        "iam:CreateRole",
        { "iam:PermissionsBoundary": v.refreshBoundaryArn },
        "Allowed",
      );
      await check(
        "edit under the refresh boundary",
        "iam:PutRolePolicy",
        { "iam:PermissionsBoundary": v.refreshBoundaryArn },
        "Allowed",
      );
      await check("create without a boundary", "iam:CreateRole", undefined, "denied");
      await check(
        "create under the lake's boundary",
        "iam:CreateRole",
        { "iam:PermissionsBoundary": v.boundaryArn },
        "denied",
      );
      await check(
        "drop the boundary",
        "iam:DeleteRolePermissionsBoundary",
        { "iam:PermissionsBoundary": v.refreshBoundaryArn },
        "denied",
      );
      await check(
        "attach a managed policy",
        "iam:AttachRolePolicy",
        { "iam:PermissionsBoundary": v.refreshBoundaryArn },
        "denied",
      );
      await check(`pass to ${service}`, "iam:PassRole", { "iam:PassedToService": service }, "Allowed");
      for (const other of [
        ...services.filter((s) => s !== service),
        "ec2.amazonaws.com",
        "glue.amazonaws.com",
      ]) {
        await check(`pass to ${other}`, "iam:PassRole", { "iam:PassedToService": other }, "denied");
      }
    }
    expect(found).toEqual(expected);
  });
});

describe("the deployer cannot escalate through the parts", () => {
  it("starts nothing and reads no secret", async () => {
    const cases: Case[] = [
      ["states:StartExecution", arn("states", `stateMachine:${p}-refresh`)],
      ["states:StartSyncExecution", arn("states", `stateMachine:${p}-refresh`)],
      ["lambda:InvokeFunction", arn("lambda", `function:${p}-refresh-ingest`)],
      ["codebuild:StartBuild", arn("codebuild", `project/${p}-ingest-large`)],
      [
        "secretsmanager:GetSecretValue",
        arn("secretsmanager", "secret:rds!db-1a2b-abcdef"),
        { "aws:CalledVia": ["rds.amazonaws.com"], "aws:ResourceTag/aws:rds:primaryDBInstanceArn": dbArn },
      ],
      ["secretsmanager:CreateSecret", arn("secretsmanager", "secret:rds!db-1a2b-abcdef")],
      [
        "secretsmanager:PutSecretValue",
        arn("secretsmanager", "secret:rds!db-1a2b-abcdef"),
        { "aws:ResourceTag/aws:rds:primaryDBInstanceArn": dbArn },
      ],
      ["rds:ModifyDBInstance", arn("rds", "db:someone-elses-database")],
      ["iam:CreatePolicyVersion", v.refreshBoundaryArn],
      ["iam:CreatePolicyVersion", v.boundaryArn],
      ["iam:CreatePolicyVersion", `arn:${partition}:iam::${account}:policy/${p}-ci-deploy-core-1`],
      ["iam:AttachRolePolicy", v.roleArn(ROLE_PURPOSES.ciDeploy)],
    ];
    expect(await decisions(cases)).toEqual(all("ImplicitlyDenied", cases));
  });

  it("touches no other environment's resources, by name or by tag", async () => {
    const prod = "opl-prod";
    const cases: Case[] = [
      ["lambda:UpdateFunctionCode", arn("lambda", `function:${prod}-refresh-ingest`)],
      [
        "lambda:CreateEventSourceMapping",
        "*",
        { "lambda:FunctionArn": arn("lambda", `function:${prod}-landing-validator`) },
      ],
      ["states:UpdateStateMachine", arn("states", `stateMachine:${prod}-refresh`)],
      ["sqs:SetQueueAttributes", arn("sqs", `${prod}-landing`)],
      ["rds:ModifyDBInstance", arn("rds", `db:${prod}-warehouse`)],
      [
        "iam:PassRole",
        v.naming.roleArn(`${prod}-refresh`),
        { "iam:PassedToService": "states.amazonaws.com" },
      ],
      ["ec2:CreateVpc", arn("ec2", "vpc/vpc-0a"), { "aws:RequestTag/environment": "prod" }],
      ["ec2:CreateSubnet", arn("ec2", "vpc/vpc-0b"), { ...own, "aws:ResourceTag/environment": "prod" }],
      [
        "ec2:AuthorizeSecurityGroupIngress",
        arn("ec2", "security-group/sg-0b"),
        { "aws:ResourceTag/environment": "prod" },
      ],
      ["ec2:CreateTags", arn("ec2", "security-group/sg-0b"), { ...own, "aws:TagKeys": ["environment"] }],
    ];
    expect(await decisions(cases)).toEqual(all("ImplicitlyDenied", cases));
  });
});

describe("Lake Formation: both CI roles read, neither changes it", () => {
  const reads: Case[] = [
    ["lakeformation:GetDataLakeSettings", "*"],
    ["lakeformation:ListPermissions", "*"],
    ["lakeformation:GetResourceLFTags", "*"],
  ];
  const writes: Case[] = [
    ["lakeformation:PutDataLakeSettings", "*"],
    ["lakeformation:GrantPermissions", "*"],
    ["lakeformation:RegisterResource", "*"],
    ["lakeformation:AddLFTagsToResource", "*"],
    ["lakeformation:CreateLFTag", "*"],
  ];
  it.each([ROLE_PURPOSES.ciPlan, ROLE_PURPOSES.ciDeploy])("%s", async (purpose) => {
    const who = (action: string, resource: string, context?: Context) =>
      may(on, purpose, action, resource, context);
    expect(await decisions(reads, who)).toEqual(all("Allowed", reads));
    expect(await decisions(writes, who)).toEqual(all("ImplicitlyDenied", writes));
  });
});

describe("Iceberg curated tables: the deployer writes their first metadata file and nothing else of the data", () => {
  const curated = (key: string) => `${v.bucketArn("curated")}/${key}`;
  const table = "curated/iceberg/general_payments";
  it("may put and read back a table's metadata JSON, which Glue's CreateTable writes as its caller", async () => {
    const cases: Case[] = [
      ["s3:PutObject", curated(`${table}/metadata/00000-0a.metadata.json`)],
      ["s3:GetObject", curated(`${table}/metadata/00000-0a.metadata.json`)],
    ];
    expect(await decisions(cases)).toEqual(all("Allowed", cases));
  });
  it("may not read or write data files or manifests (column bounds), delete, or write outside the tables", async () => {
    const cases: Case[] = [
      ["s3:GetObject", curated(`${table}/data/program_year=2023/00000-0-a.parquet`)],
      ["s3:PutObject", curated(`${table}/data/program_year=2023/00000-0-a.parquet`)],
      ["s3:GetObject", curated(`${table}/metadata/snap-1-1-a.avro`)],
      ["s3:GetObject", curated(`${table}/metadata/a-m0.avro`)],
      ["s3:DeleteObject", curated(`${table}/metadata/00000-0a.metadata.json`)],
      ["s3:PutObject", curated("curated/iceberg/other_table/metadata/00000-0a.metadata.json")],
      ["s3:PutObject", curated("curated/general/program_year=2023/part-0.parquet")],
    ];
    expect(await decisions(cases)).toEqual(all("ImplicitlyDenied", cases));
    const plan = (action: string, resource: string, context?: Context) =>
      may(on, ROLE_PURPOSES.ciPlan, action, resource, context);
    const metadata: Case[] = [["s3:PutObject", curated(`${table}/metadata/00000-0a.metadata.json`)]];
    expect(await decisions(metadata, plan)).toEqual(all("ImplicitlyDenied", metadata));
  });
});

describe("least privilege across configurations", () => {
  it("the plan role reads the parts but creates nothing of them", async () => {
    const plan = (action: string, resource: string, context?: Context) =>
      may(on, ROLE_PURPOSES.ciPlan, action, resource, context);
    const reads: Case[] = [
      ["ec2:DescribeVpcs", "*"],
      ["rds:DescribeDBInstances", dbArn],
      ["lambda:GetFunction", arn("lambda", `function:${p}-refresh-ingest`)],
      ["states:DescribeStateMachine", arn("states", `stateMachine:${p}-refresh`)],
      ["iam:GetPolicyVersion", v.refreshBoundaryArn],
    ];
    const writes: Case[] = [
      ["ec2:CreateVpc", arn("ec2", "vpc/vpc-0a"), own],
      ["rds:CreateDBInstance", dbArn],
      ["lambda:CreateFunction", arn("lambda", `function:${p}-refresh-ingest`)],
      ["iam:CreateRole", v.roleArn("refresh"), { "iam:PermissionsBoundary": v.refreshBoundaryArn }],
      ["iam:PassRole", v.roleArn("refresh"), { "iam:PassedToService": "states.amazonaws.com" }],
    ];
    expect(await decisions(reads, plan)).toEqual(all("Allowed", reads));
    expect(await decisions(writes, plan)).toEqual(all("ImplicitlyDenied", writes));
  });

  it("with every part off the deployer holds none of the part grants", async () => {
    const partsOffDeployer = (action: string, resource: string, context?: Context) =>
      may(off, ROLE_PURPOSES.ciDeploy, action, resource, context);
    const cases: Case[] = [
      ["ec2:CreateVpc", arn("ec2", "vpc/vpc-0a"), own],
      ["rds:CreateDBInstance", dbArn],
      ["lambda:CreateFunction", arn("lambda", `function:${p}-refresh-ingest`)],
      ["states:CreateStateMachine", arn("states", `stateMachine:${p}-refresh`)],
      ["iam:CreateRole", v.roleArn("refresh"), { "iam:PermissionsBoundary": v.refreshBoundaryArn }],
      ["lakeformation:GetDataLakeSettings", "*"],
      ["s3:PutObject", `${v.bucketArn("curated")}/curated/iceberg/general_payments/metadata/0.metadata.json`],
    ];
    expect(await decisions(cases, partsOffDeployer)).toEqual(all("ImplicitlyDenied", cases));
  });

  it("dev as committed (the refresh on, the warehouse off) gets the refresh's grants and none of the warehouse's", async () => {
    const deployer = (action: string, resource: string, context?: Context) =>
      may(committed, ROLE_PURPOSES.ciDeploy, action, resource, context);
    const allowed: Case[] = [
      ["lambda:CreateFunction", arn("lambda", `function:${p}-refresh-ingest`)],
      ["states:CreateStateMachine", arn("states", `stateMachine:${p}-refresh`)],
      ["iam:CreateRole", v.roleArn("refresh"), { "iam:PermissionsBoundary": v.refreshBoundaryArn }],
    ];
    const denied: Case[] = [
      ["ec2:CreateVpc", arn("ec2", "vpc/vpc-0a"), own],
      ["rds:CreateDBInstance", dbArn],
      ["lakeformation:PutDataLakeSettings", "*"],
      ["states:StartExecution", arn("states", `stateMachine:${p}-refresh`)],
    ];
    expect(await decisions(allowed, deployer)).toEqual(all("Allowed", allowed));
    expect(await decisions(denied, deployer)).toEqual(all("ImplicitlyDenied", denied));
  });
});
