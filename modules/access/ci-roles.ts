import { Construct } from "constructs";
import { type AwsLocation, arns } from "./arns";
import { LakeRole } from "./lake-role";
import { allow, type Conditions, trust } from "./policy";

const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";

export interface GithubCiRolesProps {
  readonly location: AwsLocation;
  /** Prefix of the lake's resource names, e.g. `opl-dev` (databases: `opl_dev`). */
  readonly namePrefix: string;
  /** The account's GitHub OIDC identity provider. */
  readonly oidcProviderArn: string;
  /** `owner/name` of the repository whose workflows may assume the roles. */
  readonly repository: string;
  /** Only workflows on this ref may deploy, e.g. `refs/heads/main`; pull requests may only plan. */
  readonly deployRef: string;
  /** The stack's Terraform state: bucket, object key and DynamoDB lock table (from the state bootstrap). */
  readonly state: { readonly bucketName: string; readonly key: string; readonly lockTableName: string };
  /** The lake's buckets (exact ARNs): the deployer manages their configuration, never reads their data. */
  readonly bucketArns: string[];
  /** Bucket and key prefix the deployer uploads the Glue code to. */
  readonly artifactsBucketArn: string;
  readonly artifactsPrefix: string;
  /** The lake's workload roles the deployer manages (never the CI roles themselves). */
  readonly workloadRoleNames: string[];
  /** Workload roles the deployer may pass to Glue (crawler, job). */
  readonly glueRoleNames: string[];
  /** Tag every resource of this environment carries (the provider's default tags), e.g. environment=dev. */
  readonly environmentTag: { readonly key: string; readonly value: string };
}

/** One service's permissions: what planning needs (read) and what applying adds (write). */
interface ServiceGrant {
  readonly sid: string;
  readonly read: string[];
  readonly write: string[];
  readonly resources: string[];
  readonly conditions?: Conditions;
  readonly unscopedBecause?: string;
}

/**
 * The CI roles assumed by GitHub Actions through OIDC: `ci-plan` for pull requests (read the lake's resources
 * and state, take the state lock) and `ci-deploy` for the deploy branch (plus create/update the lake's
 * resources). Both are scoped to this environment's resource names; neither can read lake data nor change
 * the CI roles themselves (an administrator applies changes to them), so CI cannot widen its own access.
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
    const { location, namePrefix: p } = props;
    const region = location.region;
    const account = location.account;
    const db = p.replace(/-/g, "_");
    const githubTrust = (sid: string, subject: string) => [
      trust(sid, { Federated: props.oidcProviderArn }, "sts:AssumeRoleWithWebIdentity", {
        StringEquals: {
          [`${GITHUB_OIDC_HOST}:aud`]: "sts.amazonaws.com",
          [`${GITHUB_OIDC_HOST}:sub`]: `repo:${props.repository}:${subject}`,
        },
      }),
    ];
    const roleArn = (name: string) => `arn:aws:iam::${account}:role/${name}`;
    const planRoleName = `${p}-ci-plan`;
    const deployRoleName = `${p}-ci-deploy`;
    const taggedForEnvironment = {
      StringEquals: { [`aws:ResourceTag/${props.environmentTag.key}`]: props.environmentTag.value },
    };
    const stateObjects = [
      `arn:aws:s3:::${props.state.bucketName}/${props.state.key}`,
      `arn:aws:s3:::${props.state.bucketName}/${props.state.key}.tflock`,
    ];

    const grants: ServiceGrant[] = [
      {
        sid: "LakeBuckets",
        read: [
          "s3:ListBucket",
          "s3:GetBucket*",
          "s3:GetEncryptionConfiguration",
          "s3:GetLifecycleConfiguration",
          "s3:GetReplicationConfiguration",
          "s3:GetAccelerateConfiguration",
        ],
        write: [
          "s3:CreateBucket",
          "s3:PutBucket*",
          "s3:DeleteBucketPolicy",
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
        sid: "LakeKeys",
        read: ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"],
        write: [
          "kms:PutKeyPolicy",
          "kms:EnableKeyRotation",
          "kms:UpdateKeyDescription",
          "kms:TagResource",
          "kms:UntagResource",
          "kms:CreateAlias",
          "kms:UpdateAlias",
        ],
        // Key ids are random: the keys are recognised by the environment tag every lake resource carries.
        resources: [`arn:aws:kms:${region}:${account}:key/*`],
        conditions: taggedForEnvironment,
      },
      {
        sid: "LakeKeyAliases",
        read: [],
        write: ["kms:CreateAlias", "kms:UpdateAlias"],
        resources: [`arn:aws:kms:${region}:${account}:alias/${p}-*`],
      },
      {
        sid: "UploadGlueCodeWithDataKey",
        read: [],
        write: ["kms:GenerateDataKey", "kms:Decrypt"],
        resources: [`arn:aws:kms:${region}:${account}:key/*`],
        conditions: {
          StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com` },
          StringLike: { "kms:EncryptionContext:aws:s3:arn": props.artifactsBucketArn },
        },
      },
      {
        sid: "LakeRoles",
        read: ["iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies"],
        write: [
          "iam:CreateRole",
          "iam:UpdateRole",
          "iam:UpdateAssumeRolePolicy",
          "iam:PutRolePolicy",
          "iam:DeleteRolePolicy",
          "iam:TagRole",
          "iam:UntagRole",
        ],
        resources: props.workloadRoleNames.map(roleArn),
      },
      {
        sid: "ReadCiRoles",
        read: ["iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies"],
        write: [],
        resources: [roleArn(planRoleName), roleArn(deployRoleName)],
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
        resources: [`arn:aws:dynamodb:${region}:${account}:table/${p}-*`],
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
          "glue:CreateCrawler",
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
          `arn:aws:glue:${region}:${account}:trigger/${p}-*`,
          `arn:aws:glue:${region}:${account}:workflow/${p}-*`,
        ],
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
        resources: [`arn:aws:sns:${region}:${account}:${p}-*`],
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
        resources: [`arn:aws:events:${region}:${account}:rule/${p}-*`],
      },
      {
        sid: "DescribeLogGroups",
        read: ["logs:DescribeLogGroups"],
        write: [],
        // DescribeLogGroups is authorised on the account's log-group namespace, not on one group.
        resources: [arns.logGroup(location, "*")],
      },
      {
        sid: "GlueLogGroup",
        read: ["logs:ListTagsForResource", "logs:ListTagsLogGroup"],
        write: [
          "logs:CreateLogGroup",
          "logs:PutRetentionPolicy",
          "logs:AssociateKmsKey",
          "logs:TagResource",
          "logs:UntagResource",
          "logs:TagLogGroup",
        ],
        resources: [
          arns.logGroup(location, `/aws-glue/jobs/${p}-*`),
          arns.logGroup(location, `/aws-glue/jobs/${p}-*:*`),
        ],
      },
      {
        sid: "TerraformState",
        read: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        write: [],
        resources: stateObjects,
      },
      {
        sid: "TerraformStateBucket",
        read: ["s3:ListBucket"],
        write: [],
        resources: [`arn:aws:s3:::${props.state.bucketName}`],
      },
      {
        sid: "TerraformLock",
        read: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
        write: [],
        resources: [`arn:aws:dynamodb:${region}:${account}:table/${props.state.lockTableName}`],
      },
      {
        sid: "TerraformStateKey",
        read: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
        write: [],
        resources: [`arn:aws:kms:${region}:${account}:key/*`],
        conditions: {
          StringEquals: {
            "kms:ViaService": [`s3.${region}.amazonaws.com`, `dynamodb.${region}.amazonaws.com`],
          },
        },
      },
      {
        sid: "CreateLakeKeys",
        read: [],
        write: ["kms:CreateKey"],
        resources: ["*"],
        unscopedBecause: "kms:CreateKey has no resource before the key exists; pinned by the request tag",
        conditions: {
          StringEquals: { [`aws:RequestTag/${props.environmentTag.key}`]: props.environmentTag.value },
        },
      },
    ];

    const statements = (mode: "plan" | "deploy") =>
      grants.flatMap((g) => {
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

    this.planRole = new LakeRole(this, "plan", {
      roleName: planRoleName,
      description: `GitHub Actions pull requests of ${props.repository}: plan the ${p} lake (read-only)`,
      trustStatements: githubTrust("GithubPullRequests", "pull_request"),
      statements: statements("plan"),
    });
    this.deployRole = new LakeRole(this, "deploy", {
      roleName: deployRoleName,
      description: `GitHub Actions on ${props.deployRef} of ${props.repository}: apply the ${p} lake`,
      trustStatements: githubTrust("GithubDeployBranch", `ref:${props.deployRef}`),
      statements: statements("deploy"),
    });
  }
}
