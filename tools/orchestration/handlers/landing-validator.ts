import { CopyObjectCommand, DeleteObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { BadInputError } from "../../ingest/errors";
import { baseName, parseCmsFileName } from "../../ingest/file-names";
import { peekLayout } from "../../ingest/ingest-file";
import { s3Csv } from "../../ingest/s3-source";
import { notDetailFile } from "../../ingest/sources";
import { INCOMING_PREFIX } from "./discover";
import { optionalSetting, setting } from "./environment";

export const LANDING_PREFIX = "landing/";
export const REJECTED_PREFIX = "rejected/";

/** The parts of the SQS and S3 event shapes the validator reads. */
export interface SqsEvent {
  readonly Records: readonly { readonly messageId: string; readonly body: string }[];
}
interface S3Notification {
  readonly Records?: readonly {
    readonly eventName?: string;
    readonly s3: { readonly bucket: { readonly name: string }; readonly object: { readonly key: string } };
  }[];
}
export interface BatchResponse {
  readonly batchItemFailures: { readonly itemIdentifier: string }[];
}

export type Verdict =
  | { readonly accepted: true; readonly layout: string }
  | { readonly accepted: false; readonly reason: string };

/** The ingest CLI's own rules, before any byte is ingested: a CMS detail file name, and a header of a known layout of that dataset. */
export async function judgeLanded(s3: S3Client, uri: string): Promise<Verdict> {
  const name = baseName(uri);
  const parsed = parseCmsFileName(name);
  if (!parsed) return { accepted: false, reason: `${name}: ${notDetailFile}` };
  try {
    const layout = await peekLayout(await s3Csv(uri, s3));
    if (layout.dataset !== parsed.dataset) {
      return {
        accepted: false,
        reason: `${name}: the header is layout ${layout.id} (${layout.dataset}) but the name says ${parsed.dataset}`,
      };
    }
    return { accepted: true, layout: layout.id };
  } catch (error) {
    if (error instanceof BadInputError) return { accepted: false, reason: error.message };
    throw error;
  }
}

/** Moves (copy pinned to nothing newer, then delete) the landed object; a rejected one gets its reason beside it. */
async function settle(s3: S3Client, bucket: string, key: string, verdict: Verdict): Promise<void> {
  const name = key.slice(LANDING_PREFIX.length);
  const target = `${verdict.accepted ? INCOMING_PREFIX : REJECTED_PREFIX}${name}`;
  await s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: target,
      CopySource: `${bucket}/${encodeURIComponent(key).replace(/%2F/g, "/")}`,
    }),
  );
  if (!verdict.accepted) {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `${target}.reason.json`,
        ContentType: "application/json",
        Body: JSON.stringify(
          { file: name, reason: verdict.reason, rejectedAt: new Date().toISOString() },
          null,
          2,
        ),
      }),
    );
  }
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  process.stderr.write(
    `${JSON.stringify({ event: verdict.accepted ? "accepted" : "rejected", key, target, ...verdict })}\n`,
  );
}

/** S3 puts keys in events URL-encoded, spaces as '+'. */
const eventKey = (key: string) => decodeURIComponent(key.replace(/\+/g, " "));

/**
 * A file dropped by hand into the raw bucket's landing/ (S3 ObjectCreated → SQS → this function): a good one moves
 * to incoming/ (the next refresh ingests it), a bad one to rejected/ with `<name>.reason.json`. Only a failure to do
 * either (S3 unreachable, a malformed message) reports the message as failed: SQS redelivers it, and after the
 * queue's maxReceiveCount it lands in the dead-letter queue.
 */
export async function handler(event: SqsEvent): Promise<BatchResponse> {
  const endpoint = optionalSetting("endpoint");
  // The bucket comes with each event; only S3 is used.
  const s3 = new S3Client({
    region: setting("region"),
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
  });
  const batchItemFailures: { itemIdentifier: string }[] = [];
  try {
    for (const message of event.Records) {
      try {
        const notification = JSON.parse(message.body) as S3Notification;
        for (const record of notification.Records ?? []) {
          if (!record.eventName?.startsWith("ObjectCreated")) continue;
          const bucket = record.s3.bucket.name;
          const key = eventKey(record.s3.object.key);
          if (!key.startsWith(LANDING_PREFIX)) continue;
          await settle(s3, bucket, key, await judgeLanded(s3, `s3://${bucket}/${key}`));
        }
      } catch (error) {
        process.stderr.write(
          `${JSON.stringify({ event: "failed", messageId: message.messageId, error: (error as Error).message })}\n`,
        );
        batchItemFailures.push({ itemIdentifier: message.messageId });
      }
    }
  } finally {
    s3.destroy();
  }
  return { batchItemFailures };
}
