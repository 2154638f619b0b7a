// The warehouse loader on AWS (modules/warehouse WarehouseLoader) as synthesized into lake-dev with the warehouse
// and the refresh on: the Glue job and what it runs, its wiring into the refresh state machine (asl-validator on
// the deployed definition), its alarms, and what its role and the state machine's may do (IAM simulator over the
// synthesized identity policies and boundaries).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import validator from "asl-validator";
import { unzipSync } from "fflate";
import { Naming } from "../../modules/config";
import { TerraformStack, Testing } from "../../modules/core";
import { STEP } from "../../modules/orchestration/definition";
import {
  LOADER_DATABASE_USER,
  loaderBundle,
  WarehouseLoader,
  type WarehouseLoaderProps,
} from "../../modules/warehouse";
import { type PolicyDocument, stackPolicies } from "../../scripts/policies";
import { configWith, synthEnvironment, type TfJson } from "../helpers/synth";
import { BI_CLIENT_CIDR } from "../helpers/warehouse-variant";
import { decide } from "../security/simulate";

const config = configWith("dev", {
  warehouse: { enabled: true, clientCidrs: [BI_CLIENT_CIDR] },
  orchestration: { enabled: true },
});
const naming = new Naming(config);
const { partition, region, account } = naming.location;
const lake = synthEnvironment(config).lake;
const all = (json: TfJson, type: string) =>
  Object.entries(json.resource[type] ?? {}) as [string, Record<string, unknown>][];
const loaderName = naming.resource("warehouse-loader");
const job = all(lake, "aws_glue_job").find(([, j]) => j.name === loaderName)?.[1];
const regional = (service: string, rest: string) =>
  `arn:${partition}:${service}:${region}:${account}:${rest}`;

describe("the loader's Glue job", () => {
  it("is a Glue 5.0 job in the loader's network connection, with the lake's security configuration", () => {
    expect(job).toMatchObject({
      glue_version: "5.0",
      command: { name: "glueetl", python_version: "3" },
      worker_type: "G.1X",
      number_of_workers: 2,
      max_retries: 0,
      execution_property: { max_concurrent_runs: 1 },
    });
    const [connection] = all(lake, "aws_glue_connection");
    expect(job?.connections).toEqual([`\${aws_glue_connection.${connection[0]}.name}`]);
    expect(String(job?.security_configuration)).toMatch(/aws_glue_security_configuration\./);
    expect(job?.role_arn).toMatch(/aws_iam_role\.warehouse-loader_role/);
  });

  it("runs tools/warehouse/glue_job.py with its bundle, against the lake's workgroup and the loader login", () => {
    const args = job?.default_arguments as Record<string, string>;
    const script = all(lake, "aws_s3_object").find(([, o]) => String(o.key).endsWith("/glue_job.py"))?.[1];
    expect(String((job?.command as { script_location: string }).script_location)).toBe(
      `s3://${script?.bucket}/${script?.key}`,
    );
    expect(script?.bucket).toMatch(/aws_s3_bucket\.storage_cleaned/);
    expect(script?.server_side_encryption).toBe("aws:kms");
    const bundle = loaderBundle();
    // The loader's code at its repository paths, and psycopg 3 (not among Glue 5.0's modules; the VPC has no route to PyPI).
    const packed = Object.keys(unzipSync(readFileSync(bundle.zipFile)));
    expect(packed).toEqual(
      expect.arrayContaining([
        "tools/warehouse/extract.py",
        "tools/warehouse/loader.py",
        "warehouse/sql/extract/curated_totals.sql",
        "site/psycopg/__init__.py",
        "site/typing_extensions.py",
      ]),
    );
    expect(
      packed.some((p) => /^site\/psycopg_binary\/_psycopg\.cpython-311-x86_64-linux-gnu\.so$/.test(p)),
    ).toBe(true);
    expect(args["--extra-files"]).toMatch(new RegExp(`/${bundle.sha256.slice(0, 16)}/${bundle.name}$`));
    expect(args).toMatchObject({
      "--athena_workgroup": expect.stringMatching(/^\$\{aws_athena_workgroup\.query_workgroup_\w+\.name\}$/),
      "--curated_database": expect.stringMatching(
        /^\$\{aws_glue_catalog_database\.catalog_curated-database_\w+\.name\}$/,
      ),
      "--extract_prefix": expect.stringMatching(
        /^s3:\/\/\$\{aws_s3_bucket\.storage_curated.*\}\/warehouse-extract\/$/,
      ),
      "--db_user": LOADER_DATABASE_USER,
      "--job-bookmark-option": "job-bookmark-disable",
      "--enable-metrics": "true",
    });
    expect(args["--db_host"]).toMatch(/aws_db_instance\.warehouse_instance.*\.address/);
    // The login the job's IAM grant names is the one the migrations create.
    const migration = readFileSync(
      join(__dirname, "../../warehouse/sql/migrations/0004_loader_login.sql"),
      "utf8",
    );
    expect(migration).toContain(`CREATE ROLE ${LOADER_DATABASE_USER} LOGIN IN ROLE warehouse_loader`);
  });

  it("is watched like the lake's other jobs: failed-run events, failed-tasks and slow-run alarms", () => {
    const alarms = all(lake, "aws_cloudwatch_metric_alarm").map(([, a]) => a);
    for (const suffix of ["warehouse-job-failed", "warehouse-job-slow"]) {
      const alarm = alarms.find((a) => a.alarm_name === `${naming.prefix}-alarm-${suffix}`);
      expect(alarm).toMatchObject({
        namespace: "Glue",
        dimensions: { JobName: expect.stringContaining("warehouse-loader") },
      });
    }
    const rules = all(lake, "aws_cloudwatch_event_rule").map(([, r]) => JSON.parse(String(r.event_pattern)));
    expect(rules.some((p) => p.detail?.jobName?.includes(loaderName))).toBe(true);
  });

  it("refuses a database user that is not a plain identifier and a timeout Glue does not take", () => {
    const props: WarehouseLoaderProps = {
      name: "opl-dev-warehouse-loader",
      location: naming.location,
      network: { vpcId: "vpc-1", connectionName: "c", subnetId: "subnet-1", securityGroupId: "sg-1" },
      securityConfigurationName: "opl-dev-glue",
      artifacts: { bucketName: "b", bucketArn: "arn:aws:s3:::b", prefix: "glue-artifacts" },
      curated: { bucketName: "c", bucketArn: "arn:aws:s3:::c", databaseName: "opl_dev_curated" },
      athena: { workgroupName: "wg", resultsBucketArn: "arn:aws:s3:::r", resultsPrefix: "results" },
      database: { host: "h", resourceId: "db-X" },
      dataKeyArn: "arn:aws:kms:us-east-1:111111111111:key/k",
      logsKeyArn: "arn:aws:kms:us-east-1:111111111111:key/l",
      permissionsBoundaryArn: "arn:aws:iam::111111111111:policy/b",
      logRetentionDays: 30,
    };
    const build = (changes: Partial<WarehouseLoaderProps>) => () =>
      new WarehouseLoader(new TerraformStack(Testing.app(), "s"), "loader", { ...props, ...changes });
    expect(build({})).not.toThrow();
    expect(build({ database: { ...props.database, user: "Loader; DROP" } })).toThrow(
      /database user "Loader; DROP" is not a plain PostgreSQL identifier/,
    );
    expect(build({ timeoutMinutes: 0 })).toThrow(/timeoutMinutes 0 must be a whole number 1-2880/);
    expect(build({ athena: { ...props.athena, resultsPrefix: "results/" } })).toThrow(
      /without leading or trailing/,
    );
  });
});

describe("the refresh state machine with the warehouse on", () => {
  const [, machine] = all(lake, "aws_sfn_state_machine")[0];
  const definition = JSON.parse(String(machine.definition));

  it("deploys a valid definition that runs the loader after smoke and before the summary", () => {
    expect(validator(definition, { checkPaths: true, checkArn: false }).errors).toEqual([]);
    expect(definition.States[STEP.smoke].Next).toBe(STEP.warehouse);
    expect(definition.States[STEP.warehouse]).toMatchObject({
      Resource: `arn:${partition}:states:::glue:startJobRun.sync`,
      Parameters: { JobName: expect.stringMatching(/aws_glue_job\.warehouse-loader_job.*\.name/) },
      Next: `${STEP.smoke}Summary`,
    });
  });
});

describe("what the roles may do (IAM simulator)", () => {
  const policies = stackPolicies("lake-dev", lake.resource, naming.location);
  const identity = (role: string): PolicyDocument[] =>
    policies.filter((p) => p.kind === "identity" && p.subject === role).map((p) => p.document);
  const boundary = (name: string) =>
    policies.find((p) => p.kind === "boundary" && p.subject === name)?.document;
  const may = (role: string, boundaryName: string, action: string, resource: string) =>
    decide(
      { identity: identity(role), boundary: boundary(boundaryName) },
      { principal: naming.roleArn(role), action, resource, context: { "aws:SecureTransport": "true" } },
    );
  const loader = (action: string, resource: string) =>
    may(loaderName, `${naming.prefix}-workload-boundary`, action, resource);

  it("the state machine starts and waits for the loader's runs", async () => {
    const refresh = naming.resource("refresh");
    const boundaryName = `${naming.prefix}-orchestration-boundary`;
    for (const action of ["glue:StartJobRun", "glue:GetJobRun", "glue:BatchStopJobRun"]) {
      expect(await may(refresh, boundaryName, action, regional("glue", `job/${loaderName}`))).toBe("Allowed");
    }
  });

  it("the loader queries in the lake's workgroup only, reads its network connection, and nothing of IAM", async () => {
    const workgroup = naming.resource("analysts", 32);
    expect(await loader("athena:StartQueryExecution", regional("athena", `workgroup/${workgroup}`))).toBe(
      "Allowed",
    );
    expect(await loader("athena:StartQueryExecution", regional("athena", "workgroup/primary"))).not.toBe(
      "Allowed",
    );
    expect(
      await loader(
        "glue:GetConnection",
        regional("glue", `connection/${naming.resource("warehouse")}-loader`),
      ),
    ).toBe("Allowed");
    expect(await loader("glue:GetConnection", regional("glue", "connection/other"))).not.toBe("Allowed");
    expect(
      await loader("glue:GetTable", regional("glue", `table/${naming.database("raw")}/general_payments`)),
    ).not.toBe("Allowed");
    expect(await loader("iam:CreateRole", naming.roleArn("escalated"))).not.toBe("Allowed");
    expect(
      await loader("rds:ModifyDBInstance", regional("rds", `db:${naming.resource("warehouse")}`)),
    ).not.toBe("Allowed");
  });
});
