import { Construct } from "constructs";
import { type LakeConfig, MOTO_GAPS, type Naming, supports } from "../config";
import {
  abortUploadsRule,
  accessLogsBucket,
  housekeepingRule,
  LakeBucket,
  type LakeBucketProps,
  type LifecycleRule,
} from "./lake-bucket";
import { ZONES, type Zone } from "./layout";

export * from "./lake-bucket";
export * from "./layout";

export interface LakeStorageProps {
  readonly config: Pick<LakeConfig, "environment" | "accountId" | "storage" | "protectStatefulResources">;
  readonly naming: Naming;
  /** KMS key of the lake's data (raw, cleaned, curated, query results). */
  readonly dataKeyArn: string;
  /** The only role that may delete raw objects or change raw's retention settings; raw is write-once. */
  readonly breakGlassRoleArn: string;
}

/** The Deny statements of bucket policies, unless the environment runs on moto (see MOTO_GAPS). */
export function denyStatementsFor(
  config: Pick<LakeConfig, "environment">,
): LakeBucketProps["denyStatements"] {
  return supports(config, "s3PolicyDenyStatements")
    ? { enforce: true }
    : { enforce: false, reason: MOTO_GAPS.s3PolicyDenyStatements };
}

/**
 * The lake's buckets: one per zone (raw, cleaned, curated), Athena query results, and the access-logs bucket
 * that receives the server access logs of all of them.
 */
export class LakeStorage extends Construct {
  readonly accessLogs: LakeBucket;
  readonly zones: Readonly<Record<Zone, LakeBucket>>;
  readonly athenaResults: LakeBucket;

  constructor(
    scope: Construct,
    id: string,
    { config, naming, dataKeyArn, breakGlassRoleArn }: LakeStorageProps,
  ) {
    super(scope, id);
    const s = config.storage;
    const denyStatements = denyStatementsFor(config);
    const housekeeping = housekeepingRule(s);
    const kms = { kind: "kms", keyArn: dataKeyArn } as const;
    const names = {
      ...(Object.fromEntries(ZONES.map((z) => [z, naming.bucket(z)])) as Record<Zone, string>),
      athenaResults: naming.bucket("athena-results"),
      accessLogs: naming.bucket("access-logs"),
    };

    const partition = naming.partition;
    this.accessLogs = accessLogsBucket(this, "access-logs", {
      bucketName: names.accessLogs,
      partition,
      accountId: config.accountId,
      sourceBucketNames: [...ZONES.map((z) => names[z]), names.athenaResults],
      lifecycleRule: { ...housekeeping, id: "expire-access-logs", expireAfterDays: s.accessLogsExpiryDays },
      denyStatements,
      preventDestroy: config.protectStatefulResources,
    });
    const logsTo = (purpose: string) => ({ target: this.accessLogs, prefix: `${purpose}/` });

    // Raw keeps every version for good: its lifecycle only aborts incomplete uploads and moves files to
    // cheaper storage classes.
    const zoneRules: Record<Zone, LifecycleRule[]> = {
      raw: [
        abortUploadsRule(s),
        {
          id: "age-raw-files",
          prefix: "raw/",
          transitions: [
            { days: s.rawInfrequentAccessAfterDays, storageClass: "STANDARD_IA" },
            { days: s.rawGlacierAfterDays, storageClass: "GLACIER_IR" },
          ],
        },
      ],
      cleaned: [housekeeping],
      curated: [housekeeping],
    };
    // Raw files are the lake's evidence: written once, never overwritten, deleted or expired but by the
    // break-glass role (IAM adds a second line: no role of the lake is granted a delete on raw).
    const writeOnce: Partial<Record<Zone, LakeBucketProps["writeOnce"]>> = { raw: { breakGlassRoleArn } };
    const zones = {} as Record<Zone, LakeBucket>;
    for (const zone of ZONES) {
      zones[zone] = new LakeBucket(this, zone, {
        bucketName: names[zone],
        partition,
        encryption: kms,
        accessLogging: logsTo(zone),
        lifecycleRules: zoneRules[zone],
        writeOnce: writeOnce[zone],
        denyStatements,
        preventDestroy: config.protectStatefulResources,
      });
    }
    this.zones = zones;

    this.athenaResults = new LakeBucket(this, "athena-results", {
      bucketName: names.athenaResults,
      partition,
      encryption: kms,
      accessLogging: logsTo("athena-results"),
      lifecycleRules: [
        { ...housekeeping, id: "expire-query-results", expireAfterDays: s.athenaResultsExpiryDays },
      ],
      denyStatements,
      preventDestroy: config.protectStatefulResources,
    });
  }

  /** Every bucket of the lake, access-logs bucket included. */
  get all(): readonly LakeBucket[] {
    return [...ZONES.map((z) => this.zones[z]), this.athenaResults, this.accessLogs];
  }
}
