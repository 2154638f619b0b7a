// What each stack's plan must create, per resource type, derived from the configuration and the project's data
// files (zones, Glue jobs, SQL files) and from what each construct is documented to create. The counts are not
// copied from a plan: a construct that gains or loses a resource, or a config change that adds one, changes
// the plan and must change the bill of materials below on purpose.
import openPayments from "../../datasets/open-payments.json";
import { ENVIRONMENTS, type EnvironmentName, type LakeConfig, loadAllConfigs } from "../../modules/config";

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
 * lake-<env>: the data and logs keys; one bucket per zone of datasets/open-payments.json plus the Athena
 * results bucket, all logging to the access-logs bucket.
 */
function lake(_config: LakeConfig): Counts {
  const loggedBuckets = openPayments.zones.length + 1;
  return sum(times(2, lakeKey), lakeBucket(false), times(loggedBuckets, lakeBucket(true)));
}

let configs: Record<EnvironmentName, LakeConfig> | undefined;

/** The expected resource counts of a stack named `<kind>-<environment>`. */
export function expectedResourceCounts(stackName: string): Counts {
  configs ??= loadAllConfigs();
  const environment = ENVIRONMENTS.find((e) => stackName.endsWith(`-${e}`));
  if (!environment) throw new Error(`stack ${stackName} belongs to no environment (${ENVIRONMENTS.join(", ")})`);
  const kind = stackName.slice(0, -environment.length - 1);
  const config = configs[environment];
  if (kind === "state-bootstrap") return stateBootstrap(config);
  if (kind === "lake") return lake(config);
  throw new Error(`no expectations for stack kind "${kind}" (${stackName})`);
}
