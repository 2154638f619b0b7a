import { Construct } from "constructs";
import { arns } from "../access/arns";
import { type LakeConfig, type Naming, supports } from "../config";
import { LakeKey } from "./lake-key";

export * from "./lake-key";

/** KMS's default rotation period, set explicitly where the provider honours it so reviews see it. */
export const ROTATION_PERIOD_DAYS = 365;

export interface LakeKeysProps {
  readonly config: LakeConfig;
  readonly naming: Naming;
}

/**
 * The lake stack's keys: `data` encrypts the lake's buckets, tables and job bookmarks; `logs` encrypts
 * CloudWatch logs and operational messages. (The state key lives in the state-bootstrap stack.)
 * Roles join a key through `addUser` on it; their policies are rendered into the key policy at synth time.
 */
export class LakeKeys extends Construct {
  readonly data: LakeKey;
  readonly logs: LakeKey;

  constructor(scope: Construct, id: string, { config, naming }: LakeKeysProps) {
    super(scope, id);
    const common = {
      location: naming.location,
      breakGlassRoleArn: naming.roleArn(config.keys.breakGlassRoleName),
      deletionWindowDays: config.keys.deletionWindowDays,
      rotationPeriodDays: supports(config, "kmsRotationPeriod") ? ROTATION_PERIOD_DAYS : undefined,
      preventDestroy: config.protectStatefulResources,
    };
    this.data = new LakeKey(this, "data", {
      ...common,
      alias: naming.kmsAlias("data"),
      description: `${naming.prefix}: Open Payments lake data (raw, cleaned, curated, query results, metadata)`,
    });
    this.logs = new LakeKey(this, "logs", {
      ...common,
      alias: naming.kmsAlias("logs"),
      description: `${naming.prefix}: lake logs and alerts`,
      services: [
        {
          name: "CloudWatchLogs",
          service: naming.viaService("logs"),
          actions: [
            "kms:Encrypt*",
            "kms:Decrypt*",
            "kms:ReEncrypt*",
            "kms:GenerateDataKey*",
            "kms:Describe*",
          ],
          // Only for log groups of this account and region (the encryption context CloudWatch Logs sends).
          conditions: {
            ArnLike: {
              "kms:EncryptionContext:aws:logs:arn": arns.logGroup(naming.location, "*"),
            },
          },
        },
      ],
    });
  }
}
