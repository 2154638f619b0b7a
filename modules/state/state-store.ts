import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { Construct } from "constructs";
import type { LakeConfig, Naming } from "../config";
import type { LakeKey } from "../keys";
import { LakeBucket } from "../storage";

export interface StateStoreProps {
  readonly config: Pick<LakeConfig, "region" | "storage" | "protectStatefulResources">;
  readonly naming: Naming;
  /** Encrypts the state bucket and the lock table. */
  readonly stateKey: LakeKey;
}

/**
 * Where the lake stacks keep their Terraform state: a versioned, KMS-encrypted, TLS-only bucket (with its own
 * access-logs bucket, since the lake's does not exist yet) and the DynamoDB lock table (`LockID`).
 */
export class StateStore extends Construct {
  readonly bucket: LakeBucket;
  readonly accessLogs: LakeBucket;
  readonly lockTable: DynamodbTable;

  constructor(scope: Construct, id: string, { config, naming, stateKey }: StateStoreProps) {
    super(scope, id);
    const s = config.storage;
    const housekeeping = {
      prefix: "",
      abortIncompleteMultipartAfterDays: s.abortIncompleteMultipartDays,
      noncurrentVersionExpiryDays: s.noncurrentVersionExpiryDays,
    };
    this.accessLogs = new LakeBucket(this, "access-logs", {
      bucketName: naming.bucket("tfstate-logs"),
      encryption: {
        kind: "s3-managed",
        reason: "S3 server access log delivery cannot write to a bucket whose default encryption is SSE-KMS",
      },
      accessLogging: undefined,
      lifecycleRules: [
        { ...housekeeping, id: "expire-access-logs", expireAfterDays: s.accessLogsExpiryDays },
      ],
    });
    this.bucket = new LakeBucket(this, "bucket", {
      bucketName: naming.stateBucket,
      encryption: { kind: "kms", keyArn: stateKey.keyArn },
      accessLogging: { targetBucket: this.accessLogs.bucketName, targetPrefix: "tfstate/" },
      // Old state versions are the way back from a bad apply: keep them for the noncurrent window.
      lifecycleRules: [{ ...housekeeping, id: "abort-uploads-and-expire-old-versions" }],
    });
    this.accessLogs.addPolicyStatements({
      Sid: "AllowS3LogDelivery",
      Effect: "Allow",
      Principal: { Service: "logging.s3.amazonaws.com" },
      Action: "s3:PutObject",
      Resource: this.accessLogs.objectsArn(),
      Condition: {
        StringEquals: { "aws:SourceAccount": naming.accountId },
        ArnLike: { "aws:SourceArn": this.bucket.bucketArn },
      },
    });
    this.lockTable = new DynamodbTable(this, "lock-table", {
      name: naming.lockTable,
      billingMode: "PAY_PER_REQUEST",
      hashKey: "LockID",
      attribute: [{ name: "LockID", type: "S" }],
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true, kmsKeyArn: stateKey.keyArn },
      deletionProtectionEnabled: config.protectStatefulResources,
    });
  }
}
