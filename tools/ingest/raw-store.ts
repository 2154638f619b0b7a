import { createHash } from "node:crypto";
import { once } from "node:events";
import { PassThrough, type Readable } from "node:stream";
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { asAwsError } from "./aws";
import { ChecksumMismatchError } from "./errors";

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
const uploadChunkBytes = 8 * 1024 * 1024;
const uploadQueueSize = 4;

/**
 * One object written from a stream through a multipart upload (lib-storage) with S3 SHA-256 checksums on every
 * request; the object's own SHA-256 is computed on the fly. A failure aborts the multipart upload, so S3 keeps
 * nothing of it.
 */
export class StreamedObject {
  private readonly body = new PassThrough({ highWaterMark: 1024 * 1024 });
  private readonly hash = createHash("sha256");
  private readonly upload: Upload;
  private readonly done: Promise<{ VersionId?: string }>;
  private readonly failed: Promise<never>;
  bytes = 0;

  constructor(
    s3: S3Client,
    readonly bucket: string,
    readonly key: string,
    contentType: string,
  ) {
    this.upload = new Upload({
      client: s3,
      params: {
        Bucket: bucket,
        Key: key,
        Body: this.body,
        ChecksumAlgorithm: "SHA256",
        ContentType: contentType,
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
    if (!this.body.write(chunk)) await Promise.race([once(this.body, "drain"), this.failed]);
  }

  /** Ends the body and waits for S3 to complete the upload. */
  async finish(): Promise<{ sha256: string; bytes: number; versionId?: string }> {
    this.body.end();
    try {
      const out = await this.done;
      return { sha256: this.hash.digest("hex"), bytes: this.bytes, versionId: out.VersionId };
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

  startObject(key: string, contentType = "text/csv"): StreamedObject {
    return new StreamedObject(this.s3, this.bucket, key, contentType);
  }

  /**
   * Attaches metadata to an uploaded object (a copy onto itself, server side) and has S3 compute the object's
   * full SHA-256 on the way, which must equal the hash computed while streaming: S3's own proof that it holds
   * exactly the bytes that were read. Returns the sealed version.
   */
  async seal(
    written: WrittenObject,
    sha256Hex: string,
    metadata: Record<string, string>,
    contentType = "text/csv",
  ): Promise<WrittenObject> {
    const source = `${this.bucket}/${encodeURIComponent(written.key).replace(/%2F/g, "/")}`;
    const out = await this.send(`seal ${written.key}`, () =>
      this.s3.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: written.key,
          CopySource: written.versionId ? `${source}?versionId=${written.versionId}` : source,
          MetadataDirective: "REPLACE",
          Metadata: asciiMetadata({ ...metadata, sha256: sha256Hex }),
          ContentType: contentType,
          ChecksumAlgorithm: "SHA256",
        }),
      ),
    );
    const stored = out.CopyObjectResult?.ChecksumSHA256;
    if (stored !== hexToBase64(sha256Hex)) {
      throw new ChecksumMismatchError(
        `s3://${this.bucket}/${written.key}: S3 computed SHA-256 ${stored ?? "(none)"}, ` +
          `but the streamed bytes hash to ${hexToBase64(sha256Hex)}`,
      );
    }
    return { key: written.key, versionId: out.VersionId };
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
