import { CreateTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, PutBucketVersioningCommand, type S3Client } from "@aws-sdk/client-s3";
import { INGESTION_TABLE_KEYS as K } from "../../../modules/ingestion-metadata/keys";

/**
 * The two resources the ingestion tool writes to, created directly on a local AWS (moto) for tests and the
 * benchmark: a versioned raw bucket and the ingestion table with contract 6's keys and gsi1. (The lake stack
 * creates the real ones.)
 */
export async function createIngestionTarget(
  s3: S3Client,
  ddb: DynamoDBClient,
  bucket: string,
  table: string,
) {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(
    new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }),
  );
  await ddb.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [K.partitionKey, K.sortKey, K.historyPartitionKey, K.historySortKey].map(
        (name) => ({
          AttributeName: name,
          AttributeType: "S",
        }),
      ),
      KeySchema: [
        { AttributeName: K.partitionKey, KeyType: "HASH" },
        { AttributeName: K.sortKey, KeyType: "RANGE" },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: K.historyIndex,
          KeySchema: [
            { AttributeName: K.historyPartitionKey, KeyType: "HASH" },
            { AttributeName: K.historySortKey, KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        },
      ],
    }),
  );
}
