import { createHash } from "node:crypto";
import { once } from "node:events";
import { PassThrough, type Readable } from "node:stream";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { asAwsError } from "./aws";

/** An object version this run wrote: what a failed run deletes so that nothing of it stays in raw. */
export interface WrittenObject {
  readonly key: string;
  readonly versionId?: string;
}

export interface StoredObject {
  readonly bytes: number;
  /** Full-object SHA-256 as computed by S3 (base64), when S3 has one. */
  readonly checksumSha256?: string;
  readonly versionId?: string;
  readonly metadata: Record<string, string>;
}

export const hexToBase64 = (hex: string) => Buffer.from(hex, "hex").toString("base64");

/** S3 metadata values must be ASCII: encode anything else (a local path with accents, say). */
const asciiMetadata = (metadata: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(metadata).map(([k, v]) => [k, /^[\x20-\x7e]*$/.test(v) ? v : encodeURI(v)]),
  );

/** lib-storage buffers queueSize chunks of this size: 4 × 8 MiB keeps memory flat whatever the file size. */
export const uploadChunkBytes = 8 * 1024 * 1024;
const uploadQueueSize = 4;

/** S3's SHA-256 of an object: the full-object hash for a single PUT, a hash of the part hashes for multipart. */
export function s3Sha256(partDigests: readonly Buffer[], fullDigest: Buffer): string {
  if (partDigests.length <= 1) return fullDigest.toString("base64");
  return createHash("sha256").update(Buffer.concat(partDigests)).digest("base64");
}

/** Real S3 suffixes a multipart checksum with `-<parts>`; compare the hashes only. */
export const sameS3Checksum = (stored: string | undefined, expected: string) =>
  stored !== undefined && stored.replace(/-\d+$/, "") === expected;

/**
 * One object written from a stream through a multipart upload (lib-storage) with S3 SHA-256 checksums on every
 * request, which S3 checks on receipt. While streaming, the object's SHA-256 and the SHA-256 of each 8 MiB upload
 * part are computed, so the checksum S3 reports once the upload is complete can be checked against the bytes that
 * were read. A failure aborts the multipart upload, so S3 keeps nothing of it.
 */
export class StreamedObject {
  private readonly body = new PassThrough({ highWaterMark: 1024 * 1024 });
  private readonly hash = createHash("sha256");
  private chunkHash = createHash("sha256");
  private chunkFill = 0;
  private readonly chunkDigests: Buffer[] = [];
  private readonly upload: Upload;
  private readonly done: Promise<{ VersionId?: string }>;
  private readonly failed: Promise<never>;
  bytes = 0;

  constructor(
    s3: S3Client,
    readonly bucket: string,
    readonly key: string,
    contentType: string,
    metadata: Record<string, string>,
  ) {
    this.upload = new Upload({
      client: s3,
      params: {
        Bucket: bucket,
        Key: key,
        Body: this.body,
        ChecksumAlgorithm: "SHA256",
        ContentType: contentType,
        Metadata: asciiMetadata(metadata),
      },
      partSize: uploadChunkBytes,
      queueSize: uploadQueueSize,
      leavePartsOnError: false,
    });
    this.done = this.upload.done();
    this.failed = this.done.then(() => {
      throw new Error(`upload of ${key} ended before its body`);
    });
    this.failed.catch(() => undefined);
  }

  async write(chunk: Buffer): Promise<void> {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    // lib-storage cuts the stream into upload parts of exactly uploadChunkBytes: hash along the same boundaries.
    for (let offset = 0; offset < chunk.length; ) {
      const take = Math.min(chunk.length - offset, uploadChunkBytes - this.chunkFill);
      this.chunkHash.update(chunk.subarray(offset, offset + take));
      this.chunkFill += take;
      offset += take;
      if (this.chunkFill === uploadChunkBytes) {
        this.chunkDigests.push(this.chunkHash.digest());
        this.chunkHash = createHash("sha256");
        this.chunkFill = 0;
      }
    }
    if (!this.body.write(chunk)) await Promise.race([once(this.body, "drain"), this.failed]);
  }

  /** Ends the body, waits for S3 to complete the upload, and says which SHA-256 S3 must now report. */
  async finish(): Promise<{ sha256: string; bytes: number; versionId?: string; s3Checksum: string }> {
    this.body.end();
    const full = this.hash.digest();
    if (this.chunkFill > 0) this.chunkDigests.push(this.chunkHash.digest());
    try {
      const out = await this.done;
      return {
        sha256: full.toString("hex"),
        bytes: this.bytes,
        versionId: out.VersionId,
        s3Checksum: s3Sha256(this.chunkDigests, full),
      };
    } catch (error) {
      throw asAwsError(`S3 upload of s3://${this.bucket}/${this.key}`, error);
    }
  }

  abort(reason: Error): void {
    this.body.destroy(reason);
    this.upload.abort().catch(() => undefined);
  }
}

export class RawStore {
  constructor(
    readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  private async send<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw asAwsError(`S3 ${what} in ${this.bucket}`, error);
    }
  }

  startObject(key: string, metadata: Record<string, string>, contentType = "text/csv"): StreamedObject {
    return new StreamedObject(this.s3, this.bucket, key, contentType, metadata);
  }

  async putSmall(key: string, body: Buffer, metadata: Record<string, string>, contentType: string) {
    const sha256 = createHash("sha256").update(body).digest();
    const out = await this.send(`put ${key}`, () =>
      this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ChecksumSHA256: sha256.toString("base64"),
          Metadata: asciiMetadata({ ...metadata, sha256: sha256.toString("hex") }),
        }),
      ),
    );
    return { key, versionId: out.VersionId };
  }

  async head(key: string, versionId?: string): Promise<StoredObject | undefined> {
    try {
      const out = await this.s3.send(
        new HeadObjectCommand({
          Bucket: this.bucket,
          Key: key,
          VersionId: versionId,
          ChecksumMode: "ENABLED",
        }),
      );
      return {
        bytes: out.ContentLength ?? 0,
        checksumSha256: out.ChecksumSHA256,
        versionId: out.VersionId,
        metadata: out.Metadata ?? {},
      };
    } catch (error) {
      if ((error as { name?: string }).name === "NotFound") return undefined;
      throw asAwsError(`S3 head ${key} in ${this.bucket}`, error);
    }
  }

  async read(key: string, versionId?: string): Promise<Readable> {
    const out = await this.send(`get ${key}`, () =>
      this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, VersionId: versionId })),
    );
    return out.Body as Readable;
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.send(`list ${prefix}`, () =>
        this.s3.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
        ),
      );
      keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ""));
      token = page.NextContinuationToken;
    } while (token);
    return keys;
  }

  /** Deletes exactly the given versions (restoring whatever was current before them), or plain keys. */
  async remove(objects: readonly WrittenObject[]): Promise<void> {
    for (const o of objects) {
      await this.send(`delete ${o.key}`, () =>
        this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: o.key, VersionId: o.versionId })),
      );
    }
  }
}
