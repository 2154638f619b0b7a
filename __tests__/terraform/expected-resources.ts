// What each stack's plan must create, per resource type, derived from the configuration and the project's data
// files (zones, Glue jobs, SQL files) and from what each construct is documented to create. The counts are not
// copied from a plan: a construct that gains or loses a resource, or a config change that adds one, changes
// the plan and must change the bill of materials below on purpose.
import { join } from "node:path";
import openPayments from "../../datasets/open-payments.json";
import { ENVIRONMENTS, type EnvironmentName, type LakeConfig, loadAllConfigs } from "../../modules/config";
import { Testing } from "../../modules/core";
import { loadGlueJobs } from "../../modules/etl";
import { readSqlFiles } from "../../modules/query";
import { LakeStack } from "../../stacks";
import { repoRoot } from "./harness";

type Counts = Readonly<Record<string, number>>;

function sum(...parts: Counts[]): Counts {
  const total: Record<string, number> = {};
  for (const part of parts) {
    for (const [type, n] of Object.entries(part)) total[type] = (total[type] ?? 0) + n;
  }
  return Object.fromEntries(Object.entries(total).filter(([, n]) => n > 0));
}

const times = (n: number, part: Counts): Counts => sum(...Array.from({ length: n }, () => part));

/** modules/keys LakeKey: the key, its alias, and its policy as a separate resource (so it can name the key). */
const lakeKey: Counts = { aws_kms_key: 1, aws_kms_alias: 1, aws_kms_key_policy: 1 };

/**
 * modules/storage LakeBucket: the bucket and its settings resources (versioning, default encryption, public
 * access block, BucketOwnerEnforced ownership, TLS-only policy, lifecycle); server access logging only when
 * the bucket logs to another bucket (a logs bucket does not log to itself).
 */
function lakeBucket(logged: boolean): Counts {
  return {
    aws_s3_bucket: 1,
    aws_s3_bucket_versioning: 1,
    aws_s3_bucket_server_side_encryption_configuration: 1,
    aws_s3_bucket_public_access_block: 1,
    aws_s3_bucket_ownership_controls: 1,
    aws_s3_bucket_policy: 1,
    aws_s3_bucket_lifecycle_configuration: 1,
    aws_s3_bucket_logging: logged ? 1 : 0,
  };
}

/**
 * state-bootstrap-<env>: the state key, the state bucket (logging to its own access-logs bucket) and the lock
 * table; in the environment that owns the account singletons also the catalog key, the Glue Data Catalog
 * encryption settings, the GitHub OIDC provider and the account-level S3 public access block.
 */
function stateBootstrap(config: LakeConfig): Counts {
  const singletons = sum(lakeKey, {
    aws_glue_data_catalog_encryption_settings: 1,
    aws_iam_openid_connect_provider: 1,
    aws_s3_account_public_access_block: 1,
  });
  return sum(
    lakeKey,
    lakeBucket(false),
    lakeBucket(true),
    { aws_dynamodb_table: 1 },
    config.ownsAccountSingletons ? singletons : {},
  );
}

/**
 * The CI roles' customer-managed policies, each attached to its role once: as many as the roles' grants for the
 * parts the config enables pack into (6,144 characters each). The packing is arithmetic over the grants, not a
 * design choice, so the number is read from the construct that packs them (modules/access LakeRole).
 */
function ciManagedPolicies(config: LakeConfig): Counts {
  const { ci } = new LakeStack(Testing.app(), `lake-${config.environment}`, { config });
  const n = ci.planRole.managedPolicies.length + ci.deployRole.managedPolicies.length;
  return { aws_iam_policy: n, aws_iam_role_policy_attachment: n };
}

/**
 * The lake's data plane: ingestion table; four workload roles with one inline policy each and two CI roles
 * (managed policies above), and the workload roles' permissions boundary (a managed policy); the Glue security
 * configuration; raw and curated databases, one curated table per
 * dataset with a curatedTable, two crawlers; per Glue job of glue-scripts/jobs.json a job and its script
 * object, plus the Python package object, the jobs' log group, the workflow and its triggers (one on-demand
 * start, one conditional per step after the first: crawl raw, each job, crawl curated); the Athena workgroup
 * and one named query per sql/ file; the alerts topic, its policy and e-mail subscription, and a rule and
 * target for job failures and for crawler failures.
 */
function dataPlane(): Counts {
  const jobs = loadGlueJobs(join(repoRoot, "glue-scripts")).length;
  const curatedTables = Object.values(openPayments.datasets).filter((d) => d.curatedTable !== null).length;
  return {
    aws_dynamodb_table: 1,
    aws_iam_role: 6,
    aws_iam_role_policy: 4,
    aws_iam_policy: 1,
    aws_glue_security_configuration: 1,
    aws_glue_catalog_database: 2,
    aws_glue_catalog_table: curatedTables,
    aws_glue_crawler: 2,
    aws_glue_job: jobs,
    aws_s3_object: jobs + 1,
    aws_cloudwatch_log_group: 1,
    aws_glue_workflow: 1,
    aws_glue_trigger: 1 + (jobs + 1),
    aws_athena_workgroup: 1,
    aws_athena_named_query: readSqlFiles(join(repoRoot, "sql")).length,
    aws_sns_topic: 1,
    aws_sns_topic_policy: 1,
    aws_sns_topic_subscription: 1,
    aws_cloudwatch_event_rule: 2,
    aws_cloudwatch_event_target: 2,
  };
}

/** modules/quality: one Glue Data Quality ruleset per curated table, unless etl.qualityRulesets is off. */
function qualityRulesets(config: LakeConfig): Counts {
  const curatedTables = Object.values(openPayments.datasets).filter((d) => d.curatedTable !== null).length;
  return { aws_glue_data_quality_ruleset: config.etl.qualityRulesets ? curatedTables : 0 };
}

/**
 * lake-<env>: the data and logs keys; one bucket per zone of datasets/open-payments.json plus the Athena
 * results bucket, all logging to the access-logs bucket; and the data plane above.
 */
export function lake(config: LakeConfig): Counts {
  const loggedBuckets = openPayments.zones.length + 1;
  return sum(
    times(2, lakeKey),
    lakeBucket(false),
    times(loggedBuckets, lakeBucket(true)),
    dataPlane(),
    ciManagedPolicies(config),
    qualityRulesets(config),
    warehouse(config),
    orchestration(config),
  );
}

/**
 * The hands-off refresh when `orchestration.enabled` (modules/orchestration): its permissions boundary; four
 * Lambda functions (discover, ingest, smoke, landing validator), each with its role, inline policy and log group;
 * the large-file CodeBuild project with its role, log group and the ingest CLI bundle as an S3 object; the state
 * machine with its role and log group; the landing queue, its policy, its dead-letter queue, the bucket
 * notification feeding it and the validator's event source mapping; with a schedule the Scheduler schedule and
 * its role; alarms (failed and timed-out executions, dead letters, errors and throttles per function, failed
 * tasks and run time per Glue job, quarantine ratio); the dashboard; with a monthly limit the budget.
 */
function orchestration(config: LakeConfig): Counts {
  const o = config.orchestration;
  if (!o.enabled) return {};
  const functions = 4;
  const jobs = loadGlueJobs(join(repoRoot, "glue-scripts")).length;
  const scheduled = o.schedule === null || config.environment === "local" ? 0 : 1;
  return {
    aws_iam_policy: 1,
    aws_iam_role: functions + 2 + scheduled,
    aws_iam_role_policy: functions + 2 + scheduled,
    aws_cloudwatch_log_group: functions + 2,
    aws_lambda_function: functions,
    aws_codebuild_project: 1,
    aws_s3_object: 1,
    aws_sfn_state_machine: 1,
    aws_sqs_queue: 2,
    aws_sqs_queue_policy: 1,
    aws_s3_bucket_notification: 1,
    aws_lambda_event_source_mapping: 1,
    aws_scheduler_schedule: scheduled,
    aws_cloudwatch_metric_alarm: 3 + 2 * functions + 2 * jobs + 1,
    aws_cloudwatch_dashboard: 1,
    aws_budgets_budget: o.budgetMonthlyUsd === undefined ? 0 : 1,
  };
}

/**
 * The serving warehouse when `warehouse.enabled`: modules/network's VPC, stripped default security group, one
 * route table, a subnet and route-table association per zone, the S3 gateway endpoint and one interface
 * endpoint per listed service behind their security group (one HTTPS ingress rule), the flow log, its log
 * group and delivery role; modules/warehouse's database and loader security groups, one 5432 ingress rule from
 * the loader and one per client CIDR and security group, the subnet and parameter groups, the two exported-log
 * groups, the monitoring role, the instance, the master password's rotation schedule, three alarms and the loader's Glue network connection;
 * modules/warehouse's WarehouseLoader: the Glue job, its role and policy, its log group, its script and bundle.
 */
function warehouse(config: LakeConfig): Counts {
  const w = config.warehouse;
  if (!w?.enabled) return {};
  const zones = w.availabilityZones.length;
  return {
    aws_vpc: 1,
    aws_default_security_group: 1,
    aws_route_table: 1,
    aws_subnet: zones,
    aws_route_table_association: zones,
    aws_vpc_endpoint: 1 + w.interfaceEndpoints.length,
    aws_security_group: 3,
    aws_vpc_security_group_ingress_rule: 2 + w.clientCidrs.length + w.clientSecurityGroupIds.length,
    aws_flow_log: 1,
    aws_cloudwatch_log_group: 3 + 1,
    aws_iam_role: 2 + 1,
    aws_iam_role_policy: 2 + 1,
    aws_db_subnet_group: 1,
    aws_db_parameter_group: 1,
    aws_db_instance: 1,
    aws_secretsmanager_secret_rotation: 1,
    aws_cloudwatch_metric_alarm: 3,
    aws_glue_connection: 1,
    aws_glue_job: 1,
    aws_s3_object: 2,
  };
}

let configs: Record<EnvironmentName, LakeConfig> | undefined;

/** The expected resource counts of a stack named `<kind>-<environment>`. */
export function expectedResourceCounts(stackName: string): Counts {
  configs ??= loadAllConfigs();
  const environment = ENVIRONMENTS.find((e) => stackName.endsWith(`-${e}`));
  if (!environment)
    throw new Error(`stack ${stackName} belongs to no environment (${ENVIRONMENTS.join(", ")})`);
  const kind = stackName.slice(0, -environment.length - 1);
  const config = configs[environment];
  if (kind === "state-bootstrap") return stateBootstrap(config);
  if (kind === "lake") return lake(config);
  throw new Error(`no expectations for stack kind "${kind}" (${stackName})`);
}
