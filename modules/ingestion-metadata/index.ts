import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { Construct } from "constructs";
import { INGESTION_TABLE_KEYS as K } from "./keys";

export * from "./keys";

export interface IngestionMetadataTableProps {
  readonly tableName: string;
  readonly kmsKeyArn: string;
  /** Deletion protection; the prod config requires it. */
  readonly deletionProtection: boolean;
  /** terraform's prevent_destroy: a plan that would delete the audit trail fails. Default: false. */
  readonly preventDestroy?: boolean;
}

/**
 * The ingestion audit trail (see keys.ts for the key design): on-demand, point-in-time recovery, encrypted
 * with the lake's CMK. No TTL: the audit trail is kept for as long as the data it describes.
 */
export class IngestionMetadataTable extends Construct {
  readonly tableName: string;
  readonly tableArn: string;

  constructor(scope: Construct, id: string, props: IngestionMetadataTableProps) {
    super(scope, id);
    if (!/^[A-Za-z0-9_.-]{3,255}$/.test(props.tableName)) {
      throw new Error(
        `tableName "${props.tableName}" must be 3-255 letters, digits, '_', '-' or '.' (DynamoDB rule).`,
      );
    }
    const table = new DynamodbTable(this, "table", {
      name: props.tableName,
      billingMode: "PAY_PER_REQUEST",
      hashKey: K.partitionKey,
      rangeKey: K.sortKey,
      attribute: [K.partitionKey, K.sortKey, K.historyPartitionKey, K.historySortKey].map((name) => ({
        name,
        type: "S",
      })),
      globalSecondaryIndex: [
        {
          name: K.historyIndex,
          hashKey: K.historyPartitionKey,
          rangeKey: K.historySortKey,
          projectionType: "ALL",
        },
      ],
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true, kmsKeyArn: props.kmsKeyArn },
      deletionProtectionEnabled: props.deletionProtection,
      lifecycle: props.preventDestroy ? { preventDestroy: true } : undefined,
    });
    this.tableName = table.name;
    this.tableArn = table.arn;
  }
}
