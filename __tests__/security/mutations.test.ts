// The mutation list: each entry weakens the synthesized Terraform JSON of dev the way a careless change would,
// and the guarantee named next to it must then report a violation. The checks are the real ones
// (guarantees.ts), run on the mutated copy; nothing here re-asserts the mutation itself. guarantees.test.ts
// shows that the same checks pass on the unmutated stacks.
import { ROLE_PURPOSES } from "../../modules/access";
import { loadConfig, Naming } from "../../modules/config";
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
      editPolicy(lake, "aws_iam_role_policy", "ci_plan", (doc) => {
        statement(doc, "TerraformState").Action = ["s3:GetObject", "s3:PutObject"];
      }),
  },
  {
    weakening: "the plan role may delete lock items",
    caughtBy: "plan-role-read-only",
    apply: ({ lake }) =>
      editPolicy(lake, "aws_iam_role_policy", "ci_plan", (doc) => {
        statement(doc, "TerraformStateDigest").Action = ["dynamodb:GetItem", "dynamodb:DeleteItem"];
        delete statement(doc, "TerraformStateDigest").Condition;
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
      editPolicy(lake, "aws_iam_role_policy", "ci_deploy", (doc) => {
        delete statement(doc, "ManageLakeRolesWithinBoundary").Condition;
      }),
  },
  {
    weakening: "the deployer may remove the boundary",
    caughtBy: "deployer-within-boundary",
    apply: ({ lake }) =>
      editPolicy(lake, "aws_iam_role_policy", "ci_deploy", (doc) => {
        const s = statement(doc, "TagLakeRoles");
        s.Action = [...actions(s), "iam:DeleteRolePermissionsBoundary"];
      }),
  },
  {
    weakening: "the deployer may rewrite the boundary",
    caughtBy: "deployer-within-boundary",
    apply: ({ lake }) =>
      editPolicy(lake, "aws_iam_role_policy", "ci_deploy", (doc) => {
        const s = statement(doc, "ReadCiRolesAndBoundary");
        s.Action = [...actions(s), "iam:CreatePolicyVersion"];
      }),
  },
  {
    weakening: "the deployer manages keys by the environment tag (the state key carries it too)",
    caughtBy: "deployer-keys-by-arn",
    apply: ({ lake }) =>
      editPolicy(lake, "aws_iam_role_policy", "ci_deploy", (doc) => {
        const s = statement(doc, "LakeKeys");
        s.Resource = [`arn:aws:kms:${config.region}:${config.accountId}:key/*`];
        s.Condition = { StringEquals: { "aws:ResourceTag/environment": "dev" } };
      }),
  },
  {
    weakening: "the deployer uses the data key without an encryption context",
    caughtBy: "ci-data-key-use-pinned",
    apply: ({ lake }) =>
      editPolicy(lake, "aws_iam_role_policy", "ci_deploy", (doc) => {
        statement(doc, "UploadGlueCodeWithDataKey").Condition = {
          StringEquals: { "kms:ViaService": `s3.${config.region}.amazonaws.com` },
        };
      }),
  },
  {
    weakening: "the CI roles may read any stack's state",
    caughtBy: "deployer-stays-in-its-state",
    apply: ({ lake }) =>
      editPolicy(lake, "aws_iam_role_policy", "ci_deploy", (doc) => {
        statement(doc, "TerraformState").Resource = [
          `arn:aws:s3:::opl-dev-tfstate-${config.accountId}-${config.region}/*`,
        ];
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
    weakening: "the deployer's policy grows past IAM's inline size limit",
    caughtBy: "policy-sizes",
    apply: ({ lake }) =>
      editPolicy(lake, "aws_iam_role_policy", "ci_deploy", (doc) => {
        const s = statement(doc, "LakeBuckets");
        s.Resource = [
          ...[s.Resource ?? []].flat(),
          ...Array.from(
            { length: 40 },
            (_, i) => `arn:aws:s3:::opl-dev-extra-bucket-number-${i}-${config.accountId}`,
          ),
        ];
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
