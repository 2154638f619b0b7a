import { Construct } from "constructs";
import type { LakeConfig, Naming } from "../config";
import { LakeBucket, type LifecycleRule } from "./lake-bucket";
import { ZONES, type Zone } from "./layout";

export * from "./lake-bucket";
export * from "./layout";

export interface LakeStorageProps {
  readonly config: Pick<LakeConfig, "accountId" | "storage">;
  readonly naming: Naming;
  /** KMS key of the lake's data (raw, cleaned, curated, query results). */
  readonly dataKeyArn: string;
  /** Role allowed to delete raw objects (break-glass); raw is otherwise immutable. */
  readonly breakGlassRoleArn: string;
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
    const housekeeping: LifecycleRule = {
      id: "abort-uploads-and-expire-old-versions",
      prefix: "",
      abortIncompleteMultipartAfterDays: s.abortIncompleteMultipartDays,
      noncurrentVersionExpiryDays: s.noncurrentVersionExpiryDays,
    };
    const kms = { kind: "kms", keyArn: dataKeyArn } as const;

    this.accessLogs = new LakeBucket(this, "access-logs", {
      bucketName: naming.bucket("access-logs"),
      encryption: {
        kind: "s3-managed",
        reason: "S3 server access log delivery cannot write to a bucket whose default encryption is SSE-KMS",
      },
      accessLogging: undefined,
      lifecycleRules: [
        { ...housekeeping, id: "expire-access-logs", expireAfterDays: s.accessLogsExpiryDays },
      ],
    });
    const logsTo = (purpose: string) => ({
      targetBucket: this.accessLogs.bucketName,
      targetPrefix: `${purpose}/`,
    });

    const zoneRules: Record<Zone, LifecycleRule[]> = {
      raw: [
        housekeeping,
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
    const zones = {} as Record<Zone, LakeBucket>;
    for (const zone of ZONES) {
      zones[zone] = new LakeBucket(this, zone, {
        bucketName: naming.bucket(zone),
        encryption: kms,
        accessLogging: logsTo(zone),
        lifecycleRules: zoneRules[zone],
      });
    }
    // Raw files are the lake's evidence: nobody but the break-glass role may delete them (IAM adds a second
    // line: no role of the lake is granted a delete on raw).
    zones.raw.addPolicyStatements({
      Sid: "DenyRawDeletion",
      Effect: "Deny",
      Principal: "*",
      Action: ["s3:DeleteObject", "s3:DeleteObjectVersion"],
      Resource: zones.raw.objectsArn(),
      Condition: { ArnNotEquals: { "aws:PrincipalArn": breakGlassRoleArn } },
    });
    this.zones = zones;

    this.athenaResults = new LakeBucket(this, "athena-results", {
      bucketName: naming.bucket("athena-results"),
      encryption: kms,
      accessLogging: logsTo("athena-results"),
      lifecycleRules: [
        { ...housekeeping, id: "expire-query-results", expireAfterDays: s.athenaResultsExpiryDays },
      ],
    });

    // S3's log delivery writes with its service principal; pinned to this account's lake buckets.
    const sources = [...ZONES.map((z) => this.zones[z]), this.athenaResults];
    this.accessLogs.addPolicyStatements({
      Sid: "AllowS3LogDelivery",
      Effect: "Allow",
      Principal: { Service: "logging.s3.amazonaws.com" },
      Action: "s3:PutObject",
      Resource: this.accessLogs.objectsArn(),
      Condition: {
        StringEquals: { "aws:SourceAccount": config.accountId },
        ArnLike: { "aws:SourceArn": sources.map((b) => b.bucketArn) },
      },
    });
  }

  /** Every bucket of the lake, access-logs bucket included. */
  get all(): readonly LakeBucket[] {
    return [...ZONES.map((z) => this.zones[z]), this.athenaResults, this.accessLogs];
  }
}
