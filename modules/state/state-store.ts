import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { Construct } from "constructs";
import type { LakeConfig, Naming } from "../config";
import type { LakeKey } from "../keys";
import { accessLogsBucket, denyStatementsFor, housekeepingRule, LakeBucket } from "../storage";

export interface StateStoreProps {
  readonly config: Pick<LakeConfig, "environment" | "storage" | "protectStatefulResources">;
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
    const denyStatements = denyStatementsFor(config);
    const housekeeping = housekeepingRule(s);
    this.accessLogs = accessLogsBucket(this, "access-logs", {
      bucketName: naming.bucket("tfstate-logs"),
      partition: naming.partition,
      accountId: naming.accountId,
      sourceBucketNames: [naming.stateBucket],
      lifecycleRule: { ...housekeeping, id: "expire-access-logs", expireAfterDays: s.accessLogsExpiryDays },
      denyStatements,
      preventDestroy: config.protectStatefulResources,
    });
    this.bucket = new LakeBucket(this, "bucket", {
      bucketName: naming.stateBucket,
      partition: naming.partition,
      // The lake stacks' S3 backend names the key by its alias ARN (backends take no references).
      encryption: { kind: "kms", keyArn: stateKey.keyArn, aliasArn: naming.stateKeyAliasArn },
      accessLogging: { target: this.accessLogs, prefix: "tfstate/" },
      // Old state versions are the way back from a bad apply: keep them for the noncurrent window.
      lifecycleRules: [housekeeping],
      denyStatements,
      preventDestroy: config.protectStatefulResources,
    });
    this.lockTable = new DynamodbTable(this, "lock-table", {
      name: naming.lockTable,
      billingMode: "PAY_PER_REQUEST",
      hashKey: "LockID",
      attribute: [{ name: "LockID", type: "S" }],
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true, kmsKeyArn: stateKey.keyArn },
      deletionProtectionEnabled: config.protectStatefulResources,
      lifecycle: config.protectStatefulResources ? { preventDestroy: true } : undefined,
    });
  }
}
