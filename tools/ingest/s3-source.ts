import type { Readable } from "node:stream";
import { GetObjectCommand, HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { asAwsError } from "./aws";
import { SourceUnreachableError, UsageError } from "./errors";
import { baseName } from "./file-names";
import type { SourceFile } from "./sources";

export const isS3Uri = (s: string) => /^s3:\/\//i.test(s);

/** `s3://bucket/key` split, or a usage error naming the URI. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/i.exec(uri);
  if (!m) throw new UsageError(`${uri}: expected s3://<bucket>/<key>`);
  return { bucket: m[1], key: m[2] };
}

/**
 * A CSV already in S3 (a file dropped into landing/ and accepted by the landing validator): streamed with
 * GetObject like a URL is, its ETag and size recorded so an unchanged object is not ingested twice.
 */
export async function s3Csv(uri: string, s3: S3Client | undefined): Promise<SourceFile> {
  if (!s3) throw new UsageError(`${uri}: S3 sources need the target's S3 client`);
  const { bucket, key } = parseS3Uri(uri);
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).catch((error: unknown) => {
    const e = asAwsError(`HeadObject ${uri}`, error);
    throw e === error ? new SourceUnreachableError(`${uri}: ${(error as Error).message}`) : e;
  });
  return {
    name: baseName(key),
    source: uri,
    ...(head.ContentLength === undefined ? {} : { size: head.ContentLength }),
    validators: { etag: head.ETag, lastModified: head.LastModified?.toUTCString() },
    open: async () => {
      // Pinned to the ETag seen above: an object replaced mid-run fails the read instead of mixing versions.
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: head.ETag }));
      return res.Body as Readable;
    },
  };
}
