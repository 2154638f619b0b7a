import { ConditionalCheckFailedException, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { ingestionItemKeys, INGESTION_TABLE_KEYS as K } from "../../modules/ingestion-metadata/keys";
import { asAwsError } from "./aws";
import type { Dataset } from "./layouts";
import { isSortableIngestionId } from "./manifest";

export type IngestionStatus = "started" | "uploaded" | "verified" | "failed";

/** Identity of one CMS file (all its versions share the partition key). */
export interface FileIdentity {
  readonly dataset: Dataset;
  readonly programYear: number;
  readonly fileStem: string;
  readonly publication: string;
}

/** An ingestion record (contract 6), as stored. */
export interface IngestionRecord {
  readonly pk: string;
  readonly sk: string;
  readonly dataset: Dataset;
  readonly programYear: number;
  readonly fileStem: string;
  readonly publication: string;
  readonly status: IngestionStatus;
  readonly reason?: string;
  readonly bytes?: number;
  readonly sha256?: string;
  readonly records?: number;
  /** The ingestion's own folder in the raw bucket (set when it starts; unsealed until it is verified). */
  readonly s3Prefix?: string;
  /** Its manifest.json, written once every part is verified (set with `verified`). */
  readonly s3Key?: string;
  readonly s3VersionId?: string;
  /** Set on a run started with --force (ingest even when the same content is already the current version). */
  readonly forced?: boolean;
  readonly parts?: number;
  readonly source: string;
  readonly sourceEtag?: string;
  readonly sourceLastModified?: string;
  readonly layout?: string;
  readonly ingestionId: string;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly timings?: Record<string, number>;
  /** On an attempt item: the version item the run continued as once its content hash was known. */
  readonly continuedAs?: string;
}

export interface LeaseHolder {
  readonly ingestionId: string;
  readonly startedAt: string;
  readonly leaseExpiresAt: number;
  readonly source: string;
}

/** Sort key of the per-file lease item: at most one run ingests a file at a time. */
const LEASE = "LEASE";
/** Sort key prefix of a run whose content hash is not known yet (a remote file is hashed while it streams). */
const ATTEMPT = "ATTEMPT#";

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error instanceof TransactionCanceledException &&
    (error.CancellationReasons ?? []).some((r) => r.Code === "ConditionalCheckFailed"));

/** The first ingestion of a content: one per distinct SHA-256 of a file. */
export const versionKey = (sha256: string) => `V#${sha256}`;
/**
 * A later ingestion of a content already recorded at its version key (a retry after a failure, a --force run, or
 * the content coming back after another version): a record of its own, so no record is ever overwritten.
 */
export const reingestionKey = (sha256: string, ingestionId: string) => `V#${sha256}#${ingestionId}`;
export const attemptKey = (ingestionId: string) => `${ATTEMPT}${ingestionId}`;

/**
 * Order of ingestions of one file, as readers of raw order their folders: ids made by newIngestionId (time,
 * fixed width) after the UUIDs of runs that wrote into the file's folder directly, which are ordered by start.
 */
export function ingestionOrder(record: Pick<IngestionRecord, "ingestionId" | "startedAt">): string {
  return isSortableIngestionId(record.ingestionId) ? `1${record.ingestionId}` : `0${record.startedAt}`;
}

/** The newest verified ingestion among records (of one file, or of a dataset and year), by `order`. */
export function latestVerified(
  records: readonly IngestionRecord[],
  order: (r: IngestionRecord) => string = ingestionOrder,
): IngestionRecord | undefined {
  let latest: IngestionRecord | undefined;
  for (const r of records) {
    if (r.status === "verified" && (!latest || order(r) > order(latest))) latest = r;
  }
  return latest;
}

/**
 * The ingestion audit table. Every state change is a conditional write, so two runs can never both own a file,
 * no record is ever overwritten (each run writes its own), and only the run that started a record can move it
 * forward.
 */
export class IngestionLedger {
  constructor(
    private readonly ddb: DynamoDBDocumentClient,
    readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private keys(file: FileIdentity, sk: string) {
    const keys = ingestionItemKeys({ ...file, sha256: "" });
    return { ...keys, [K.sortKey]: sk };
  }

  private pk(file: FileIdentity): string {
    return ingestionItemKeys({ ...file, sha256: "" })[K.partitionKey];
  }

  private async send<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw asAwsError(`DynamoDB ${what} on ${this.tableName}`, error);
    }
  }

  /**
   * Takes the file's lease unless another run holds an unexpired one. A run that died (cut connection, killed
   * process) leaves its lease to expire, after which the next run takes over.
   */
  async claimLease(
    file: FileIdentity,
    ingestionId: string,
    source: string,
    leaseMs: number,
  ): Promise<{ readonly claimed: true } | { readonly claimed: false; readonly holder: LeaseHolder }> {
    const now = this.now();
    try {
      await this.send("claim lease", () =>
        this.ddb.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              [K.partitionKey]: this.pk(file),
              [K.sortKey]: LEASE,
              ingestionId,
              source,
              startedAt: now.toISOString(),
              leaseExpiresAt: now.getTime() + leaseMs,
            },
            ConditionExpression: "attribute_not_exists(#pk) OR leaseExpiresAt < :now",
            ExpressionAttributeNames: { "#pk": K.partitionKey },
            ExpressionAttributeValues: { ":now": now.getTime() },
          }),
        ),
      );
      return { claimed: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const held = await this.send("read lease", () =>
        this.ddb.send(
          new GetCommand({
            TableName: this.tableName,
            Key: { [K.partitionKey]: this.pk(file), [K.sortKey]: LEASE },
            ConsistentRead: true,
          }),
        ),
      );
      return { claimed: false, holder: held.Item as LeaseHolder };
    }
  }

  async renewLease(file: FileIdentity, ingestionId: string, leaseMs: number): Promise<void> {
    await this.send("renew lease", () =>
      this.ddb.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [K.partitionKey]: this.pk(file), [K.sortKey]: LEASE },
          UpdateExpression: "SET leaseExpiresAt = :until",
          ConditionExpression: "ingestionId = :me",
          ExpressionAttributeValues: { ":until": this.now().getTime() + leaseMs, ":me": ingestionId },
        }),
      ),
    );
  }

  /** Expires the lease at once (an update, not a delete: the ingestion role may not delete items). */
  async releaseLease(file: FileIdentity, ingestionId: string): Promise<void> {
    try {
      await this.send("release lease", () =>
        this.ddb.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { [K.partitionKey]: this.pk(file), [K.sortKey]: LEASE },
            UpdateExpression: "SET leaseExpiresAt = :expired, releasedAt = :at",
            ConditionExpression: "ingestionId = :me",
            ExpressionAttributeValues: { ":expired": 0, ":at": this.now().toISOString(), ":me": ingestionId },
          }),
        ),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error; // taken over after expiry: not ours to release
    }
  }

  /** Every record of one file (versions and unfinished attempts), oldest first. */
  async fileRecords(file: FileIdentity): Promise<IngestionRecord[]> {
    const out: IngestionRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.send("query file", () =>
        this.ddb.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: "#pk = :pk",
            ExpressionAttributeNames: { "#pk": K.partitionKey },
            ExpressionAttributeValues: { ":pk": this.pk(file) },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        ),
      );
      // Attempts that went on to become a version item are history, not records of their own.
      out.push(...((page.Items ?? []) as IngestionRecord[]).filter((i) => i.sk !== LEASE && !i.continuedAs));
      start = page.LastEvaluatedKey;
    } while (start);
    return out.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  /**
   * Writes a `started` record at a key no record holds yet: records are never overwritten, so the table keeps
   * every run (a failed one included). Returns false when the key is taken.
   */
  async start(
    file: FileIdentity,
    sk: string,
    fields: Pick<IngestionRecord, "ingestionId" | "source"> & Partial<IngestionRecord>,
  ): Promise<boolean> {
    const at = this.now().toISOString();
    try {
      await this.send("start record", () =>
        this.ddb.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              ...fields,
              ...this.keys(file, sk),
              dataset: file.dataset,
              programYear: file.programYear,
              fileStem: file.fileStem,
              publication: file.publication,
              status: "started",
              startedAt: at,
              updatedAt: at,
            },
            ConditionExpression: "attribute_not_exists(#sk)",
            ExpressionAttributeNames: { "#sk": K.sortKey },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Moves a record forward; only the run that owns it (ingestionId) and only from the expected status. */
  async transition(
    file: FileIdentity,
    sk: string,
    ingestionId: string,
    from: readonly IngestionStatus[],
    to: IngestionStatus,
    fields: Partial<IngestionRecord> = {},
  ): Promise<void> {
    const set: Record<string, unknown> = { ...fields, status: to, updatedAt: this.now().toISOString() };
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ":me": ingestionId };
    const assignments = Object.entries(set).map(([name, value], i) => {
      names[`#a${i}`] = name;
      values[`:a${i}`] = value;
      return `#a${i} = :a${i}`;
    });
    const allowed = from.map((s, i) => {
      values[`:from${i}`] = s;
      return `:from${i}`;
    });
    names["#status"] = "status";
    await this.send(`set ${to}`, () =>
      this.ddb.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [K.partitionKey]: this.pk(file), [K.sortKey]: sk },
          UpdateExpression: `SET ${assignments.join(", ")}`,
          ConditionExpression: `ingestionId = :me AND #status IN (${allowed.join(", ")})`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  /**
   * Continues a remote run's attempt record at `sk` (its version or re-ingestion key) once the content hash is
   * known, in one transaction. Returns false when a record already holds that key.
   */
  async promoteAttempt(
    file: FileIdentity,
    attempt: IngestionRecord,
    sha256: string,
    sk: string,
  ): Promise<boolean> {
    const at = this.now().toISOString();
    try {
      await this.send("promote attempt", () =>
        this.ddb.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.tableName,
                  Item: { ...attempt, ...this.keys(file, sk), sha256, updatedAt: at },
                  ConditionExpression: "attribute_not_exists(#sk)",
                  ExpressionAttributeNames: { "#sk": K.sortKey },
                },
              },
              { Update: this.continuedAsUpdate(file, attempt, sk, at) },
            ],
          }),
        ),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Kept (the audit trail only grows), out of the history index, pointing at the record it continued as. */
  private continuedAsUpdate(file: FileIdentity, attempt: IngestionRecord, sk: string, at: string) {
    return {
      TableName: this.tableName,
      Key: { [K.partitionKey]: this.pk(file), [K.sortKey]: attempt.sk },
      UpdateExpression: "SET continuedAs = :version, updatedAt = :at REMOVE #hpk, #hsk",
      ConditionExpression: "ingestionId = :me",
      ExpressionAttributeNames: { "#hpk": K.historyPartitionKey, "#hsk": K.historySortKey },
      ExpressionAttributeValues: { ":version": sk, ":at": at, ":me": attempt.ingestionId },
    };
  }

  /** An attempt whose content turned out identical to the current version: it points there and leaves history. */
  async supersede(file: FileIdentity, attempt: IngestionRecord, current: IngestionRecord): Promise<void> {
    const at = this.now().toISOString();
    await this.send("supersede attempt", () =>
      this.ddb.send(new UpdateCommand(this.continuedAsUpdate(file, attempt, current.sk, at))),
    );
  }

  async get(file: FileIdentity, sk: string): Promise<IngestionRecord | undefined> {
    const res = await this.send("get record", () =>
      this.ddb.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { [K.partitionKey]: this.pk(file), [K.sortKey]: sk },
          ConsistentRead: true,
        }),
      ),
    );
    return res.Item as IngestionRecord | undefined;
  }

  /** History of a dataset (optionally one program year) through the gsi1 index, ordered by year and publication. */
  async history(dataset: Dataset, programYear?: number): Promise<IngestionRecord[]> {
    const out: IngestionRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.send("query history", () =>
        this.ddb.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: K.historyIndex,
            KeyConditionExpression:
              programYear === undefined ? "#hpk = :hpk" : "#hpk = :hpk AND begins_with(#hsk, :year)",
            ExpressionAttributeNames: {
              "#hpk": K.historyPartitionKey,
              ...(programYear === undefined ? {} : { "#hsk": K.historySortKey }),
            },
            ExpressionAttributeValues: {
              ":hpk": `DATASET#${dataset}`,
              ...(programYear === undefined ? {} : { ":year": `PY#${programYear}#` }),
            },
            ExclusiveStartKey: start,
          }),
        ),
      );
      out.push(...((page.Items ?? []) as IngestionRecord[]));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }
}
