import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Readable } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import { SourceUnreachableError, UsageError } from "./errors";
import { baseName, parseCmsFileName, parseCmsZipName } from "./file-names";
import { type HttpOptions, headRemote, openRemote, refuseHtml } from "./http";
import { isS3Uri, s3Csv } from "./s3-source";
import { type OpenZip, openLocalZip, openRemoteZip } from "./zip";

/** How sources are read: HTTP settings, and the S3 client for `s3://` sources. */
export interface SourceOptions extends HttpOptions {
  readonly s3?: S3Client;
}

/** One CSV file to ingest, wherever its bytes come from. `open()` may be called more than once. */
export interface SourceFile {
  /** The CSV file name (e.g. OP_DTL_GNRL_PGYR2023_P01302025_01212025.csv). */
  readonly name: string;
  /** Where it came from, as recorded in metadata: a URL, a path, or `<zip>#<entry>`. */
  readonly source: string;
  /** Size in bytes when known before reading. */
  readonly size?: number;
  /** Set for plain local files: enables hashing before upload and --move. */
  readonly localPath?: string;
  /** HTTP validators, used to skip a remote file that is already ingested without downloading it. */
  readonly validators?: { readonly etag?: string; readonly lastModified?: string };
  open(): Promise<Readable>;
}

/** Sources expanded into files; ZIPs stay open until `close()`. */
export interface ResolvedSources {
  readonly files: SourceFile[];
  readonly skipped: { readonly source: string; readonly reason: string }[];
  /** Sources that could not be opened at all (corrupt ZIP, HTTP error): reported, the others still run. */
  readonly failed: { readonly source: string; readonly error: Error }[];
  close(): void;
}

export const notDetailFile =
  "not a CMS detail file name (OP_DTL_<GNRL|RSRCH|OWNRSHP>_… or OP_REMOVED_DELETED_…)";
const isUrl = (s: string) => /^https?:\/\//i.test(s);

function zipFiles(zip: OpenZip, zipSource: string, skipped: ResolvedSources["skipped"]): SourceFile[] {
  const files: SourceFile[] = [];
  for (const entry of zip.entries) {
    const name = baseName(entry.fileName);
    if (!name.toLowerCase().endsWith(".csv")) {
      skipped.push({
        source: `${zipSource}#${entry.fileName}`,
        reason: "not a CSV (README or other document)",
      });
      continue;
    }
    if (!parseCmsFileName(name)) {
      skipped.push({ source: `${zipSource}#${entry.fileName}`, reason: notDetailFile });
      continue;
    }
    files.push({
      name,
      source: `${zipSource}#${entry.fileName}`,
      size: entry.uncompressedSize,
      open: entry.open,
    });
  }
  return files;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(path)));
    else if (/\.(csv|zip)$/i.test(entry.name)) out.push(path);
  }
  return out.sort();
}

function localCsv(path: string, size: number): SourceFile {
  return {
    name: baseName(path),
    source: path,
    size,
    localPath: path,
    open: async () => createReadStream(path, { highWaterMark: 1024 * 1024 }),
  };
}

/**
 * Expands the command line's sources: local CSVs, ZIPs and folders (searched recursively, the seed's year folders),
 * per-file CSV URLs and year-ZIP URLs (read through byte ranges, never stored).
 */
export async function resolveSources(
  sources: readonly string[],
  http: SourceOptions = {},
): Promise<ResolvedSources> {
  const files: SourceFile[] = [];
  const skipped: ResolvedSources["skipped"] = [];
  const failed: ResolvedSources["failed"] = [];
  const zips: OpenZip[] = [];
  const close = () => {
    for (const zip of zips) zip.close();
  };
  try {
    for (const source of sources) {
      try {
        files.push(...(await resolveOne(source, http, skipped, zips)));
      } catch (error) {
        if (error instanceof UsageError) throw error;
        failed.push({ source, error: error as Error });
      }
    }
  } catch (error) {
    close();
    throw error;
  }
  return { files, skipped, failed, close };
}

async function resolveOne(
  source: string,
  http: SourceOptions,
  skipped: ResolvedSources["skipped"],
  zips: OpenZip[],
): Promise<SourceFile[]> {
  if (isS3Uri(source)) return [await s3Csv(source, http.s3)];
  if (isUrl(source)) {
    const name = baseName(source);
    if (!/\.zip$/i.test(name)) return [await remoteCsv(source, name, http)];
    const info = await headRemote(source, http);
    refuseHtml(source, info.contentType);
    if (info.size === undefined || !info.acceptsRanges) {
      throw new SourceUnreachableError(
        `${source}: the server does not offer byte ranges or a size, which streaming a ZIP needs; ` +
          "ingest the per-file CSV URLs instead",
      );
    }
    const zip = await openRemoteZip(source, name, info.size, http);
    zips.push(zip);
    return zipFiles(zip, source, skipped);
  }
  const path = resolve(source);
  const info = await stat(path).catch(() => {
    throw new UsageError(`${source}: no such file or folder`);
  });
  const paths = info.isDirectory() ? await walk(path) : [path];
  if (info.isDirectory() && paths.length === 0) skipped.push({ source, reason: "no .csv or .zip files" });
  const files: SourceFile[] = [];
  for (const p of paths) {
    if (!/\.zip$/i.test(p)) {
      // Inside a folder only CMS detail files are taken (a folder may hold the profile supplement, notes...).
      if (info.isDirectory() && !parseCmsFileName(baseName(p)))
        skipped.push({ source: p, reason: notDetailFile });
      else files.push(localCsv(p, (await stat(p)).size));
    } else if (!parseCmsZipName(baseName(p))) {
      skipped.push({ source: p, reason: "ZIP name is not a CMS year archive (PGYRyyyy_P….zip)" });
    } else {
      const zip = await openLocalZip(p, baseName(p));
      zips.push(zip);
      files.push(...zipFiles(zip, p, skipped));
    }
  }
  return files;
}

async function remoteCsv(url: string, name: string, http: HttpOptions): Promise<SourceFile> {
  const info = await headRemote(url, http);
  refuseHtml(url, info.contentType);
  return {
    name,
    source: url,
    ...(info.size === undefined ? {} : { size: info.size }),
    validators: { etag: info.etag, lastModified: info.lastModified },
    open: async () => {
      const { stream, contentType } = await openRemote(url, http);
      try {
        refuseHtml(url, contentType);
      } catch (error) {
        stream.destroy();
        throw error;
      }
      return stream;
    },
  };
}
