import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { Construct } from "constructs";
import { serviceEndpoint } from "../config";
import { type PolicyStatement, policyJson } from "../core";
import { type AwsLocation, arns } from "./arns";
import { LakeRole } from "./lake-role";
import { allow, type Conditions, deny, trust } from "./policy";

/**
 * The purpose part of every lake role's name (`<prefix>-<env>-<purpose>`): one list for the constructs that
 * create the roles and for the key policies that name them before they exist (state and catalog keys).
 */
export const ROLE_PURPOSES = {
  ingestion: "ingestion-writer",
  crawler: "glue-crawler",
  glueJob: "glue-job",
  analyst: "analyst",
  ciPlan: "ci-plan",
  ciDeploy: "ci-deploy",
} as const;

/** A bucket as the roles see it: its ARN (a Terraform reference is fine). */
export interface BucketRef {
  readonly arn: string;
}

export interface LakeAccessProps {
  readonly location: AwsLocation;
  /** Prefix of every role name, e.g. `opl-dev`. */
  readonly namePrefix: string;
  readonly buckets: {
    readonly raw: BucketRef;
    readonly cleaned: BucketRef;
    readonly curated: BucketRef;
    readonly athenaResults: BucketRef;
  };
  /** CMK encrypting the lake buckets (S3 bucket keys: its encryption context is the bucket ARN). */
  readonly dataKeyArn: string;
  /** CMK encrypting the ingestion metadata table. */
  readonly ingestionTableKeyArn: string;
  readonly ingestionTableArn: string;
  readonly rawDatabaseName: string;
  readonly curatedDatabaseName: string;
  readonly athenaWorkgroupName: string;
  /** Key prefix of Athena query results in the results bucket (no leading or trailing slash). */
  readonly athenaResultsPrefix: string;
  /** Key prefixes in the cleaned bucket the Glue jobs read their code from and spill temporary data to. */
  readonly glueArtifactsPrefix: string;
  readonly glueTempPrefix: string;
  /** Named IAM roles allowed to assume the ingestion writer and the analyst role (never an account root). */
  readonly ingestionPrincipalArns: string[];
  readonly analystPrincipalArns: string[];
  /** Log groups (names) AWS services write through workload roles (VPC flow logs, RDS enhanced monitoring). */
  readonly serviceRoleLogGroups?: string[];
  /**
   * The serving warehouse's loader job (modules/warehouse WarehouseLoader), when the warehouse is on: the boundary
   * then also admits its database login, its Glue network connection and the network interfaces Glue places.
   */
  readonly warehouseLoader?: { readonly databaseUser: string; readonly connectionName: string };
}

// Keys a role may list under a prefix: the prefix "folder" itself and everything below it.
/** What the ingestion tool does to the ingestion table (tools/ingest), wherever it runs. */
export function recordIngestions(tableArn: string): PolicyStatement {
  return allow({
    sid: "RecordIngestions",
    actions: [
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:GetItem",
      "dynamodb:Query",
      "dynamodb:ConditionCheckItem",
    ],
    resources: [tableArn, `${tableArn}/index/*`],
  });
}

function listPrefixes(prefixes: string[]): Conditions {
  return { StringLike: { "s3:prefix": prefixes.flatMap((p) => [p, `${p}/*`]) } };
}

function objects(bucket: BucketRef, prefixes: string[]): string[] {
  return prefixes.map((p) => `${bucket.arn}/${p}/*`);
}

export const GLUE_CATALOG_READ = [
  "glue:GetDatabase",
  "glue:GetDatabases",
  "glue:GetTable",
  "glue:GetTables",
  "glue:GetPartition",
  "glue:GetPartitions",
  "glue:BatchGetPartition",
];
// Crawlers and jobs add tables and partitions; nothing in the lake deletes catalog objects.
const GLUE_CATALOG_WRITE = [
  "glue:CreateTable",
  "glue:UpdateTable",
  "glue:CreatePartition",
  "glue:BatchCreatePartition",
  "glue:UpdatePartition",
  "glue:BatchUpdatePartition",
];
export const S3_OBJECT_WRITE = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"];
export const S3_OBJECT_READ = [
  "s3:GetObject",
  "s3:GetObjectVersion",
  "s3:GetObjectAttributes",
  "s3:GetObjectVersionAttributes",
];
const RAW_DELETES = [
  "s3:DeleteObject",
  "s3:DeleteObjectVersion",
  "s3:PutLifecycleConfiguration",
  "s3:PutBucketVersioning",
];
export const ATHENA_QUERY_ACTIONS = [
  "athena:StartQueryExecution",
  "athena:StopQueryExecution",
  "athena:GetQueryExecution",
  "athena:BatchGetQueryExecution",
  "athena:ListQueryExecutions",
  "athena:GetQueryResults",
  "athena:GetQueryResultsStream",
  "athena:GetWorkGroup",
  "athena:GetNamedQuery",
  "athena:BatchGetNamedQuery",
  "athena:ListNamedQueries",
];
/** What a Glue job on a NETWORK connection describes to place its interfaces (no resource types: `*`). */
export const GLUE_CONNECTION_DESCRIBE = [
  "ec2:DescribeNetworkInterfaces",
  "ec2:DescribeSubnets",
  "ec2:DescribeSecurityGroups",
  "ec2:DescribeVpcEndpoints",
  "ec2:DescribeRouteTables",
];

export const ATHENA_CATALOG_BROWSE = [
  "athena:ListDatabases",
  "athena:GetDatabase",
  "athena:ListTableMetadata",
  "athena:GetTableMetadata",
];
const GLUE_LOG_WRITE = [
  "logs:CreateLogGroup",
  "logs:CreateLogStream",
  "logs:PutLogEvents",
  "logs:AssociateKmsKey",
];

/**
 * The lake's workload roles, each with one least-privilege inline policy and the lake's permissions boundary:
 * - ingestion writer: write-only to `raw/` plus the ingestion audit table;
 * - Glue crawler: read raw and curated data, add tables/partitions to the lake's two databases;
 * - Glue job: read raw, write cleaned/curated, update only the lake's catalog, never delete raw;
 * - analyst: run queries in the lake's workgroup, read curated data, results and the catalog.
 *
 * The boundary (`<prefix>-workload-boundary`) is the most any workload role can ever do: lake data through
 * the data key, the ingestion table, the lake's catalog, its workgroup and Glue's logs and metrics, never IAM,
 * KMS administration, bucket settings or a delete on raw. The CI deployer may only create and change roles
 * that carry it, and cannot change it: whatever inline policy or Glue code it deploys stays inside.
 */
export class LakeAccess extends Construct {
  readonly boundary: IamPolicy;
  readonly boundaryName: string;
  readonly boundaryPolicyJson: string;
  readonly ingestionRole: LakeRole;
  readonly crawlerRole: LakeRole;
  readonly glueJobRole: LakeRole;
  readonly analystRole: LakeRole;

  constructor(scope: Construct, id: string, props: LakeAccessProps) {
    super(scope, id);
    const { location, buckets } = props;
    const via = (service: string) => serviceEndpoint(service, location.region);
    const viaS3 = via("s3");
    const glueTrust = [
      trust("GlueAssumesRole", { Service: "glue.amazonaws.com" }, "sts:AssumeRole", {
        // Confused-deputy guard: only Glue acting for this account.
        StringEquals: { "aws:SourceAccount": location.account },
      }),
    ];
    const roleTrust = (sid: string, field: string, principals: string[]) => {
      if (principals.length === 0 || principals.some((p) => !/^arn:[\w-]+:iam::\d{12}:role\//.test(p))) {
        throw new Error(
          `LakeAccess ${field}: list the IAM role ARNs that may assume the role (got ${JSON.stringify(principals)}); ` +
            "an account root would let any principal of the account with sts:AssumeRole in.",
        );
      }
      return [trust(sid, { AWS: principals }, "sts:AssumeRole")];
    };
    const lakeCatalog = (databases: string[]) => [
      arns.glueCatalog(location),
      ...databases.map((db) => arns.glueDatabase(location, db)),
      ...databases.map((db) => arns.glueTables(location, db)),
    ];
    const denyRawDeletes = deny({
      sid: "DenyRawDeletes",
      actions: RAW_DELETES,
      resources: [buckets.raw.arn, `${buckets.raw.arn}/*`],
    });
    const glueLogs = (sid: string, pattern: string) =>
      allow({
        sid,
        // AssociateKmsKey: the security configuration encrypts the log groups Glue creates for the run.
        actions: GLUE_LOG_WRITE,
        resources: [arns.logGroup(location, pattern), arns.logGroup(location, `${pattern}:*`)],
      });
    const publishGlueMetrics = allow({
      sid: "PublishJobMetrics",
      actions: ["cloudwatch:PutMetricData"],
      resources: ["*"],
      unscopedBecause: "cloudwatch:PutMetricData has no resource types; scoped by namespace instead",
      conditions: { StringEquals: { "cloudwatch:namespace": "Glue" } },
    });
    const workgroupArn = arns.athenaWorkgroup(location, props.athenaWorkgroupName);
    const lakeBuckets = [buckets.raw, buckets.cleaned, buckets.curated, buckets.athenaResults];

    const boundaryStatements: PolicyStatement[] = [
      allow({
        sid: "ReadAndWriteLakeObjects",
        actions: [...S3_OBJECT_READ, ...S3_OBJECT_WRITE],
        resources: lakeBuckets.map((b) => `${b.arn}/*`),
      }),
      allow({
        sid: "DeleteDerivedObjects",
        actions: ["s3:DeleteObject"],
        resources: [buckets.cleaned, buckets.curated, buckets.athenaResults].map((b) => `${b.arn}/*`),
      }),
      allow({
        sid: "ListAndLocateLakeBuckets",
        actions: ["s3:ListBucket", "s3:GetBucketLocation"],
        resources: lakeBuckets.map((b) => b.arn),
      }),
      allow({
        sid: "UseDataKeysThroughServices",
        actions: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
        resources: [...new Set([props.dataKeyArn, props.ingestionTableKeyArn])],
        conditions: { StringEquals: { "kms:ViaService": [viaS3, via("glue"), via("dynamodb")] } },
      }),
      recordIngestions(props.ingestionTableArn),
      allow({
        sid: "LakeCatalog",
        actions: [...GLUE_CATALOG_READ, ...GLUE_CATALOG_WRITE],
        resources: lakeCatalog([props.rawDatabaseName, props.curatedDatabaseName]),
      }),
      allow({ sid: "QueryInWorkgroup", actions: ATHENA_QUERY_ACTIONS, resources: [workgroupArn] }),
      allow({
        sid: "BrowseDataCatalog",
        actions: ATHENA_CATALOG_BROWSE,
        resources: [arns.athenaDataCatalog(location)],
      }),
      glueLogs("GlueLogs", "/aws-glue/*"),
      publishGlueMetrics,
      denyRawDeletes,
      ...(props.serviceRoleLogGroups?.length
        ? [
            allow({
              sid: "ServiceRoleLogs",
              actions: [
                "logs:CreateLogGroup",
                "logs:PutRetentionPolicy",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "logs:DescribeLogStreams",
                "logs:GetLogEvents",
              ],
              resources: props.serviceRoleLogGroups.flatMap((name) => [
                arns.logGroup(location, name),
                arns.logGroup(location, `${name}:*`),
              ]),
            }),
          ]
        : []),
    ];
    if (props.warehouseLoader)
      boundaryStatements.push(...warehouseLoaderBoundary(location, props.warehouseLoader));
    this.boundaryPolicyJson = policyJson(boundaryStatements);
    this.boundaryName = `${props.namePrefix}-workload-boundary`;
    this.boundary = new IamPolicy(this, "boundary", {
      name: this.boundaryName,
      description: "Permissions boundary of the lake's workload roles: the most any of them can ever do",
      policy: this.boundaryPolicyJson,
    });
    const permissionsBoundaryArn = this.boundary.arn;

    this.ingestionRole = new LakeRole(this, "ingestion", {
      roleName: `${props.namePrefix}-${ROLE_PURPOSES.ingestion}`,
      permissionsBoundaryArn,
      description:
        "Uploads CMS Open Payments files under raw/ and records each ingestion; cannot read or delete",
      trustStatements: roleTrust(
        "TrustedIngestionPrincipals",
        "ingestionPrincipalArns",
        props.ingestionPrincipalArns,
      ),
      statements: [
        allow({
          sid: "PutRawObjects",
          // s3:PutObject also covers CreateMultipartUpload, UploadPart and CompleteMultipartUpload.
          actions: S3_OBJECT_WRITE,
          resources: objects(buckets.raw, ["raw"]),
        }),
        allow({
          // Verifying an upload reads only raw/: HeadObject with checksums and GetObjectAttributes. Nothing
          // outside raw/ is readable.
          sid: "VerifyRawObjects",
          actions: S3_OBJECT_READ,
          resources: objects(buckets.raw, ["raw"]),
        }),
        allow({
          sid: "ListRawPrefix",
          actions: ["s3:ListBucket"],
          resources: [buckets.raw.arn],
          conditions: listPrefixes(["raw"]),
        }),
        allow({ sid: "LocateRawBucket", actions: ["s3:GetBucketLocation"], resources: [buckets.raw.arn] }),
        allow({
          // Decrypt too: completing a multipart upload to an SSE-KMS bucket decrypts the uploaded parts.
          sid: "EncryptRawWithDataKey",
          actions: ["kms:GenerateDataKey", "kms:Encrypt", "kms:Decrypt"],
          resources: [props.dataKeyArn],
          conditions: {
            StringEquals: { "kms:ViaService": viaS3, "kms:EncryptionContext:aws:s3:arn": buckets.raw.arn },
          },
        }),
        allow({
          sid: "RecordIngestions",
          // ConditionCheckItem: conditions inside TransactWriteItems. No DeleteItem: the audit trail only grows.
          actions: [
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:ConditionCheckItem",
          ],
          resources: [props.ingestionTableArn, `${props.ingestionTableArn}/index/*`],
        }),
        allow({
          sid: "UseTableKeyThroughDynamoDb",
          actions: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
          resources: [props.ingestionTableKeyArn],
          conditions: { StringEquals: { "kms:ViaService": via("dynamodb") } },
        }),
        denyRawDeletes,
      ],
    });

    this.crawlerRole = new LakeRole(this, "crawler", {
      roleName: `${props.namePrefix}-${ROLE_PURPOSES.crawler}`,
      permissionsBoundaryArn,
      description: "Glue crawlers: read raw and curated data, add tables and partitions to the lake catalog",
      trustStatements: glueTrust,
      statements: [
        allow({
          sid: "ReadCrawledObjects",
          actions: ["s3:GetObject"],
          resources: [...objects(buckets.raw, ["raw"]), ...objects(buckets.curated, ["curated"])],
        }),
        allow({
          sid: "ListRawPrefix",
          actions: ["s3:ListBucket"],
          resources: [buckets.raw.arn],
          conditions: listPrefixes(["raw"]),
        }),
        allow({
          sid: "ListCuratedPrefix",
          actions: ["s3:ListBucket"],
          resources: [buckets.curated.arn],
          conditions: listPrefixes(["curated"]),
        }),
        allow({
          sid: "DecryptLakeObjects",
          actions: ["kms:Decrypt"],
          resources: [props.dataKeyArn],
          conditions: { StringEquals: { "kms:ViaService": viaS3 } },
        }),
        allow({
          sid: "UpdateLakeCatalog",
          actions: [...GLUE_CATALOG_READ, ...GLUE_CATALOG_WRITE],
          resources: lakeCatalog([props.rawDatabaseName, props.curatedDatabaseName]),
        }),
        glueLogs("WriteCrawlerLogs", "/aws-glue/crawlers*"),
      ],
    });

    const jobData = {
      cleaned: ["cleaned", "quarantine", "reports/clean", props.glueTempPrefix],
      curated: ["curated", "reports/curate"],
    };
    this.glueJobRole = new LakeRole(this, "glue-job", {
      roleName: `${props.namePrefix}-${ROLE_PURPOSES.glueJob}`,
      permissionsBoundaryArn,
      description:
        "Glue ETL jobs: read raw, write cleaned and curated, update the lake catalog; never delete raw",
      trustStatements: glueTrust,
      statements: [
        allow({ sid: "ReadRawObjects", actions: ["s3:GetObject"], resources: objects(buckets.raw, ["raw"]) }),
        allow({
          sid: "ReadJobCode",
          actions: ["s3:GetObject"],
          resources: objects(buckets.cleaned, [props.glueArtifactsPrefix]),
        }),
        allow({
          // Delete: Spark replaces a program year's partition by deleting its previous files.
          sid: "WriteCleanedAndCurated",
          actions: ["s3:GetObject", "s3:DeleteObject", ...S3_OBJECT_WRITE],
          resources: [
            ...objects(buckets.cleaned, jobData.cleaned),
            ...objects(buckets.curated, jobData.curated),
          ],
        }),
        allow({
          sid: "ListRawPrefix",
          actions: ["s3:ListBucket"],
          resources: [buckets.raw.arn],
          conditions: listPrefixes(["raw"]),
        }),
        allow({
          sid: "ListCleanedPrefixes",
          actions: ["s3:ListBucket"],
          resources: [buckets.cleaned.arn],
          conditions: listPrefixes([...jobData.cleaned, props.glueArtifactsPrefix]),
        }),
        allow({
          sid: "ListCuratedPrefixes",
          actions: ["s3:ListBucket"],
          resources: [buckets.curated.arn],
          conditions: listPrefixes(jobData.curated),
        }),
        allow({
          sid: "LocateLakeBuckets",
          actions: ["s3:GetBucketLocation"],
          resources: [buckets.raw.arn, buckets.cleaned.arn, buckets.curated.arn],
        }),
        allow({
          // Through S3 for the data; through Glue for the CSE-KMS encrypted job bookmarks.
          sid: "UseDataKey",
          actions: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
          resources: [props.dataKeyArn],
          conditions: {
            StringEquals: { "kms:ViaService": [viaS3, via("glue")] },
          },
        }),
        allow({
          sid: "UpdateLakeCatalog",
          actions: [...GLUE_CATALOG_READ, ...GLUE_CATALOG_WRITE],
          resources: lakeCatalog([props.rawDatabaseName, props.curatedDatabaseName]),
        }),
        glueLogs("WriteJobLogs", "/aws-glue/*"),
        publishGlueMetrics,
        denyRawDeletes,
      ],
    });

    this.analystRole = new LakeRole(this, "analyst", {
      roleName: `${props.namePrefix}-${ROLE_PURPOSES.analyst}`,
      permissionsBoundaryArn,
      description: "Analysts: run Athena queries in the lake workgroup over curated data",
      trustStatements: roleTrust(
        "TrustedAnalystPrincipals",
        "analystPrincipalArns",
        props.analystPrincipalArns,
      ),
      statements: [
        allow({ sid: "RunQueriesInWorkgroup", actions: ATHENA_QUERY_ACTIONS, resources: [workgroupArn] }),
        allow({
          sid: "BrowseDataCatalog",
          actions: ATHENA_CATALOG_BROWSE,
          resources: [arns.athenaDataCatalog(location)],
        }),
        allow({
          sid: "ReadCuratedCatalog",
          actions: GLUE_CATALOG_READ,
          resources: lakeCatalog([props.curatedDatabaseName]),
        }),
        allow({
          sid: "ReadCuratedObjects",
          actions: ["s3:GetObject"],
          resources: objects(buckets.curated, ["curated"]),
        }),
        allow({
          sid: "ListCuratedPrefix",
          actions: ["s3:ListBucket"],
          resources: [buckets.curated.arn],
          conditions: listPrefixes(["curated"]),
        }),
        allow({
          // Athena writes and reads query results with the caller's credentials.
          sid: "ReadWriteQueryResults",
          actions: ["s3:GetObject", ...S3_OBJECT_WRITE],
          resources: objects(buckets.athenaResults, [props.athenaResultsPrefix]),
        }),
        allow({
          sid: "ListQueryResults",
          actions: ["s3:ListBucket"],
          resources: [buckets.athenaResults.arn],
          conditions: listPrefixes([props.athenaResultsPrefix]),
        }),
        allow({
          sid: "LocateQueryBuckets",
          actions: ["s3:GetBucketLocation"],
          resources: [buckets.curated.arn, buckets.athenaResults.arn],
        }),
        allow({
          sid: "UseDataKeyThroughS3",
          actions: ["kms:Decrypt", "kms:GenerateDataKey"],
          resources: [props.dataKeyArn],
          conditions: {
            StringEquals: {
              "kms:ViaService": viaS3,
              "kms:EncryptionContext:aws:s3:arn": [buckets.curated.arn, buckets.athenaResults.arn],
            },
          },
        }),
      ],
    });
  }
}

/**
 * What the warehouse loader does beyond the lake's data (the boundary is created before the database and the
 * network, so it names them by pattern; the loader's own policy names the exact instance, subnet and group).
 */
function warehouseLoaderBoundary(
  location: AwsLocation,
  loader: NonNullable<LakeAccessProps["warehouseLoader"]>,
): PolicyStatement[] {
  const regional = (service: string, resource: string) =>
    `arn:${location.partition}:${service}:${location.region}:${location.account}:${resource}`;
  return [
    allow({
      sid: "WarehouseLoaderLogin",
      actions: ["rds-db:connect"],
      resources: [regional("rds-db", `dbuser:*/${loader.databaseUser}`)],
    }),
    allow({
      sid: "WarehouseLoaderConnection",
      actions: ["glue:GetConnection"],
      resources: [arns.glueCatalog(location), regional("glue", `connection/${loader.connectionName}`)],
    }),
    allow({
      sid: "WarehouseLoaderNetworkInterfaces",
      actions: [
        "ec2:CreateNetworkInterface",
        "ec2:DeleteNetworkInterface",
        "ec2:CreateTags",
        "ec2:DeleteTags",
      ],
      resources: ["network-interface/*", "subnet/*", "security-group/*"].map((r) => regional("ec2", r)),
    }),
    allow({
      sid: "WarehouseLoaderDescribeNetwork",
      actions: GLUE_CONNECTION_DESCRIBE,
      resources: ["*"],
      unscopedBecause: "these EC2 Describe actions have no resource types",
    }),
    allow({
      sid: "WarehouseLoaderDescribeVpc",
      actions: ["ec2:DescribeVpcAttribute"],
      resources: [regional("ec2", "vpc/*")],
    }),
  ];
}
