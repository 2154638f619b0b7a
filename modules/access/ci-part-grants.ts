// The CI roles' grants for the optional parts of an environment (docs/ci.md "What the deployer can do"): the
// serving warehouse, the hands-off refresh and Lake Formation. Each grant lists what planning reads and what
// applying adds; modules/access/ci-roles.ts packs them into managed policies of their own, only for the parts
// the environment's config enables.
import { type AwsLocation, arns } from "./arns";
import type { Conditions } from "./policy";

/** One service's permissions: what planning needs (read) and what applying adds (write). */
export interface ServiceGrant {
  readonly sid: string;
  readonly read: string[];
  readonly write: string[];
  readonly resources: string[];
  readonly conditions?: Conditions;
  readonly unscopedBecause?: string;
}

/** What the part grants are built from. */
export interface PartContext {
  readonly location: AwsLocation;
  /** Prefix of the environment's resource names, e.g. `opl-dev`. */
  readonly prefix: string;
  readonly environmentTag: { readonly key: string; readonly value: string };
  /** The workload boundary every warehouse role carries (exact ARN). */
  readonly workloadBoundaryArn: string;
  readonly via: (service: string) => string;
}

const regional = (l: AwsLocation, service: string, rest: string) =>
  `arn:${l.partition}:${service}:${l.region}:${l.account}:${rest}`;
const roleArn = (l: AwsLocation, name: string) => `arn:${l.partition}:iam::${l.account}:role/${name}`;

/** The role-management actions that IAM evaluates `iam:PermissionsBoundary` for. */
export const BOUNDED_ROLE_WRITES = [
  "iam:CreateRole",
  "iam:UpdateRole",
  "iam:UpdateAssumeRolePolicy",
  "iam:PutRolePolicy",
  "iam:DeleteRolePolicy",
  "iam:PutRolePermissionsBoundary",
];

/** Read, manage (only with `boundaryArn`), tag and pass `roles`, each to its one service. */
function boundedRoles(
  ctx: PartContext,
  sidPrefix: string,
  roles: ReadonlyArray<{ roleName: string; service: string }>,
  boundaryArn: string,
): ServiceGrant[] {
  const l = ctx.location;
  const arnsOf = (rs: ReadonlyArray<{ roleName: string }>) => rs.map((r) => roleArn(l, r.roleName));
  const services = [...new Set(roles.map((r) => r.service))];
  return [
    {
      sid: `Read${sidPrefix}Roles`,
      read: ["iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies"],
      write: [],
      resources: arnsOf(roles),
    },
    {
      sid: `Manage${sidPrefix}RolesWithinBoundary`,
      read: [],
      write: BOUNDED_ROLE_WRITES,
      resources: arnsOf(roles),
      conditions: { StringEquals: { "iam:PermissionsBoundary": boundaryArn } },
    },
    {
      // iam:PermissionsBoundary is not evaluated for tagging; tags grant nothing in this lake.
      sid: `Tag${sidPrefix}Roles`,
      read: [],
      write: ["iam:TagRole", "iam:UntagRole"],
      resources: arnsOf(roles),
    },
    // One statement per service: a role is passed only to the service that assumes it.
    ...services.map((service) => ({
      sid: `Pass${sidPrefix}RolesTo${service.split(".")[0]?.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase())}`,
      read: [],
      write: ["iam:PassRole"],
      resources: arnsOf(roles.filter((r) => r.service === service)),
      conditions: { StringEquals: { "iam:PassedToService": service } },
    })),
  ];
}

/** Use of a key for data keys, only through one service and under the given encryption-context conditions. */
export function keyUseGrant(
  sid: string,
  keyArn: string,
  conditions: Record<string, string | string[]>,
): ServiceGrant {
  return {
    sid,
    read: [],
    write: ["kms:GenerateDataKey", "kms:Decrypt"],
    resources: [keyArn],
    conditions: { StringEquals: conditions },
  };
}

/** Log groups (the lake's and a part's): created, tagged and retained by the deployer, never read. */
export function logGroupGrant(location: AwsLocation, sid: string, names: string[]): ServiceGrant {
  return {
    sid,
    read: ["logs:ListTagsForResource", "logs:ListTagsLogGroup"],
    write: [
      "logs:CreateLogGroup",
      "logs:PutRetentionPolicy",
      "logs:AssociateKmsKey",
      "logs:TagResource",
      "logs:UntagResource",
      "logs:TagLogGroup",
    ],
    resources: names.flatMap((n) => [arns.logGroup(location, n), arns.logGroup(location, `${n}:*`)]),
  };
}

/** The alarms of both parts (`<prefix>-*`) and the refresh's dashboard. */
export function alarmGrants(ctx: PartContext): ServiceGrant[] {
  return [
    {
      sid: "PartAlarms",
      read: ["cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"],
      write: [
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:DeleteAlarms",
        "cloudwatch:TagResource",
        "cloudwatch:UntagResource",
      ],
      resources: [regional(ctx.location, "cloudwatch", `alarm:${ctx.prefix}-*`)],
    },
  ];
}

/** EC2 resource types of the warehouse network (created tagged with the environment). */
const NETWORK_TYPES = [
  "vpc",
  "subnet",
  "route-table",
  "security-group",
  "security-group-rule",
  "vpc-endpoint",
  "vpc-flow-log",
];

/**
 * The serving warehouse: its VPC, subnets, route table, endpoints, security groups and flow log, pinned by the
 * environment tag (EC2 names nothing in advance): created only with the tag in the request, changed only
 * where the resource carries it, and a child only inside a parent that carries it. The RDS instance, subnet
 * and parameter groups by name; the RDS-managed master secret only through RDS (never its value); the three
 * service roles (flow logs, monitoring, the loader job) under the workload boundary, each passed to its one
 * service. The loader's Glue job, code objects and log group fall under the lake's own Glue grants.
 */
export function warehouseGrants(
  ctx: PartContext,
  w: {
    name: string;
    flowLogsRoleName: string;
    monitoringRoleName: string;
    loaderRoleName: string;
    dataKeyArn: string;
  },
): ServiceGrant[] {
  const l = ctx.location;
  const ec2 = (type: string) => regional(l, "ec2", `${type}/*`);
  const tag = ctx.environmentTag;
  const requestTagged = { StringEquals: { [`aws:RequestTag/${tag.key}`]: tag.value } };
  const tagged = { StringEquals: { [`aws:ResourceTag/${tag.key}`]: tag.value } };
  const rds = (resource: string) => regional(l, "rds", resource);
  const dbArn = rds(`db:${w.name}`);
  const creates = {
    vpc: ["ec2:CreateVpc"],
    inVpc: ["ec2:CreateSubnet", "ec2:CreateRouteTable", "ec2:CreateSecurityGroup"],
    attached: ["ec2:CreateVpcEndpoint", "ec2:CreateFlowLogs"],
    rules: ["ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress"],
  };
  return [
    {
      sid: "DescribeNetwork",
      read: [
        "ec2:DescribeVpcs",
        "ec2:DescribeSubnets",
        "ec2:DescribeRouteTables",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSecurityGroupRules",
        "ec2:DescribeVpcEndpoints",
        "ec2:DescribeVpcEndpointServices",
        "ec2:DescribePrefixLists",
        "ec2:DescribeFlowLogs",
        "ec2:DescribeNetworkAcls",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeAvailabilityZones",
      ],
      write: [],
      resources: ["*"],
      unscopedBecause: "EC2's Describe actions have no resource types",
    },
    {
      sid: "DescribeVpcAttributes",
      read: ["ec2:DescribeVpcAttribute"],
      write: [],
      resources: [ec2("vpc")],
    },
    // A new resource has no tags yet: each create is allowed only for its own type, with the tag requested. Its
    // parents (the VPC of a subnet, the subnets of an endpoint) must carry the tag (OwnNetwork below).
    {
      sid: "CreateTaggedVpc",
      read: [],
      write: creates.vpc,
      resources: [ec2("vpc")],
      conditions: requestTagged,
    },
    {
      sid: "CreateTaggedInVpc",
      read: [],
      write: creates.inVpc,
      resources: ["subnet", "route-table", "security-group"].map(ec2),
      conditions: requestTagged,
    },
    {
      sid: "CreateTaggedAttachments",
      read: [],
      write: creates.attached,
      resources: ["vpc-endpoint", "vpc-flow-log"].map(ec2),
      conditions: requestTagged,
    },
    {
      sid: "CreateTaggedRules",
      read: [],
      write: creates.rules,
      resources: [ec2("security-group-rule")],
      conditions: requestTagged,
    },
    {
      sid: "TagOnCreate",
      read: [],
      write: ["ec2:CreateTags"],
      resources: NETWORK_TYPES.map(ec2),
      conditions: {
        StringEquals: {
          // The API's name without the service prefix, as EC2 sets it.
          "ec2:CreateAction": [...creates.vpc, ...creates.inVpc, ...creates.attached, ...creates.rules].map(
            (a) => a.replace(/^ec2:/, ""),
          ),
        },
      },
    },
    {
      // Everything after creation, only where the environment tag is: no internet or NAT gateway, no route.
      sid: "OwnNetwork",
      read: [],
      write: [
        ...creates.inVpc,
        ...creates.attached,
        ...creates.rules,
        "ec2:ModifyVpcAttribute",
        "ec2:DeleteVpc",
        "ec2:ModifySubnetAttribute",
        "ec2:DeleteSubnet",
        "ec2:AssociateRouteTable",
        "ec2:DisassociateRouteTable",
        "ec2:DeleteRouteTable",
        "ec2:ModifyVpcEndpoint",
        "ec2:DeleteVpcEndpoints",
        "ec2:DeleteFlowLogs",
        "ec2:DeleteSecurityGroup",
        "ec2:RevokeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupEgress",
        "ec2:ModifySecurityGroupRules",
        "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
        "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
      ],
      resources: NETWORK_TYPES.map(ec2),
      conditions: tagged,
    },
    {
      // Tags of its own resources, but never the environment tag itself (no moving a resource between
      // environments, no pulling a foreign one in).
      sid: "RetagOwnNetwork",
      read: [],
      write: ["ec2:CreateTags", "ec2:DeleteTags"],
      resources: NETWORK_TYPES.map(ec2),
      conditions: {
        ...tagged,
        "ForAllValues:StringNotEquals": { "aws:TagKeys": [tag.key] },
      },
    },
    {
      sid: "WarehouseDatabase",
      read: [
        "rds:DescribeDBInstances",
        "rds:DescribeDBSubnetGroups",
        "rds:DescribeDBParameterGroups",
        "rds:DescribeDBParameters",
        "rds:ListTagsForResource",
      ],
      write: [
        "rds:CreateDBInstance",
        "rds:ModifyDBInstance",
        "rds:DeleteDBInstance",
        "rds:RebootDBInstance",
        "rds:CreateDBSubnetGroup",
        "rds:ModifyDBSubnetGroup",
        "rds:DeleteDBSubnetGroup",
        "rds:CreateDBParameterGroup",
        "rds:ModifyDBParameterGroup",
        "rds:DeleteDBParameterGroup",
        "rds:AddTagsToResource",
        "rds:RemoveTagsFromResource",
      ],
      resources: [
        dbArn,
        rds(`subgrp:${w.name}`),
        rds(`pg:${w.name}-*`),
        // The engine's default option group, which CreateDBInstance names implicitly.
        rds("og:default:postgres-*"),
        rds(`snapshot:${w.name}-final`),
      ],
    },
    {
      // RDS creates the master password's secret on the deployer's behalf (forward access), nothing else may.
      sid: "MasterSecretThroughRds",
      read: [],
      write: ["secretsmanager:CreateSecret", "secretsmanager:TagResource"],
      resources: [regional(l, "secretsmanager", "secret:rds!db-*")],
      conditions: { "ForAnyValue:StringEquals": { "aws:CalledVia": ["rds.amazonaws.com"] } },
    },
    {
      // The rotation schedule of this database's secret; never its value (no GetSecretValue).
      sid: "MasterSecretRotation",
      read: ["secretsmanager:DescribeSecret"],
      write: ["secretsmanager:RotateSecret", "secretsmanager:CancelRotateSecret"],
      resources: [regional(l, "secretsmanager", "secret:rds!db-*")],
      conditions: { StringEquals: { "aws:ResourceTag/aws:rds:primaryDBInstanceArn": dbArn } },
    },
    {
      // Storage and Performance Insights: RDS creates grants for the instance, for AWS resources only.
      sid: "DataKeyGrantsForRds",
      read: [],
      write: ["kms:CreateGrant"],
      resources: [w.dataKeyArn],
      conditions: {
        StringEquals: { "kms:ViaService": ctx.via("rds") },
        Bool: { "kms:GrantIsForAWSResource": "true" },
      },
    },
    {
      // Secrets Manager encrypts the secret RDS creates under the secret's ARN (AWS generates its name).
      sid: "DataKeyForMasterSecret",
      read: [],
      write: ["kms:GenerateDataKey", "kms:Decrypt"],
      resources: [w.dataKeyArn],
      conditions: {
        StringEquals: { "kms:ViaService": ctx.via("secretsmanager") },
        StringLike: {
          "kms:EncryptionContext:SecretARN": regional(l, "secretsmanager", "secret:rds!db-*"),
        },
        "ForAnyValue:StringEquals": { "aws:CalledVia": ["rds.amazonaws.com"] },
      },
    },
    {
      // A new connection has no ARN to authorize on yet: pinned by the environment tag in the request.
      sid: "CreateLoaderConnection",
      read: [],
      write: ["glue:CreateConnection"],
      resources: [regional(l, "glue", "catalog"), regional(l, "glue", "connectionType/*")],
      conditions: requestTagged,
    },
    {
      sid: "LoaderConnection",
      read: ["glue:GetConnection"],
      write: ["glue:UpdateConnection", "glue:DeleteConnection"],
      resources: [
        regional(l, "glue", "catalog"),
        regional(l, "glue", "connectionType/*"),
        regional(l, "glue", `connection/${w.name}-*`),
      ],
    },
    logGroupGrant(ctx.location, "WarehouseLogGroups", [
      `/aws/vpc/flow-logs/${w.name}`,
      `/aws/rds/instance/${w.name}/*`,
    ]),
    ...boundedRoles(
      ctx,
      "Warehouse",
      [
        { roleName: w.flowLogsRoleName, service: "vpc-flow-logs.amazonaws.com" },
        { roleName: w.monitoringRoleName, service: "monitoring.rds.amazonaws.com" },
        { roleName: w.loaderRoleName, service: "glue.amazonaws.com" },
      ],
      ctx.workloadBoundaryArn,
    ),
  ];
}

/**
 * The hands-off refresh: functions, queues, the state machine, its schedule, the large-file build project and
 * the dashboard by name (`<prefix>-*`); its roles only with the refresh's boundary (exact ARN), each passed to
 * its one service. Never starting anything: no states:StartExecution, lambda:InvokeFunction,
 * codebuild:StartBuild.
 */
export function orchestrationGrants(
  ctx: PartContext,
  o: {
    boundaryArn: string;
    roles: ReadonlyArray<{ roleName: string; service: string }>;
    functionNames: readonly string[];
    stateMachineName: string;
    logsKeyArn: string;
    landingBucketArn: string;
  },
): ServiceGrant[] {
  const l = ctx.location;
  const named = `${ctx.prefix}-*`;
  const functionArn = regional(l, "lambda", `function:${named}`);
  const stateMachineArn = regional(l, "states", `stateMachine:${o.stateMachineName}`);
  return [
    {
      sid: "RefreshFunctions",
      read: [
        "lambda:GetFunction",
        "lambda:GetFunctionConfiguration",
        "lambda:GetFunctionCodeSigningConfig",
        "lambda:GetFunctionConcurrency",
        "lambda:ListVersionsByFunction",
        "lambda:ListTags",
      ],
      write: [
        "lambda:CreateFunction",
        "lambda:UpdateFunctionCode",
        "lambda:UpdateFunctionConfiguration",
        "lambda:DeleteFunction",
        "lambda:PutFunctionConcurrency",
        "lambda:DeleteFunctionConcurrency",
        "lambda:TagResource",
        "lambda:UntagResource",
      ],
      resources: [functionArn],
    },
    {
      // Event source mappings have generated ids: pinned to the refresh's functions by lambda:FunctionArn.
      sid: "CreateLandingEventSource",
      read: [],
      write: ["lambda:CreateEventSourceMapping"],
      resources: ["*"],
      unscopedBecause: "lambda:CreateEventSourceMapping has no resource types; pinned by lambda:FunctionArn",
      conditions: { ArnLike: { "lambda:FunctionArn": functionArn } },
    },
    {
      sid: "LandingEventSource",
      read: ["lambda:GetEventSourceMapping"],
      write: ["lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping"],
      resources: [regional(l, "lambda", "event-source-mapping:*")],
      conditions: { ArnLike: { "lambda:FunctionArn": functionArn } },
    },
    {
      sid: "RefreshQueues",
      read: ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags"],
      write: [
        "sqs:CreateQueue",
        "sqs:SetQueueAttributes",
        "sqs:DeleteQueue",
        "sqs:TagQueue",
        "sqs:UntagQueue",
      ],
      resources: [regional(l, "sqs", named)],
    },
    {
      sid: "RefreshStateMachine",
      read: ["states:DescribeStateMachine", "states:ListTagsForResource"],
      write: [
        "states:CreateStateMachine",
        "states:UpdateStateMachine",
        "states:DeleteStateMachine",
        "states:TagResource",
        "states:UntagResource",
      ],
      resources: [regional(l, "states", `stateMachine:${named}`)],
    },
    {
      sid: "RefreshSchedule",
      read: ["scheduler:GetSchedule"],
      write: ["scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule"],
      resources: [regional(l, "scheduler", `schedule/default/${named}`)],
    },
    {
      sid: "LargeIngestProject",
      read: ["codebuild:BatchGetProjects"],
      write: ["codebuild:CreateProject", "codebuild:UpdateProject", "codebuild:DeleteProject"],
      resources: [regional(l, "codebuild", `project/${named}`)],
    },
    {
      sid: "RefreshDashboard",
      read: ["cloudwatch:GetDashboard"],
      write: ["cloudwatch:PutDashboard", "cloudwatch:DeleteDashboards"],
      resources: [`arn:${l.partition}:cloudwatch::${l.account}:dashboard/${named}`],
    },
    {
      sid: "RefreshBudget",
      read: ["budgets:ViewBudget", "budgets:ListTagsForResource"],
      write: ["budgets:ModifyBudget", "budgets:TagResource", "budgets:UntagResource"],
      resources: [`arn:${l.partition}:budgets::${l.account}:budget/${named}`],
    },
    {
      sid: "LandingNotification",
      read: [],
      write: ["s3:PutBucketNotification"],
      resources: [o.landingBucketArn],
    },
    {
      // Lambda encrypts each function's environment, Step Functions the state machine's data, with the logs key
      // under an encryption context naming the function or the state machine.
      sid: "LogsKeyForFunctions",
      read: [],
      write: ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"],
      resources: [o.logsKeyArn],
      conditions: {
        StringEquals: {
          "kms:ViaService": ctx.via("lambda"),
          "kms:EncryptionContext:LambdaFunctionName": [...o.functionNames],
        },
      },
    },
    keyUseGrant("LogsKeyForStateMachine", o.logsKeyArn, {
      "kms:ViaService": ctx.via("states"),
      "kms:EncryptionContext:aws:states:stateMachineArn": stateMachineArn,
    }),
    logGroupGrant(ctx.location, "RefreshLogGroups", [
      `/aws/lambda/${named}`,
      `/aws/codebuild/${named}`,
      `/aws/vendedlogs/states/${named}`,
    ]),
    {
      sid: "ReadRefreshBoundary",
      read: ["iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions"],
      write: [],
      resources: [o.boundaryArn],
    },
    ...boundedRoles(ctx, "Refresh", o.roles, o.boundaryArn),
  ];
}

/** The curated Iceberg tables terraform creates (etl.curatedFormat iceberg, docs/lakehouse.md). */
export interface LakehouseDeployScope {
  readonly curatedBucketArn: string;
  /** Each table's folder in the curated bucket, e.g. `curated/iceberg/general_payments`. */
  readonly tableLocations: readonly string[];
  readonly dataKeyArn: string;
}

/**
 * Glue's CreateTable for an Iceberg table writes the table's first metadata file as its caller, so the deployer
 * may write (and read back) exactly the tables' `*.metadata.json` files: schemas and snapshot lists, never data
 * files nor the manifests, whose column bounds could show recipient names.
 */
export function lakehouseGrants(ctx: PartContext, scope: LakehouseDeployScope): ServiceGrant[] {
  if (scope.tableLocations.length === 0) throw new Error("lakehouse grants: no table locations");
  return [
    {
      sid: "CreateIcebergTableMetadata",
      read: [],
      write: ["s3:PutObject", "s3:GetObject"],
      resources: scope.tableLocations.map((l) => `${scope.curatedBucketArn}/${l}/metadata/*.metadata.json`),
    },
    keyUseGrant("IcebergMetadataWithDataKey", scope.dataKeyArn, {
      "kms:ViaService": ctx.via("s3"),
      "kms:EncryptionContext:aws:s3:arn": scope.curatedBucketArn,
    }),
  ];
}

/**
 * Lake Formation, read only: terraform refreshes the settings, tags, grants and registered locations. Writing
 * them is an administrator's (PutDataLakeSettings makes its caller's choice of administrators, so the deployer
 * could make itself one).
 */
export function lakeFormationGrants(): ServiceGrant[] {
  return [
    {
      sid: "ReadLakeFormation",
      read: [
        "lakeformation:GetDataLakeSettings",
        "lakeformation:ListPermissions",
        "lakeformation:ListResources",
        "lakeformation:DescribeResource",
        "lakeformation:GetLFTag",
        "lakeformation:ListLFTags",
        "lakeformation:GetResourceLFTags",
        "lakeformation:ListLakeFormationOptIns",
      ],
      write: [],
      resources: ["*"],
      unscopedBecause: "Lake Formation's actions have no resource types",
    },
  ];
}
