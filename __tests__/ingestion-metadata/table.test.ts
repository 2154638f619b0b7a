import {
  INGESTION_TABLE_KEYS,
  IngestionMetadataTable,
  ingestionItemKeys,
} from "../../modules/ingestion-metadata";
import { onlyResource, synthesize } from "../access/synth-support";

const kmsKeyArn = "arn:aws:kms:us-east-1:111111111111:key/data";
const table = (deletionProtection: boolean) =>
  onlyResource(
    synthesize(
      (scope) =>
        new IngestionMetadataTable(scope, "ingestion", {
          tableName: "opl-dev-ingestion",
          kmsKeyArn,
          deletionProtection,
        }),
    ),
    "aws_dynamodb_table",
  );

describe("IngestionMetadataTable", () => {
  it("keys items by file and version, with the history index of contract 6", () => {
    expect(table(false)).toMatchObject({
      name: "opl-dev-ingestion",
      hash_key: "pk",
      range_key: "sk",
      attribute: [
        { name: "pk", type: "S" },
        { name: "sk", type: "S" },
        { name: "gsi1pk", type: "S" },
        { name: "gsi1sk", type: "S" },
      ],
      global_secondary_index: [
        { name: "gsi1", hash_key: "gsi1pk", range_key: "gsi1sk", projection_type: "ALL" },
      ],
    });
  });

  it("is on-demand, recoverable to a point in time, encrypted with the CMK, and has no TTL", () => {
    const t = table(false);
    expect(t).toMatchObject({
      billing_mode: "PAY_PER_REQUEST",
      point_in_time_recovery: { enabled: true },
      server_side_encryption: { enabled: true, kms_key_arn: kmsKeyArn },
    });
    expect(t.ttl).toBeUndefined();
  });

  it("takes deletion protection from config", () => {
    expect(table(true).deletion_protection_enabled).toBe(true);
    expect(table(false).deletion_protection_enabled).toBe(false);
  });

  it("rejects names DynamoDB would reject", () => {
    expect(() =>
      synthesize(
        (scope) =>
          new IngestionMetadataTable(scope, "t", { tableName: "a b", kmsKeyArn, deletionProtection: true }),
      ),
    ).toThrow(/tableName "a b" must be 3-255 letters/);
  });
});

describe("ingestionItemKeys", () => {
  it("builds the contract 6 keys", () => {
    expect(
      ingestionItemKeys({
        dataset: "general",
        programYear: 2023,
        fileStem: "OP_DTL_GNRL_PGYR2023_P01302025_01212025",
        publication: "P01302025_01212025",
        sha256: "ab12",
      }),
    ).toEqual({
      [INGESTION_TABLE_KEYS.partitionKey]: "FILE#general#2023#OP_DTL_GNRL_PGYR2023_P01302025_01212025",
      [INGESTION_TABLE_KEYS.sortKey]: "V#ab12",
      [INGESTION_TABLE_KEYS.historyPartitionKey]: "DATASET#general",
      [INGESTION_TABLE_KEYS.historySortKey]:
        "PY#2023#P01302025_01212025#OP_DTL_GNRL_PGYR2023_P01302025_01212025",
    });
  });
});
