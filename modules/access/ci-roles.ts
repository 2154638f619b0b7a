import { Construct } from "constructs";
import { serviceEndpoint } from "../config";
import { type AwsLocation, arns } from "./arns";
import {
  alarmGrants,
  keyUseGrant,
  type LakehouseDeployScope,
  lakeFormationGrants,
  lakehouseGrants,
  logGroupGrant,
  orchestrationGrants,
  type PartContext,
  type ServiceGrant,
  warehouseGrants,
} from "./ci-part-grants";
import { LakeRole, type PolicyPart } from "./lake-role";
import { allow, type Conditions, trust } from "./policy";

const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";

/**
 * The reusable workflow that runs every plan and apply: the roles trust GitHub tokens only from jobs of this
 * file (`job_workflow_ref`), so another workflow of the repository cannot assume them.
 */
export const CI_WORKFLOW_PATH = ".github/workflows/terraform-lake.yml";

/**
 * The OIDC subject claim template the repository must set (docs/ci.md): GitHub's default `sub` names no
 * workflow file, so it is extended with `job_workflow_ref`.
 */
export const GITHUB_SUB_CLAIM_KEYS = ["repo", "context", "job_workflow_ref"] as const;

export interface GithubCiRolesProps {
  readonly location: AwsLocation;
  /** Prefix of the lake's resource names, e.g. `opl-dev` (databases: `opl_dev`). */
  readonly namePrefix: string;
  readonly planRoleName: string;
  readonly deployRoleName: string;
  /** The account's GitHub OIDC identity provider. */
  readonly oidcProviderArn: string;
  /** `owner/name` of the repository whose workflows may assume the roles. */
  readonly repository: string;
  /** For repositories with immutable OIDC subjects: the numeric ids GitHub writes into the `repo:` part. */
  readonly immutableSubject?: { readonly ownerId: number; readonly repositoryId: number };
  /** The branch the pipeline deploys from, e.g. `refs/heads/main`: the workflow file must come from it. */
  readonly deployRef: string;
  /** The GitHub environment (with required reviewers in prod) the apply job runs in. */
  readonly deployEnvironment: string;
  /** The stack's Terraform state: bucket, object key and DynamoDB lock table (from the state bootstrap). */
  readonly state: { readonly bucketName: string; readonly key: string; readonly lockTableName: string };
  /** The lake's buckets (exact ARNs): the deployer manages their configuration, never reads their data. */
  readonly bucketArns: string[];
  /** Bucket and key prefix the deployer uploads the Glue code to, and the key encrypting that bucket. */
  readonly artifactsBucketArn: string;
  readonly artifactsPrefix: string;
  readonly artifactsKeyArn: string;
  /** The lake stack's KMS keys (ARNs) and their aliases (names with `alias/`): the only keys it manages. */
  readonly keyArns: string[];
  readonly keyAliases: string[];
  /** The ingestion metadata table's name. */
  readonly ingestionTableName: string;
  /** The lake's workload roles the deployer manages (never the CI roles themselves). */
  readonly workloadRoleNames: string[];
  /** Workload roles the deployer may pass to Glue (crawler, job). */
  readonly glueRoleNames: string[];
  /** The permissions boundary every workload role carries; the deployer may neither change nor remove it. */
  readonly permissionsBoundaryArn: string;
  /** Tag every resource of this environment carries (the provider's default tags), e.g. environment=dev. */
  readonly environmentTag: { readonly key: string; readonly value: string };
  /** The serving warehouse, when the environment enables it: the deployer creates and updates it. */
  readonly warehouse?: WarehouseDeployScope;
  /** The hands-off refresh, when the environment enables it: the deployer creates and updates it. */
  readonly orchestration?: OrchestrationDeployScope;
  /** Lake Formation, when the environment configures it: both roles read its settings, neither changes them. */
  readonly lakeFormation?: boolean;
  /** Iceberg curated tables, when the environment writes them: the deployer creates them (Glue writes their
   * first metadata file as the deployer). */
  readonly lakehouse?: LakehouseDeployScope;
}

/** What the deployer may create for the serving warehouse (docs/warehouse.md). */
export interface WarehouseDeployScope {
  /** Name of every warehouse resource and prefix of the others' names, e.g. `opl-dev-warehouse`. */
  readonly name: string;
  /** The flow-log delivery role (passed to VPC Flow Logs), the enhanced-monitoring role (passed to RDS) and the
   * loader job's role (passed to Glue). */
  readonly flowLogsRoleName: string;
  readonly monitoringRoleName: string;
  readonly loaderRoleName: string;
  /** The key encrypting storage, Performance Insights and the RDS-managed master secret. */
  readonly dataKeyArn: string;
}

/** A role of the refresh and the one service it is passed to. */
export interface PassedRole {
  readonly roleName: string;
  readonly service: string;
}

/** What the deployer may create for the hands-off refresh (docs/orchestration.md). */
export interface OrchestrationDeployScope {
  /** The refresh's own boundary (exact ARN): every refresh role must carry it; only an administrator changes it. */
  readonly boundaryArn: string;
  readonly roles: readonly PassedRole[];
  /** The Lambda functions and the state machine (their encryption contexts with the logs key). */
  readonly functionNames: readonly string[];
  readonly stateMachineName: string;
  readonly logsKeyArn: string;
  /** The bucket whose landing/ events feed the validator's queue (bucket notification). */
  readonly landingBucketArn: string;
}

/** The part of the environment a grant serves: each part gets managed policies of its own. */
type Part = "core" | "warehouse" | "orchestration" | "lake-formation" | "lakehouse";

/**
 * The CI roles assumed by GitHub Actions through OIDC, from jobs of the pipeline's workflow file only:
 * `ci-plan` for pull requests and the scheduled drift check (reads the lake's configuration and its state;
 * plans run with `-lock=false`, so it writes nothing, not even a lock), `ci-deploy` for the deploy branch in
 * the deploy environment (plus create/update the lake's resources). Both are scoped to this environment's
 * resources; neither can read lake data through IAM, change the CI roles or the workload roles' permissions
 * boundary, so CI cannot widen its own access (an administrator applies changes to those). Their grants are
 * customer-managed policies of their own, one set per part of the environment (`core`, and `warehouse`,
 * `orchestration`, `lake-formation`, `lakehouse` only where the config enables them; modules/access/ci-part-grants.ts).
 */
export class GithubCiRoles extends Construct {
  readonly planRole: LakeRole;
  readonly deployRole: LakeRole;

  constructor(scope: Construct, id: string, props: GithubCiRolesProps) {
    super(scope, id);
    if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(props.repository)) {
      throw new Error(`GithubCiRoles repository "${props.repository}" must be owner/name.`);
    }
    if (!/^refs\/heads\/[\w./-]+$/.test(props.deployRef)) {
      throw new Error(
        `GithubCiRoles deployRef "${props.deployRef}" must be a branch ref such as refs/heads/main.`,
      );
    }
    if (!/^[A-Za-z0-9_.-]+$/.test(props.deployEnvironment)) {
      throw new Error(
        `GithubCiRoles deployEnvironment "${props.deployEnvironment}" must be an environment name.`,
      );
    }
    const { location, namePrefix: p } = props;
    const db = p.replace(/-/g, "_");
    const via = (service: string) => serviceEndpoint(service, location.region);
    const roleArn = (name: string) => arns.role(location, name);
    const stateBucketArn = arns.bucket(location, props.state.bucketName);
    const stateObject = `${stateBucketArn}/${props.state.key}`;
    const lockTableArn = arns.dynamodbTable(location, props.state.lockTableName);
    // The S3 backend's DynamoDB items: the lock (`<bucket>/<key>`) and the state digest (`<bucket>/<key>-md5`).
    const lockItem = `${props.state.bucketName}/${props.state.key}`;
    const digestItem = `${lockItem}-md5`;
    const leadingKeys = (keys: string[]): Conditions => ({
      "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": keys },
    });
    const withinBoundary = {
      StringEquals: { "iam:PermissionsBoundary": props.permissionsBoundaryArn },
    };

    const core: ServiceGrant[] = [
      {
        sid: "LakeBuckets",
        // ListBucket: HeadBucket, which the provider calls to see whether a bucket exists.
        read: [
          "s3:ListBucket",
          "s3:GetBucket*",
          "s3:GetEncryptionConfiguration",
          "s3:GetLifecycleConfiguration",
          "s3:GetReplicationConfiguration",
          "s3:GetAccelerateConfiguration",
        ],
        // Exactly the settings the lake manages; no ACLs (BucketOwnerEnforced), no object lock, no deletion.
        write: [
          "s3:CreateBucket",
          "s3:PutBucketPolicy",
          "s3:DeleteBucketPolicy",
          "s3:PutBucketPublicAccessBlock",
          "s3:PutBucketOwnershipControls",
          "s3:PutBucketVersioning",
          "s3:PutBucketLogging",
          "s3:PutBucketTagging",
          "s3:PutEncryptionConfiguration",
          "s3:PutLifecycleConfiguration",
        ],
        resources: props.bucketArns,
      },
      {
        sid: "GlueCode",
        read: ["s3:GetObject", "s3:GetObjectTagging"],
        write: ["s3:PutObject", "s3:PutObjectTagging", "s3:DeleteObject"],
        resources: [`${props.artifactsBucketArn}/${props.artifactsPrefix}/*`],
      },
      {
        // By ARN, not by the environment tag: the state and catalog keys carry the same tag.
        sid: "LakeKeys",
        read: ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"],
        write: [
          "kms:PutKeyPolicy",
          "kms:EnableKeyRotation",
          "kms:UpdateKeyDescription",
          "kms:TagResource",
          "kms:UntagResource",
        ],
        resources: props.keyArns,
      },
      {
        // An alias change is authorized on the alias and on the key(s) it points to: both in one statement.
        sid: "LakeKeyAliases",
        read: [],
        write: ["kms:CreateAlias", "kms:UpdateAlias"],
        resources: [...props.keyAliases.map((a) => arns.kms(location, a)), ...props.keyArns],
      },
      {
        sid: "ListKeyAliases",
        read: ["kms:ListAliases"],
        write: [],
        resources: ["*"],
        unscopedBecause: "kms:ListAliases has no resource types (the provider reads aliases with it)",
      },
      keyUseGrant("UploadGlueCodeWithDataKey", props.artifactsKeyArn, {
        "kms:ViaService": via("s3"),
        "kms:EncryptionContext:aws:s3:arn": props.artifactsBucketArn,
      }),
      {
        sid: "ReadLakeRoles",
        read: ["iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies"],
        write: [],
        resources: props.workloadRoleNames.map(roleArn),
      },
      {
        // Every change to a workload role requires the role to keep the lake's permissions boundary: no role
        // the deployer creates or edits can hold more than the boundary allows, whatever its inline policy says.
        sid: "ManageLakeRolesWithinBoundary",
        read: [],
        write: [
          "iam:CreateRole",
          "iam:UpdateRole",
          "iam:UpdateAssumeRolePolicy",
          "iam:PutRolePolicy",
          "iam:DeleteRolePolicy",
          "iam:PutRolePermissionsBoundary",
        ],
        resources: props.workloadRoleNames.map(roleArn),
        conditions: withinBoundary,
      },
      {
        // iam:PermissionsBoundary is not evaluated for tagging; tags grant nothing in this lake.
        sid: "TagLakeRoles",
        read: [],
        write: ["iam:TagRole", "iam:UntagRole"],
        resources: props.workloadRoleNames.map(roleArn),
      },
      {
        sid: "ReadCiRolesAndBoundary",
        read: [
          "iam:GetRole",
          "iam:GetRolePolicy",
          "iam:ListRolePolicies",
          "iam:ListAttachedRolePolicies",
          "iam:GetPolicy",
          "iam:GetPolicyVersion",
          "iam:ListPolicyVersions",
        ],
        write: [],
        // The CI roles' own managed policies (`<role>-<part>-<n>`) are read to plan them, written by administrators.
        resources: [
          roleArn(props.planRoleName),
          roleArn(props.deployRoleName),
          props.permissionsBoundaryArn,
          arns.policy(location, `${props.planRoleName}-*`),
          arns.policy(location, `${props.deployRoleName}-*`),
        ],
      },
      {
        sid: "IngestionTable",
        read: [
          "dynamodb:DescribeTable",
          "dynamodb:DescribeContinuousBackups",
          "dynamodb:DescribeTimeToLive",
          "dynamodb:ListTagsOfResource",
        ],
        write: [
          "dynamodb:CreateTable",
          "dynamodb:UpdateTable",
          "dynamodb:UpdateContinuousBackups",
          "dynamodb:TagResource",
          "dynamodb:UntagResource",
        ],
        resources: [arns.dynamodbTable(location, props.ingestionTableName)],
      },
      {
        sid: "LakeCatalogAndEtl",
        read: [
          "glue:GetDatabase",
          "glue:GetTable",
          "glue:GetCrawler",
          "glue:GetJob",
          "glue:GetTrigger",
          "glue:GetWorkflow",
          "glue:GetTags",
        ],
        write: [
          "glue:CreateDatabase",
          "glue:UpdateDatabase",
          "glue:CreateTable",
          "glue:UpdateTable",
          "glue:UpdateCrawler",
          "glue:DeleteCrawler",
          "glue:CreateJob",
          "glue:UpdateJob",
          "glue:DeleteJob",
          "glue:CreateTrigger",
          "glue:UpdateTrigger",
          "glue:DeleteTrigger",
          "glue:StartTrigger",
          "glue:CreateWorkflow",
          "glue:UpdateWorkflow",
          "glue:DeleteWorkflow",
          "glue:TagResource",
          "glue:UntagResource",
        ],
        resources: [
          arns.glueCatalog(location),
          arns.glueDatabase(location, `${db}_*`),
          arns.glueTables(location, `${db}_*`),
          arns.glueCrawler(location, `${p}-*`),
          arns.glueJob(location, `${p}-*`),
          arns.glueTrigger(location, `${p}-*`),
          arns.glueWorkflow(location, `${p}-*`),
        ],
      },
      {
        sid: "CreateLakeCrawlers",
        read: [],
        write: ["glue:CreateCrawler"],
        resources: ["*"],
        unscopedBecause: "glue:CreateCrawler has no resource types; pinned by the environment request tag",
        conditions: {
          StringEquals: { [`aws:RequestTag/${props.environmentTag.key}`]: props.environmentTag.value },
        },
      },
      {
        sid: "GlueSecurityConfiguration",
        read: ["glue:GetSecurityConfiguration"],
        write: ["glue:CreateSecurityConfiguration"],
        resources: ["*"],
        unscopedBecause: "Glue security configurations have no ARN (Create/GetSecurityConfiguration)",
      },
      {
        sid: "PassGlueRoles",
        read: [],
        write: ["iam:PassRole"],
        resources: props.glueRoleNames.map(roleArn),
        conditions: { StringEquals: { "iam:PassedToService": "glue.amazonaws.com" } },
      },
      {
        sid: "AthenaWorkgroup",
        read: [
          "athena:GetWorkGroup",
          "athena:ListTagsForResource",
          "athena:GetNamedQuery",
          "athena:ListNamedQueries",
        ],
        write: [
          "athena:CreateWorkGroup",
          "athena:UpdateWorkGroup",
          "athena:TagResource",
          "athena:UntagResource",
          "athena:CreateNamedQuery",
          "athena:DeleteNamedQuery",
        ],
        resources: [arns.athenaWorkgroup(location, `${p}-*`)],
      },
      {
        // Subscription actions are authorized on the subscription's topic.
        sid: "AlertsTopic",
        read: ["sns:GetTopicAttributes", "sns:ListTagsForResource", "sns:GetSubscriptionAttributes"],
        write: [
          "sns:CreateTopic",
          "sns:SetTopicAttributes",
          "sns:TagResource",
          "sns:UntagResource",
          "sns:Subscribe",
          "sns:Unsubscribe",
          "sns:SetSubscriptionAttributes",
        ],
        resources: [arns.snsTopic(location, `${p}-*`)],
      },
      {
        sid: "AlertRules",
        read: ["events:DescribeRule", "events:ListTargetsByRule", "events:ListTagsForResource"],
        write: [
          "events:PutRule",
          "events:DeleteRule",
          "events:PutTargets",
          "events:RemoveTargets",
          "events:TagResource",
          "events:UntagResource",
        ],
        resources: [arns.eventRule(location, `${p}-*`)],
      },
      {
        sid: "DescribeLogGroups",
        read: ["logs:DescribeLogGroups"],
        write: [],
        resources: ["*"],
        unscopedBecause: "logs:DescribeLogGroups has no resource types",
      },
      logGroupGrant(location, "GlueLogGroup", [`/aws-glue/jobs/${p}-*`]),
      // Terraform state. Plans run with -lock=false: they read the state object and the backend's digest item,
      // nothing else. Applies also write the state, the S3 lock file and this stack's two lock-table items.
      {
        sid: "TerraformState",
        read: ["s3:GetObject"],
        write: ["s3:PutObject"],
        resources: [stateObject],
      },
      {
        sid: "TerraformLockFile",
        read: [],
        write: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        resources: [`${stateObject}.tflock`],
      },
      {
        // The backend lists the bucket for workspaces; listing shows key names, never state.
        sid: "TerraformStateBucket",
        read: ["s3:ListBucket"],
        write: [],
        resources: [stateBucketArn],
      },
      {
        sid: "TerraformStateDigest",
        read: ["dynamodb:GetItem"],
        write: [],
        resources: [lockTableArn],
        conditions: leadingKeys([digestItem]),
      },
      {
        sid: "TerraformLock",
        read: [],
        write: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
        resources: [lockTableArn],
        conditions: leadingKeys([lockItem, digestItem]),
      },
      {
        // State objects are encrypted with the state key under the bucket's encryption context (S3 bucket keys).
        sid: "TerraformStateKeyThroughS3",
        read: ["kms:Decrypt"],
        write: ["kms:GenerateDataKey"],
        resources: [arns.kms(location, "key/*")],
        conditions: {
          StringEquals: { "kms:ViaService": via("s3"), "kms:EncryptionContext:aws:s3:arn": stateBucketArn },
        },
      },
      {
        sid: "TerraformLockTableKey",
        read: ["kms:Decrypt"],
        write: ["kms:Encrypt", "kms:GenerateDataKey"],
        resources: [arns.kms(location, "key/*")],
        conditions: {
          StringEquals: {
            "kms:ViaService": via("dynamodb"),
            "kms:EncryptionContext:aws:dynamodb:tableName": props.state.lockTableName,
          },
        },
      },
    ];

    const ctx: PartContext = {
      location,
      prefix: p,
      environmentTag: props.environmentTag,
      workloadBoundaryArn: props.permissionsBoundaryArn,
      via,
    };
    // The alarms of both parts share one statement (`<prefix>-*`): with the refresh's grants when it is on, else
    // with the warehouse's.
    const grants: Record<Part, ServiceGrant[]> = {
      core,
      warehouse: props.warehouse
        ? [...warehouseGrants(ctx, props.warehouse), ...(props.orchestration ? [] : alarmGrants(ctx))]
        : [],
      orchestration: props.orchestration
        ? [...orchestrationGrants(ctx, props.orchestration), ...alarmGrants(ctx)]
        : [],
      "lake-formation": props.lakeFormation ? lakeFormationGrants() : [],
      lakehouse: props.lakehouse ? lakehouseGrants(ctx, props.lakehouse) : [],
    };
    const statements = (mode: "plan" | "deploy", part: Part) =>
      grants[part].flatMap((g) => {
        const actions = [...new Set(mode === "plan" ? g.read : [...g.read, ...g.write])];
        if (actions.length === 0) return [];
        return [
          allow({
            sid: g.sid,
            actions,
            resources: g.resources,
            conditions: g.conditions,
            unscopedBecause: g.unscopedBecause,
          }),
        ];
      });

    // Each part in managed policies of its own: IAM's 10,240 characters of inline policy per role do not hold
    // the deployer's grants once a part is on, and a part turned on or off leaves the others' policies alone.
    const parts = (mode: "plan" | "deploy"): PolicyPart[] =>
      (Object.keys(grants) as Part[])
        .map((part) => ({ part, statements: statements(mode, part) }))
        .filter((x) => x.statements.length > 0);

    const repo = props.immutableSubject
      ? props.repository.replace(
          /^([^/]+)\/(.+)$/,
          `$1@${props.immutableSubject.ownerId}/$2@${props.immutableSubject.repositoryId}`,
        )
      : props.repository;
    const workflow = `${props.repository}/${CI_WORKFLOW_PATH}`;
    // The subject GitHub issues with the repository's sub claim template (repo, context, job_workflow_ref).
    const subject = (context: string, workflowRef: string) =>
      `repo:${repo}:${context}:job_workflow_ref:${workflow}@${workflowRef}`;
    const githubTrust = (sid: string, operator: "StringEquals" | "StringLike", subjects: string[]) => {
      const aud = { [`${GITHUB_OIDC_HOST}:aud`]: "sts.amazonaws.com" };
      const sub = { [`${GITHUB_OIDC_HOST}:sub`]: subjects.length === 1 ? subjects[0] : subjects };
      return [
        trust(
          sid,
          { Federated: props.oidcProviderArn },
          "sts:AssumeRoleWithWebIdentity",
          operator === "StringEquals"
            ? { StringEquals: { ...aud, ...sub } }
            : { StringEquals: aud, StringLike: sub },
        ),
      ];
    };

    this.planRole = new LakeRole(this, "plan", {
      roleName: props.planRoleName,
      description: `GitHub Actions plans (pull requests, drift) of ${props.repository}: read-only on the ${p} lake`,
      // Pull requests plan at their merge ref; the scheduled drift plan runs on the deploy branch.
      trustStatements: githubTrust("GithubPlans", "StringLike", [
        subject("pull_request", "refs/pull/*/merge"),
        subject(`ref:${props.deployRef}`, props.deployRef),
      ]),
      managedPolicyParts: parts("plan"),
    });
    this.deployRole = new LakeRole(this, "deploy", {
      roleName: props.deployRoleName,
      description: `GitHub Actions in environment ${props.deployEnvironment} of ${props.repository}: apply the ${p} lake`,
      trustStatements: githubTrust("GithubDeployEnvironment", "StringEquals", [
        subject(`environment:${props.deployEnvironment}`, props.deployRef),
      ]),
      managedPolicyParts: parts("deploy"),
    });
  }
}
