import { createHash } from "node:crypto";
import { open, stat, unlink } from "node:fs/promises";
import type { Readable } from "node:stream";
import { parseHeaderColumns } from "./csv-header";
import { BadInputError, errorMessage, ShrinkRefusedError, UsageError } from "./errors";
import { parseCmsFileName, publicationOrder } from "./file-names";
import { type Layout, requireLayout } from "./layouts";
import {
  attemptKey,
  type FileIdentity,
  type IngestionLedger,
  type IngestionRecord,
  ingestionOrder,
  type LeaseHolder,
  latestVerified,
  reingestionKey,
  versionKey,
} from "./ledger";
import {
  type Manifest,
  type ManifestPart,
  manifestFileName,
  newIngestionId,
  partFileName,
  rawPrefix,
} from "./manifest";
import type { Reporter } from "./progress";
import type { RawStore, StreamedObject } from "./raw-store";
import { splitRecords } from "./record-splitter";
import type { SourceFile } from "./sources";
import { sealedFolderProblems, verifyStoredParts } from "./verify";

export interface IngestOptions {
  /** Bytes per raw part before the next record boundary starts a new part. */
  readonly partSize: number;
  readonly dryRun: boolean;
  /** Delete a local source file once its upload is verified. */
  readonly move: boolean;
  /** How long a run owns a file without renewing; a dead run's file is taken over after this. */
  readonly leaseMs: number;
  /** Ingest even when the ingestion table says this content is already the file's current verified version. */
  readonly force: boolean;
  /** Refuse a version with more than this share fewer records than the previous verified one (0–1)... */
  readonly maxShrink: number;
  /** ...unless this is set. */
  readonly allowShrink: boolean;
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
  | {
      /** The ingestion table says this content is verified and current, but its objects are not in raw. */
      readonly status: "missing";
      readonly file: FileIdentity;
      readonly sha256?: string;
      readonly manifestKey?: string;
      readonly problems: readonly string[];
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
      /** The run's folder when it holds objects: unsealed (no manifest.json), ignored by every reader. */
      readonly unsealed?: string;
    };

/**
 * Reads only up to the header line: identifies files whose names are not CMS names, and lets the landing
 * validator (tools/orchestration) judge a dropped file by the same rule before it is ingested.
 */
export async function peekLayout(source: SourceFile): Promise<Layout> {
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
 * (unless planning, `prefix` undefined) streams each part to S3 under `prefix`. `onWrite` is called when the
 * first object starts, so a failure can say the folder holds objects.
 */
async function streamParts(
  source: SourceFile,
  file: FileIdentity,
  options: IngestOptions,
  deps: IngestDeps,
  prefix: string | undefined,
  metadata: (layout: Layout) => Record<string, string>,
  knownSha256?: string,
  onWrite: () => void = () => undefined,
): Promise<StreamResult> {
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
        if (prefix !== undefined && layout) {
          onWrite();
          current = deps.store.startObject(prefix + partFileName(event.index), metadata(layout));
        }
      } else if (event.kind === "data") {
        partBytes += event.chunk.length;
        if (current) await current.write(event.chunk);
      } else {
        const key = partFileName(event.index);
        const slot = parts.push({ key, sha256: "", bytes: partBytes, records: event.records }) - 1;
        if (current) {
          // Completing a part runs while the next part streams.
          const finishing = current;
          current = undefined;
          const pending = finishing.finish().then((done) => {
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
  const prefix = rawPrefix(file, newIngestionId());
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
 * Ingests one CSV into a raw folder of its own: lease → started record → streamed parts → uploaded → every part
 * verified against S3's checksums → shrink guard → manifest.json (sealed) → verified → (--move) local file
 * deleted. Nothing in raw is ever overwritten or deleted: on a failure the folder stays unsealed (readers ignore
 * it), the record says failed with the reason, and the lease is released for the next run.
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

/**
 * A remote source (URL, S3 object) whose URL, ETag and size are those of the file's current verified version:
 * nothing to download. The orchestration's discover step asks the same before it schedules a file.
 */
export function remoteIsCurrent(
  latest: IngestionRecord,
  source: Pick<SourceFile, "source" | "size" | "validators">,
): boolean {
  return (
    latest.source === source.source &&
    latest.sourceEtag !== undefined &&
    latest.sourceEtag === source.validators?.etag &&
    (source.size === undefined || latest.bytes === source.size)
  );
}

/** The key of a new record of `sha256`: its version key the first time, else a re-ingestion key of its own. */
function recordKey(records: readonly IngestionRecord[], sha256: string, ingestionId: string): string {
  const version = versionKey(sha256);
  return records.some((r) => r.sk === version) ? reingestionKey(sha256, ingestionId) : version;
}

/**
 * The file's current version has this very content: unchanged, unless its objects are gone from raw (a rebuilt
 * bucket, say), which is reported as missing, never skipped silently: --force ingests it again.
 */
async function alreadyCurrent(
  current: IngestionRecord,
  reason: string,
  source: SourceFile,
  file: FileIdentity,
  options: IngestOptions,
  store: RawStore,
): Promise<FileOutcome> {
  const problems = await sealedFolderProblems(store, current.s3Key, current.s3VersionId);
  if (problems.length) {
    return { status: "missing", file, sha256: current.sha256, manifestKey: current.s3Key, problems };
  }
  if (options.move && source.localPath) await unlink(source.localPath);
  return { status: "unchanged", file, sha256: current.sha256, reason };
}

/**
 * Refuses a version whose record count dropped by more than `maxShrink` against the previous verified one: the
 * newest verified ingestion of the same file, or else of the same dataset and program year in an earlier
 * publication (CMS names each publication's file differently). A cut delivery that happens to end at a record
 * boundary looks like this. The same content as the previous version (a --force run) passed the guard before.
 */
async function refuseShrink(
  ledger: IngestionLedger,
  file: FileIdentity,
  name: string,
  result: StreamResult,
  maxShrink: number,
): Promise<void> {
  const before = publicationOrder(file.publication);
  const previous = latestVerified(
    (await ledger.history(file.dataset, file.programYear)).filter(
      (r) => r.fileStem === file.fileStem || publicationOrder(r.publication) < before,
    ),
    (r) => `${publicationOrder(r.publication)}#${ingestionOrder(r)}`,
  );
  const had = previous?.records ?? 0;
  if (!previous || had === 0 || previous.sha256 === result.sha256) return;
  const drop = (had - result.records) / had;
  if (drop <= maxShrink) return;
  throw new ShrinkRefusedError(
    `${name}: ${result.records} records, ${(drop * 100).toFixed(1)}% fewer than the previous verified ` +
      `version (${previous.fileStem}, ${had} records, verified ${previous.updatedAt}): more than ` +
      `--max-shrink ${maxShrink} allows, so nothing was made current. A cut delivery looks like this: check ` +
      "the source; if CMS really published fewer records, run again with --allow-shrink",
  );
}

async function ingestIdentified(
  source: SourceFile,
  file: FileIdentity,
  options: IngestOptions,
  deps: IngestDeps,
): Promise<FileOutcome> {
  const { ledger, store, reporter } = deps;
  const ingestionId = newIngestionId();
  const prefix = rawPrefix(file, ingestionId);
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
  let sk: string | undefined;
  let wrote = false;
  const current = (record: IngestionRecord, reason: string) =>
    alreadyCurrent(record, reason, source, file, options, store);
  try {
    const base = {
      ingestionId,
      source: source.source,
      s3Prefix: prefix,
      ...(options.force ? { forced: true } : {}),
    };
    let pre: { sha256: string; bytes: number; state: string } | undefined;
    if (source.localPath) {
      // A local file is hashed first: whether anything is uploaded at all is known before a byte is sent, and
      // an identical re-run costs one read.
      pre = await hashLocalFile(source.localPath);
      reporter.event("hashed", { file: file.fileStem, bytes: pre.bytes, sha256: pre.sha256 });
      const records = await ledger.fileRecords(file);
      const latest = latestVerified(records);
      if (latest?.sha256 === pre.sha256 && !options.force) {
        return await current(latest, "identical content already verified");
      }
      sk = recordKey(records, pre.sha256, ingestionId);
      if (!(await ledger.start(file, sk, { ...base, sha256: pre.sha256, bytes: pre.bytes }))) {
        throw new Error(`another run recorded ${sk} for ${file.fileStem} at the same time`);
      }
    } else {
      const latest = latestVerified(await ledger.fileRecords(file));
      const validators = source.validators;
      if (!options.force && latest && remoteIsCurrent(latest, source)) {
        return await current(latest, "same URL, ETag and size as the current verified version");
      }
      sk = attemptKey(ingestionId);
      await ledger.start(file, sk, {
        ...base,
        sourceEtag: validators?.etag,
        sourceLastModified: validators?.lastModified,
      });
    }
    reporter.event("started", { file: file.fileStem, source: source.source, ingestionId, prefix });

    const localSha = pre?.sha256;
    const result = await streamParts(
      source,
      file,
      options,
      deps,
      prefix,
      (layout) => ({
        ...sourceMetadata(source, file, layout, ingestionId),
        // Known before upload for a local file (hashed first); a remote file's hash is in its manifest.
        ...(localSha ? { "original-sha256": localSha } : {}),
      }),
      localSha,
      () => {
        wrote = true;
      },
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

    if (!source.localPath) {
      const attempt = await ledger.get(file, sk);
      if (!attempt) throw new Error(`the attempt record ${sk} disappeared`);
      const records = await ledger.fileRecords(file);
      const latest = latestVerified(records);
      if (latest?.sha256 === result.sha256 && !options.force) {
        // CMS served the current version's bytes under new validators: it stands; this run's folder stays
        // unsealed (nothing in raw is deleted), recorded on the attempt (s3Prefix).
        await ledger.supersede(file, attempt, latest);
        reporter.event("unsealed", {
          file: file.fileStem,
          prefix,
          reason: "identical content already verified",
        });
        return await current(latest, "identical content already verified");
      }
      const target = recordKey(records, result.sha256, ingestionId);
      if (!(await ledger.promoteAttempt(file, attempt, result.sha256, target))) {
        throw new Error(`another run recorded ${target} for ${file.fileStem} at the same time`);
      }
      sk = target;
    }
    await ledger.transition(file, sk, ingestionId, ["started"], "uploaded", {
      bytes: result.bytes,
      sha256: result.sha256,
      records: result.records,
      parts: result.parts.length,
      layout: result.layout.id,
      timings: { uploadMs: uploadedAt - started },
    });

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
    // Sealing comes last: every part verified, the size guard passed, the lease still ours.
    await verifyStoredParts(store, prefix, manifest, result.s3Checksums);
    const verifiedAt = Date.now();
    if (!options.allowShrink) await refuseShrink(ledger, file, source.name, result, options.maxShrink);
    if (leaseLost) throw new Error(`lost the lease while ingesting: ${errorMessage(leaseLost)}`);
    const manifestObject = await store.putSmall(
      prefix + manifestFileName,
      Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`),
      { ...sourceMetadata(source, file, result.layout, ingestionId), "original-sha256": result.sha256 },
      "application/json",
    );
    await ledger.transition(file, sk, ingestionId, ["uploaded"], "verified", {
      s3Key: manifestObject.key,
      s3VersionId: manifestObject.versionId,
      timings: {
        uploadMs: uploadedAt - started,
        verifyMs: verifiedAt - uploadedAt,
        totalMs: Date.now() - started,
      },
    });
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
      seconds: (Date.now() - started) / 1000,
    };
  } catch (error) {
    const reason = errorMessage(error);
    reporter.event("failed", {
      file: file.fileStem,
      source: source.source,
      reason,
      ...(wrote ? { unsealed: prefix } : {}),
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
    return {
      status: "failed",
      source: source.source,
      file,
      error: error as Error,
      ...(wrote ? { unsealed: prefix } : {}),
    };
  } finally {
    clearInterval(heartbeat);
    await ledger.releaseLease(file, ingestionId).catch(() => undefined);
  }
}
