import { z } from "zod";
import { BadInputError } from "./errors";
import { fetchJson, type HttpOptions } from "./http";
import { newIngestionId } from "./manifest";
import type { RawStore } from "./raw-store";

/** The raw zone's folder for CMS's own per-company totals (contract 2). */
export const companyTotalsPrefix = "raw/reference/company_totals/";
/** DKAN's datastore answers at most this many rows per request. */
const pageSize = 500;

const metastoreItem = z
  .object({ identifier: z.string(), title: z.string(), modified: z.string().optional() })
  .passthrough();
const datastorePage = z
  .object({ results: z.array(z.record(z.string(), z.unknown())), count: z.number().optional() })
  .passthrough();

export interface CapturedTotals {
  readonly key: string;
  readonly identifier: string;
  readonly title: string;
  readonly rows: number;
}

/**
 * Captures CMS's published per-company summary for a program year (a DKAN dataset found by title and year, read
 * page by page through the datastore API) into raw/reference/company_totals/program_year=<Y>/<dataset id>/
 * <capture id>.json, so curated totals can be reconciled against CMS's own numbers.
 */
export async function captureCompanyTotals(
  store: RawStore,
  programYear: number,
  titleContains: string,
  api: string,
  http: HttpOptions = {},
): Promise<CapturedTotals> {
  const root = api.replace(/\/$/, "");
  const items = z
    .array(metastoreItem)
    .parse(await fetchJson(`${root}/metastore/schemas/dataset/items`, http));
  const year = new RegExp(`(^|\\D)${programYear}(\\D|$)`);
  const item = items.find(
    (i) => i.title.toLowerCase().includes(titleContains.toLowerCase()) && year.test(i.title),
  );
  if (!item) {
    throw new BadInputError(
      `no CMS dataset titled like "${titleContains}" for program year ${programYear} at ${root}`,
    );
  }
  const rows: Record<string, unknown>[] = [];
  for (let offset = 0; ; offset += pageSize) {
    const url = `${root}/datastore/query/${item.identifier}/0?limit=${pageSize}&offset=${offset}&count=true`;
    const page = datastorePage.parse(await fetchJson(url, http));
    rows.push(...page.results);
    if (page.results.length < pageSize || (page.count !== undefined && rows.length >= page.count)) break;
  }
  // Raw is written once: every capture is a new object, the newest id (a time) last.
  const key = `${companyTotalsPrefix}program_year=${programYear}/${item.identifier}/${newIngestionId()}.json`;
  const body = {
    programYear,
    identifier: item.identifier,
    title: item.title,
    modified: item.modified,
    source: `${root}/datastore/query/${item.identifier}/0`,
    capturedAt: new Date().toISOString(),
    rows,
  };
  await store.putSmall(
    key,
    Buffer.from(`${JSON.stringify(body, null, 2)}\n`),
    { source: body.source, "program-year": String(programYear) },
    "application/json",
  );
  return { key, identifier: item.identifier, title: item.title, rows: rows.length };
}
