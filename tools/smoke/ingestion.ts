import { readFileSync } from "node:fs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, paginateScan } from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import lake from "../../datasets/open-payments.json";
import { publicationOrder } from "../ingest/file-names";

/** A verified ingestion version of a raw file, as the ingestion metadata table holds it (modules/ingestion-metadata). */
const ingestionItem = z.object({
  pk: z.string().regex(/^FILE#[a-z_]+#\d{4}#.+$/, "pk must be FILE#<dataset>#<program_year>#<file stem>"),
  sk: z.string(),
  status: z.literal("verified"),
  records: z.coerce.number().int().nonnegative(),
  publication: z.string().min(1),
  updatedAt: z.string().optional(),
});
export type IngestionItem = z.infer<typeof ingestionItem>;

/** One raw file the lake must account for: the current version of a file of the year's latest publication. */
export interface IngestedFile {
  readonly dataset: string;
  readonly programYear: number;
  readonly fileStem: string;
  readonly publication: string;
  readonly records: number;
}

/** Records per dataset and program year that the lake must hold: the key of `matches ingestion`. */
export interface IngestedCount {
  readonly dataset: string;
  readonly programYear: number;
  readonly publication: string;
  readonly records: number;
  readonly files: number;
  /** Rows the jobs reported as not curated (from their reports, when available). */
  readonly deductions?: Deductions;
}

export interface Deductions {
  readonly quarantined: number;
  readonly removed: number;
  readonly duplicatesResolved: number;
}

// One ordering of publication stamps for ingestion and smoke (the clean job's, see tools/ingest/file-names.ts).
export { publicationOrder };

/**
 * The files the lake must account for: per file (pk) the most recently updated verified version, and per dataset
 * and program year only the files of the latest publication (the jobs treat a re-publication as replacing the year).
 */
export function expectedFiles(items: readonly unknown[]): IngestedFile[] {
  const latestVersion = new Map<string, IngestionItem>();
  items.forEach((raw, i) => {
    // Only verified versions count; leases, attempts and failed or unfinished runs share the table.
    const r = raw as { sk?: unknown; status?: unknown };
    if (typeof r.sk !== "string" || !r.sk.startsWith("V#") || r.status !== "verified") return;
    const parsed = ingestionItem.safeParse(raw);
    if (!parsed.success) {
      const why = parsed.error.issues.map((x) => `${x.path.join(".")}: ${x.message}`).join("; ");
      throw new Error(
        `verified ingestion item ${i} (${String((raw as { pk?: unknown }).pk)}) is malformed: ${why}`,
      );
    }
    const item = parsed.data;
    const prev = latestVersion.get(item.pk);
    if (!prev || (item.updatedAt ?? "") > (prev.updatedAt ?? "")) latestVersion.set(item.pk, item);
  });
  const files = [...latestVersion.values()].map((item): IngestedFile => {
    const [, dataset, year, ...stem] = item.pk.split("#") as [string, string, string, ...string[]];
    return {
      dataset,
      programYear: Number(year),
      fileStem: stem.join("#"),
      publication: item.publication,
      records: item.records,
    };
  });
  const latestPublication = new Map<string, string>();
  for (const f of files) {
    const key = `${f.dataset}#${f.programYear}`;
    const cur = latestPublication.get(key);
    if (!cur || publicationOrder(f.publication) > publicationOrder(cur))
      latestPublication.set(key, f.publication);
  }
  return files
    .filter((f) => latestPublication.get(`${f.dataset}#${f.programYear}`) === f.publication)
    .sort(
      (a, b) =>
        a.dataset.localeCompare(b.dataset) ||
        a.programYear - b.programYear ||
        a.fileStem.localeCompare(b.fileStem),
    );
}

/** Per dataset with a curated table and program year: the ingested records of `expectedFiles`. */
export function expectedCounts(files: readonly IngestedFile[]): IngestedCount[] {
  const curatedDatasets = new Set(
    Object.entries(lake.datasets)
      .filter(([, d]) => d.curatedTable)
      .map(([name]) => name),
  );
  const byYear = new Map<string, IngestedCount>();
  for (const f of files) {
    if (!curatedDatasets.has(f.dataset)) continue;
    const key = `${f.dataset}#${f.programYear}`;
    const cur = byYear.get(key);
    byYear.set(key, {
      dataset: f.dataset,
      programYear: f.programYear,
      publication: f.publication,
      records: (cur?.records ?? 0) + f.records,
      files: (cur?.files ?? 0) + 1,
    });
  }
  return [...byYear.values()];
}

/** Source of the ingestion records: the DynamoDB table (AWS or moto) or a JSON file holding the items. */
export type IngestionSource =
  | {
      readonly kind: "table";
      readonly tableName: string;
      readonly region: string;
      readonly endpoint?: string;
    }
  | { readonly kind: "file"; readonly path: string };

export async function loadIngestionItems(source: IngestionSource): Promise<unknown[]> {
  if (source.kind === "file") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(source.path, "utf8"));
    } catch (e) {
      throw new Error((e as Error).message);
    }
    const items = Array.isArray(parsed) ? parsed : (parsed as { items?: unknown }).items;
    if (!Array.isArray(items)) throw new Error(`${source.path}: expected a JSON array of ingestion items`);
    return items;
  }
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({ region: source.region, endpoint: source.endpoint, maxAttempts: 3 }),
  );
  const items: unknown[] = [];
  try {
    for await (const page of paginateScan({ client }, { TableName: source.tableName })) {
      items.push(...(page.Items ?? []));
    }
  } finally {
    client.destroy();
  }
  return items;
}
