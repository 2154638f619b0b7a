import { createHash } from "node:crypto";
import type { Writable } from "node:stream";
import { stripBom } from "./csv-header";
import { ChecksumMismatchError } from "./errors";
import { type Manifest, manifestFileName, manifestSchema } from "./manifest";
import { hexToBase64, type RawStore, sameS3Checksum, uploadChunkBytes } from "./raw-store";

/**
 * Checks every part against the manifest without downloading it: size, the run's metadata, and S3's stored
 * SHA-256. `expectedS3Checksums` are the checksums computed while uploading (full-object for a single PUT, the hash
 * of the upload parts' hashes for a multipart object); without them (a later `rebuild`) S3's checksum can be
 * compared only when it is a full-object one, and `rebuildOriginal` re-hashes the downloaded bytes anyway.
 */
export async function verifyStoredParts(
  store: RawStore,
  prefix: string,
  manifest: Manifest,
  expectedS3Checksums?: readonly string[],
): Promise<void> {
  for (const [index, part] of manifest.parts.entries()) {
    const key = prefix + part.key;
    const stored = await store.head(key);
    if (!stored)
      throw new ChecksumMismatchError(`s3://${store.bucket}/${key}: part listed in the manifest is missing`);
    const full = hexToBase64(part.sha256);
    const expected = expectedS3Checksums?.[index] ?? (part.bytes <= uploadChunkBytes ? full : undefined);
    const problems = [
      stored.bytes === part.bytes ? "" : `size ${stored.bytes} instead of ${part.bytes}`,
      expected === undefined || sameS3Checksum(stored.checksumSha256, expected)
        ? ""
        : `S3 SHA-256 ${stored.checksumSha256 ?? "(none)"} instead of ${expected}`,
      stored.metadata["ingestion-id"] === manifest.ingestionId
        ? ""
        : "written by another ingestion than the manifest's",
    ].filter(Boolean);
    if (problems.length)
      throw new ChecksumMismatchError(`s3://${store.bucket}/${key}: ${problems.join("; ")}`);
  }
}

export async function readManifest(store: RawStore, prefix: string): Promise<Manifest> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.read(prefix + manifestFileName)) chunks.push(chunk as Buffer);
  return manifestSchema.parse(JSON.parse(Buffer.concat(chunks).toString("utf8")));
}

export interface RebuildResult {
  readonly sha256: string;
  readonly bytes: number;
  readonly matches: boolean;
}

/**
 * Rebuilds the original file byte for byte: part 0 whole, every later part without its repeated header line.
 * Each part is re-hashed on the way (downloaded, not trusted from S3's metadata) and the result is compared
 * with the original's SHA-256 in the manifest. Streams: memory stays flat whatever the file size.
 */
export async function rebuildOriginal(
  store: RawStore,
  prefix: string,
  manifest: Manifest,
  out?: Writable,
): Promise<RebuildResult> {
  const original = createHash("sha256");
  let bytes = 0;
  let laterHeader: Buffer | undefined;
  const emit = async (chunk: Buffer) => {
    original.update(chunk);
    bytes += chunk.length;
    if (out && !out.write(chunk)) await new Promise((resolve) => out.once("drain", resolve));
  };
  for (const [index, part] of manifest.parts.entries()) {
    const key = prefix + part.key;
    const partHash = createHash("sha256");
    let partBytes = 0;
    let skip = 0;
    let head = Buffer.alloc(0);
    for await (const data of await store.read(key)) {
      const chunk = data as Buffer;
      partHash.update(chunk);
      partBytes += chunk.length;
      if (index === 0) {
        if (!laterHeader) {
          // The header line of part 0 (minus a byte-order mark) is what later parts start with.
          head = Buffer.concat([head, chunk]);
          const end = head.indexOf(0x0a);
          if (end >= 0) {
            const line = head.subarray(0, end + 1);
            laterHeader = Buffer.from(stripBom(line));
            head = Buffer.alloc(0);
          }
        }
        await emit(chunk);
        continue;
      }
      if (!laterHeader) throw new ChecksumMismatchError(`${key}: part 0 has no header line`);
      if (skip < laterHeader.length) {
        head = Buffer.concat([head, chunk]);
        if (head.length < laterHeader.length) continue;
        if (!head.subarray(0, laterHeader.length).equals(laterHeader)) {
          throw new ChecksumMismatchError(
            `s3://${store.bucket}/${key}: does not start with the file's header line`,
          );
        }
        skip = laterHeader.length;
        const rest = head.subarray(laterHeader.length);
        head = Buffer.alloc(0);
        if (rest.length) await emit(rest);
        continue;
      }
      await emit(chunk);
    }
    const sha = partHash.digest("hex");
    if (sha !== part.sha256 || partBytes !== part.bytes) {
      throw new ChecksumMismatchError(
        `s3://${store.bucket}/${key}: content hashes to ${sha} (${partBytes} bytes), manifest says ` +
          `${part.sha256} (${part.bytes} bytes)`,
      );
    }
  }
  const sha256 = original.digest("hex");
  return { sha256, bytes, matches: sha256 === manifest.original.sha256 && bytes === manifest.original.bytes };
}
