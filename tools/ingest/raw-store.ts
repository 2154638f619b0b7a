import { createHash, webcrypto } from "node:crypto";
import { once } from "node:events";
import { PassThrough, type Readable } from "node:stream";
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { asAwsError } from "./aws";

export interface StoredObject {
  readonly bytes: number;
  /** Full-object SHA-256 as computed by S3 (base64), when S3 has one. */
  readonly checksumSha256?: string;
  readonly versionId?: string;
  readonly metadata: Record<string, string>;
}

/**
 * Raw is written once: every PUT and every multipart completion carries `If-None-Match: *`, so S3 refuses (412)
 * to replace an existing object, whatever the caller's permissions (the raw bucket's policy also denies a raw
 * write without it). Ingestion writes each run under a folder of its own, so a refusal means a bug or a clash of
 * two runs, never an expected event.
 */
const writeOnce = { IfNoneMatch: "*" } as const;

/** The error of a write refused because the key exists (HTTP 412), named after what was attempted. */
function refusedOverwrite(bucket: string, key: string, error: unknown): unknown {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  if (e?.name !== "PreconditionFailed" && e?.$metadata?.httpStatusCode !== 412) return error;
  return new Error(
    `s3://${bucket}/${key} already exists: raw objects are never overwritten (the write carried If-None-Match: *)`,
  );
}

export const hexToBase64 = (hex: string) => Buffer.from(hex, "hex").toString("base64");

/** S3 metadata values must be ASCII: encode anything else (a local path with accents, say). */
const asciiMetadata = (metadata: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(metadata).map(([k, v]) => [k, /^[\x20-\x7e]*$/.test(v) ? v : encodeURI(v)]),
  );

/** lib-storage's upload part size (awscli's default): the unit S3 checksums a multipart object by. */
export const uploadChunkBytes = 8 * 1024 * 1024;

/** S3's SHA-256 of an object: the full-object hash for a single PUT, a hash of the part hashes for multipart. */
export function s3Sha256(partDigests: readonly Buffer[], fullDigest: Buffer): string {
  if (partDigests.length <= 1) return fullDigest.toString("base64");
  return createHash("sha256").update(Buffer.concat(partDigests)).digest("base64");
}

/** Real S3 suffixes a multipart checksum with `-<parts>`; compare the hashes only. */
export const sameS3Checksum = (stored: string | undefined, expected: string) =>
  stored !== undefined && stored.replace(/-\d+$/, "") === expected;

/** lib-storage keeps up to this many upload parts in flight (moto serves one request at a time under its GIL, so
 * more only queue there; awscli's 10 threads gain nothing on it either). */
const uploadQueueSize = 4;

/** Part hashes computed by StreamedObjects, by `bucket/key#partNumber`, until the UploadPart request that carries
 * the part takes its hash. One table per client, read by one middleware on that client. */
const partChecksumsByClient = new WeakMap<S3Client, Map<string, Promise<Buffer>>>();

const partSlot = (bucket: string | undefined, key: string | undefined, partNumber: number | undefined) =>
  `${bucket}/${key}#${partNumber}`;

interface UploadPartInput {
  readonly Bucket?: string;
  readonly Key?: string;
  readonly PartNumber?: number;
  readonly ChecksumSHA256?: string;
}

/**
 * The client's table of part hashes. lib-storage builds each UploadPart request itself, so the hash reaches it
 * through the client: a middleware before serialization sets `ChecksumSHA256` from the table, and the SDK's
 * flexible-checksums step, seeing the checksum header present, does not hash the part a second time.
 */
function partChecksums(s3: S3Client): Map<string, Promise<Buffer>> {
  const known = partChecksumsByClient.get(s3);
  if (known) return known;
  const table = new Map<string, Promise<Buffer>>();
  partChecksumsByClient.set(s3, table);
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as UploadPartInput;
      const slot = partSlot(input.Bucket, input.Key, input.PartNumber);
      const digest = context.commandName === "UploadPartCommand" ? table.get(slot) : undefined;
      if (!digest || input.ChecksumSHA256) return next(args);
      table.delete(slot);
      return next({ ...args, input: { ...args.input, ChecksumSHA256: (await digest).toString("base64") } });
    },
    { step: "initialize", name: "ingestRawPartChecksums" },
  );
  return table;
}

/**
 * One object written from a stream through lib-storage's `Upload`: a single PUT when the object fits one upload
 * part, else a multipart upload of 8 MiB parts. Every request carries S3's SHA-256 checksum of its bytes, which S3
 * checks on receipt. As the bytes pass, the object's SHA-256 is computed here, and the SHA-256 of each 8 MiB upload
 * part (along the boundaries lib-storage cuts at) on the thread pool; each UploadPart request carries that part's
 * hash (`partChecksums`), so the SDK does not hash the bytes again, and the checksum S3 reports for the completed
 * object proves it holds the bytes that were read. A failure aborts the multipart upload
 * (`leavePartsOnError: false`), so S3 keeps nothing of it.
 */
export class StreamedObject {
  private readonly body = new PassThrough({ highWaterMark: 1024 * 1024 });
  private readonly hash = createHash("sha256");
  /** Bytes of the current upload part not hashed yet (views of the written chunks, not copies). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** SHA-256 of each upload part, in part order. */
  private readonly partDigests: Promise<Buffer>[] = [];
  /** Where the UploadPart requests of this object find their parts' hashes. */
  private readonly checksums: Map<string, Promise<Buffer>>;
  private readonly done: Promise<{ VersionId?: string }>;
  /** Rejects as soon as the upload stops (failed, or ended before the body did): a writer must not wait on it. */
  private readonly stopped: Promise<never>;
  bytes = 0;

  constructor(
    s3: S3Client,
    readonly bucket: string,
    readonly key: string,
    contentType: string,
    metadata: Record<string, string>,
  ) {
    this.checksums = partChecksums(s3);
    this.done = new Upload({
      client: s3,
      params: {
        Bucket: bucket,
        Key: key,
        Body: this.body,
        ChecksumAlgorithm: "SHA256",
        ContentType: contentType,
        Metadata: asciiMetadata(metadata),
        // lib-storage passes it on to the single PutObject or to CompleteMultipartUpload.
        ...writeOnce,
      },
      partSize: uploadChunkBytes,
      queueSize: uploadQueueSize,
      leavePartsOnError: false,
    }).done();
    this.stopped = this.done.then(() => {
      throw new Error(`upload of ${key} ended before its body`);
    });
    this.stopped.catch(() => undefined);
  }

  async write(data: Buffer): Promise<void> {
    this.hash.update(data);
    this.bytes += data.length;
    for (let offset = 0; offset < data.length; ) {
      const take = Math.min(data.length - offset, uploadChunkBytes - this.pendingBytes);
      this.pending.push(data.subarray(offset, offset + take));
      this.pendingBytes += take;
      offset += take;
      if (this.pendingBytes === uploadChunkBytes) this.hashPart();
    }
    if (this.body.write(data)) return;
    try {
      await Promise.race([once(this.body, "drain"), this.stopped]);
    } catch (error) {
      throw asAwsError(`S3 upload of s3://${this.bucket}/${this.key}`, error);
    }
  }

  /**
   * Hashes the completed upload part with WebCrypto, on libuv's thread pool (it copies the bytes it is given), and
   * leaves the hash for the UploadPart request that sends these bytes: registered before they are written to the
   * body, so always before lib-storage can cut the part.
   */
  private hashPart(): void {
    const part = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    const digest = webcrypto.subtle.digest("SHA-256", part).then((d) => Buffer.from(d));
    digest.catch(() => undefined); // awaited by finish(); a failed part hash fails the upload there
    const partNumber = this.partDigests.push(digest);
    this.checksums.set(partSlot(this.bucket, this.key, partNumber), digest);
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Drops the hashes no UploadPart request took (a single-PUT object, or an upload that stopped early). */
  private forgetPartChecksums(): void {
    for (let part = 1; part <= this.partDigests.length; part++)
      this.checksums.delete(partSlot(this.bucket, this.key, part));
  }

  /** Ends the body, waits for S3 to complete the object, and says which SHA-256 S3 must now report. */
  async finish(): Promise<{ sha256: string; bytes: number; versionId?: string; s3Checksum: string }> {
    if (this.pendingBytes > 0) this.hashPart();
    this.body.end();
    const full = this.hash.digest();
    try {
      const out = await this.done;
      return {
        sha256: full.toString("hex"),
        bytes: this.bytes,
        versionId: out.VersionId,
        s3Checksum: s3Sha256(await Promise.all(this.partDigests), full),
      };
    } catch (error) {
      throw asAwsError(
        `S3 upload of s3://${this.bucket}/${this.key}`,
        refusedOverwrite(this.bucket, this.key, error),
      );
    } finally {
      this.forgetPartChecksums();
    }
  }

  /**
   * Stops the upload: the body fails, lib-storage lets the parts in flight settle and aborts the multipart upload
   * (`leavePartsOnError: false`) before its promise rejects, which is awaited here.
   */
  async abort(): Promise<void> {
    this.body.destroy(new Error(`upload of ${this.key} aborted`));
    await this.done.catch(() => undefined);
    this.forgetPartChecksums();
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

  /** One small object in a single PUT, never replacing an existing one. */
  async putSmall(key: string, body: Buffer, metadata: Record<string, string>, contentType: string) {
    const sha256 = createHash("sha256").update(body).digest();
    try {
      const out = await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ChecksumSHA256: sha256.toString("base64"),
          Metadata: asciiMetadata({ ...metadata, sha256: sha256.toString("hex") }),
          ...writeOnce,
        }),
      );
      return { key, versionId: out.VersionId };
    } catch (error) {
      throw asAwsError(`S3 put ${key} in ${this.bucket}`, refusedOverwrite(this.bucket, key, error));
    }
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
}
