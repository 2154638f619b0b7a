import { readFileSync } from "node:fs";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, paginateScan } from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import lake from "../../datasets/open-payments.json";

/** One ingestion version of a raw file, as the ingestion metadata table holds it (contract 6). */
const ingestionItem = z.object({
  pk: z.string().regex(/^FILE#[a-z_]+#\d{4}#.+$/, "pk must be FILE#<dataset>#<program_year>#<file stem>"),
  sk: z.string(),
  status: z.string(),
  records: z.coerce.number().int().nonnegative().optional(),
  publication: z.string(),
  updatedAt: z.string().optional(),
});
export type IngestionItem = z.infer<typeof ingestionItem>;

/** Records per dataset and program year that the lake must hold: the key of `matches ingestion`. */
export interface IngestedCount {
  readonly dataset: string;
  readonly programYear: number;
  readonly publication: string;
  readonly records: number;
  readonly files: number;
}

/** `P01302025_01212025` or `P06302017` → the publication date (the first MMDDYYYY), for ordering. */
export function publicationDate(stamp: string): number {
  const m = /^P(\d{2})(\d{2})(\d{4})(?:_\d{8})?$/.exec(stamp);
  if (!m)
    throw new Error(`unrecognised publication stamp '${stamp}' (expected PMMDDYYYY or PMMDDYYYY_MMDDYYYY)`);
  const [, mm, dd, yyyy] = m;
  return Date.UTC(Number(yyyy), Number(mm) - 1, Number(dd));
}

/**
 * What the curated zone must hold per dataset and program year: the verified files of the latest publication of
 * that year (the curate job treats a re-publication as replacing the whole year), one version per file (the most
 * recently updated verified one). Datasets without a curated table (removed/deleted) are left out.
 */
export function expectedCounts(items: readonly unknown[]): IngestedCount[] {
  const curatedDatasets = new Set(
    Object.entries(lake.datasets)
      .filter(([, d]) => d.curatedTable)
      .map(([name]) => name),
  );
  const latestVersion = new Map<string, IngestionItem>();
  items.forEach((raw, i) => {
    const parsed = ingestionItem.safeParse(raw);
    if (!parsed.success) {
      throw new Error(
        `ingestion item ${i} is malformed: ${parsed.error.issues.map((x) => x.message).join("; ")}`,
      );
    }
    const item = parsed.data;
    if (item.status !== "verified") return;
    if (item.records === undefined)
      throw new Error(`verified ingestion item ${item.pk} ${item.sk} has no records`);
    const prev = latestVersion.get(item.pk);
    if (!prev || (item.updatedAt ?? "") > (prev.updatedAt ?? "")) latestVersion.set(item.pk, item);
  });
  const byYear = new Map<string, IngestionItem[]>();
  for (const item of latestVersion.values()) {
    const [, dataset, year] = item.pk.split("#") as [string, string, string];
    if (!curatedDatasets.has(dataset)) continue;
    const key = `${dataset}#${year}`;
    byYear.set(key, [...(byYear.get(key) ?? []), item]);
  }
  const out: IngestedCount[] = [];
  for (const [key, files] of byYear) {
    const [dataset, year] = key.split("#") as [string, string];
    const latest = files.reduce((a, b) =>
      publicationDate(b.publication) > publicationDate(a.publication) ? b : a,
    );
    const current = files.filter((f) => f.publication === latest.publication);
    out.push({
      dataset,
      programYear: Number(year),
      publication: latest.publication,
      records: current.reduce((sum, f) => sum + (f.records ?? 0), 0),
      files: current.length,
    });
  }
  return out.sort((a, b) => a.dataset.localeCompare(b.dataset) || a.programYear - b.programYear);
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
      throw new Error(`cannot read ingestion records from ${source.path}: ${(e as Error).message}`);
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
