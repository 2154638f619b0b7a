// The mutation list: each entry weakens the synthesized Terraform JSON of dev the way a careless change would,
// and the guarantee named next to it must then report a violation. The checks are the real ones
// (guarantees.ts), run on the mutated copy; nothing here re-asserts the mutation itself. guarantees.test.ts
// shows that the same checks pass on the unmutated stacks.
import { ROLE_PURPOSES } from "../../modules/access";
import { loadConfig, Naming } from "../../modules/config";
import { configWithEveryPart } from "../../scripts/ci-policy-sizes";
import type { PolicyDocument, PolicyStatementJson } from "../../scripts/policies";
import { synthEnvironment, synthStack, type TfJson } from "../helpers/synth";
import { withWarehouse } from "../helpers/warehouse-variant";
import { type EnvironmentStacks, GUARANTEES } from "./guarantees";

const config = loadConfig("dev", { env: {} });
const pristine: EnvironmentStacks = {
  config,
  lake: synthStack("dev", "lake"),
  bootstrap: synthStack("dev", "state-bootstrap"),
};

/** The warehouse is off in the committed configs: its weakenings start from dev and prod with it on. */
function warehouseStacks(environment: "dev" | "prod"): EnvironmentStacks {
  const variant = withWarehouse(environment);
  const stacks = synthEnvironment(variant);
  return { config: variant, lake: stacks.lake, bootstrap: stacks["state-bootstrap"] };
}
const devWarehouse = warehouseStacks("dev");
/** Every optional part on (warehouse, refresh, Lake Formation): the deployer's part grants exist. */
const devParts: EnvironmentStacks = (() => {
  const variant = configWithEveryPart("dev");
  const stacks = synthEnvironment(variant);
  return { config: variant, lake: stacks.lake, bootstrap: stacks["state-bootstrap"] };
})();
const prodWarehouse = warehouseStacks("prod");

type Resources = Record<string, Record<string, Record<string, unknown>>>;
const resourcesOf = (json: TfJson) => json.resource as Resources;

/** The one resource of `type` whose logical name contains `fragment`. */
function resource(json: TfJson, type: string, fragment: string): Record<string, unknown> {
  const matches = Object.entries(resourcesOf(json)[type] ?? {}).filter(([name]) => name.includes(fragment));
  if (matches.length !== 1)
    throw new Error(`expected one ${type} named *${fragment}*, found ${matches.length}`);
  return (matches[0] as [string, Record<string, unknown>])[1];
}

/** Rewrites the policy document held in `attribute` of a resource. */
function editPolicy(
  json: TfJson,
  type: string,
  fragment: string,
  edit: (doc: PolicyDocument) => void,
  attribute = "policy",
): void {
  const r = resource(json, type, fragment);
  const doc = JSON.parse(String(r[attribute])) as PolicyDocument;
  edit(doc);
  r[attribute] = JSON.stringify(doc);
}

/**
 * Rewrites one statement of a CI role's policies, in whichever of its managed policies (`ci_<role>_policy-*`) the
 * statement was packed into.
 */
function editCiStatement(
  json: TfJson,
  role: "plan" | "deploy",
  sid: string,
  edit: (s: PolicyStatementJson, doc: PolicyDocument) => void,
): void {
  const holders = Object.entries(resourcesOf(json).aws_iam_policy ?? {}).filter(
    ([name, r]) =>
      name.startsWith(`ci_${role}_policy-`) &&
      (JSON.parse(String(r.policy)) as PolicyDocument).Statement.some((st) => st.Sid === sid),
  );
  if (holders.length !== 1)
    throw new Error(`expected one ci-${role} policy holding ${sid}, found ${holders.length}`);
  const r = (holders[0] as [string, Record<string, unknown>])[1];
  const doc = JSON.parse(String(r.policy)) as PolicyDocument;
  edit(statement(doc, sid), doc);
  r.policy = JSON.stringify(doc);
}

function statement(doc: PolicyDocument, sid: string): PolicyStatementJson {
  const s = doc.Statement.find((st) => st.Sid === sid);
  if (!s) throw new Error(`no statement ${sid} in ${doc.Statement.map((st) => st.Sid).join(", ")}`);
  return s;
}

/** A Terraform reference to the analyst role's ARN, as a grant in the JSON would hold it. */
function analystRoleArnRef(json: TfJson): string {
  const name = Object.keys(resourcesOf(json).aws_iam_role ?? {}).find((n) => n.startsWith("access_analyst"));
  if (!name) throw new Error("no analyst role in the lake stack");
  return ["$", `{aws_iam_role.${name}.arn}`].join("");
}

const actions = (s: PolicyStatementJson) => [s.Action ?? []].flat() as string[];

interface Mutation {
  readonly weakening: string;
  /** The guarantee that must catch it. */
  readonly caughtBy: string;
  readonly apply: (env: EnvironmentStacks) => void;
  /** The stacks weakened; dev's committed stacks when absent. */
  readonly on?: EnvironmentStacks;
}

/** A weakening of the warehouse database's settings in dev (or `on`) with the warehouse on. */
function database(
  weakening: string,
  change: Record<string, unknown>,
  on: EnvironmentStacks = devWarehouse,
): Mutation {
  return {
    weakening,
    caughtBy: "warehouse-database-hardened",
    on,
    apply: ({ lake }) => Object.assign(resource(lake, "aws_db_instance", "warehouse_instance"), change),
  };
}

/** A weakening of the warehouse loader's role policy in dev with the warehouse on. */
function loader(weakening: string, edit: (doc: PolicyDocument) => void): Mutation {
  return {
    weakening,
    caughtBy: "warehouse-loader-least-privilege",
    on: devWarehouse,
    apply: ({ lake }) => editPolicy(lake, "aws_iam_role_policy", "warehouse-loader_role", edit),
  };
}

/** A weakening of one warehouse database parameter. */
function parameter(weakening: string, name: string, value: string | undefined): Mutation {
  return {
    weakening,
    caughtBy: "warehouse-database-hardened",
    on: devWarehouse,
    apply: ({ lake }) => {
      const group = resource(lake, "aws_db_parameter_group", "warehouse_parameters");
      const kept = (group.parameter as Array<{ name: string; value: string }>).filter((p) => p.name !== name);
      group.parameter = value === undefined ? kept : [...kept, { name, value }];
    },
  };
}

const MUTATIONS: readonly Mutation[] = [
  {
    weakening: "the EventBridge grant on the logs key admits any account's rules",
    caughtBy: "services-pinned-to-account",
    apply: ({ lake }) =>
      editPolicy(lake, "aws_kms_key_policy", "keys_logs", (doc) => {
        statement(doc, "ServiceEventBridgeAlerts").Condition = {
          ArnLike: { "aws:SourceArn": `arn:aws:events:${config.region}:*:rule/*` },
        };
      }),
  },
  {
    weakening: "the raw lifecycle expires objects",
    caughtBy: "raw-write-once",
    apply: ({ lake }) => {
      const lifecycle = resource(lake, "aws_s3_bucket_lifecycle_configuration", "storage_raw");
      (lifecycle.rule as Array<Record<string, unknown>>)[1] = {
        ...(lifecycle.rule as Array<Record<string, unknown>>)[1],
        expiration: [{ days: 365 }],
      };
    },
  },
  {
    weakening: "the raw lifecycle expires noncurrent versions",
    caughtBy: "raw-write-once",
    apply: ({ lake }) => {
      const lifecycle = resource(lake, "aws_s3_bucket_lifecycle_configuration", "storage_raw");
      (lifecycle.rule as Array<Record<string, unknown>>)[0] = {
        ...(lifecycle.rule as Array<Record<string, unknown>>)[0],
        noncurrent_version_expiration: [{ noncurrent_days: 30 }],
      };
    },
  },
  {
    weakening: "a bucket policy allows a foreign account",
    caughtBy: "no-foreign-principals",
    apply: ({ lake }) =>
      editPolicy(lake, "aws_s3_bucket_policy", "storage_curated", (doc) => {
        doc.Statement.push({
          Sid: "PartnerReads",
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::999999999999:root" },
          Action: "s3:GetObject",
          Resource: `arn:aws:s3:::opl-dev-curated-${config.accountId}-${config.region}/*`,
        });
      }),
  },
  {
    weakening: "the account-level public access block allows public bucket policies",
    caughtBy: "account-public-access-block",
    apply: ({ bootstrap }) => {
      resource(bootstrap, "aws_s3_account_public_access_block", "account").block_public_policy = false;
    },
  },
  {
    weakening: "the plan role may overwrite the state",
    caughtBy: "plan-role-read-only",
    apply: ({ lake }) =>
      editCiStatement(lake, "plan", "TerraformState", (s) => {
        s.Action = ["s3:GetObject", "s3:PutObject"];
      }),
  },
  {
    weakening: "the plan role may delete lock items",
    caughtBy: "plan-role-read-only",
    apply: ({ lake }) =>
      editCiStatement(lake, "plan", "TerraformStateDigest", (s) => {
        s.Action = ["dynamodb:GetItem", "dynamodb:DeleteItem"];
        delete s.Condition;
      }),
  },
  {
    weakening: "a workload role without the permissions boundary",
    caughtBy: "workload-roles-bounded",
    apply: ({ lake }) => {
      delete resource(lake, "aws_iam_role", "access_glue-job").permissions_boundary;
    },
  },
  {
    weakening: "the boundary allows passing roles (escalation through a new service)",
    caughtBy: "boundary-caps-escalation",
    apply: ({ lake }) =>
      editPolicy(lake, "aws_iam_policy", "access_boundary", (doc) => {
        doc.Statement.push({
          Sid: "Pass",
          Effect: "Allow",
          Action: ["iam:PassRole", "sts:AssumeRole"],
          Resource: "*",
        });
      }),
  },
  {
    weakening: "the key administrators' actions include kms:CreateGrant (kms:Create*)",
    caughtBy: "no-grants-for-administrators",
    apply: ({ lake }) =>
      editPolicy(lake, "aws_kms_key_policy", "keys_data", (doc) => {
        const admin = statement(doc, "AccountAdministers");
        admin.Action = [...actions(admin).filter((a) => !a.startsWith("kms:Create")), "kms:Create*"];
      }),
  },
  {
    weakening: "the state key admits every principal of the account through S3 (Principal *)",
    caughtBy: "key-policies-name-users",
    apply: ({ bootstrap }) =>
      editPolicy(bootstrap, "aws_kms_key_policy", "state-key", (doc) => {
        const s = statement(doc, "NamedRolesUseViaServices");
        s.Principal = { AWS: "*" };
        s.Condition = { StringEquals: { "kms:CallerAccount": config.accountId } };
      }),
  },
  {
    weakening: "the catalog key admits the account root without naming roles",
    caughtBy: "key-policies-name-users",
    apply: ({ bootstrap }) =>
      editPolicy(bootstrap, "aws_kms_key_policy", "catalog-key", (doc) => {
        delete statement(doc, "NamedRolesUseViaServices").Condition?.ArnLike;
      }),
  },
  {
    weakening: "the deployer may create and edit roles without the boundary",
    caughtBy: "deployer-within-boundary",
    apply: ({ lake }) =>
      editCiStatement(lake, "deploy", "ManageLakeRolesWithinBoundary", (s) => {
        delete s.Condition;
      }),
  },
  {
    weakening: "the deployer may remove the boundary",
    caughtBy: "deployer-within-boundary",
    apply: ({ lake }) =>
      editCiStatement(lake, "deploy", "TagLakeRoles", (s) => {
        s.Action = [...actions(s), "iam:DeleteRolePermissionsBoundary"];
      }),
  },
  {
    weakening: "the deployer may rewrite the boundary",
    caughtBy: "deployer-within-boundary",
    apply: ({ lake }) =>
      editCiStatement(lake, "deploy", "ReadCiRolesAndBoundary", (s) => {
        s.Action = [...actions(s), "iam:CreatePolicyVersion"];
      }),
  },
  {
    weakening: "the deployer manages keys by the environment tag (the state key carries it too)",
    caughtBy: "deployer-keys-by-arn",
    apply: ({ lake }) =>
      editCiStatement(lake, "deploy", "LakeKeys", (s) => {
        s.Resource = [`arn:aws:kms:${config.region}:${config.accountId}:key/*`];
        s.Condition = { StringEquals: { "aws:ResourceTag/environment": "dev" } };
      }),
  },
  {
    weakening: "the deployer uses the data key without an encryption context",
    caughtBy: "ci-data-key-use-pinned",
    apply: ({ lake }) =>
      editCiStatement(lake, "deploy", "UploadGlueCodeWithDataKey", (s) => {
        s.Condition = { StringEquals: { "kms:ViaService": `s3.${config.region}.amazonaws.com` } };
      }),
  },
  {
    weakening: "the CI roles may read any stack's state",
    caughtBy: "deployer-stays-in-its-state",
    apply: ({ lake }) =>
      editCiStatement(lake, "deploy", "TerraformState", (s) => {
        s.Resource = [`arn:aws:s3:::opl-dev-tfstate-${config.accountId}-${config.region}/*`];
      }),
  },
  {
    weakening: "the deployer trusts the deploy branch without the protected GitHub environment",
    caughtBy: "ci-trust",
    apply: ({ lake }) =>
      editPolicy(
        lake,
        "aws_iam_role",
        "ci_deploy",
        (doc) => {
          const equals = (doc.Statement[0]?.Condition?.StringEquals ?? {}) as Record<string, unknown>;
          equals["token.actions.githubusercontent.com:sub"] =
            `repo:${config.ci.githubRepository}:ref:refs/heads/main`;
        },
        "assume_role_policy",
      ),
  },
  {
    weakening: "the plan role trusts every workflow of the repository",
    caughtBy: "ci-trust",
    apply: ({ lake }) =>
      editPolicy(
        lake,
        "aws_iam_role",
        "ci_plan",
        (doc) => {
          const like = (doc.Statement[0]?.Condition?.StringLike ?? {}) as Record<string, unknown>;
          like["token.actions.githubusercontent.com:sub"] = `repo:${config.ci.githubRepository}:*`;
        },
        "assume_role_policy",
      ),
  },
  {
    weakening: "raw accepts uploads that overwrite an existing key",
    caughtBy: "raw-write-once",
    apply: ({ lake }) =>
      editPolicy(lake, "aws_s3_bucket_policy", "storage_raw", (doc) => {
        doc.Statement = doc.Statement.filter((s) => s.Sid !== "DenyOverwrites");
      }),
  },
  {
    weakening: "raw's retention guard forgets the lifecycle configuration",
    caughtBy: "raw-write-once",
    apply: ({ lake }) =>
      editPolicy(lake, "aws_s3_bucket_policy", "storage_raw", (doc) => {
        const s = statement(doc, "DenyRetentionChanges");
        s.Action = actions(s).filter((a) => a !== "s3:PutLifecycleConfiguration");
      }),
  },
  {
    weakening: "the state bucket accepts only the key ARN while the backend names the alias",
    caughtBy: "backend-key-accepted",
    apply: ({ bootstrap }) =>
      editPolicy(bootstrap, "aws_s3_bucket_policy", "state_bucket", (doc) => {
        const c = statement(doc, "DenyOtherKmsKey").Condition?.StringNotEquals as Record<string, string[]>;
        const key = "s3:x-amz-server-side-encryption-aws-kms-key-id";
        c[key] = (c[key] ?? []).filter((id) => !id.includes(":alias/"));
      }),
  },
  {
    weakening: "a managed policy of the deployer grows past IAM's 6,144 characters",
    caughtBy: "policy-sizes",
    apply: ({ lake }) =>
      editCiStatement(lake, "deploy", "LakeBuckets", (s) => {
        s.Resource = [
          ...[s.Resource ?? []].flat(),
          ...Array.from(
            { length: 120 },
            (_, i) => `arn:aws:s3:::opl-dev-extra-bucket-number-${i}-${config.accountId}`,
          ),
        ];
      }),
  },
  {
    weakening: "the deployer gets an eleventh managed policy",
    caughtBy: "policy-sizes",
    on: devParts,
    apply: ({ lake }) => {
      const resources = resourcesOf(lake);
      const roleRef = [
        "$",
        "{aws_iam_role.",
        Object.keys(resources.aws_iam_role ?? {}).find((n) => n.startsWith("ci_deploy")),
        ".name}",
      ].join("");
      for (let i = 0; i < 4; i++) {
        resources.aws_iam_policy = {
          ...resources.aws_iam_policy,
          [`ci_deploy_policy-extra-${i}`]: {
            name: `opl-dev-ci-deploy-extra-${i}`,
            policy: JSON.stringify({
              Version: "2012-10-17",
              Statement: [{ Sid: "Extra", Effect: "Allow", Action: "sns:ListTopics", Resource: "*" }],
            }),
          },
        };
        resources.aws_iam_role_policy_attachment = {
          ...resources.aws_iam_role_policy_attachment,
          [`ci_deploy_attach-extra-${i}`]: {
            role: roleRef,
            policy_arn: ["$", `{aws_iam_policy.ci_deploy_policy-extra-${i}.arn}`].join(""),
          },
        };
      }
    },
  },
  {
    weakening: "a refresh role carries no permissions boundary",
    caughtBy: "workload-roles-bounded",
    on: devParts,
    apply: ({ lake }) => {
      delete resource(lake, "aws_iam_role", "orchestration_ingest_role").permissions_boundary;
    },
  },
  {
    weakening: "the Glue job role carries the refresh's boundary instead of the lake's",
    caughtBy: "workload-roles-bounded",
    on: devParts,
    apply: ({ lake }) => {
      resource(lake, "aws_iam_role", "access_glue-job").permissions_boundary = resource(
        lake,
        "aws_iam_role",
        "orchestration_ingest_role",
      ).permissions_boundary;
    },
  },
  {
    weakening: "the refresh's boundary allows creating roles",
    caughtBy: "boundary-caps-escalation",
    on: devParts,
    apply: ({ lake }) =>
      editPolicy(lake, "aws_iam_policy", "orchestration_boundary", (doc) => {
        doc.Statement.push({ Sid: "Roles", Effect: "Allow", Action: ["iam:CreateRole"], Resource: "*" });
      }),
  },
  {
    weakening: "the deployer may create the refresh's roles without the refresh's boundary",
    caughtBy: "deployer-parts-bounded",
    on: devParts,
    apply: ({ lake }) =>
      editCiStatement(lake, "deploy", "ManageRefreshRolesWithinBoundary", (s) => {
        delete s.Condition;
      }),
  },
  {
    weakening: "the deployer may give the refresh's roles any boundary of the account",
    caughtBy: "deployer-parts-bounded",
    on: devParts,
    apply: ({ lake }) =>
      editCiStatement(lake, "deploy", "ManageRefreshRolesWithinBoundary", (s) => {
        s.Condition = {
          StringLike: { "iam:PermissionsBoundary": `arn:aws:iam::${config.accountId}:policy/*` },
        };
      }),
  },
  {
    weakening: "the deployer may pass the refresh's Lambda roles to any service",
    caughtBy: "deployer-parts-bounded",
    on: devParts,
    apply: ({ lake }) =>
      editCiStatement(lake, "deploy", "PassRefreshRolesToLambda", (s) => {
        delete s.Condition;
      }),
  },
  {
    weakening: "the deployer may pass the warehouse's roles to EC2",
    caughtBy: "deployer-parts-bounded",
    on: devParts,
    apply: ({ lake }) =>
      editCiStatement(lake, "deploy", "PassWarehouseRolesToMonitoring", (s) => {
        s.Condition = {
          StringEquals: { "iam:PassedToService": ["monitoring.rds.amazonaws.com", "ec2.amazonaws.com"] },
        };
      }),
  },
  {
    weakening: "the deployer may start the refresh",
    caughtBy: "deployer-parts-bounded",
    on: devParts,
    apply: ({ lake }) =>
      editCiStatement(lake, "deploy", "RefreshStateMachine", (s) => {
        s.Action = [...actions(s), "states:StartExecution"];
      }),
  },
  {
    weakening: "the deployer may invoke the refresh's functions",
    caughtBy: "deployer-parts-bounded",
    on: devParts,
    apply: ({ lake }) =>
      editCiStatement(lake, "deploy", "RefreshFunctions", (s) => {
        s.Action = [...actions(s), "lambda:Invoke*"];
      }),
  },
  {
    weakening: "the deployer may start builds of the large-file project",
    caughtBy: "deployer-parts-bounded",
    on: devParts,
    apply: ({ lake }) =>
      editCiStatement(lake, "deploy", "LargeIngestProject", (s) => {
        s.Action = [...actions(s), "codebuild:StartBuild"];
      }),
  },
  {
    weakening: "the deployer may read the warehouse's master password",
    caughtBy: "deployer-parts-bounded",
    on: devParts,
    apply: ({ lake }) =>
      editCiStatement(lake, "deploy", "MasterSecretRotation", (s) => {
        s.Action = [...actions(s), "secretsmanager:GetSecretValue"];
      }),
  },
  {
    weakening: "the deployer manages every environment's functions",
    caughtBy: "deployer-parts-bounded",
    on: devParts,
    apply: ({ lake }) =>
      editCiStatement(lake, "deploy", "RefreshFunctions", (s) => {
        s.Resource = [`arn:aws:lambda:${config.region}:${config.accountId}:function:*`];
      }),
  },
  {
    weakening: "the deployer changes network resources whatever their environment tag",
    caughtBy: "deployer-parts-bounded",
    on: devParts,
    apply: ({ lake }) =>
      editCiStatement(lake, "deploy", "OwnNetwork", (s) => {
        delete s.Condition;
      }),
  },
  {
    weakening: "the deployer may tag any EC2 resource into its environment",
    caughtBy: "deployer-parts-bounded",
    on: devParts,
    apply: ({ lake }) =>
      editCiStatement(lake, "deploy", "TagOnCreate", (s) => {
        delete s.Condition;
      }),
  },
  {
    weakening: "the deployer creates VPCs without the environment tag",
    caughtBy: "deployer-parts-bounded",
    on: devParts,
    apply: ({ lake }) =>
      editCiStatement(lake, "deploy", "CreateTaggedVpc", (s) => {
        delete s.Condition;
      }),
  },
  {
    weakening: "the deployer manages every database of the account",
    caughtBy: "deployer-parts-bounded",
    on: devParts,
    apply: ({ lake }) =>
      editCiStatement(lake, "deploy", "WarehouseDatabase", (s) => {
        s.Resource = [`arn:aws:rds:${config.region}:${config.accountId}:db:*`];
      }),
  },
  {
    weakening: "the deployer's use of the data key for the master secret is no longer tied to RDS",
    caughtBy: "ci-data-key-use-pinned",
    on: devParts,
    apply: ({ lake }) =>
      editCiStatement(lake, "deploy", "DataKeyForMasterSecret", (s) => {
        delete s.Condition?.["ForAnyValue:StringEquals"];
      }),
  },
  database("the warehouse stores data unencrypted", { storage_encrypted: false }),
  database("the warehouse database gets a public address", { publicly_accessible: true }),
  database("the warehouse turns IAM database authentication off", {
    iam_database_authentication_enabled: false,
  }),
  database("the warehouse master password goes into the configuration", {
    manage_master_user_password: false,
    password: "in-the-state-file",
  }),
  database("Performance Insights falls back to the AWS-managed key", {
    performance_insights_kms_key_id: undefined,
  }),
  database("enhanced monitoring is turned off", { monitoring_interval: 0 }),
  {
    weakening: "the master password is never rotated",
    caughtBy: "warehouse-database-hardened",
    on: devWarehouse,
    apply: ({ lake }) => {
      delete (lake.resource as Resources).aws_secretsmanager_secret_rotation;
    },
  },
  database("backups (and point-in-time recovery) are turned off", { backup_retention_period: 0 }),
  database("prod's warehouse runs in one zone", { multi_az: false }, prodWarehouse),
  database("prod's warehouse loses deletion protection", { deletion_protection: false }, prodWarehouse),
  parameter("the warehouse accepts connections without TLS", "rds.force_ssl", "0"),
  parameter("the warehouse stops logging connections", "log_connections", undefined),
  parameter("pgaudit is no longer loaded", "shared_preload_libraries", "pg_stat_statements"),
  {
    weakening: "a BI client rule admits the whole internet to PostgreSQL",
    caughtBy: "warehouse-network-private",
    on: devWarehouse,
    apply: ({ lake }) => {
      resource(lake, "aws_vpc_security_group_ingress_rule", "warehouse_from-client-cidr-0").cidr_ipv4 =
        "0.0.0.0/0";
    },
  },
  {
    weakening: "the flow log group is not encrypted with the logs key",
    caughtBy: "warehouse-network-private",
    on: devWarehouse,
    apply: ({ lake }) => {
      delete resource(lake, "aws_cloudwatch_log_group", "warehouse-network_flow-logs").kms_key_id;
    },
  },
  {
    weakening: "the default security group keeps AWS's allow-all rules",
    caughtBy: "warehouse-network-private",
    on: devWarehouse,
    apply: ({ lake }) => {
      delete resource(lake, "aws_default_security_group", "warehouse-network").ingress;
    },
  },
  {
    weakening: "the enhanced monitoring role loses the permissions boundary",
    caughtBy: "warehouse-network-private",
    on: devWarehouse,
    apply: ({ lake }) => {
      delete resource(lake, "aws_iam_role", "warehouse_monitoring-role").permissions_boundary;
    },
  },
  loader("the warehouse loader may delete what it unloads (and curated with it)", (doc) => {
    statement(doc, "WriteAndReadExtract").Action = [
      ...actions(statement(doc, "WriteAndReadExtract")),
      "s3:DeleteObject",
    ];
  }),
  loader("the warehouse loader may write anywhere in the curated bucket", (doc) => {
    const s = statement(doc, "WriteAndReadExtract");
    s.Resource = [s.Resource ?? []].flat().map((r) => String(r).replace("/warehouse-extract/*", "/*"));
  }),
  loader("the warehouse loader's data key use loses its encryption context", (doc) => {
    const s = statement(doc, "DataKeyThroughS3ForTheseBuckets");
    delete (s.Condition?.StringEquals as Record<string, unknown>)["kms:EncryptionContext:aws:s3:arn"];
  }),
  {
    weakening: "a data-quality ruleset tolerates more violations than the curate job",
    caughtBy: "quality-rulesets-match-job",
    apply: ({ lake }) => {
      const ruleset = resource(lake, "aws_glue_data_quality_ruleset", "general_payments");
      ruleset.ruleset = String(ruleset.ruleset).replaceAll(/<= [0-9.]+/g, "<= 0.5");
    },
  },
  {
    weakening: "a data-quality ruleset drops one of the job's rules",
    caughtBy: "quality-rulesets-match-job",
    apply: ({ lake }) => {
      const ruleset = resource(lake, "aws_glue_data_quality_ruleset", "ownership_interests");
      ruleset.ruleset = String(ruleset.ruleset).replace(
        /\n {2}CustomSql "[^"]*record_id[^"]*" <= [0-9.]+,/,
        "",
      );
    },
  },
  {
    weakening: "the analyst is granted SELECT on recipient-identity columns by tag",
    caughtBy: "analyst-no-recipient-identity",
    apply: ({ lake }) => {
      const resources = resourcesOf(lake);
      resources.aws_lakeformation_permissions = {
        ...resources.aws_lakeformation_permissions,
        analyst_identity: {
          principal: analystRoleArnRef(lake),
          permissions: ["SELECT"],
          lf_tag_policy: {
            resource_type: "TABLE",
            expression: [
              { key: "zone", values: ["curated"] },
              { key: "sensitivity", values: ["public", "recipient-identity"] },
            ],
          },
        },
      };
    },
  },
  {
    weakening: "the analyst is granted SELECT on a whole table, bypassing the column tags",
    caughtBy: "analyst-no-recipient-identity",
    apply: ({ lake }) => {
      const resources = resourcesOf(lake);
      resources.aws_lakeformation_permissions = {
        ...resources.aws_lakeformation_permissions,
        analyst_table: {
          principal: analystRoleArnRef(lake),
          permissions: ["SELECT"],
          table: { database_name: "opl_dev_curated", name: "general_payments" },
        },
      };
    },
  },
  {
    weakening: "the analyst role is listed among the recipient-identity readers",
    caughtBy: "analyst-no-recipient-identity",
    apply: (env) => {
      const resources = resourcesOf(env.lake);
      resources.aws_lakeformation_permissions = {
        ...resources.aws_lakeformation_permissions,
        "lake-formation_identity-reader-0-tables": {
          principal: `arn:aws:iam::${config.accountId}:role/${new Naming(config).role(ROLE_PURPOSES.analyst)}`,
          permissions: ["SELECT", "DESCRIBE"],
          lf_tag_policy: {
            resource_type: "TABLE",
            expression: [
              { key: "zone", values: ["curated"] },
              { key: "sensitivity", values: ["public", "recipient-identity"] },
            ],
          },
        },
      };
    },
  },
];

describe("every weakening is caught", () => {
  it("names only guarantees that exist, and each guarantee catches at least one weakening", () => {
    const ids = GUARANTEES.map((g) => g.id);
    expect(MUTATIONS.map((m) => m.caughtBy).filter((id) => !ids.includes(id))).toEqual([]);
    expect(ids.filter((id) => !MUTATIONS.some((m) => m.caughtBy === id))).toEqual([]);
  });

  it.each(MUTATIONS.map((m) => [m.weakening, m] as const))("%s", async (_weakening, mutation) => {
    const mutated = structuredClone(mutation.on ?? pristine);
    mutation.apply(mutated);
    const guarantee = GUARANTEES.find((g) => g.id === mutation.caughtBy);
    expect(guarantee).toBeDefined();
    const violations = await guarantee?.violations(mutated);
    expect({ guarantee: mutation.caughtBy, caught: (violations ?? []).length > 0 }).toEqual({
      guarantee: mutation.caughtBy,
      caught: true,
    });
  });
});
