import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { GlueJob } from "@cdktf/provider-aws/lib/glue-job";
import { S3Object } from "@cdktf/provider-aws/lib/s3-object";
import { Construct } from "constructs";
import { unzipSync } from "fflate";
import { type AwsLocation, arns } from "../access/arns";
import { GLUE_CATALOG_READ, GLUE_CONNECTION_DESCRIBE } from "../access/lake-access";
import { LakeRole } from "../access/lake-role";
import { allow, trust } from "../access/policy";
import { AssetType, type PolicyStatement, TerraformAsset } from "../core";
import { contentHash, listFiles, reproducibleZip } from "../etl/python-package";

const repoRoot = resolve(__dirname, "..", "..");
/** The job's script: a thin shell over tools/warehouse's extract and loader. */
export const LOADER_SCRIPT = "tools/warehouse/glue_job.py";
/** What the job gets besides its script, shared with the script's tests. */
const BUNDLE_SPEC = "tools/warehouse/glue-bundle.json";
/** The PostgreSQL login the job uses (warehouse/sql/migrations: granted warehouse_loader and rds_iam). */
export const LOADER_DATABASE_USER = "warehouse_loader_iam";
/** Key prefix of the Athena UNLOAD output in the curated bucket, one folder per run. */
export const EXTRACT_PREFIX = "warehouse-extract";

export interface WarehouseLoaderProps {
  /** Names the job, its role and its log group, e.g. `opl-dev-warehouse-loader`. */
  readonly name: string;
  readonly location: AwsLocation;
  /** The Glue NETWORK connection of the loader's subnet and security group (ServingWarehouse). */
  readonly network: {
    readonly vpcId: string;
    readonly connectionName: string;
    readonly subnetId: string;
    readonly securityGroupId: string;
  };
  /** The lake's Glue security configuration: S3, logs and bookmarks encrypted with its keys. */
  readonly securityConfigurationName: string;
  /** Where the script and its bundle are uploaded (the Glue code's bucket and prefix). */
  readonly artifacts: { readonly bucketName: string; readonly bucketArn: string; readonly prefix: string };
  readonly curated: {
    readonly bucketName: string;
    readonly bucketArn: string;
    readonly databaseName: string;
  };
  readonly athena: {
    readonly workgroupName: string;
    readonly resultsBucketArn: string;
    /** The workgroup's result prefix in that bucket (no slashes at the ends). */
    readonly resultsPrefix: string;
  };
  readonly database: {
    readonly host: string;
    /** The instance's DbiResourceId: what rds-db:connect names. */
    readonly resourceId: string;
    readonly name?: string;
    readonly port?: number;
    readonly user?: string;
  };
  /** CMK of the lake's buckets (S3 bucket keys: its encryption context is the bucket ARN). */
  readonly dataKeyArn: string;
  readonly logsKeyArn: string;
  readonly permissionsBoundaryArn: string;
  readonly logRetentionDays: number;
  /** Default 30 minutes: the unloads take a minute or two, the load seconds to minutes. */
  readonly timeoutMinutes?: number;
}

const PG_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The warehouse loader on AWS (docs/warehouse.md): a Glue 5.0 job in the loader's subnet and security group (the
 * Glue NETWORK connection) that runs tools/warehouse/glue_job.py: Athena UNLOADs the extract queries under
 * `warehouse-extract/<run>/` of the curated bucket, then loads, reconciles and swaps the marts in one
 * transaction, logging in with an IAM token. Its role carries the workload boundary and may do exactly that:
 * queries in the lake's workgroup, the curated catalog and data, the extract prefix, the workgroup's results,
 * rds-db:connect as the loader's login only, the data key only through S3 for these buckets, the network
 * interfaces Glue places in the loader's subnet.
 */
export class WarehouseLoader extends Construct {
  readonly jobName: string;
  readonly roleName: string;
  readonly roleArn: string;
  /** The role's policy, as synthesized. */
  readonly policyJson: string;

  constructor(scope: Construct, id: string, props: WarehouseLoaderProps) {
    super(scope, id);
    const user = props.database.user ?? LOADER_DATABASE_USER;
    if (!PG_IDENTIFIER.test(user)) {
      throw new Error(
        `WarehouseLoader ${props.name}: database user "${user}" is not a plain PostgreSQL identifier ` +
          "(lower-case letters, digits and _, at most 63): use the login the migrations create.",
      );
    }
    const timeout = props.timeoutMinutes ?? 30;
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > 2880) {
      throw new Error(
        `WarehouseLoader ${props.name}: timeoutMinutes ${timeout} must be a whole number 1-2880`,
      );
    }
    if (/^\/|\/$/.test(props.athena.resultsPrefix) || /^\/|\/$/.test(props.artifacts.prefix)) {
      throw new Error(`WarehouseLoader ${props.name}: prefixes are given without leading or trailing "/"`);
    }
    const { location } = props;
    const codePrefix = `${props.artifacts.prefix}/warehouse-loader`;

    const scriptBytes = readFileSync(join(repoRoot, LOADER_SCRIPT));
    const scriptHash = contentHash([{ path: LOADER_SCRIPT, bytes: scriptBytes }]);
    const bundle = loaderBundle();
    const upload = (uploadId: string, key: string, path: string, sha256: string, contentType: string) => {
      const object = new S3Object(this, uploadId, {
        bucket: props.artifacts.bucketName,
        key,
        source: new TerraformAsset(this, `${uploadId}-asset`, {
          path,
          type: AssetType.FILE,
          assetHash: sha256.slice(0, 32),
        }).path,
        // With SSE-KMS the ETag is not an MD5 of the content: compare our own hash to detect changes.
        sourceHash: sha256,
        contentType,
        serverSideEncryption: "aws:kms",
        kmsKeyId: props.dataKeyArn,
        bucketKeyEnabled: true,
      });
      return { uri: `s3://${props.artifacts.bucketName}/${key}`, object };
    };
    const script = upload(
      "script",
      `${codePrefix}/${scriptHash.slice(0, 16)}/glue_job.py`,
      join(repoRoot, LOADER_SCRIPT),
      scriptHash,
      "text/x-python",
    );
    const bundleUpload = upload(
      "bundle",
      `${codePrefix}/${bundle.sha256.slice(0, 16)}/${bundle.name}`,
      bundle.zipFile,
      bundle.sha256,
      "application/zip",
    );

    const logGroup = new CloudwatchLogGroup(this, "logs", {
      name: `/aws-glue/jobs/${props.name}`,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.logsKeyArn,
    });
    const role = new LakeRole(this, "role", {
      roleName: props.name,
      description:
        "Warehouse loader (Glue): unload curated through Athena, load the marts as the loader login",
      permissionsBoundaryArn: props.permissionsBoundaryArn,
      trustStatements: [
        trust("GlueAssumesRole", { Service: "glue.amazonaws.com" }, "sts:AssumeRole", {
          StringEquals: { "aws:SourceAccount": location.account },
        }),
      ],
      statements: loaderStatements(props, user, codePrefix),
    });
    const job = new GlueJob(this, "job", {
      name: props.name,
      description: "Refreshes the warehouse marts from curated (tools/warehouse/glue_job.py)",
      roleArn: role.roleArn,
      glueVersion: "5.0",
      executionClass: "STANDARD",
      command: { name: "glueetl", scriptLocation: script.uri, pythonVersion: "3" },
      // Glue 5.0's smallest Spark allocation; the script runs in the driver and uses no Spark.
      workerType: "G.1X",
      numberOfWorkers: 2,
      timeout,
      // The refresh retries the step itself; a second automatic run would only repeat a reconciled failure.
      maxRetries: 0,
      // One load at a time: two would swap the marts over each other.
      executionProperty: { maxConcurrentRuns: 1 },
      connections: [props.network.connectionName],
      securityConfiguration: props.securityConfigurationName,
      defaultArguments: {
        "--extra-files": bundleUpload.uri,
        "--athena_workgroup": props.athena.workgroupName,
        "--curated_database": props.curated.databaseName,
        "--extract_prefix": `s3://${props.curated.bucketName}/${EXTRACT_PREFIX}/`,
        "--db_host": props.database.host,
        "--db_port": String(props.database.port ?? 5432),
        "--db_name": props.database.name ?? "warehouse",
        "--db_user": user,
        "--job-language": "python",
        "--job-bookmark-option": "job-bookmark-disable",
        "--enable-continuous-cloudwatch-log": "true",
        "--continuous-log-logGroup": logGroup.name,
        "--enable-metrics": "true",
        "--enable-observability-metrics": "true",
      },
      dependsOn: [script.object, bundleUpload.object],
    });
    this.jobName = job.name;
    this.roleName = role.roleName;
    this.roleArn = role.roleArn;
    this.policyJson = role.policyJson;
  }
}

/**
 * warehouse-loader.zip: the files of tools/warehouse/glue-bundle.json under their repository paths, and the
 * wheels `make setup` downloaded (tools/warehouse/glue-wheels.lock) unpacked under `site/`: Glue 5.0 lacks
 * psycopg 3 and the job's VPC has no route to PyPI.
 */
export function loaderBundle(): { zipFile: string; sha256: string; name: string } {
  const spec = JSON.parse(readFileSync(join(repoRoot, BUNDLE_SPEC), "utf8")) as {
    bundle: string;
    files: string[];
    wheels: string;
    site: string;
  };
  const entries: Array<{ path: string; bytes: Uint8Array }> = spec.files.flatMap((entry) => {
    const path = join(repoRoot, entry);
    const files = statSync(path).isDirectory() ? listFiles(path).map((f) => `${entry}/${f}`) : [entry];
    return files.map((file) => ({ path: file, bytes: readFileSync(join(repoRoot, file)) }));
  });
  const wheelsDir = join(repoRoot, spec.wheels);
  const wheels = existsSync(wheelsDir) ? readdirSync(wheelsDir).filter((f) => f.endsWith(".whl")) : [];
  if (wheels.length === 0) {
    throw new Error(
      `${spec.wheels} holds no wheels for the warehouse loader job: run \`make setup\` ` +
        "(it downloads tools/warehouse/glue-wheels.lock).",
    );
  }
  for (const wheel of wheels.sort()) {
    for (const [path, bytes] of Object.entries(unzipSync(readFileSync(join(wheelsDir, wheel))))) {
      if (!path.endsWith("/")) entries.push({ path: `${spec.site}/${path}`, bytes });
    }
  }
  return { ...reproducibleZip(entries, "warehouse-loader"), name: spec.bundle };
}

function loaderStatements(props: WarehouseLoaderProps, user: string, codePrefix: string): PolicyStatement[] {
  const { location, curated, athena } = props;
  const ec2 = (resource: string) =>
    `arn:${location.partition}:ec2:${location.region}:${location.account}:${resource}`;
  return [
    allow({
      sid: "ReadLoaderCode",
      actions: ["s3:GetObject"],
      resources: [`${props.artifacts.bucketArn}/${codePrefix}/*`],
    }),
    allow({
      sid: "UnloadInWorkgroup",
      actions: [
        "athena:StartQueryExecution",
        "athena:GetQueryExecution",
        "athena:StopQueryExecution",
        "athena:GetWorkGroup",
      ],
      resources: [arns.athenaWorkgroup(location, athena.workgroupName)],
    }),
    allow({
      sid: "ReadCuratedCatalog",
      actions: GLUE_CATALOG_READ,
      resources: [
        arns.glueCatalog(location),
        arns.glueDatabase(location, curated.databaseName),
        arns.glueTables(location, curated.databaseName),
      ],
    }),
    allow({ sid: "ReadCurated", actions: ["s3:GetObject"], resources: [`${curated.bucketArn}/curated/*`] }),
    allow({
      // UNLOAD writes the Parquet parts (Athena, as this role); the loader reads them back.
      sid: "WriteAndReadExtract",
      actions: ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
      resources: [`${curated.bucketArn}/${EXTRACT_PREFIX}/*`],
    }),
    allow({
      sid: "ListCuratedAndExtract",
      actions: ["s3:ListBucket"],
      resources: [curated.bucketArn],
      conditions: {
        StringLike: { "s3:prefix": ["curated", "curated/*", EXTRACT_PREFIX, `${EXTRACT_PREFIX}/*`] },
      },
    }),
    allow({
      sid: "WorkgroupResults",
      actions: ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"],
      resources: [`${athena.resultsBucketArn}/${athena.resultsPrefix}/*`],
    }),
    allow({
      sid: "LocateBuckets",
      actions: ["s3:GetBucketLocation"],
      resources: [curated.bucketArn, athena.resultsBucketArn],
    }),
    allow({
      sid: "DataKeyThroughS3ForTheseBuckets",
      actions: ["kms:Decrypt", "kms:GenerateDataKey"],
      resources: [props.dataKeyArn],
      conditions: {
        StringEquals: {
          "kms:ViaService": `s3.${location.region}.amazonaws.com`,
          "kms:EncryptionContext:aws:s3:arn": [
            curated.bucketArn,
            athena.resultsBucketArn,
            props.artifacts.bucketArn,
          ],
        },
      },
    }),
    allow({
      sid: "ConnectAsLoaderLogin",
      actions: ["rds-db:connect"],
      resources: [
        `arn:${location.partition}:rds-db:${location.region}:${location.account}:dbuser:${props.database.resourceId}/${user}`,
      ],
    }),
    allow({
      sid: "ReadNetworkConnection",
      actions: ["glue:GetConnection"],
      resources: [
        arns.glueCatalog(location),
        `arn:${location.partition}:glue:${location.region}:${location.account}:connection/${props.network.connectionName}`,
      ],
    }),
    allow({
      // Glue places the job's network interfaces in the loader's subnet with the loader's security group.
      sid: "LoaderNetworkInterfaces",
      actions: ["ec2:CreateNetworkInterface"],
      resources: [
        ec2(`subnet/${props.network.subnetId}`),
        ec2(`security-group/${props.network.securityGroupId}`),
        ec2("network-interface/*"),
      ],
    }),
    allow({
      sid: "RemoveAndTagNetworkInterfaces",
      actions: ["ec2:DeleteNetworkInterface", "ec2:CreateTags", "ec2:DeleteTags"],
      resources: [ec2("network-interface/*")],
    }),
    allow({
      sid: "DescribeNetwork",
      actions: GLUE_CONNECTION_DESCRIBE,
      resources: ["*"],
      unscopedBecause: "these EC2 Describe actions have no resource types",
    }),
    allow({
      sid: "DescribeLoaderVpc",
      actions: ["ec2:DescribeVpcAttribute"],
      resources: [ec2(`vpc/${props.network.vpcId}`)],
    }),
    allow({
      sid: "WriteJobLogs",
      actions: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"],
      resources: [arns.logGroup(location, "/aws-glue/jobs/*")],
    }),
    allow({
      sid: "PublishJobMetrics",
      actions: ["cloudwatch:PutMetricData"],
      resources: ["*"],
      unscopedBecause: "cloudwatch:PutMetricData has no resource types; scoped by namespace instead",
      conditions: { StringEquals: { "cloudwatch:namespace": "Glue" } },
    }),
  ];
}
