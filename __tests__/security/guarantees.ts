// The lake's security guarantees as checks over the synthesized Terraform JSON of one environment (its lake
// and state-bootstrap stacks), each returning its violations. guarantees.test.ts runs them on the committed
// configs; mutations.test.ts runs them on weakened copies and requires each weakening to be caught.
import { BOUNDED_ROLE_WRITES, CI_WORKFLOW_PATH, ROLE_PURPOSES } from "../../modules/access";
import { type LakeConfig, Naming } from "../../modules/config";
import { MANAGED_POLICIES_PER_ROLE, MANAGED_POLICY_MAX_CHARS } from "../../modules/core";
import { loadQualityRules, renderDqdl } from "../../modules/quality";
import {
  fakeKeyId,
  type PolicyDocument,
  type PolicyStatementJson,
  resolveReferences,
  type StackPolicy,
  stackPolicies,
} from "../../scripts/policies";
import type { TfJson } from "../helpers/synth";
import { accessLevel, type Decision, decide, expandAction, type Policies, type Request } from "./simulate";

export interface EnvironmentStacks {
  readonly config: LakeConfig;
  readonly lake: TfJson;
  readonly bootstrap: TfJson;
}

export interface Guarantee {
  readonly id: string;
  /** What holds, in one sentence (the test name). */
  readonly claim: string;
  readonly violations: (env: EnvironmentStacks) => Promise<string[]>;
}

/**
 * The refresh's roles (modules/orchestration): they carry the refresh's own boundary instead of the lake's. The
 * names are the module's; a role of another name with that boundary is a violation.
 */
const REFRESH_ROLE_PURPOSES = [
  "refresh",
  "refresh-discover",
  "refresh-ingest",
  "refresh-smoke",
  "landing-validator",
  "ingest-large",
  "refresh-scheduler",
] as const;

/** Actions the CI deployer must never hold: they run code or read a secret rather than deploy. */
const NEVER_FOR_THE_DEPLOYER = [
  "states:StartExecution",
  "states:StartSyncExecution",
  "lambda:InvokeFunction",
  "lambda:InvokeFunctionUrl",
  "codebuild:StartBuild",
  "codebuild:StartBuildBatch",
  "secretsmanager:GetSecretValue",
  "secretsmanager:BatchGetSecretValue",
];

/** Key actions that use the key for data (what a key policy must grant only to named roles). */
const DATA_USE = /^kms:(Encrypt|Decrypt|ReEncrypt|GenerateDataKey)/;

/**
 * Actions AWS rates Write that only read in the plan role: decrypting the state it reads (pinned to the state
 * bucket's and the lock table's encryption context, see ci-data-key-use-pinned).
 */
const PLAN_READS = new Set(["kms:Decrypt"]);

const list = (value: unknown): string[] => (value === undefined ? [] : ([value].flat() as string[]));

/** The resolved policies and names of one environment, rebuilt from (possibly mutated) JSON on each check. */
export function view(env: EnvironmentStacks) {
  const naming = new Naming(env.config);
  const location = naming.location;
  const { partition, account } = location;
  const lakeName = `lake-${env.config.environment}`;
  const lakePolicies = stackPolicies(lakeName, env.lake.resource, location);
  const bootstrapPolicies = stackPolicies(
    `state-bootstrap-${env.config.environment}`,
    env.bootstrap.resource,
    location,
  );
  const all = [...lakePolicies, ...bootstrapPolicies];
  const resolveLake = (text: string) => resolveReferences(env.lake.resource, location, text);
  const roleName = (purpose: string) => naming.role(purpose);
  const roleArn = (purpose: string) => naming.roleArn(roleName(purpose));
  /** Everything a role's own policies grant (inline and attached managed ones), as one document. */
  const identity = (purpose: string): PolicyDocument => ({
    Version: "2012-10-17",
    Statement: lakePolicies
      .filter((p) => (p.kind === "identity" || p.kind === "managed") && p.subject === roleName(purpose))
      .flatMap((p) => p.document.Statement),
  });
  const roleResource = (purpose: string) =>
    Object.values(env.lake.resource.aws_iam_role ?? {}).find((r) => r.name === roleName(purpose));
  const boundaryOf = (purpose: string): PolicyDocument | undefined => {
    const ref = roleResource(purpose)?.permissions_boundary;
    if (ref === undefined) return undefined;
    const arn = resolveLake(String(ref));
    return lakePolicies.find((p) => p.kind === "boundary" && resolveLake(`\${${p.address}.arn}`) === arn)
      ?.document;
  };
  const bucketName = (purpose: string) => naming.bucket(purpose);
  const bucketArn = (purpose: string) => `arn:${partition}:s3:::${bucketName(purpose)}`;
  const bucketPolicy = (purpose: string) =>
    all.find((p) => p.kind === "bucket" && p.subject === bucketName(purpose))?.document;
  /** The ARN the resolver gives the key of a stack's key construct (`keys/data`, `state-key`, ...). */
  const keyArn = (json: TfJson, aliasName: string) => {
    const alias = Object.values(json.resource.aws_kms_alias ?? {}).find((a) => a.name === aliasName);
    const logical = /\$\{aws_kms_key\.([^.]+)\.key_id\}/.exec(String(alias?.target_key_id))?.[1];
    if (!logical) throw new Error(`no key behind ${aliasName}`);
    return `arn:${partition}:kms:${location.region}:${account}:key/${fakeKeyId(logical)}`;
  };
  const keyPolicy = (arn: string) => all.find((p) => p.kind === "key" && p.subject === arn)?.document;
  const stateObject = (stack: string) => `${bucketArn("tfstate")}/${naming.stateKey(stack)}`;
  return {
    naming,
    location,
    lake: env.lake,
    lakeName,
    all,
    lakePolicies,
    roleName,
    roleArn,
    identity,
    roleResource,
    boundaryOf,
    bucketName,
    bucketArn,
    bucketPolicy,
    keyArn,
    keyPolicy,
    stateObject,
    lockTableArn: `arn:${partition}:dynamodb:${location.region}:${account}:table/${naming.lockTable}`,
    breakGlassArn: naming.roleArn(env.config.keys.breakGlassRoleName),
    boundaryArn: `arn:${partition}:iam::${account}:policy/${naming.prefix}-workload-boundary`,
    refreshBoundaryArn: `arn:${partition}:iam::${account}:policy/${naming.prefix}-orchestration-boundary`,
  };
}
type View = ReturnType<typeof view>;

/** Runs requests and reports, for each, what it should not have been (or should have been) decided. */
async function expectDecisions(
  cases: ReadonlyArray<{ what: string; policies: Policies; request: Request; allowed: boolean }>,
): Promise<string[]> {
  const out: string[] = [];
  for (const c of cases) {
    const decision: Decision = await decide(c.policies, c.request);
    if ((decision === "Allowed") !== c.allowed) out.push(`${c.what}: ${decision}`);
  }
  return out;
}

const denied = (what: string, policies: Policies, request: Request) => ({
  what,
  policies,
  request,
  allowed: false,
});
const allowed = (what: string, policies: Policies, request: Request) => ({
  what,
  policies,
  request,
  allowed: true,
});

/** A key policy letting the account administer and use the key through IAM: what IAM alone must then refuse. */
function accountKeyPolicy(v: View): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AccountUsesIam",
        Effect: "Allow",
        Principal: { AWS: `arn:${v.location.partition}:iam::${v.location.account}:root` },
        Action: "kms:*",
        Resource: "*",
      },
    ],
  };
}

const statementsOf = (policies: readonly StackPolicy[], kinds: readonly string[]) =>
  policies
    .filter((p) => kinds.includes(p.kind))
    .flatMap((p) => p.document.Statement.map((s) => ({ policy: p, s })));

const label = (p: StackPolicy, s: PolicyStatementJson) => `${p.stack} ${p.address} ${s.Sid ?? "(no Sid)"}`;

/** Whether every ARN among a statement's condition values names `account` (and no wildcard account). */
function conditionPinsAccount(s: PolicyStatementJson, account: string): boolean {
  const conditions = Object.values(s.Condition ?? {});
  const sourceAccount = conditions.some(
    (c) => list(c["aws:SourceAccount"]).every((v) => v === account) && c["aws:SourceAccount"] !== undefined,
  );
  // ARNs that carry an account (S3 bucket ARNs carry none).
  const arnValues = conditions
    .flatMap((c) => Object.values(c).flatMap(list))
    .filter((v) => typeof v === "string" && v.startsWith("arn:") && v.split(":")[4] !== "");
  const arnsPinned = arnValues.length > 0 && arnValues.every((v) => v.split(":")[4] === account);
  const arnsForeign = arnValues.some((v) => v.split(":")[4] !== account);
  return !arnsForeign && (sourceAccount || arnsPinned);
}

/** What an RDS instance of the serving warehouse must be (docs/warehouse.md), one finding per setting. */
function warehouseDatabaseFindings(env: EnvironmentStacks): string[] {
  const resources = env.lake.resource;
  const out: string[] = [];
  const prod = env.config.environment === "prod";
  for (const [name, db] of Object.entries(resources.aws_db_instance ?? {})) {
    const must: Array<[string, boolean]> = [
      [
        "storage encrypted with a customer key",
        db.storage_encrypted === true && /aws_kms_key\./.test(String(db.kms_key_id)),
      ],
      ["not publicly accessible", db.publicly_accessible === false],
      ["IAM database authentication", db.iam_database_authentication_enabled === true],
      [
        "master password managed by Secrets Manager",
        db.manage_master_user_password === true && db.password === undefined,
      ],
      [
        "master secret encrypted with a customer key",
        /aws_kms_key\./.test(String(db.master_user_secret_kms_key_id)),
      ],
      [
        "Performance Insights encrypted with a customer key",
        db.performance_insights_enabled === true &&
          /aws_kms_key\./.test(String(db.performance_insights_kms_key_id)),
      ],
      ["enhanced monitoring", Number(db.monitoring_interval) > 0 && db.monitoring_role_arn !== undefined],
      ["backups (point-in-time recovery)", Number(db.backup_retention_period) >= 1],
      ["a final snapshot", db.skip_final_snapshot === false],
      ["Multi-AZ in prod", !prod || db.multi_az === true],
      ["deletion protection in prod", !prod || db.deletion_protection === true],
    ];
    const rotated = Object.values(resources.aws_secretsmanager_secret_rotation ?? {}).some(
      (r) =>
        r.secret_id === `\${aws_db_instance.${name}.master_user_secret[0].secret_arn}` &&
        Number(
          (r.rotation_rules as { automatically_after_days?: number } | undefined)?.automatically_after_days,
        ) > 0,
    );
    must.push(["the master password rotated on a schedule", rotated]);
    for (const [what, ok] of must) if (!ok) out.push(`aws_db_instance.${name}: ${what}`);
    const [, group] =
      Object.entries(resources.aws_db_parameter_group ?? {}).find(
        ([k]) => db.parameter_group_name === `\${aws_db_parameter_group.${k}.name}`,
      ) ?? [];
    const parameters = Object.fromEntries(
      ((group?.parameter ?? []) as Array<{ name: string; value: string }>).map((p) => [p.name, p.value]),
    );
    if (parameters["rds.force_ssl"] !== "1") out.push(`aws_db_instance.${name}: rds.force_ssl = 1`);
    if (parameters.log_connections !== "1") out.push(`aws_db_instance.${name}: log_connections = 1`);
    if (!String(parameters.shared_preload_libraries ?? "").includes("pgaudit") || !parameters["pgaudit.log"])
      out.push(`aws_db_instance.${name}: pgaudit loaded and logging`);
  }
  return out;
}

/** What the warehouse network must be: flow logs to a KMS log group, no rule open to the internet. */
/** The warehouse loader's role, decided by the IAM simulator (identity policy, boundary, bucket policies). */
async function warehouseLoaderFindings(env: EnvironmentStacks): Promise<string[]> {
  const v = view(env);
  const purpose = "warehouse-loader";
  const role = v.roleResource(purpose);
  if (!role) return env.config.warehouse?.enabled ? [`no role ${v.roleName(purpose)}`] : [];
  const boundary = v.boundaryOf(purpose);
  if (!boundary) return [`${v.roleName(purpose)}: no permissions boundary`];
  const { partition, region, account } = v.location;
  const regional = (service: string, rest: string) =>
    `arn:${partition}:${service}:${region}:${account}:${rest}`;
  const principal = v.roleArn(v.roleName(purpose));
  const s3Request = (action: string, bucket: string, key: string) => ({
    policies: { identity: [v.identity(purpose)], boundary, resourcePolicy: v.bucketPolicy(bucket) },
    request: {
      principal,
      action,
      resource: `${v.bucketArn(bucket)}/${key}`,
      context: { "aws:SecureTransport": "true" },
    },
  });
  const onS3 = (allowedOrNot: boolean, action: string, bucket: string, key: string) => {
    const r = s3Request(action, bucket, key);
    const what = `${action} ${bucket}/${key}`;
    return allowedOrNot ? allowed(what, r.policies, r.request) : denied(what, r.policies, r.request);
  };
  // The database's DbiResourceId as the policy names it (resolved like every other reference).
  const [dbName] = Object.keys(env.lake.resource.aws_db_instance ?? {});
  const dbi = resolveReferences(env.lake.resource, v.location, `\${aws_db_instance.${dbName}.resource_id}`);
  const [subnetName] = Object.keys(env.lake.resource.aws_subnet ?? {});
  const otherSubnet = Object.keys(env.lake.resource.aws_subnet ?? {})[1];
  const subnet = (name: string) =>
    regional(
      "ec2",
      `subnet/${resolveReferences(env.lake.resource, v.location, `\${aws_subnet.${name}.id}`)}`,
    );
  const policies = { identity: [v.identity(purpose)], boundary };
  const connect = (user: string) => ({
    principal,
    action: "rds-db:connect",
    resource: regional("rds-db", `dbuser:${dbi}/${user}`),
  });
  // The simulator ignores kms:EncryptionContext keys: the key statements are checked as written.
  const keyUse = new Set(["curated", "athena-results", "cleaned"].map((b) => v.bucketArn(b)));
  const keyFindings = v
    .identity(purpose)
    .Statement.filter((st) => list(st.Action).some((a) => a.startsWith("kms:")))
    .flatMap((st) => {
      const equals = (st.Condition?.StringEquals ?? {}) as Record<string, unknown>;
      const contexts = list(equals["kms:EncryptionContext:aws:s3:arn"]);
      const via = list(equals["kms:ViaService"]);
      const ok =
        st.Effect === "Allow" &&
        contexts.length > 0 &&
        contexts.every((c) => keyUse.has(c)) &&
        via.length === 1 &&
        via[0] === `s3.${region}.amazonaws.com`;
      return ok ? [] : [`${st.Sid}: the data key only through S3, for the curated, results and code buckets`];
    });
  return keyFindings.concat(
    await expectDecisions([
      onS3(true, "s3:PutObject", "curated", "warehouse-extract/run-1/top_payers/part-0"),
      onS3(true, "s3:GetObject", "curated", "curated/general/program_year=2023/part-0.parquet"),
      onS3(false, "s3:PutObject", "curated", "curated/general/program_year=2023/part-0.parquet"),
      onS3(false, "s3:DeleteObject", "curated", "warehouse-extract/run-1/top_payers/part-0"),
      onS3(false, "s3:DeleteObject", "curated", "curated/general/program_year=2023/part-0.parquet"),
      onS3(false, "s3:GetObject", "raw", "raw/general/x.csv"),
      onS3(false, "s3:GetObject", "cleaned", "cleaned/general/x.parquet"),
      allowed("rds-db:connect as the loader login", policies, connect("warehouse_loader_iam")),
      denied("rds-db:connect as the master user", policies, connect("warehouse_master")),
      denied("rds-db:connect as a reader", policies, connect("reader_login")),
      allowed("a network interface in its subnet", policies, {
        principal,
        action: "ec2:CreateNetworkInterface",
        resource: subnet(subnetName),
      }),
      denied("a network interface in another subnet", policies, {
        principal,
        action: "ec2:CreateNetworkInterface",
        resource: subnet(otherSubnet),
      }),
      denied("starting another Glue job", policies, {
        principal,
        action: "glue:StartJobRun",
        resource: regional("glue", `job/${v.naming.prefix}-curate`),
      }),
      denied("passing a role", policies, {
        principal,
        action: "iam:PassRole",
        resource: v.roleArn(v.roleName(ROLE_PURPOSES.glueJob)),
      }),
    ]),
  );
}

function warehouseNetworkFindings(env: EnvironmentStacks): string[] {
  const resources = env.lake.resource;
  const out: string[] = [];
  const groups = resources.aws_cloudwatch_log_group ?? {};
  for (const vpc of Object.keys(resources.aws_vpc ?? {})) {
    const logs = Object.values(resources.aws_flow_log ?? {}).filter(
      (f) => f.vpc_id === `\${aws_vpc.${vpc}.id}`,
    );
    const encrypted = logs.some((f) => {
      const group = Object.entries(groups).find(
        ([k]) => f.log_destination === `\${aws_cloudwatch_log_group.${k}.arn}`,
      );
      return f.traffic_type === "ALL" && /aws_kms_key\./.test(String(group?.[1].kms_key_id));
    });
    if (!encrypted) out.push(`aws_vpc.${vpc}: flow logs of all traffic to a KMS-encrypted log group`);
  }
  for (const type of [
    "aws_vpc_security_group_ingress_rule",
    "aws_security_group",
    "aws_default_security_group",
  ]) {
    for (const [name, rule] of Object.entries(resources[type] ?? {})) {
      if (/0\.0\.0\.0\/0|::\/0/.test(JSON.stringify(rule.ingress ?? rule.cidr_ipv4 ?? rule.cidr_ipv6 ?? "")))
        out.push(`${type}.${name}: admits the internet`);
    }
  }
  for (const [name, sg] of Object.entries(resources.aws_default_security_group ?? {})) {
    if ([sg.ingress, sg.egress].some((rules) => !Array.isArray(rules) || rules.length > 0))
      out.push(`aws_default_security_group.${name}: must have no rules`);
  }
  const boundary = Object.keys(resources.aws_iam_policy ?? {}).find((k) => k.includes("boundary"));
  for (const [name, role] of Object.entries(resources.aws_iam_role ?? {})) {
    if (
      String(role.name).includes("-warehouse-") &&
      role.permissions_boundary !== `\${aws_iam_policy.${boundary}.arn}`
    )
      out.push(`aws_iam_role.${name}: the workload permissions boundary`);
  }
  return out;
}

/** What a role under `boundary` could do to escalate, whatever its own policy: each must be denied. */
async function escalations(v: View, name: string, boundary: PolicyDocument): Promise<string[]> {
  const anything: PolicyDocument = {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
  };
  const principal = v.roleArn(ROLE_PURPOSES.glueJob);
  const policies = { identity: [anything], boundary };
  const dataKey = v.keyArn(v.lake, v.naming.kmsAlias("data"));
  const requests: Array<[string, string]> = [
    ["iam:CreateRole", v.roleArn("escalated")],
    ["iam:PutRolePolicy", v.roleArn(ROLE_PURPOSES.glueJob)],
    ["iam:AttachRolePolicy", v.roleArn(ROLE_PURPOSES.glueJob)],
    ["iam:DeleteRolePermissionsBoundary", v.roleArn(ROLE_PURPOSES.glueJob)],
    ["iam:CreatePolicyVersion", v.boundaryArn],
    ["iam:CreatePolicyVersion", v.refreshBoundaryArn],
    ["iam:PassRole", v.roleArn(ROLE_PURPOSES.ciDeploy)],
    ["sts:AssumeRole", v.roleArn(ROLE_PURPOSES.ciDeploy)],
    ["kms:PutKeyPolicy", dataKey],
    ["kms:CreateGrant", dataKey],
    ["s3:PutBucketPolicy", v.bucketArn("raw")],
    ["s3:PutLifecycleConfiguration", v.bucketArn("raw")],
    ["s3:DeleteObject", `${v.bucketArn("raw")}/raw/general/x.csv`],
    ["s3:DeleteObjectVersion", `${v.bucketArn("raw")}/raw/general/x.csv`],
    ["glue:CreateJob", `arn:${v.location.partition}:glue:${v.location.region}:${v.location.account}:job/x`],
    [
      "lambda:CreateFunction",
      `arn:${v.location.partition}:lambda:${v.location.region}:${v.location.account}:function:x`,
    ],
    [
      "lambda:UpdateFunctionCode",
      `arn:${v.location.partition}:lambda:${v.location.region}:${v.location.account}:function:${v.naming.prefix}-refresh-ingest`,
    ],
    [
      "states:UpdateStateMachine",
      `arn:${v.location.partition}:states:${v.location.region}:${v.location.account}:stateMachine:${v.naming.prefix}-refresh`,
    ],
    [
      "codebuild:CreateProject",
      `arn:${v.location.partition}:codebuild:${v.location.region}:${v.location.account}:project/x`,
    ],
    [
      "ec2:RunInstances",
      `arn:${v.location.partition}:ec2:${v.location.region}:${v.location.account}:instance/i-0123456789abcdef0`,
    ],
  ];
  return expectDecisions(
    requests.map(([action, resource]) =>
      denied(`a role under the ${name} boundary: ${action} ${resource}`, policies, {
        principal,
        action,
        resource,
      }),
    ),
  );
}

export const GUARANTEES: readonly Guarantee[] = [
  {
    id: "plan-role-read-only",
    claim:
      "the CI plan role only reads: AWS rates every action it holds Read or List, and it can write no state, lock or lock item",
    async violations(env) {
      const v = view(env);
      const plan = v.identity(ROLE_PURPOSES.ciPlan);
      const out: string[] = [];
      if (plan.Statement.length === 0) out.push("no plan role policy");
      for (const s of plan.Statement.filter((st) => st.Effect === "Allow")) {
        for (const pattern of list(s.Action)) {
          for (const action of await expandAction(pattern)) {
            const level = await accessLevel(action);
            if (level !== "Read" && level !== "List" && !PLAN_READS.has(action))
              out.push(`${s.Sid}: ${action} is ${level}`);
          }
        }
      }
      const policies = { identity: [plan] };
      const principal = v.roleArn(ROLE_PURPOSES.ciPlan);
      const state = v.stateObject(v.lakeName);
      const ownItems = {
        "dynamodb:LeadingKeys": [`${v.bucketName("tfstate")}/${v.naming.stateKey(v.lakeName)}`],
      };
      const digest = {
        "dynamodb:LeadingKeys": [`${v.bucketName("tfstate")}/${v.naming.stateKey(v.lakeName)}-md5`],
      };
      out.push(
        ...(await expectDecisions([
          ...["s3:PutObject", "s3:DeleteObject"].flatMap((action) =>
            [state, `${state}.tflock`].map((resource) =>
              denied(`plan ${action} ${resource}`, policies, { principal, action, resource }),
            ),
          ),
          ...["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem"].flatMap((action) =>
            [ownItems, digest].map((context) =>
              denied(`plan ${action} on the lock table`, policies, {
                principal,
                action,
                resource: v.lockTableArn,
                context,
              }),
            ),
          ),
          allowed("plan reads its state", policies, { principal, action: "s3:GetObject", resource: state }),
          allowed("plan reads the state digest", policies, {
            principal,
            action: "dynamodb:GetItem",
            resource: v.lockTableArn,
            context: digest,
          }),
        ])),
      );
      return out;
    },
  },
  {
    id: "workload-roles-bounded",
    claim:
      "every role but the two CI roles carries a boundary the deployer is held to: the refresh's roles the refresh's boundary, every other role the lake's",
    async violations(env) {
      const v = view(env);
      const ci = [v.roleName(ROLE_PURPOSES.ciPlan), v.roleName(ROLE_PURPOSES.ciDeploy)];
      const refresh = REFRESH_ROLE_PURPOSES.map((purpose) => v.roleName(purpose));
      const out: string[] = [];
      const roles = Object.values(env.lake.resource.aws_iam_role ?? {});
      if (roles.length < 6) out.push(`only ${roles.length} roles`);
      const policyArns = Object.keys(env.lake.resource.aws_iam_policy ?? {}).map((name) =>
        resolveReferences(env.lake.resource, v.location, `\${aws_iam_policy.${name}.arn}`),
      );
      for (const role of roles.filter((r) => !ci.includes(String(r.name)))) {
        const ref = role.permissions_boundary;
        const arn =
          ref === undefined ? undefined : resolveReferences(env.lake.resource, v.location, String(ref));
        // The refresh's roles (names the orchestration module gives them) carry its boundary; nothing else may.
        const expected = refresh.includes(String(role.name)) ? v.refreshBoundaryArn : v.boundaryArn;
        if (arn !== expected) out.push(`${role.name}: boundary ${arn ?? "none"}, expected ${expected}`);
        else if (!policyArns.includes(arn)) out.push(`${role.name}: boundary ${arn} is not in the stack`);
      }
      return out;
    },
  },
  {
    id: "boundary-caps-escalation",
    claim:
      "the permissions boundaries (the lake's, and the refresh's where it exists) allow no IAM, KMS administration, bucket settings, raw deletion or new compute",
    async violations(env) {
      const v = view(env);
      const workload = v.boundaryOf(ROLE_PURPOSES.glueJob);
      if (!workload) return ["the Glue job role has no boundary"];
      const refresh = v.lakePolicies.find(
        (p) => p.kind === "boundary" && p.subject === `${v.naming.prefix}-orchestration-boundary`,
      )?.document;
      const out: string[] = [];
      for (const [name, boundary] of [
        ["workload", workload],
        ...(refresh ? [["refresh", refresh] as const] : []),
      ] as const) {
        out.push(...(await escalations(v, name, boundary)));
      }
      return out;
    },
  },
  {
    id: "deployer-within-boundary",
    claim:
      "the CI deployer can create or change only the workload roles, only with the boundary, and can neither change nor remove the boundary nor touch the CI roles",
    async violations(env) {
      const v = view(env);
      const principal = v.roleArn(ROLE_PURPOSES.ciDeploy);
      const policies = { identity: [v.identity(ROLE_PURPOSES.ciDeploy)] };
      const workload = [
        ROLE_PURPOSES.ingestion,
        ROLE_PURPOSES.crawler,
        ROLE_PURPOSES.glueJob,
        ROLE_PURPOSES.analyst,
      ];
      const roleWrites = [
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:UpdateAssumeRolePolicy",
        "iam:PutRolePermissionsBoundary",
        "iam:UpdateRole",
        "iam:DeleteRolePolicy",
      ];
      const withBoundary = (arn: string) => ({ "iam:PermissionsBoundary": arn });
      const other = `arn:${v.location.partition}:iam::${v.location.account}:policy/AdministratorAccess`;
      return expectDecisions([
        ...workload.flatMap((purpose) =>
          roleWrites.flatMap((action) => [
            denied(`${action} ${purpose} without a boundary`, policies, {
              principal,
              action,
              resource: v.roleArn(purpose),
            }),
            denied(`${action} ${purpose} with another boundary`, policies, {
              principal,
              action,
              resource: v.roleArn(purpose),
              context: withBoundary(other),
            }),
            allowed(`${action} ${purpose} with the lake's boundary`, policies, {
              principal,
              action,
              resource: v.roleArn(purpose),
              context: withBoundary(v.boundaryArn),
            }),
          ]),
        ),
        ...workload.map((purpose) =>
          denied(`DeleteRolePermissionsBoundary ${purpose}`, policies, {
            principal,
            action: "iam:DeleteRolePermissionsBoundary",
            resource: v.roleArn(purpose),
            context: withBoundary(v.boundaryArn),
          }),
        ),
        ...[ROLE_PURPOSES.ciPlan, ROLE_PURPOSES.ciDeploy, "escalated"].flatMap((purpose) =>
          roleWrites.map((action) =>
            denied(`${action} ${purpose}`, policies, {
              principal,
              action,
              resource: v.roleArn(purpose),
              context: withBoundary(v.boundaryArn),
            }),
          ),
        ),
        ...[
          "iam:CreatePolicyVersion",
          "iam:SetDefaultPolicyVersion",
          "iam:DeletePolicyVersion",
          "iam:DeletePolicy",
          "iam:CreatePolicy",
        ].map((action) =>
          denied(`${action} on the boundary`, policies, { principal, action, resource: v.boundaryArn }),
        ),
        ...[ROLE_PURPOSES.ingestion, ROLE_PURPOSES.analyst, ROLE_PURPOSES.ciDeploy].map((purpose) =>
          denied(`PassRole ${purpose} to Glue`, policies, {
            principal,
            action: "iam:PassRole",
            resource: v.roleArn(purpose),
            context: { "iam:PassedToService": "glue.amazonaws.com" },
          }),
        ),
        denied("PassRole the job role to EC2", policies, {
          principal,
          action: "iam:PassRole",
          resource: v.roleArn(ROLE_PURPOSES.glueJob),
          context: { "iam:PassedToService": "ec2.amazonaws.com" },
        }),
      ]);
    },
  },
  {
    id: "deployer-parts-bounded",
    claim:
      "the CI deployer creates the warehouse's and the refresh's resources only in its environment, their roles only under a boundary (the refresh's by exact ARN) and each passed to its one service; it never starts an execution, a build or a function, nor reads a secret",
    async violations(env) {
      const v = view(env);
      const { partition, region, account } = v.location;
      const arn = (service: string, rest: string) =>
        `arn:${partition}:${service}:${region}:${account}:${rest}`;
      const p = v.naming.prefix;
      const principal = v.roleArn(ROLE_PURPOSES.ciDeploy);
      const deployer = v.identity(ROLE_PURPOSES.ciDeploy);
      const policies = { identity: [deployer] };
      const out: string[] = [];
      const boundaries = [v.boundaryArn, v.refreshBoundaryArn];
      // Structure: whatever the statements are called, role writes carry an exact boundary, PassRole an exact
      // service, and the forbidden actions appear nowhere (wildcards expanded).
      for (const s of deployer.Statement.filter((st) => st.Effect === "Allow")) {
        const actions = (await Promise.all(list(s.Action).map(expandAction))).flat();
        for (const a of actions.filter((x) => NEVER_FOR_THE_DEPLOYER.includes(x))) out.push(`${s.Sid}: ${a}`);
        if (actions.some((a) => BOUNDED_ROLE_WRITES.includes(a))) {
          const b = list(s.Condition?.StringEquals?.["iam:PermissionsBoundary"]);
          if (b.length !== 1 || !boundaries.includes(String(b[0])))
            out.push(
              `${s.Sid}: role writes without an exact lake or refresh boundary (${b.join(",") || "none"})`,
            );
        }
        if (actions.includes("iam:PassRole")) {
          const to = list(s.Condition?.StringEquals?.["iam:PassedToService"]);
          if (to.length !== 1 || String(to[0]).includes("*"))
            out.push(`${s.Sid}: iam:PassRole without one iam:PassedToService (${to.join(",") || "none"})`);
          if (list(s.Resource).some((r) => r.includes("*"))) out.push(`${s.Sid}: iam:PassRole on a pattern`);
        }
      }
      const other = env.config.environment === "prod" ? "dev" : "prod";
      const otherPrefix = `${env.config.namePrefix}-${other}`;
      const refreshRoles = REFRESH_ROLE_PURPOSES.map((purpose) => v.roleArn(purpose));
      const withBoundary = (b: string) => ({ "iam:PermissionsBoundary": b });
      const tag = (kind: "Request" | "Resource", value: string) => ({
        [`aws:${kind}Tag/environment`]: value,
      });
      const own = env.config.tags.environment;
      const cases = [
        ...refreshRoles.flatMap((role) => [
          denied(`CreateRole ${role} without a boundary`, policies, {
            principal,
            action: "iam:CreateRole",
            resource: role,
          }),
          denied(`CreateRole ${role} with the lake's boundary`, policies, {
            principal,
            action: "iam:CreateRole",
            resource: role,
            context: withBoundary(v.boundaryArn),
          }),
          ...["ec2.amazonaws.com", "glue.amazonaws.com", "ecs-tasks.amazonaws.com"].map((service) =>
            denied(`PassRole ${role} to ${service}`, policies, {
              principal,
              action: "iam:PassRole",
              resource: role,
              context: { "iam:PassedToService": service },
            }),
          ),
        ]),
        ...[
          "iam:CreatePolicyVersion",
          "iam:SetDefaultPolicyVersion",
          "iam:DeletePolicy",
          "iam:CreatePolicy",
        ].map((action) =>
          denied(`${action} on the refresh boundary`, policies, {
            principal,
            action,
            resource: v.refreshBoundaryArn,
          }),
        ),
        ...[
          ["states:StartExecution", arn("states", `stateMachine:${p}-refresh`)],
          ["lambda:InvokeFunction", arn("lambda", `function:${p}-refresh-ingest`)],
          ["codebuild:StartBuild", arn("codebuild", `project/${p}-ingest-large`)],
          ["secretsmanager:GetSecretValue", arn("secretsmanager", "secret:rds!db-0000")],
        ].map(([action = "", resource = ""]) =>
          denied(`${action} ${resource}`, policies, {
            principal,
            action,
            resource,
            context: { "aws:CalledVia": ["rds.amazonaws.com"] },
          }),
        ),
        // Another environment's resources, by name or by tag.
        ...[
          ["lambda:CreateFunction", arn("lambda", `function:${otherPrefix}-refresh-ingest`)],
          ["lambda:UpdateFunctionCode", arn("lambda", `function:${otherPrefix}-refresh-ingest`)],
          ["states:UpdateStateMachine", arn("states", `stateMachine:${otherPrefix}-refresh`)],
          ["codebuild:UpdateProject", arn("codebuild", `project/${otherPrefix}-ingest-large`)],
          ["sqs:SetQueueAttributes", arn("sqs", `${otherPrefix}-landing`)],
          ["rds:ModifyDBInstance", arn("rds", `db:${otherPrefix}-warehouse`)],
          ["rds:CreateDBInstance", arn("rds", `db:${otherPrefix}-warehouse`)],
          ["cloudwatch:PutMetricAlarm", arn("cloudwatch", `alarm:${otherPrefix}-alarm-refresh-failed`)],
        ].map(([action = "", resource = ""]) =>
          denied(`${action} ${resource}`, policies, { principal, action, resource }),
        ),
        denied("CreateVpc tagged for another environment", policies, {
          principal,
          action: "ec2:CreateVpc",
          resource: arn("ec2", "vpc/vpc-0123456789abcdef0"),
          context: tag("Request", other),
        }),
        ...["vpc", "subnet", "security-group"].map((type) =>
          denied(`CreateVpcEndpoint in another environment's ${type}`, policies, {
            principal,
            action: "ec2:CreateVpcEndpoint",
            resource: arn("ec2", `${type}/${type}-0123456789abcdef0`),
            context: { ...tag("Resource", other), ...tag("Request", own) },
          }),
        ),
        denied("AuthorizeSecurityGroupIngress on another environment's group", policies, {
          principal,
          action: "ec2:AuthorizeSecurityGroupIngress",
          resource: arn("ec2", "security-group/sg-0123456789abcdef0"),
          context: tag("Resource", other),
        }),
        denied("CreateTags on an untagged security group (pulling it into the environment)", policies, {
          principal,
          action: "ec2:CreateTags",
          resource: arn("ec2", "security-group/sg-0123456789abcdef0"),
          context: { ...tag("Request", own), "aws:TagKeys": ["environment"] },
        }),
        denied("CreateTags moving its own VPC to another environment", policies, {
          principal,
          action: "ec2:CreateTags",
          resource: arn("ec2", "vpc/vpc-0123456789abcdef0"),
          context: { ...tag("Resource", own), ...tag("Request", other), "aws:TagKeys": ["environment"] },
        }),
        denied("CreateInternetGateway", policies, {
          principal,
          action: "ec2:CreateInternetGateway",
          resource: arn("ec2", "internet-gateway/igw-0123456789abcdef0"),
          context: tag("Request", own),
        }),
        denied("CreateRoute in its own route table", policies, {
          principal,
          action: "ec2:CreateRoute",
          resource: arn("ec2", "route-table/rtb-0123456789abcdef0"),
          context: tag("Resource", own),
        }),
      ];
      out.push(...(await expectDecisions(cases)));
      return out;
    },
  },
  {
    id: "deployer-keys-by-arn",
    claim:
      "the CI deployer manages the lake stack's keys by ARN: the state and catalog keys, tagged like them, stay out of reach",
    async violations(env) {
      const v = view(env);
      const principal = v.roleArn(ROLE_PURPOSES.ciDeploy);
      // The worst case for a key the deployer does not own: a key policy that leaves the decision to IAM.
      const policies = {
        identity: [v.identity(ROLE_PURPOSES.ciDeploy)],
        resourcePolicy: accountKeyPolicy(v),
      };
      const tagged = { "aws:ResourceTag/environment": env.config.tags.environment };
      const foreignKeys = [v.keyArn(env.bootstrap, v.naming.stateKeyAlias)];
      if (env.config.ownsAccountSingletons)
        foreignKeys.push(v.keyArn(env.bootstrap, v.naming.kmsAlias("glue-catalog")));
      const adminActions = [
        "kms:PutKeyPolicy",
        "kms:CreateGrant",
        "kms:ScheduleKeyDeletion",
        "kms:DisableKey",
        "kms:TagResource",
        "kms:Decrypt",
      ];
      const out = await expectDecisions(
        foreignKeys.flatMap((key) =>
          adminActions.map((action) =>
            denied(`${action} on ${key}`, policies, { principal, action, resource: key, context: tagged }),
          ),
        ),
      );
      for (const s of v.identity(ROLE_PURPOSES.ciDeploy).Statement) {
        const keyAdmin = list(s.Action).some((a) =>
          /^kms:(PutKeyPolicy|CreateGrant|ScheduleKeyDeletion)/.test(a),
        );
        if (keyAdmin && list(s.Resource).some((r) => r.includes("*")))
          out.push(`${s.Sid}: key administration on ${list(s.Resource).join(", ")}`);
      }
      return out;
    },
  },
  {
    id: "ci-data-key-use-pinned",
    claim:
      "every use of a key by the CI roles is pinned to a service and an encryption context (the bucket or table)",
    async violations(env) {
      const v = view(env);
      const out: string[] = [];
      for (const purpose of [ROLE_PURPOSES.ciPlan, ROLE_PURPOSES.ciDeploy]) {
        for (const s of v.identity(purpose).Statement.filter((st) => st.Effect === "Allow")) {
          const actions = list(s.Action);
          if (!actions.some((a) => /^kms:(Decrypt|Encrypt|GenerateDataKey|ReEncrypt)/.test(a))) continue;
          const equals = (s.Condition?.StringEquals ?? {}) as Record<string, unknown>;
          const like = (s.Condition?.StringLike ?? {}) as Record<string, unknown>;
          const context = Object.keys(equals).filter((k) => k.startsWith("kms:EncryptionContext:"));
          // The one context AWS names itself: the RDS-managed master secret (`rds!db-<uuid>`), only while RDS
          // creates it (aws:CalledVia), only through Secrets Manager.
          const calledVia = list(s.Condition?.["ForAnyValue:StringEquals"]?.["aws:CalledVia"]);
          const rdsSecret =
            equals["kms:ViaService"] === v.naming.viaService("secretsmanager") &&
            JSON.stringify(list(like["kms:EncryptionContext:SecretARN"])) ===
              JSON.stringify([
                `arn:${v.location.partition}:secretsmanager:${v.location.region}:${v.location.account}:secret:rds!db-*`,
              ]) &&
            JSON.stringify(calledVia) === JSON.stringify(["rds.amazonaws.com"]);
          if (
            equals["kms:ViaService"] === undefined ||
            (context.length === 0 && !rdsSecret) ||
            context.some((k) => list(equals[k]).some((x) => x.includes("*")))
          ) {
            out.push(
              `${purpose} ${s.Sid}: ${actions.join(",")} without kms:ViaService and an exact encryption context`,
            );
          }
        }
      }
      return out;
    },
  },
  {
    id: "deployer-stays-in-its-state",
    claim: "the CI roles read and write only their own stack's state and lock items",
    async violations(env) {
      const v = view(env);
      const stateBucket = v.bucketName("tfstate");
      const otherStacks = [`state-bootstrap-${env.config.environment}`, "lake-other"];
      const cases = [ROLE_PURPOSES.ciPlan, ROLE_PURPOSES.ciDeploy].flatMap((purpose) => {
        const principal = v.roleArn(purpose);
        const policies = { identity: [v.identity(purpose)] };
        return otherStacks.flatMap((stack) => [
          ...["s3:GetObject", "s3:PutObject", "s3:DeleteObject"].map((action) =>
            denied(`${purpose} ${action} state of ${stack}`, policies, {
              principal,
              action,
              resource: v.stateObject(stack),
            }),
          ),
          ...["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"].map((action) =>
            denied(`${purpose} ${action} lock of ${stack}`, policies, {
              principal,
              action,
              resource: v.lockTableArn,
              context: { "dynamodb:LeadingKeys": [`${stateBucket}/${v.naming.stateKey(stack)}`] },
            }),
          ),
        ]);
      });
      return expectDecisions(cases);
    },
  },
  {
    id: "ci-trust",
    claim:
      "GitHub tokens reach the CI roles only from the pipeline workflow: plans from pull requests and the deploy branch, applies only in the deploy environment",
    async violations(env) {
      const v = view(env);
      const { githubRepository: repo, deployRef, deployEnvironment } = env.config.ci;
      const subjectRepo = env.config.ci.immutableSubject
        ? repo.replace(
            /^([^/]+)\/(.+)$/,
            `$1@${env.config.ci.immutableSubject.ownerId}/$2@${env.config.ci.immutableSubject.repositoryId}`,
          )
        : repo;
      const workflow = `job_workflow_ref:${repo}/${CI_WORKFLOW_PATH}@`;
      const expected = {
        [ROLE_PURPOSES.ciPlan]: [
          `repo:${subjectRepo}:pull_request:${workflow}refs/pull/*/merge`,
          `repo:${subjectRepo}:ref:${deployRef}:${workflow}${deployRef}`,
        ],
        [ROLE_PURPOSES.ciDeploy]: [
          `repo:${subjectRepo}:environment:${deployEnvironment}:${workflow}${deployRef}`,
        ],
      };
      const out: string[] = [];
      for (const [purpose, subjects] of Object.entries(expected)) {
        const trust = JSON.parse(
          String(v.roleResource(purpose)?.assume_role_policy ?? "{}"),
        ) as PolicyDocument;
        const statements = trust.Statement ?? [];
        if (statements.length !== 1) out.push(`${purpose}: ${statements.length} trust statements`);
        for (const s of statements) {
          const c = s.Condition ?? {};
          const aud = c.StringEquals?.["token.actions.githubusercontent.com:aud"];
          const sub = list(
            c.StringEquals?.["token.actions.githubusercontent.com:sub"] ??
              c.StringLike?.["token.actions.githubusercontent.com:sub"],
          );
          if (aud !== "sts.amazonaws.com") out.push(`${purpose}: aud ${aud}`);
          if (JSON.stringify(sub) !== JSON.stringify(subjects))
            out.push(`${purpose}: sub ${JSON.stringify(sub)}`);
          if (purpose === ROLE_PURPOSES.ciDeploy && c.StringLike) out.push(`${purpose}: wildcard subject`);
          if (Object.keys(c).some((op) => !["StringEquals", "StringLike"].includes(op)))
            out.push(`${purpose}: other operators`);
        }
      }
      return out;
    },
  },
  {
    id: "key-policies-name-users",
    claim:
      "key policies grant data use to named roles only: no Principal *, and the account principal only with aws:PrincipalArn",
    async violations(env) {
      const v = view(env);
      const root = `arn:${v.location.partition}:iam::${v.location.account}:root`;
      const out: string[] = [];
      for (const { policy, s } of statementsOf(v.all, ["key"])) {
        if (s.Effect !== "Allow") continue;
        const principal = s.Principal as { AWS?: unknown; Service?: unknown } | string;
        const aws = typeof principal === "string" ? [principal] : list(principal?.AWS);
        if (aws.some((p) => p === "*")) out.push(`${label(policy, s)}: Principal *`);
        const usesData = (await Promise.all(list(s.Action).map(expandAction)))
          .flat()
          .some((a) => DATA_USE.test(a));
        if (aws.includes(root) && usesData) {
          const named = list(
            s.Condition?.ArnLike?.["aws:PrincipalArn"] ?? s.Condition?.ArnEquals?.["aws:PrincipalArn"],
          );
          if (named.length === 0 || named.some((n) => /:role\/\*$|^\*$|:root$/.test(n))) {
            out.push(`${label(policy, s)}: the account may use the key without naming the roles`);
          }
        }
      }
      return out;
    },
  },
  {
    id: "no-grants-for-administrators",
    claim:
      "no key policy lets a principal create grants, except AWS services creating them for AWS resources",
    async violations(env) {
      const out: string[] = [];
      for (const { policy, s } of statementsOf(view(env).all, ["key"])) {
        if (s.Effect !== "Allow") continue;
        const actions = (await Promise.all(list(s.Action).map(expandAction))).flat();
        if (!actions.includes("kms:CreateGrant")) continue;
        if (String(s.Condition?.Bool?.["kms:GrantIsForAWSResource"]) !== "true") {
          out.push(`${label(policy, s)}: kms:CreateGrant without kms:GrantIsForAWSResource`);
        }
      }
      return out;
    },
  },
  {
    id: "services-pinned-to-account",
    claim:
      "every AWS service admitted by a key, bucket or topic policy is pinned to this account (confused deputy)",
    async violations(env) {
      const v = view(env);
      const out: string[] = [];
      for (const { policy, s } of statementsOf(v.all, ["key", "bucket", "topic"])) {
        const service =
          typeof s.Principal === "object" ? (s.Principal as { Service?: unknown }).Service : undefined;
        if (s.Effect !== "Allow" || service === undefined) continue;
        if (!conditionPinsAccount(s, v.location.account))
          out.push(`${label(policy, s)}: ${list(service).join(",")} not pinned to ${v.location.account}`);
      }
      return out;
    },
  },
  {
    id: "no-foreign-principals",
    claim: "bucket, key and topic policies allow no principal outside this account",
    async violations(env) {
      const v = view(env);
      const out: string[] = [];
      for (const { policy, s } of statementsOf(v.all, ["key", "bucket", "topic"])) {
        if (s.Effect !== "Allow") continue;
        if (s.Principal === "*") {
          out.push(`${label(policy, s)}: Principal *`);
          continue;
        }
        for (const p of list((s.Principal as { AWS?: unknown })?.AWS)) {
          if (p.split(":")[4] !== v.location.account) out.push(`${label(policy, s)}: allows ${p}`);
        }
      }
      return out;
    },
  },
  {
    id: "account-public-access-block",
    claim: "the account-level S3 public access block, where the environment owns it, blocks four ways",
    async violations(env) {
      const blocks = Object.values(env.bootstrap.resource.aws_s3_account_public_access_block ?? {});
      const out: string[] = [];
      if (env.config.ownsAccountSingletons && env.config.environment !== "local" && blocks.length !== 1) {
        out.push(`${blocks.length} account public access blocks`);
      }
      for (const b of blocks) {
        for (const field of [
          "block_public_acls",
          "block_public_policy",
          "ignore_public_acls",
          "restrict_public_buckets",
        ]) {
          if (b[field] !== true) out.push(`${field} = ${b[field]}`);
        }
      }
      return out;
    },
  },
  {
    id: "raw-write-once",
    claim:
      "raw is write-once: no lifecycle expiry, and nobody but the break-glass role deletes, overwrites or changes what lifecycle may do",
    async violations(env) {
      const v = view(env);
      const out: string[] = [];
      const rawBucket = Object.entries(env.lake.resource.aws_s3_bucket ?? {}).find(
        ([, b]) => b.bucket === v.bucketName("raw"),
      );
      const lifecycle = Object.values(env.lake.resource.aws_s3_bucket_lifecycle_configuration ?? {}).find(
        (l) => rawBucket && String(l.bucket).startsWith(`\${aws_s3_bucket.${rawBucket[0]}.`),
      );
      if (!lifecycle) out.push("raw has no lifecycle configuration");
      for (const rule of (lifecycle?.rule ?? []) as Array<Record<string, unknown>>) {
        for (const field of ["expiration", "noncurrent_version_expiration"]) {
          if (rule[field] !== undefined) out.push(`raw lifecycle rule ${rule.id} has ${field}`);
        }
      }
      const bucketPolicy = v.bucketPolicy("raw");
      if (!bucketPolicy) return [...out, "raw has no bucket policy"];
      const s3Anything: PolicyDocument = {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "*" }],
      };
      const rawObject = `${v.bucketArn("raw")}/raw/general/ingestion=1/part-0.csv`;
      const tls = { "aws:SecureTransport": "true", "s3:TlsVersion": "1.3" };
      const as = (principal: string) => ({ identity: [s3Anything], resourcePolicy: bucketPolicy, principal });
      const cases = [
        v.roleArn(ROLE_PURPOSES.ciDeploy),
        v.roleArn(ROLE_PURPOSES.ingestion),
        v.roleArn("administrator"),
      ].flatMap((principal) => {
        const p = as(principal);
        return [
          ...["s3:DeleteObject", "s3:DeleteObjectVersion"].map((action) =>
            denied(`${principal} ${action}`, p, { principal, action, resource: rawObject, context: tls }),
          ),
          ...[
            "s3:PutLifecycleConfiguration",
            "s3:PutBucketVersioning",
            "s3:PutBucketPolicy",
            "s3:DeleteBucketPolicy",
          ].map((action) =>
            denied(`${principal} ${action}`, p, {
              principal,
              action,
              resource: v.bucketArn("raw"),
              context: tls,
            }),
          ),
          denied(`${principal} PutObject without If-None-Match`, p, {
            principal,
            action: "s3:PutObject",
            resource: rawObject,
            context: { ...tls, "s3:ObjectCreationOperation": "true" },
          }),
          allowed(`${principal} PutObject with If-None-Match`, p, {
            principal,
            action: "s3:PutObject",
            resource: rawObject,
            context: { ...tls, "s3:ObjectCreationOperation": "true", "s3:if-none-match": "*" },
          }),
          allowed(`${principal} UploadPart`, p, {
            principal,
            action: "s3:PutObject",
            resource: rawObject,
            context: { ...tls, "s3:ObjectCreationOperation": "false" },
          }),
        ];
      });
      const breakGlass = as(v.breakGlassArn);
      cases.push(
        allowed("break-glass DeleteObjectVersion", breakGlass, {
          principal: v.breakGlassArn,
          action: "s3:DeleteObjectVersion",
          resource: rawObject,
          context: tls,
        }),
        allowed("break-glass PutLifecycleConfiguration", breakGlass, {
          principal: v.breakGlassArn,
          action: "s3:PutLifecycleConfiguration",
          resource: v.bucketArn("raw"),
          context: tls,
        }),
      );
      return [...out, ...(await expectDecisions(cases))];
    },
  },
  {
    id: "backend-key-accepted",
    claim:
      "the lake's S3 backend names the state key the way the state bucket policy requires (DenyOtherKmsKey)",
    async violations(env) {
      const backend = env.lake.terraform.backend?.s3;
      if (!backend) return [];
      const v = view(env);
      const policy = v.bucketPolicy("tfstate");
      const denyOther = policy?.Statement.find((s) => s.Sid === "DenyOtherKmsKey");
      const acceptedIds = list(
        denyOther?.Condition?.StringNotEquals?.["s3:x-amz-server-side-encryption-aws-kms-key-id"],
      );
      const kmsKeyId = String(backend.kms_key_id);
      const out: string[] = [];
      if (!acceptedIds.includes(kmsKeyId))
        out.push(`backend kms_key_id ${kmsKeyId} is not among ${JSON.stringify(acceptedIds)}`);
      const stateKey = v.keyArn(env.bootstrap, v.naming.stateKeyAlias);
      const aliasArn = `arn:${v.location.partition}:kms:${v.location.region}:${v.location.account}:${v.naming.stateKeyAlias}`;
      if (kmsKeyId !== stateKey && kmsKeyId !== aliasArn)
        out.push(`backend kms_key_id ${kmsKeyId} is not the state key`);
      const encryption = Object.values(
        env.bootstrap.resource.aws_s3_bucket_server_side_encryption_configuration ?? {},
      ).map((e) => resolveReferences(env.bootstrap.resource, v.location, JSON.stringify(e.rule)));
      if (!encryption.some((e) => e.includes(stateKey)))
        out.push("no bucket of the bootstrap is encrypted with the state key");
      return out;
    },
  },
  {
    id: "policy-sizes",
    claim:
      "every policy fits AWS's size limits (a role's inline policies 10,240 characters together, managed 6,144 each and at most 10 per role, bucket 20 KB)",
    async violations(env) {
      const limits: Record<string, number> = {
        identity: 10_240,
        managed: MANAGED_POLICY_MAX_CHARS,
        boundary: MANAGED_POLICY_MAX_CHARS,
        bucket: 20_480,
        key: 32_768,
        topic: 30_720,
        trust: 2_048,
      };
      const all = view(env).all.map((p) => ({
        p,
        size: JSON.stringify(p.document).replace(/\s/g, "").length,
      }));
      const out = all
        .filter(({ p, size }) => p.kind !== "identity" && size > (limits[p.kind] ?? 0))
        .map(({ p, size }) => `${p.stack} ${p.address}: ${size} characters, limit ${limits[p.kind]}`);
      // IAM's inline limit is per role (all its inline policies together); managed policies count per role.
      const roles = new Set(
        all
          .filter(({ p }) => p.kind === "identity" || p.kind === "managed")
          .map(({ p }) => `${p.stack} ${p.subject}`),
      );
      for (const role of roles) {
        const of = (kind: string) =>
          all.filter(({ p }) => p.kind === kind && `${p.stack} ${p.subject}` === role);
        const inline = of("identity").reduce((n, { size }) => n + size, 0);
        if (inline > limits.identity)
          out.push(`${role}: inline policies ${inline} characters, limit ${limits.identity}`);
        const managed = of("managed").length;
        if (managed > MANAGED_POLICIES_PER_ROLE)
          out.push(`${role}: ${managed} managed policies, limit ${MANAGED_POLICIES_PER_ROLE}`);
      }
      return out;
    },
  },
  {
    id: "warehouse-database-hardened",
    claim:
      "the warehouse database is private, KMS-encrypted (storage, master secret, Performance Insights), its master password rotated, TLS-only, IAM-authenticated, audited (pgaudit, connections), monitored, backed up, and Multi-AZ with deletion protection in prod",
    async violations(env) {
      return warehouseDatabaseFindings(env);
    },
  },
  {
    id: "warehouse-network-private",
    claim:
      "the warehouse network logs all traffic to a KMS log group, opens nothing to the internet, leaves the default security group empty, and its roles carry the workload boundary",
    async violations(env) {
      return warehouseNetworkFindings(env);
    },
  },
  {
    id: "warehouse-loader-least-privilege",
    claim:
      "the warehouse loader connects as its own login only, writes only the extract prefix of the curated bucket, deletes nothing, reads no raw data, uses the data key only through S3 for its buckets, and places network interfaces only in its subnet",
    async violations(env) {
      return warehouseLoaderFindings(env);
    },
  },
  {
    id: "quality-rulesets-match-job",
    claim:
      "every curated table has a Glue Data Quality ruleset holding each of the curate job's rules at the job's threshold",
    async violations(env) {
      // Off only by config, where Glue Data Quality does not exist (the local moto server).
      if (!env.config.etl.qualityRulesets) return [];
      const rules = loadQualityRules();
      const resources = env.lake.resource as Record<string, Record<string, Record<string, unknown>>>;
      const job = Object.values(resources.aws_glue_job ?? {}).find((j) => String(j.name).endsWith("-curate"));
      const threshold = (job?.default_arguments as Record<string, string> | undefined)?.[
        "--max_rule_violation_ratio"
      ];
      if (!threshold) return ["the curate job has no --max_rule_violation_ratio"];
      const rulesets = Object.values(resources.aws_glue_data_quality_ruleset ?? {});
      const out: string[] = [];
      for (const [table, metrics] of Object.entries(rules)) {
        const ruleset = rulesets.find(
          (r) => (r.target_table as { table_name: string } | undefined)?.table_name === table,
        );
        if (!ruleset) {
          out.push(`${table}: no ruleset`);
          continue;
        }
        const expected = renderDqdl(metrics, Number(threshold));
        if (ruleset.ruleset !== expected)
          out.push(`${table}: ruleset differs from the job's rules at ${threshold}`);
      }
      return out;
    },
  },
  {
    id: "analyst-no-recipient-identity",
    claim:
      "no Lake Formation grant lets the analyst role select recipient-identity columns: its SELECT grants are by tag and require sensitivity=public",
    async violations(env) {
      const resources = env.lake.resource as Record<string, Record<string, Record<string, unknown>>>;
      const out: string[] = [];
      for (const [name, grant] of Object.entries(resources.aws_lakeformation_permissions ?? {})) {
        // The analyst role by reference, or by its ARN written out (e.g. listed as an identity reader).
        const analystArn = `:role/${new Naming(env.config).role(ROLE_PURPOSES.analyst)}`;
        const principal = String(grant.principal);
        if (!principal.includes("aws_iam_role.access_analyst") && !principal.endsWith(analystArn)) continue;
        const permissions = list(grant.permissions);
        if (!permissions.some((p) => p === "SELECT" || p === "ALL")) continue;
        const policy = grant.lf_tag_policy as
          | { expression: Array<{ key: string; values: string[] }> }
          | undefined;
        const sensitivity = policy?.expression.find((e) => e.key === "sensitivity");
        if (!policy) out.push(`${name}: analyst SELECT not by LF-tag (names a table or columns directly)`);
        else if (!sensitivity || sensitivity.values.some((v) => v !== "public")) {
          out.push(`${name}: analyst SELECT admits sensitivity ${sensitivity?.values.join(",") ?? "(any)"}`);
        }
      }
      return out;
    },
  },
];
