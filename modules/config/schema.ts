import { z } from "zod";
import { bucketNameProblem, Naming } from "./naming";
import { isSupportedRegion, partitionOf, regionRule } from "./regions";

/** The environments the project deploys; `config/<name>.json` exists for each. */
export const ENVIRONMENTS = ["dev", "prod", "local"] as const;
export type EnvironmentName = (typeof ENVIRONMENTS)[number];

/** Retention values CloudWatch Logs accepts (PutRetentionPolicy rejects anything else). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Worker types Glue 5.0 Spark jobs accept. */
export const GLUE_WORKER_TYPES = ["G.1X", "G.2X", "G.4X", "G.8X"] as const;

const positiveDays = (what: string) =>
  z
    .number()
    .int({ error: `must be a whole number of days (${what})` })
    .min(1, { error: `must be at least 1 day (${what})` });

const backendSchema = z
  .discriminatedUnion(
    "type",
    [
      z
        .strictObject({
          type: z.literal("local"),
        })
        .describe("Local state file next to the synthesized stack. For the first apply only."),
      z
        .strictObject({
          type: z.literal("s3"),
        })
        .describe(
          "S3 state in this environment's state-bootstrap bucket (SSE-KMS with the state key), S3 lock file plus " +
            "the DynamoDB lock table. Bucket, table and key are derived from the naming rules, not repeated here.",
        ),
      z
        .strictObject({
          type: z.literal("cloud"),
          organization: z.string().min(1, { error: "must name the Terraform Cloud organization" }),
          hostname: z
            .string()
            .regex(/^[a-z0-9.-]+$/, { error: "must be a host name such as app.terraform.io" })
            .optional()
            .describe("Terraform Enterprise host; default app.terraform.io."),
          workspace: z
            .union([
              z.strictObject({ name: z.string().min(1).describe("One named workspace per stack.") }),
              z.strictObject({
                tags: z
                  .array(z.string().min(1))
                  .min(1, { error: "must list at least one workspace tag" })
                  .describe("Workspaces selected by tags."),
              }),
            ])
            .describe("Either {name} or {tags}."),
        })
        .describe("Terraform Cloud / Enterprise (remote runs, state and locking in TFC)."),
    ],
    { error: "must be local, s3 or cloud" },
  )
  .describe("Where the lake stack keeps its state. The state-bootstrap stack always uses local state.");

const roleArns = (who: string) =>
  z
    .array(
      z.string().regex(/^arn:aws(-us-gov)?:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, {
        error: "must be an IAM role ARN such as arn:aws:iam::111111111111:role/DataEngineer",
      }),
    )
    .min(1, { error: "must list at least one IAM role ARN" })
    .describe(`IAM role ARNs that may assume ${who}.`);

const cidrBlock = z.string().regex(/^(\d{1,3}\.){3}\d{1,3}\/(\d|[12]\d|3[0-2])$/, {
  error: "must be an IPv4 CIDR such as 10.20.0.0/16",
});

/** The serving warehouse (docs/warehouse.md): off unless an environment turns it on. */
export const WAREHOUSE_DEFAULTS = {
  enabled: false,
  vpcCidr: "10.40.0.0/20",
  availabilityZones: ["a", "b"],
  interfaceEndpoints: ["athena", "glue", "logs", "sts"],
  clientCidrs: [],
  clientSecurityGroupIds: [],
  engineVersion: "18",
  instanceClass: "db.t4g.medium",
  allocatedStorageGb: 50,
  maxAllocatedStorageGb: 200,
  multiAz: false,
  deletionProtection: false,
  backupRetentionDays: 7,
  logRetentionDays: 365,
  alarms: { cpuPercent: 80, freeStorageGb: 10, connections: 200 },
};

const warehouseSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .describe("Creates the warehouse VPC and RDS PostgreSQL in this environment's lake stack."),
    vpcCidr: cidrBlock.describe(
      "The warehouse VPC's CIDR (default 10.40.0.0/20); private subnet i is cidrsubnet(vpcCidr, 4, i).",
    ),
    availabilityZones: z
      .array(z.string().regex(/^[a-z]$/, { error: "must be an availability-zone letter such as a" }))
      .min(2, { error: "must list at least 2 availability zones (RDS subnet groups need 2)" })
      .describe("Zone letters (appended to the region) of the private subnets, one subnet each."),
    interfaceEndpoints: z
      .array(z.enum(["athena", "glue", "logs", "sts", "secretsmanager", "kms", "monitoring"]))
      .describe(
        "Interface VPC endpoints for the loader (the VPC has no NAT); S3 always has a gateway endpoint.",
      ),
    clientCidrs: z
      .array(cidrBlock)
      .refine((list) => !list.some((c) => c.endsWith("/0")), {
        error: "must not admit the whole internet (/0)",
      })
      .describe("IP allow-list of BI clients admitted to PostgreSQL (5432), e.g. a BI host's /32."),
    clientSecurityGroupIds: z
      .array(
        z.string().regex(/^sg-[0-9a-f]{8,17}$/, {
          error: "must be a security group id such as sg-0123456789abcdef0",
        }),
      )
      .describe("Security groups of BI clients admitted to PostgreSQL (5432)."),
    engineVersion: z
      .string()
      .regex(/^\d+(\.\d+)?$/, { error: "must be a PostgreSQL version such as 18 or 18.1" })
      .describe("RDS PostgreSQL engine version (major only: RDS picks the current minor and upgrades it)."),
    instanceClass: z
      .string()
      .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, { error: "must be an RDS class such as db.t4g.medium" })
      .describe("RDS instance class."),
    allocatedStorageGb: z
      .number()
      .int()
      .min(20, { error: "must be at least 20 GB (gp3)" })
      .describe("Initial gp3 storage."),
    maxAllocatedStorageGb: z
      .number()
      .int()
      .min(20, { error: "must be at least 20 GB" })
      .describe("Storage autoscaling ceiling (>= allocatedStorageGb)."),
    multiAz: z.boolean().describe("A standby in a second zone (must be true in prod)."),
    deletionProtection: z.boolean().describe("RDS deletion protection (must be true in prod)."),
    backupRetentionDays: z
      .number()
      .int()
      .min(1, { error: "must be between 1 and 35 (RDS limits; 0 would turn backups and PITR off)" })
      .max(35, { error: "must be between 1 and 35 (RDS limits; 0 would turn backups and PITR off)" })
      .describe("Automated backups kept, which is also the point-in-time-recovery window."),
    logRetentionDays: z
      .number()
      .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
        error: `must be one of CloudWatch's values: ${LOG_RETENTION_DAYS.join(", ")}`,
      })
      .describe("Retention of the PostgreSQL, upgrade and VPC flow log groups."),
    alarms: z
      .strictObject({
        cpuPercent: z.number().min(1).max(100).describe("CPU alarm threshold (average over 5 minutes)."),
        freeStorageGb: z.number().min(1).describe("Free storage alarm threshold."),
        connections: z.number().int().min(1).describe("Connections alarm threshold."),
      })
      .describe("CloudWatch alarms to the alerts topic."),
  })
  .refine((w) => w.maxAllocatedStorageGb >= w.allocatedStorageGb, {
    error: "maxAllocatedStorageGb must be at least allocatedStorageGb",
    path: ["maxAllocatedStorageGb"],
  })
  .describe(
    'Serving warehouse: RDS PostgreSQL marts for BI in a private VPC (docs/warehouse.md). Every field has a default; {"enabled": true} is enough.',
  );

/** EventBridge Scheduler expressions (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html). */
const SCHEDULE_EXPRESSION = /^(cron\([^()]+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\))$/;

/** Every Monday 06:00 UTC: CMS publishes in January and June and corrects in between; a weekly look is plenty. */
export const DEFAULT_REFRESH_SCHEDULE = "cron(0 6 ? * MON *)";

const orchestrationSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe(
        "Deploys the hands-off refresh (docs/orchestration.md): the Step Functions state machine, its Lambda " +
          "functions, the large-file CodeBuild project, the landing validator with its dead-letter queue, alarms " +
          "and the dashboard. Off by default: an environment turns it on when it is ready to run unattended.",
      ),
    schedule: z
      .string()
      .regex(SCHEDULE_EXPRESSION, { error: "must be cron(...) or rate(N minutes|hours|days)" })
      .nullable()
      .optional()
      .describe(
        `EventBridge Scheduler expression starting the refresh, or null for manual starts only. Default ${DEFAULT_REFRESH_SCHEDULE} (UTC); always off (null) in local.`,
      ),
    programYears: z
      .array(z.number().int().min(2013, { error: "must be a program year from 2013 on" }))
      .min(1)
      .optional()
      .describe(
        "Program years the scheduled refresh asks CMS about; default the last 7 (what CMS keeps published).",
      ),
    mapConcurrency: z
      .number()
      .int()
      .min(1)
      .max(40, { error: "must be at most 40 (Step Functions inline Map limit)" })
      .default(4)
      .describe("Files ingested at once by the state machine's Map."),
    lambdaMaxBytes: z
      .number()
      .int()
      .min(1_000_000)
      .max(20_000_000_000)
      .default(1_000_000_000)
      .describe(
        "Files larger than this (bytes), or of unknown size, and year ZIPs are ingested by the CodeBuild project instead of Lambda (15-minute limit).",
      ),
    timeoutHours: z
      .number()
      .int()
      .min(1)
      .max(48)
      .default(24)
      .describe("A refresh execution still running after this many hours is stopped (and alarms)."),
    glueMaxMinutes: z
      .number()
      .int()
      .min(1)
      .default(120)
      .describe("Alarm when a Glue job run takes longer than this."),
    quarantineRatioMax: z
      .number()
      .min(0)
      .max(1)
      .default(0.05)
      .describe("Alarm when the clean job quarantines more than this share of the rows it read."),
    budgetMonthlyUsd: z
      .number()
      .positive()
      .optional()
      .describe(
        "Optional AWS Budgets alarm: monthly cost limit (USD) of the lake's tagged resources, alerting at 80 % and 100 %.",
      ),
  })
  .prefault({})
  .describe("The hands-off refresh: event-driven ingestion and orchestration.");

export const lakeConfigSchema = z
  .strictObject({
    environment: z
      .enum(ENVIRONMENTS, { error: `must be one of ${ENVIRONMENTS.join(", ")}` })
      .describe("The environment; must match the file name (config/<environment>.json)."),
    namePrefix: z
      .string()
      .regex(/^[a-z][a-z0-9]{1,9}$/, {
        error: "must be 2-10 lower-case letters or digits, starting with a letter (it starts every name)",
      })
      .describe(
        "Short prefix of every resource name, e.g. opl. Not `sthree` (S3 reserves those bucket names).",
      ),
    region: z
      .string()
      .refine(isSupportedRegion, { error: (issue) => regionRule(String(issue.input)) })
      .describe(
        "AWS region of every resource of the environment; its partition (aws, aws-us-gov) starts every ARN. " +
          "China regions are refused.",
      ),
    accountId: z
      .string({ error: "must be a 12-digit AWS account id (quoted, as a string)" })
      .regex(/^\d{12}$/, { error: "must be a 12-digit AWS account id (quoted, as a string)" })
      .describe("The AWS account; the provider refuses any other (allowed_account_ids)."),
    ownsAccountSingletons: z
      .boolean()
      .describe(
        "Whether this environment's state-bootstrap stack owns the account-wide singletons (Glue Data Catalog " +
          "encryption, account S3 public access block, GitHub OIDC provider). Exactly one environment per account.",
      ),
    protectStatefulResources: z
      .boolean()
      .describe(
        "Protects stateful resources: DynamoDB deletion protection, and terraform `prevent_destroy` on buckets, keys and tables (a plan that would replace one fails). Must be true in prod.",
      ),
    tags: z
      .strictObject({
        project: z.string().min(1, { error: "must not be empty" }).describe("Tag `project`."),
        environment: z
          .string()
          .min(1, { error: "must not be empty" })
          .describe("Tag `environment`; must equal `environment`."),
        owner: z.email({ error: "must be an e-mail" }).describe("Tag `owner`: the owning team's e-mail."),
        "cost-center": z
          .string()
          .regex(/^[A-Za-z0-9-]{2,32}$/, { error: "must be 2-32 letters, digits or hyphens" })
          .describe("Tag `cost-center`."),
        "data-classification": z
          .enum(["public", "internal", "confidential", "restricted"], {
            error: "must be one of public, internal, confidential, restricted",
          })
          .describe("Tag `data-classification`; the CMS Open Payments data is public."),
      })
      .describe("Default tags on every resource (the provider's default_tags)."),
    backend: backendSchema,
    keys: z
      .strictObject({
        breakGlassRoleName: z
          .string()
          .regex(/^[\w+=,.@-]{1,64}$/, { error: "must be an IAM role name (1-64 characters)" })
          .describe("Existing IAM role that may administer (not use) every key: the break-glass admin."),
        deletionWindowDays: z
          .number()
          .int()
          .min(7, { error: "must be between 7 and 30 (KMS limits)" })
          .max(30, { error: "must be between 7 and 30 (KMS limits)" })
          .describe("Waiting period before a scheduled key deletion; 30 in prod."),
      })
      .describe("KMS customer managed keys."),
    storage: z
      .strictObject({
        rawInfrequentAccessAfterDays: z
          .number()
          .int()
          .min(30, { error: "must be at least 30 (S3 minimum for STANDARD_IA)" })
          .describe("Raw objects move to STANDARD_IA after this many days."),
        rawGlacierAfterDays: positiveDays("raw objects to GLACIER_IR").describe(
          "Raw objects move to GLACIER_IR after this many days (after the STANDARD_IA transition).",
        ),
        noncurrentVersionExpiryDays: positiveDays("noncurrent versions").describe(
          "Noncurrent object versions expire after this many days (every bucket but raw, which keeps them).",
        ),
        abortIncompleteMultipartDays: positiveDays("incomplete multipart uploads").describe(
          "Incomplete multipart uploads are aborted after this many days.",
        ),
        athenaResultsExpiryDays: positiveDays("query results").describe("Athena query results expire."),
        accessLogsExpiryDays: positiveDays("access logs").describe("S3 server access logs expire."),
      })
      .refine((s) => s.rawGlacierAfterDays >= s.rawInfrequentAccessAfterDays + 30, {
        error: "rawGlacierAfterDays must be at least 30 days after rawInfrequentAccessAfterDays (S3 rule)",
        path: ["rawGlacierAfterDays"],
      })
      .describe("Lifecycle of the lake buckets."),
    etl: z
      .strictObject({
        workerType: z
          .enum(GLUE_WORKER_TYPES, { error: `must be one of ${GLUE_WORKER_TYPES.join(", ")}` })
          .describe("Glue worker type of the clean and curate jobs."),
        numberOfWorkers: z
          .number()
          .int()
          .min(2, { error: "must be at least 2 (Glue Spark minimum)" })
          .max(100, { error: "must be at most 100 (raise deliberately)" })
          .describe("Glue workers per job run."),
        timeoutMinutes: z
          .number()
          .int()
          .min(1)
          .max(2880, { error: "must be at most 2880 (48 h)" })
          .describe("A job run is stopped after this many minutes."),
        maxRetries: z.number().int().min(0).max(10).describe("Automatic retries of a failed job run."),
        logRetentionDays: z
          .number()
          .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
            error: `must be one of CloudWatch's values: ${LOG_RETENTION_DAYS.join(", ")}`,
          })
          .describe(
            `Retention of the Glue jobs' CloudWatch log groups: one of ${LOG_RETENTION_DAYS.join(", ")}.`,
          ),
        curatedFormat: z
          .enum(["parquet", "iceberg"], { error: "must be parquet or iceberg" })
          .default("parquet")
          .describe(
            "How the curate job writes the curated tables: parquet (files per program year) or iceberg (Iceberg " +
              "tables in the curated database, each publication a MERGE and a tag; docs/lakehouse.md).",
          ),
        maxRuleViolationRatio: z
          .number()
          .min(0)
          .max(1)
          .default(0.01)
          .describe(
            "Data-quality threshold (0-1): the curate job fails when a rule's violations / rows exceeds it, and " +
              "the Glue Data Quality rulesets on the curated tables use the same value.",
          ),
        qualityRulesets: z
          .boolean()
          .default(true)
          .describe(
            "Deploy the Glue Data Quality rulesets on the curated tables (false only where Glue Data Quality " +
              "is not available, e.g. the local moto server).",
          ),
      })
      .describe("Glue 5.0 jobs: sizing, curated format and data-quality threshold."),
    athena: z
      .strictObject({
        bytesScannedCutoffPerQuery: z
          .number()
          .int()
          .min(10_000_000, { error: "must be at least 10000000 bytes (Athena minimum)" })
          .describe("Queries scanning more than this are cancelled by the workgroup."),
      })
      .describe("Athena workgroup settings."),
    alerts: z
      .strictObject({
        email: z.email({ error: "must be an e-mail" }).describe("Subscribed to the alerts topic."),
      })
      .describe("Failure alerts (Glue job / crawler failures)."),
    access: z
      .strictObject({
        ingestionPrincipalArns: roleArns(
          "the ingestion writer role (people or pipelines that upload CMS files)",
        ),
        analystPrincipalArns: roleArns("the analyst role (people or tools that query the curated tables)"),
      })
      .describe(
        "Who may assume the lake's tool-facing roles: existing IAM roles of this account (e.g. SSO permission-set " +
          "roles). Named roles only, never the account root, so assuming a lake role takes an explicit grant here.",
      ),
    ci: z
      .strictObject({
        githubRepository: z
          .string()
          .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, { error: "must be owner/name of a GitHub repository" })
          .describe("The repository whose workflow may assume the deployer role through GitHub OIDC."),
        deployRef: z
          .string()
          .regex(/^refs\/heads\/[\w./-]+$/, { error: "must be a branch ref such as refs/heads/main" })
          .describe(
            "Only the pipeline's workflow file at this ref may deploy (`job_workflow_ref` in the OIDC `sub`).",
          ),
        deployEnvironment: z
          .string()
          .regex(/^[A-Za-z0-9_.-]{1,255}$/, {
            error: "must be a GitHub environment name (letters, digits, . _ -)",
          })
          .describe(
            "GitHub environment the apply job runs in; the deployer role trusts only this environment's OIDC " +
              "`sub`. Protect it with required reviewers (docs/ci.md).",
          ),
        immutableSubject: z
          .strictObject({
            ownerId: z.number().int().positive().describe("Numeric id of the repository owner."),
            repositoryId: z.number().int().positive().describe("Numeric id of the repository."),
          })
          .optional()
          .describe(
            "Only for repositories with GitHub's immutable OIDC subject claims: the ids GitHub puts into the " +
              "`repo:` part of the `sub` (`repo:owner@<ownerId>/name@<repositoryId>`).",
          ),
      })
      .describe("Continuous deployment."),
    warehouse: z
      .preprocess((w) => ({ ...WAREHOUSE_DEFAULTS, ...(w as object | undefined) }), warehouseSchema)
      .optional()
      .describe("Serving warehouse (off by default)."),
    lakeFormation: z
      .strictObject({
        admins: z
          .array(
            z.string().regex(/^arn:aws(-us-gov)?:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, {
              error: "must be an IAM role ARN such as arn:aws:iam::111111111111:role/DataLakeAdmin",
            }),
          )
          .min(1, { error: "must list at least one IAM role ARN" })
          .describe("Lake Formation data-lake administrators (they manage grants; named roles only)."),
        recipientIdentityReaders: z
          .array(
            z.string().regex(/^arn:aws(-us-gov)?:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, {
              error: "must be an IAM role ARN such as arn:aws:iam::111111111111:role/Compliance",
            }),
          )
          .default([])
          .describe(
            "Roles granted SELECT on the recipient-identity columns too (e.g. compliance); never the analyst role.",
          ),
      })
      .optional()
      .describe(
        "Lake Formation over the curated zone (docs/lakehouse.md): LF-tags, tag-based grants, hybrid access " +
          "with the analyst role opted in, so it cannot read recipient-identity columns. Absent: IAM only.",
      ),
    orchestration: orchestrationSchema,
    localEndpoint: z
      .url({ error: "must be a URL such as http://127.0.0.1:5000" })
      .optional()
      .describe(
        "Local environment only: the moto server every AWS service points to (through the local AWS " +
          "profile). Overridden by the environment variable LAKE_LOCAL_AWS_ENDPOINT.",
      ),
  })
  .superRefine((c, ctx) => {
    if (c.tags.environment !== c.environment) {
      ctx.addIssue({
        code: "custom",
        path: ["tags", "environment"],
        message: `must equal environment (${c.environment})`,
      });
    }
    if (c.environment === "local" && c.localEndpoint === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["localEndpoint"],
        message: "is required for the local environment",
      });
    }
    if (c.environment !== "local" && c.localEndpoint !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["localEndpoint"],
        message: "is only allowed for the local environment",
      });
    }
    const partition = isSupportedRegion(c.region) ? partitionOf(c.region) : undefined;
    for (const field of ["ingestionPrincipalArns", "analystPrincipalArns"] as const) {
      c.access[field].forEach((arn, i) => {
        if (arn.split(":")[4] !== c.accountId) {
          ctx.addIssue({
            code: "custom",
            path: ["access", field, i],
            message: `must be a role of account ${c.accountId}`,
          });
        }
        if (partition && arn.split(":")[1] !== partition) {
          ctx.addIssue({
            code: "custom",
            path: ["access", field, i],
            message: `must be in partition ${partition} (arn:${partition}:iam::...), the partition of ${c.region}`,
          });
        }
      });
    }
    if (c.environment === "local" && c.orchestration.schedule) {
      ctx.addIssue({
        code: "custom",
        path: ["orchestration", "schedule"],
        message: "must be null in local (nothing runs on a schedule on a developer's machine)",
      });
    }
    if (c.environment === "prod" && !c.protectStatefulResources) {
      ctx.addIssue({ code: "custom", path: ["protectStatefulResources"], message: "must be true in prod" });
    }
    if (c.environment === "prod" && c.keys.deletionWindowDays !== 30) {
      ctx.addIssue({
        code: "custom",
        path: ["keys", "deletionWindowDays"],
        message: "must be 30 in prod (the longest wait before a scheduled key deletion takes effect)",
      });
    }
    if (c.environment === "prod" && c.warehouse?.enabled) {
      for (const field of ["multiAz", "deletionProtection"] as const) {
        if (!c.warehouse[field]) {
          ctx.addIssue({ code: "custom", path: ["warehouse", field], message: "must be true in prod" });
        }
      }
    }
    if (isSupportedRegion(c.region)) {
      const problem = bucketNameProblem(new Naming(c).stateBucket);
      if (problem) {
        ctx.addIssue({
          code: "custom",
          path: ["namePrefix"],
          message: `gives bucket names S3 refuses (${new Naming(c).stateBucket}: ${problem}); choose another prefix`,
        });
      }
    }
  });

export type LakeConfig = z.infer<typeof lakeConfigSchema>;
export type BackendConfig = LakeConfig["backend"];
