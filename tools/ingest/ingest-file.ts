import { createHash, randomUUID } from "node:crypto";
import { open, stat, unlink } from "node:fs/promises";
import type { Readable } from "node:stream";
import { parseHeaderColumns } from "./csv-header";
import { BadInputError, errorMessage, UsageError } from "./errors";
import { parseCmsFileName } from "./file-names";
import { type Layout, requireLayout } from "./layouts";
import {
  attemptKey,
  type FileIdentity,
  type IngestionLedger,
  type IngestionRecord,
  type LeaseHolder,
  versionKey,
} from "./ledger";
import { type Manifest, type ManifestPart, manifestFileName, partFileName, rawPrefix } from "./manifest";
import type { Reporter } from "./progress";
import type { RawStore, StreamedObject, WrittenObject } from "./raw-store";
import { splitRecords } from "./record-splitter";
import type { SourceFile } from "./sources";
import { verifyStoredParts } from "./verify";

export interface IngestOptions {
  /** Bytes per raw part before the next record boundary starts a new part. */
  readonly partSize: number;
  readonly dryRun: boolean;
  /** Delete a local source file once its upload is verified. */
  readonly move: boolean;
  /** How long a run owns a file without renewing; a dead run's file is taken over after this. */
  readonly leaseMs: number;
  /** For files whose names do not follow CMS naming. */
  readonly programYear?: number;
  readonly publication?: string;
}

export interface IngestDeps {
  readonly store: RawStore;
  readonly ledger: IngestionLedger;
  readonly reporter: Reporter;
}

export interface PlannedPart {
  readonly key: string;
  readonly bytes: number;
  readonly records: number;
}

export type FileOutcome =
  | {
      readonly status: "verified";
      readonly file: FileIdentity;
      readonly manifest: Manifest;
      readonly manifestKey: string;
      readonly seconds: number;
    }
  | {
      readonly status: "unchanged";
      readonly file: FileIdentity;
      readonly sha256?: string;
      readonly reason: string;
    }
  | { readonly status: "busy"; readonly file: FileIdentity; readonly holder: LeaseHolder }
  | {
      readonly status: "planned";
      readonly file: FileIdentity;
      readonly layout: string;
      readonly bytes: number;
      readonly records: number;
      readonly sha256: string;
      readonly bucket: string;
      readonly parts: readonly PlannedPart[];
    }
  | {
      readonly status: "failed";
      readonly source: string;
      readonly file?: FileIdentity;
      readonly error: Error;
    };

/** Reads only up to the header line: used to identify files whose names are not CMS names. */
async function peekLayout(source: SourceFile): Promise<Layout> {
  const stream = await source.open();
  try {
    for await (const event of splitRecords(stream, {
      partSize: Number.MAX_SAFE_INTEGER,
      fileName: source.name,
    })) {
      if (event.kind === "header")
        return requireLayout(source.name, parseHeaderColumns(source.name, event.bytes));
    }
    throw new BadInputError(`${source.name}: no header line`);
  } finally {
    stream.destroy();
  }
}

/** Dataset, program year, publication and stem: from the CMS file name, else from the header and options. */
export async function identify(source: SourceFile, options: IngestOptions): Promise<FileIdentity> {
  const parsed = parseCmsFileName(source.name);
  if (parsed) {
    if (options.programYear !== undefined && options.programYear !== parsed.programYear) {
      throw new UsageError(
        `${source.name}: --program-year ${options.programYear} contradicts the file name (${parsed.programYear})`,
      );
    }
    return {
      dataset: parsed.dataset,
      programYear: parsed.programYear,
      publication: parsed.publication,
      fileStem: parsed.stem,
    };
  }
  if (options.programYear === undefined || !options.publication) {
    throw new UsageError(
      `${source.name}: not a CMS file name (OP_DTL_<GNRL|RSRCH|OWNRSHP>_PGYR<yyyy>_P<stamp>.csv); ` +
        "pass --program-year and --publication to ingest it under its own name",
    );
  }
  const layout = await peekLayout(source);
  return {
    dataset: layout.dataset,
    programYear: options.programYear,
    publication: options.publication,
    fileStem: source.name.replace(/\.csv$/i, ""),
  };
}

/** What changes when a local file is written to (ctime cannot be set back): compared before and after a run. */
const fileState = async (path: string) => {
  const { size, mtimeMs, ctimeMs, ino } = await stat(path);
  return `${ino}:${size}:${mtimeMs}:${ctimeMs}`;
};

async function hashLocalFile(path: string): Promise<{ sha256: string; bytes: number; state: string }> {
  const state = await fileState(path);
  const hash = createHash("sha256");
  let bytes = 0;
  // Two buffers reused for the whole file (nothing for the garbage collector): the next read runs on the thread
  // pool while this one is hashed.
  const buffers = [Buffer.allocUnsafe(4 * 1024 * 1024), Buffer.allocUnsafe(4 * 1024 * 1024)];
  const handle = await open(path);
  try {
    let next = handle.read(buffers[0], 0, buffers[0].length, null);
    for (let turn = 1; ; turn ^= 1) {
      const { bytesRead, buffer } = await next;
      if (bytesRead === 0) break;
      next = handle.read(buffers[turn], 0, buffers[turn].length, null);
      hash.update(buffer.subarray(0, bytesRead));
      bytes += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return { sha256: hash.digest("hex"), bytes, state };
}

interface StreamResult {
  readonly layout: Layout;
  readonly sha256: string;
  readonly bytes: number;
  readonly records: number;
  readonly parts: ManifestPart[];
  /** The SHA-256 S3 must report for each uploaded part (empty when planning). */
  readonly s3Checksums: string[];
}

/**
 * The one pass over the source: hashes the original (unless its hash is known: a local file hashed first),
 * checks the header against the shared layouts before any byte is written, splits into record-aligned parts and
 * (unless planning) streams each part to S3. Every object version written is appended to `written` so a failure
 * can remove them all.
 */
async function streamParts(
  source: SourceFile,
  file: FileIdentity,
  options: IngestOptions,
  deps: IngestDeps,
  written: WrittenObject[] | undefined,
  metadata: (layout: Layout) => Record<string, string>,
  knownSha256?: string,
): Promise<StreamResult> {
  const prefix = rawPrefix(file);
  const progress = deps.reporter.startFile(source.name, source.size);
  const hash = createHash("sha256");
  let bytes = 0;
  let input: Readable | undefined;
  let current: StreamedObject | undefined;
  let layout: Layout | undefined;
  const parts: ManifestPart[] = [];
  const completions: Promise<void>[] = [];
  const s3Checksums: string[] = [];
  let pendingFailure: unknown;
  let partBytes = 0;
  try {
    input = await source.open();
    const opened = input;
    const tap = async function* () {
      for await (const chunk of opened) {
        if (!knownSha256) hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
        progress.update(bytes);
        yield chunk as Buffer;
      }
    };
    for await (const event of splitRecords(tap(), { partSize: options.partSize, fileName: source.name })) {
      if (event.kind === "header") {
        const found = requireLayout(source.name, parseHeaderColumns(source.name, event.bytes));
        if (found.dataset !== file.dataset) {
          throw new BadInputError(
            `${source.name}: the file name says ${file.dataset} but the header is the ${found.id} layout`,
          );
        }
        layout = found;
      } else if (event.kind === "part-start") {
        partBytes = 0;
        if (written && layout)
          current = deps.store.startObject(prefix + partFileName(event.index), metadata(layout));
      } else if (event.kind === "data") {
        partBytes += event.chunk.length;
        if (current) await current.write(event.chunk);
      } else {
        const key = partFileName(event.index);
        const slot = parts.push({ key, sha256: "", bytes: partBytes, records: event.records }) - 1;
        if (current && written) {
          // Completing a part runs while the next part streams.
          const finishing = current;
          current = undefined;
          const pending = finishing.finish().then((done) => {
            written.push({ key: prefix + key, versionId: done.versionId });
            parts[slot] = { key, sha256: done.sha256, bytes: done.bytes, records: event.records };
            s3Checksums[slot] = done.s3Checksum;
          });
          pending.catch((error) => {
            pendingFailure ??= error;
          });
          completions.push(pending);
        }
      }
      if (pendingFailure) throw pendingFailure;
    }
    await Promise.all(completions);
  } catch (error) {
    await current?.abort();
    input?.destroy();
    await Promise.allSettled(completions);
    throw error;
  } finally {
    progress.stop();
  }
  if (!layout) throw new BadInputError(`${source.name}: no header line`);
  return {
    layout,
    sha256: knownSha256 ?? hash.digest("hex"),
    bytes,
    records: parts.reduce((n, p) => n + p.records, 0),
    parts,
    s3Checksums,
  };
}

function sourceMetadata(source: SourceFile, file: FileIdentity, layout: Layout, ingestionId: string) {
  return {
    source: source.source,
    publication: file.publication,
    layout: layout.id,
    "ingestion-id": ingestionId,
  };
}

async function plan(source: SourceFile, file: FileIdentity, options: IngestOptions, deps: IngestDeps) {
  const result = await streamParts(source, file, options, deps, undefined, () => ({}));
  const prefix = rawPrefix(file);
  return {
    status: "planned" as const,
    file,
    layout: result.layout.id,
    bytes: result.bytes,
    records: result.records,
    sha256: result.sha256,
    bucket: deps.store.bucket,
    parts: [
      ...result.parts.map((p) => ({ key: prefix + p.key, bytes: p.bytes, records: p.records })),
      { key: prefix + manifestFileName, bytes: 0, records: 0 },
    ],
  };
}

/**
 * Ingests one CSV into raw: lease → started record → streamed parts → manifest → uploaded → verified against
 * S3's checksums → (--move) local file deleted. On any failure the run's object versions are deleted, the
 * record says failed with the reason, and the lease is released for the next run.
 */
export async function ingestFile(
  source: SourceFile,
  options: IngestOptions,
  deps: IngestDeps,
): Promise<FileOutcome> {
  let file: FileIdentity | undefined;
  try {
    file = await identify(source, options);
    if (options.dryRun) return await plan(source, file, options, deps);
    return await ingestIdentified(source, file, options, deps);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    return { status: "failed", source: source.source, file, error: error as Error };
  }
}

async function ingestIdentified(
  source: SourceFile,
  file: FileIdentity,
  options: IngestOptions,
  deps: IngestDeps,
): Promise<FileOutcome> {
  const { ledger, store, reporter } = deps;
  const ingestionId = randomUUID();
  const claim = await ledger.claimLease(file, ingestionId, source.source, options.leaseMs);
  if (!claim.claimed) return { status: "busy", file, holder: claim.holder };
  let leaseLost: unknown;
  const heartbeat = setInterval(() => {
    ledger.renewLease(file, ingestionId, options.leaseMs).catch((error) => {
      leaseLost = error;
    });
  }, options.leaseMs / 3);
  heartbeat.unref();

  const started = Date.now();
  const written: WrittenObject[] = [];
  let sk: string | undefined;
  try {
    const base = { ingestionId, source: source.source };
    let pre: { sha256: string; bytes: number; state: string } | undefined;
    if (source.localPath) {
      // A local file is hashed first: its version key is known before upload and an identical re-run costs
      // one read and one conditional write.
      pre = await hashLocalFile(source.localPath);
      reporter.event("hashed", { file: file.fileStem, bytes: pre.bytes, sha256: pre.sha256 });
      if (
        !(await ledger.start(file, versionKey(pre.sha256), { ...base, sha256: pre.sha256, bytes: pre.bytes }))
      ) {
        if (options.move) await unlink(source.localPath);
        return {
          status: "unchanged",
          file,
          sha256: pre.sha256,
          reason: "identical content already verified",
        };
      }
      sk = versionKey(pre.sha256);
    } else {
      const same = (await ledger.fileRecords(file)).find(
        (r) =>
          r.status === "verified" &&
          r.source === source.source &&
          r.sourceEtag !== undefined &&
          r.sourceEtag === source.validators?.etag &&
          (source.size === undefined || r.bytes === source.size),
      );
      if (same) {
        return {
          status: "unchanged",
          file,
          sha256: same.sha256,
          reason: "same URL, ETag and size as a verified version",
        };
      }
      sk = attemptKey(ingestionId);
      await ledger.start(file, sk, {
        ...base,
        sourceEtag: source.validators?.etag,
        sourceLastModified: source.validators?.lastModified,
      });
    }
    reporter.event("started", { file: file.fileStem, source: source.source, ingestionId });

    const localSha = pre?.sha256;
    const result = await streamParts(
      source,
      file,
      options,
      deps,
      written,
      (layout) => ({
        ...sourceMetadata(source, file, layout, ingestionId),
        // Known before upload for a local file (hashed first); a remote file's hash is in its manifest.
        ...(localSha ? { "original-sha256": localSha } : {}),
      }),
      localSha,
    );
    const uploadedAt = Date.now();
    reporter.event("uploaded", { file: file.fileStem, bytes: result.bytes, parts: result.parts.length });
    // Instead of hashing the file a second time (every part is hashed on its way and checked by S3): the file
    // was not written to between the hash and the end of the upload.
    if (
      source.localPath &&
      (result.bytes !== pre?.bytes || (await fileState(source.localPath)) !== pre.state)
    ) {
      throw new BadInputError(`${source.name}: the file changed while it was being uploaded`);
    }
    const manifest: Manifest = {
      version: 1,
      ingestionId,
      dataset: file.dataset,
      programYear: file.programYear,
      publication: file.publication,
      layout: result.layout.id,
      source: source.source,
      ingestedAt: new Date().toISOString(),
      original: {
        fileName: source.name,
        sha256: result.sha256,
        bytes: result.bytes,
        records: result.records,
      },
      parts: result.parts,
    };
    const prefix = rawPrefix(file);
    const manifestObject = await store.putSmall(
      prefix + manifestFileName,
      Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`),
      { ...sourceMetadata(source, file, result.layout, ingestionId), "original-sha256": result.sha256 },
      "application/json",
    );
    written.push(manifestObject);

    if (!source.localPath) {
      const attempt = await ledger.get(file, sk);
      if (!attempt) throw new Error(`the attempt record ${sk} disappeared`);
      if (!(await ledger.promoteAttempt(file, attempt, result.sha256))) {
        // CMS served the same bytes under new validators: the verified version stands; undo this run's writes.
        await ledger.supersede(file, attempt, result.sha256);
        await store.remove(written.splice(0).reverse()).catch((error) => {
          reporter.event("cleanup-failed", { file: file.fileStem, reason: errorMessage(error) });
        });
        return {
          status: "unchanged",
          file,
          sha256: result.sha256,
          reason: "identical content already verified",
        };
      }
      sk = versionKey(result.sha256);
    }
    const uploaded: Partial<IngestionRecord> = {
      bytes: result.bytes,
      sha256: result.sha256,
      records: result.records,
      parts: result.parts.length,
      layout: result.layout.id,
      s3Key: manifestObject.key,
      s3VersionId: manifestObject.versionId,
      timings: { uploadMs: uploadedAt - started },
    };
    await ledger.transition(file, sk, ingestionId, ["started"], "uploaded", uploaded);

    await verifyStoredParts(store, prefix, manifest, result.s3Checksums);
    if (leaseLost) throw new Error(`lost the lease while ingesting: ${errorMessage(leaseLost)}`);
    const verifiedAt = Date.now();
    await ledger.transition(file, sk, ingestionId, ["uploaded"], "verified", {
      timings: {
        uploadMs: uploadedAt - started,
        verifyMs: verifiedAt - uploadedAt,
        totalMs: verifiedAt - started,
      },
    });
    await removeStaleParts(store, prefix, manifest).catch((error) =>
      reporter.event("stale-parts-kept", { prefix, reason: errorMessage(error) }),
    );
    if (options.move && source.localPath) await unlink(source.localPath);
    reporter.event("verified", {
      file: file.fileStem,
      bytes: result.bytes,
      records: result.records,
      parts: result.parts.length,
    });
    return {
      status: "verified",
      file,
      manifest,
      manifestKey: manifestObject.key,
      seconds: (verifiedAt - started) / 1000,
    };
  } catch (error) {
    const reason = errorMessage(error);
    reporter.event("failed", { file: file.fileStem, source: source.source, reason });
    await store.remove([...written].reverse()).catch((cleanup) => {
      reporter.event("cleanup-failed", { file: file.fileStem, reason: errorMessage(cleanup) });
    });
    if (sk) {
      await ledger
        .transition(file, sk, ingestionId, ["started", "uploaded"], "failed", {
          reason,
          timings: { totalMs: Date.now() - started },
        })
        .catch((record) =>
          reporter.event("record-failed", { file: file.fileStem, reason: errorMessage(record) }),
        );
    }
    throw error;
  } finally {
    clearInterval(heartbeat);
    await ledger.releaseLease(file, ingestionId).catch(() => undefined);
  }
}

/** A corrected file with fewer parts must not leave older parts beside the new manifest (S3 versioning keeps them). */
async function removeStaleParts(store: RawStore, prefix: string, manifest: Manifest): Promise<void> {
  const current = new Set([...manifest.parts.map((p) => prefix + p.key), prefix + manifestFileName]);
  const stale = (await store.list(prefix)).filter(
    (key) => !current.has(key) && /\/part-\d{5}\.csv$/.test(key),
  );
  await store.remove(stale.map((key) => ({ key })));
}
