import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { GetObjectCommand, paginateListObjectsV2, S3Client } from "@aws-sdk/client-s3";
import { z } from "zod";
import type { Verdict } from "./expectations";
import type { Deductions, IngestedCount, IngestedFile } from "./ingestion";

// The Glue jobs' reports (glue-scripts/README.md); only the fields the checks read. A refused or failed run
// writes its report too: status "failed", the failures and the error that stopped it.
const runStatus = {
  status: z.enum(["passed", "failed"]),
  failures: z.array(z.string()),
  error: z.object({ type: z.string(), message: z.string() }).optional(),
};
// What a run was limited to (--datasets, --program_years); reports written before it was recorded covered all.
const selection = z
  .object({
    datasets: z.union([z.literal("all"), z.array(z.string())]),
    program_years: z.union([z.literal("all"), z.array(z.number().int())]),
  })
  .optional();
const cleanReport = z.object({
  ...runStatus,
  started_at: z.string().optional(),
  selection,
  files: z.array(
    z.object({
      source_object: z.string(),
      dataset: z.string(),
      program_year: z.number().int(),
      raw_records: z.number().int(),
      cleaned: z.number().int(),
      quarantined: z.number().int(),
    }),
  ),
});
const curateReport = z.object({
  ...runStatus,
  started_at: z.string().optional(),
  selection,
  partitions: z.array(
    z.object({
      dataset: z.string(),
      program_year: z.number().int(),
      removed: z.number().int(),
      duplicates_resolved: z.number().int(),
    }),
  ),
});
export type CleanReport = z.infer<typeof cleanReport>;
export type CurateReport = z.infer<typeof curateReport>;

export interface JobReports {
  readonly clean: CleanReport;
  readonly curate?: CurateReport;
}

type Selection = z.infer<typeof selection>;
type Partitioned = { readonly dataset: string; readonly program_year: number };

const coversAll = (s: Selection) => !s || (s.datasets === "all" && s.program_years === "all");
const covers = (s: Selection, p: Partitioned) =>
  !s ||
  ((s.datasets === "all" || s.datasets.includes(p.dataset)) &&
    (s.program_years === "all" || s.program_years.includes(p.program_year)));

/**
 * The entries (files, partitions) that describe what a zone holds, from a job's runs newest first. A run limited
 * by --datasets or --program_years rewrote only its partitions, so each partition's entries come from the newest
 * passed run over it, back to the newest run over everything. The newest run counts whatever its status (whether
 * it passed is judged on its own); an earlier failed run left the zone as it was and counts for nothing.
 */
export function zoneEntries<E extends Partitioned>(
  runs: readonly {
    readonly status: string;
    readonly selection?: Selection;
    readonly entries: readonly E[];
  }[],
): E[] {
  const entries: E[] = [];
  const newer: Selection[] = [];
  for (const [i, run] of runs.entries()) {
    if (i > 0 && run.status !== "passed") continue;
    entries.push(...run.entries.filter((e) => !newer.some((s) => covers(s, e))));
    if (coversAll(run.selection)) break;
    newer.push(run.selection);
  }
  return entries;
}

/** Where reports are read: a local folder or `s3://bucket/prefix/`. */
function reportStore(s3: { region?: string; endpoint?: string }) {
  let client: S3Client | undefined;
  const s3Client = () => {
    client ??= new S3Client({
      region: s3.region,
      endpoint: s3.endpoint,
      forcePathStyle: !!s3.endpoint,
      maxAttempts: 3,
    });
    return client;
  };
  // A run's report is `<job>-<UTC start>.json` (glue-scripts/open_payments_lake/reports.py): names sort by start.
  const newestFirst = (locations: string[], job: string) =>
    locations
      .filter((l) => new RegExp(`(^|/)${job}-\\d{8}T\\d+Z\\.json$`).test(l))
      .sort()
      .reverse();
  return {
    /** A JSON document from a local path or `s3://bucket/key`. */
    async read(location: string): Promise<unknown> {
      const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
      if (!m) return JSON.parse(readFileSync(location, "utf8"));
      const res = await s3Client().send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }));
      return JSON.parse((await res.Body?.transformToString("utf8")) ?? "");
    },
    /** The job's run reports in the location's folder, the newest first. */
    async siblings(location: string, job: string): Promise<string[]> {
      const m = /^s3:\/\/([^/]+)\/(.*\/)?[^/]+$/.exec(location);
      if (!m) {
        const folder = dirname(location);
        return newestFirst(
          readdirSync(folder).map((name) => join(folder, name)),
          job,
        );
      }
      const [, bucket, prefix = ""] = m;
      const keys: string[] = [];
      const pages = paginateListObjectsV2(
        { client: s3Client() },
        { Bucket: bucket, Prefix: prefix, Delimiter: "/" },
      );
      for await (const page of pages)
        keys.push(...(page.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : [])));
      return newestFirst(
        keys.map((key) => `s3://${bucket}/${key}`),
        job,
      );
    },
    close: () => client?.destroy(),
  };
}

/**
 * Reads the jobs' latest reports. When the latest run was limited to some partitions, the entries for the others
 * come from the earlier runs' reports in the same folder (zoneEntries), read newest first until a passed run over
 * everything.
 */
export async function loadJobReports(
  locations: { clean: string; curate?: string },
  s3: { region?: string; endpoint?: string } = {},
): Promise<JobReports> {
  const store = reportStore(s3);
  const parse = async <T>(what: string, location: string, schema: z.ZodType<T>): Promise<T> => {
    let json: unknown;
    try {
      json = await store.read(location);
    } catch (e) {
      throw new Error(`cannot read the ${what} report ${location}: ${(e as Error).message}`);
    }
    const r = schema.safeParse(json);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new Error(`${location} is not a ${what} report: ${issue?.path.join(".")}: ${issue?.message}`);
    }
    return r.data;
  };
  const runs = async <R extends { status: string; started_at?: string; selection?: Selection }>(
    what: string,
    location: string,
    schema: z.ZodType<R>,
  ): Promise<R[]> => {
    const latest = await parse(what, location, schema);
    const read = [latest];
    if (coversAll(latest.selection)) return read;
    const earlier = await store.siblings(location, what).catch((e: Error) => {
      throw new Error(
        `the ${what} job's latest run (${location}) was limited to some partitions, and the earlier runs' ` +
          `reports beside it cannot be listed for the others: ${e.message}`,
      );
    });
    for (const sibling of earlier) {
      const run = await parse(what, sibling, schema);
      if (run.started_at === latest.started_at) continue; // the latest run's own copy
      read.push(run);
      if (run.status === "passed" && coversAll(run.selection)) break;
    }
    return read;
  };
  try {
    const clean = await runs("clean", locations.clean, cleanReport);
    const curate = locations.curate ? await runs("curate", locations.curate, curateReport) : undefined;
    return {
      clean: { ...clean[0], files: zoneEntries(clean.map((r) => ({ ...r, entries: r.files }))) },
      curate: curate && {
        ...curate[0],
        partitions: zoneEntries(curate.map((r) => ({ ...r, entries: r.partitions }))),
      },
    };
  } finally {
    store.close();
  }
}

/**
 * `raw/<dataset>/program_year=Y/publication=P/<file stem>/ingestion=<id>/part-00000.csv` → the file stem (also
 * without `ingestion=<id>/`, the folders written before per-ingestion folders).
 */
export function fileStemOf(sourceObject: string): string {
  const m =
    /(?:^|\/)raw\/[^/]+\/program_year=\d{4}\/publication=[^/]+\/([^/]+)\/(?:ingestion=[^/]+\/)?part-\d+\.csv$/.exec(
      sourceObject,
    );
  if (!m) {
    throw new Error(
      `source object '${sourceObject}' is not a raw part (…/<file stem>/ingestion=<id>/part-NNNNN.csv)`,
    );
  }
  return m[1];
}

/** Adds the rows the jobs reported as quarantined, removed and de-duplicated to each dataset-year. */
export function withDeductions(counts: readonly IngestedCount[], reports: JobReports): IngestedCount[] {
  const key = (dataset: string, year: number) => `${dataset} ${year}`;
  const acc = new Map<string, { quarantined: number; removed: number; duplicatesResolved: number }>();
  const entry = (k: string) => {
    const e = acc.get(k) ?? { quarantined: 0, removed: 0, duplicatesResolved: 0 };
    acc.set(k, e);
    return e;
  };
  for (const f of reports.clean.files) entry(key(f.dataset, f.program_year)).quarantined += f.quarantined;
  for (const p of reports.curate?.partitions ?? []) {
    const e = entry(key(p.dataset, p.program_year));
    e.removed += p.removed;
    e.duplicatesResolved += p.duplicates_resolved;
  }
  return counts.map((c) => {
    const d: Deductions | undefined = acc.get(key(c.dataset, c.programYear));
    return d ? { ...c, deductions: d } : c;
  });
}

export const JOB_RUNS_CHECK_ID = "glue_job_runs_passed";
export const JOB_RUNS_CHECK_DESCRIPTION =
  "The last runs of the Glue jobs clean and curate passed (status of reports/<job>/latest.json); a refused or " +
  "failed run is named with its reason.";

type RunReport = z.infer<typeof cleanReport> | z.infer<typeof curateReport>;

/** Why a job's last run failed, in one line: the error that stopped it, else its threshold failures. */
export function failureReason(report: RunReport): string {
  const reason = report.error
    ? `${report.error.type}: ${report.error.message}`
    : report.failures.join("; ") || "no reason recorded";
  const line = reason.replace(/\s*\n\s*/g, " ");
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}

const indented = (text: string) => text.split("\n").map((line) => `  ${line}`);

/** Passes when every report read says its run passed; names each failed job, when it ran and why. */
export function judgeJobRuns(reports: JobReports): Verdict {
  const jobs: [string, RunReport | undefined][] = [
    ["clean", reports.clean],
    ["curate", reports.curate],
  ];
  const read = jobs.filter((j): j is [string, RunReport] => j[1] !== undefined);
  const failed = read.filter(([, r]) => r.status === "failed");
  if (failed.length === 0) {
    return { passed: true, message: `last runs passed: ${read.map(([job]) => job).join(", ")}`, details: [] };
  }
  return {
    passed: false,
    message: failed.map(([job, r]) => `${job} failed: ${failureReason(r)}`).join("; "),
    details: failed.flatMap(([job, r]) => [
      `${job} run started ${r.started_at ?? "(unknown)"}:`,
      ...(r.error ? indented(`${r.error.type}: ${r.error.message}`) : r.failures.flatMap(indented)),
    ]),
  };
}

export const RECONCILE_CHECK_ID = "raw_reconciles_per_file";
export const RECONCILE_CHECK_DESCRIPTION =
  "Per ingested file, the clean job read exactly the records ingestion verified, and raw = cleaned + quarantined.";

/** Per raw file: ingestion's records = the clean report's raw records = cleaned + quarantined. */
export function reconcileFiles(files: readonly IngestedFile[], report: CleanReport): Verdict {
  if (report.status === "failed") {
    // A refused run read nothing; a failed one left the cleaned zone as it was: its counts prove nothing.
    return {
      passed: false,
      message: `the clean job's last run failed: ${failureReason(report)}`,
      details: [],
    };
  }
  const byFile = new Map<string, { raw: number; cleaned: number; quarantined: number; parts: number }>();
  for (const f of report.files) {
    const k = `${f.dataset} ${f.program_year} ${fileStemOf(f.source_object)}`;
    const e = byFile.get(k) ?? { raw: 0, cleaned: 0, quarantined: 0, parts: 0 };
    e.raw += f.raw_records;
    e.cleaned += f.cleaned;
    e.quarantined += f.quarantined;
    e.parts += 1;
    byFile.set(k, e);
  }
  const details: string[] = [];
  for (const f of files) {
    const k = `${f.dataset} ${f.programYear} ${f.fileStem}`;
    const got = byFile.get(k);
    byFile.delete(k);
    if (!got) {
      details.push(`${k}: ingested ${f.records} records but the clean report does not list the file`);
      continue;
    }
    if (got.raw !== f.records) {
      details.push(`${k}: ingestion verified ${f.records} records, the clean job read ${got.raw}`);
    }
    if (got.cleaned + got.quarantined !== got.raw) {
      details.push(`${k}: raw ${got.raw} != cleaned ${got.cleaned} + quarantined ${got.quarantined}`);
    }
  }
  for (const [k, got] of byFile)
    details.push(`${k}: the clean job read ${got.raw} records of a file ingestion never verified`);
  if (files.length === 0) {
    return {
      passed: false,
      message: "the ingestion table holds no verified files: nothing to reconcile",
      details,
    };
  }
  const raw = files.reduce((s, f) => s + f.records, 0);
  return details.length === 0
    ? { passed: true, message: `${files.length} files reconcile (${raw} raw records)`, details }
    : {
        passed: false,
        message: `${details.length} file mismatches against ${files.length} ingested files`,
        details,
      };
}
