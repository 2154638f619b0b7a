import { createHash } from "node:crypto";
import type { Writable } from "node:stream";
import { stripBom } from "./csv-header";
import { ChecksumMismatchError } from "./errors";
import { ingestionSegment, type Manifest, manifestFileName, manifestSchema } from "./manifest";
import { hexToBase64, type RawStore, sameS3Checksum, uploadChunkBytes } from "./raw-store";

/**
 * What is wrong with the parts of a manifest, checked without downloading them: size, the run's metadata, and S3's
 * stored SHA-256. `expectedS3Checksums` are the checksums computed while uploading (full-object for a single PUT,
 * the hash of the upload parts' hashes for a multipart object); without them (a later check) S3's checksum can be
 * compared only when it is a full-object one, and `rebuildOriginal` re-hashes the downloaded bytes anyway.
 */
export async function storedPartProblems(
  store: RawStore,
  prefix: string,
  manifest: Manifest,
  expectedS3Checksums?: readonly string[],
): Promise<string[]> {
  const found: string[] = [];
  for (const [index, part] of manifest.parts.entries()) {
    const key = prefix + part.key;
    const stored = await store.head(key);
    if (!stored) {
      found.push(`s3://${store.bucket}/${key}: part listed in the manifest is missing`);
      continue;
    }
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
    if (problems.length) found.push(`s3://${store.bucket}/${key}: ${problems.join("; ")}`);
  }
  return found;
}

/** Throws a ChecksumMismatchError naming every part that does not match its manifest entry. */
export async function verifyStoredParts(
  store: RawStore,
  prefix: string,
  manifest: Manifest,
  expectedS3Checksums?: readonly string[],
): Promise<void> {
  const problems = await storedPartProblems(store, prefix, manifest, expectedS3Checksums);
  if (problems.length) throw new ChecksumMismatchError(problems.join("\n"));
}

/**
 * What is missing or altered in a sealed folder, from its manifest's key (and version, when recorded): an empty
 * list when the manifest and every part it lists are in place.
 */
export async function sealedFolderProblems(
  store: RawStore,
  manifestKey: string | undefined,
  versionId?: string,
): Promise<string[]> {
  if (!manifestKey) return ["the ingestion table records no manifest for it"];
  if (!(await store.head(manifestKey, versionId))) {
    return [`s3://${store.bucket}/${manifestKey} is gone`];
  }
  const folder = manifestKey.slice(0, manifestKey.length - manifestFileName.length);
  return storedPartProblems(store, folder, await readManifest(store, folder, versionId));
}

export async function readManifest(store: RawStore, folder: string, versionId?: string): Promise<Manifest> {
  const key = folder + manifestFileName;
  const chunks: Buffer[] = [];
  for await (const chunk of await store.read(key, versionId)) chunks.push(chunk as Buffer);
  const parsed = manifestSchema.safeParse(parseJson(Buffer.concat(chunks).toString("utf8")));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ChecksumMismatchError(
      `s3://${store.bucket}/${key}: not an ingestion manifest (${issue?.path.join(".")}: ${issue?.message})`,
    );
  }
  return parsed.data;
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/**
 * The sealed ingestion folder a user names: an ingestion folder (`…/<stem>/ingestion=<id>/`), or a file's folder
 * (`…/<stem>/`), for which the newest sealed ingestion is taken (or the manifest of a folder written before
 * per-ingestion folders).
 */
export async function sealedFolder(store: RawStore, folder: string): Promise<string> {
  const keys = await store.list(folder);
  if (keys.includes(folder + manifestFileName)) return folder;
  const sealed = keys
    .map((key) => key.slice(folder.length))
    .filter((rest) => rest.startsWith(ingestionSegment) && rest.endsWith(`/${manifestFileName}`))
    .map((rest) => rest.slice(0, -manifestFileName.length))
    .filter((rest) => !rest.slice(0, -1).includes("/"))
    .sort();
  const latest = sealed.at(-1);
  if (!latest) {
    throw new ChecksumMismatchError(
      `s3://${store.bucket}/${folder}: no sealed ingestion (no manifest.json) under this folder`,
    );
  }
  return folder + latest;
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
