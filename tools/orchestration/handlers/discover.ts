import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { awsClients } from "../../ingest/aws";
import { defaultApi, discover } from "../../ingest/discover";
import { baseName, parseCmsFileName } from "../../ingest/file-names";
import { headRemote } from "../../ingest/http";
import { remoteIsCurrent } from "../../ingest/ingest-file";
import { IngestionLedger, latestVerified } from "../../ingest/ledger";
import { s3Csv } from "../../ingest/s3-source";
import type { SourceFile } from "../../ingest/sources";
import { optionalSetting, setting } from "./environment";

/** Where the landing validator puts accepted files; the next refresh ingests them from there. */
export const INCOMING_PREFIX = "incoming/";

/** One file for the Map: where it is, and which runner ingests it. */
export interface RefreshFile {
  readonly url: string;
  readonly name: string;
  readonly size?: number;
  readonly runner: "lambda" | "codebuild";
  readonly why: string;
}

export interface DiscoverInput {
  /** Program years to ask CMS about; default PROGRAM_YEARS, else the last 7 (what CMS keeps published). */
  readonly programYears?: number[];
  /** Explicit sources (CSV/ZIP URLs, s3:// URIs) instead of asking CMS: a manual start for chosen files. */
  readonly sources?: string[];
}

export interface DiscoverOutput {
  readonly files: RefreshFile[];
  readonly count: number;
  readonly skipped: { readonly url: string; readonly reason: string }[];
}

/** 1 GB: a margin under Lambda's 15 minutes for a download whose speed CMS decides (docs/orchestration.md). */
export const DEFAULT_LAMBDA_MAX_BYTES = 1_000_000_000;

export function defaultProgramYears(now = new Date()): number[] {
  const last = now.getUTCFullYear() - 1;
  return Array.from({ length: 7 }, (_, i) => last - 6 + i);
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

async function incomingObjects(s3: S3Client, bucket: string): Promise<string[]> {
  const uris: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: INCOMING_PREFIX, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? [])
      if (o.Key?.toLowerCase().endsWith(".csv")) uris.push(`s3://${bucket}/${o.Key}`);
    token = page.NextContinuationToken;
  } while (token);
  return uris;
}

/**
 * What the refresh should ingest: every file CMS publishes for the program years (or the sources given), plus the
 * accepted hand-dropped files in incoming/, less those whose URL, ETag and size are already the current verified
 * version (the ingest CLI's own rule, asked with one HEAD each, nothing downloaded). Each file is routed by size.
 */
export async function handler(event: DiscoverInput = {}): Promise<DiscoverOutput> {
  const rawBucket = setting("rawBucket");
  const endpoint = optionalSetting("endpoint");
  const { s3, ddb } = awsClients({
    rawBucket,
    table: setting("ingestionTable"),
    region: setting("region"),
    ...(endpoint ? { endpoint } : {}),
  });
  const ledger = new IngestionLedger(ddb, setting("ingestionTable"));
  const maxLambdaBytes = Number(optionalSetting("lambdaMaxBytes") ?? DEFAULT_LAMBDA_MAX_BYTES);
  const years =
    event.programYears ?? (optionalSetting("programYears")?.split(",").map(Number) || defaultProgramYears());
  try {
    const fromCms = event.sources
      ? event.sources
      : (await Promise.all(years.map((y) => discover(y, optionalSetting("cmsApi") ?? defaultApi))))
          .flat()
          .map((f) => f.downloadURL);
    const landingBucket = optionalSetting("landingBucket");
    const incoming = landingBucket ? await incomingObjects(s3, landingBucket) : [];
    const candidates = [...new Set([...fromCms, ...incoming])];
    const judged = await mapLimit(candidates, 8, async (url) => judge(url, { s3, ledger, maxLambdaBytes }));
    const files = judged.flatMap((j) => ("file" in j ? [j.file] : []));
    const skipped = judged.flatMap((j) => ("skip" in j ? [j.skip] : []));
    return { files, count: files.length, skipped };
  } finally {
    s3.destroy();
    ddb.destroy();
  }
}

type Judgement = { file: RefreshFile } | { skip: { url: string; reason: string } };

async function judge(
  url: string,
  deps: { s3: S3Client; ledger: IngestionLedger; maxLambdaBytes: number },
): Promise<Judgement> {
  const name = baseName(url);
  if (/\.zip$/i.test(name)) {
    // A year ZIP holds the General file (6-9 GB uncompressed): always the long-running runner, which skips
    // entries whose content is already current.
    return { file: { url, name, runner: "codebuild", why: "year ZIP (holds the General file)" } };
  }
  const parsed = parseCmsFileName(name);
  if (!parsed) return { skip: { url, reason: "not a CMS detail file name" } };
  const source: Pick<SourceFile, "source" | "size" | "validators"> = url.startsWith("s3://")
    ? await s3Csv(url, deps.s3)
    : await headRemote(url).then((h) => ({ source: url, size: h.size, validators: { etag: h.etag } }));
  const latest = latestVerified(
    await deps.ledger.fileRecords({
      dataset: parsed.dataset,
      programYear: parsed.programYear,
      publication: parsed.publication,
      fileStem: parsed.stem,
    }),
  );
  if (latest && remoteIsCurrent(latest, source)) {
    return { skip: { url, reason: "unchanged: same URL, ETag and size as the current verified version" } };
  }
  const large = source.size === undefined || source.size > deps.maxLambdaBytes;
  return {
    file: {
      url,
      name,
      ...(source.size === undefined ? {} : { size: source.size }),
      runner: large ? "codebuild" : "lambda",
      why: `${latest ? "changed" : "new"}; ${source.size === undefined ? "size unknown" : `${source.size} bytes`}`,
    },
  };
}
