import { z } from "zod";
import { SourceUnreachableError } from "./errors";
import { fetchJson, type HttpOptions } from "./http";
import { type Dataset, datasetIds, datasets } from "./layouts";

/** CMS's public DKAN API root (openpaymentsdata.cms.gov). */
export const defaultApi = "https://openpaymentsdata.cms.gov/api/1";

export interface DiscoveredFile {
  readonly dataset: Dataset;
  readonly programYear: number;
  readonly identifier: string;
  readonly title: string;
  readonly modified?: string;
  readonly downloadURL: string;
}

// DKAN serves distributions either inline or wrapped in { identifier, data } (show-reference-ids).
const distribution = z
  .object({
    downloadURL: z.string().optional(),
    data: z.object({ downloadURL: z.string().optional() }).passthrough().optional(),
  })
  .passthrough();
const metastoreItem = z
  .object({
    identifier: z.string(),
    title: z.string(),
    modified: z.string().optional(),
    keyword: z.array(z.union([z.string(), z.object({ data: z.string() }).passthrough()])).optional(),
    distribution: z.array(distribution).optional(),
  })
  .passthrough();
const metastore = z.array(metastoreItem);

const downloadUrlOf = (d: z.infer<typeof distribution>) => d.downloadURL ?? d.data?.downloadURL;
const keywordText = (k: string | { data: string }) => (typeof k === "string" ? k : k.data);

/**
 * What CMS publishes for a program year, from the DKAN metastore. Dataset ids change between publications,
 * so datasets are matched by title (the titles in datasets/open-payments.json) and year on every run.
 */
export async function discover(
  programYear: number,
  api = defaultApi,
  http: HttpOptions = {},
): Promise<DiscoveredFile[]> {
  const url = `${api.replace(/\/$/, "")}/metastore/schemas/dataset/items?show-reference-ids=false`;
  const parsed = metastore.safeParse(await fetchJson(url, http));
  if (!parsed.success) {
    throw new SourceUnreachableError(
      `${url}: unexpected metastore response: ${parsed.error.issues[0]?.message}`,
    );
  }
  const year = new RegExp(`(^|\\D)${programYear}(\\D|$)`);
  const found: DiscoveredFile[] = [];
  for (const item of parsed.data) {
    const title = item.title.toLowerCase();
    const dataset = datasetIds.find((id) => title.includes(datasets[id].title.toLowerCase()));
    const keywords = (item.keyword ?? []).map(keywordText);
    if (!dataset || !(year.test(item.title) || keywords.some((k) => year.test(k)))) continue;
    for (const d of item.distribution ?? []) {
      const downloadURL = downloadUrlOf(d);
      if (!downloadURL || !/\.(csv|zip)$/i.test(new URL(downloadURL).pathname)) continue;
      found.push({
        dataset,
        programYear,
        identifier: item.identifier,
        title: item.title,
        modified: item.modified,
        downloadURL,
      });
    }
  }
  return found.sort((a, b) => a.dataset.localeCompare(b.dataset));
}
