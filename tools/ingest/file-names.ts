import { type Dataset, datasetIds, datasets } from "./layouts";

/** What a CMS detail file name says about its content (checked against the header later). */
export interface CmsFileName {
  readonly dataset: Dataset;
  readonly programYear: number;
  /** The publication stamp exactly as in the name, with the P: `P06302017` or `P01302025_01212025`. */
  readonly publication: string;
  /** The file name without `.csv`: the raw zone's folder for this file. */
  readonly stem: string;
}

export interface CmsZipName {
  readonly programYear: number;
  readonly publication: string;
}

// Both stamp formats: P{MMDDYYYY} (to Jan 2024) and P{MMDDYYYY}_{MMDDYYYY} (after). Never a fixed stamp.
const stamp = "P\\d{8}(?:_\\d{8})?";
const tokens = datasetIds.map((id) => datasets[id].fileToken).join("|");
const detailName = new RegExp(`^(OP_(?:DTL_)?(${tokens})_PGYR(\\d{4})_(${stamp}))\\.csv$`, "i");
// ZIPs: PGYR{yy}_P{MMDDYY}.ZIP until Jan 2024, then PGYR{yyyy}_P{MMDDYYYY}_{MMDDYYYY}.zip.
const zipName = new RegExp(`^PGYR(\\d{2}|\\d{4})_(P\\d{6}|${stamp})\\.zip$`, "i");

function validStamp(publication: string): boolean {
  return publication
    .slice(1)
    .split("_")
    .every((date) => {
      const month = Number(date.slice(0, 2));
      const day = Number(date.slice(2, 4));
      return month >= 1 && month <= 12 && day >= 1 && day <= 31;
    });
}

export function parseCmsFileName(fileName: string): CmsFileName | undefined {
  const m = detailName.exec(fileName);
  if (!m) return undefined;
  const dataset = datasetIds.find((id) => datasets[id].fileToken === m[2].toUpperCase());
  const publication = m[4].toUpperCase();
  if (!dataset || !validStamp(publication)) return undefined;
  return { dataset, programYear: Number(m[3]), publication, stem: m[1] };
}

/**
 * Sort key of a publication stamp (`P01302025_01212025` or `P06302017`): the publication date, then the second
 * date (absent = earliest), as the clean job orders publications.
 */
export function publicationOrder(stamp: string): string {
  const m = /^P(\d{2})(\d{2})(\d{4})(?:_(\d{2})(\d{2})(\d{4}))?$/.exec(stamp);
  if (!m)
    throw new Error(`unrecognised publication stamp '${stamp}' (expected PMMDDYYYY or PMMDDYYYY_MMDDYYYY)`);
  const [, m1, d1, y1, m2, d2, y2] = m;
  return `${y1}${m1}${d1}${y2 ? `${y2}${m2}${d2}` : "00000000"}`;
}

export function parseCmsZipName(fileName: string): CmsZipName | undefined {
  const m = zipName.exec(fileName);
  if (!m) return undefined;
  const year = Number(m[1]);
  return { programYear: year < 100 ? 2000 + year : year, publication: m[2].toUpperCase() };
}

/** The last path segment of a URL or path, without query string. */
export function baseName(source: string): string {
  const path = /^https?:\/\//i.test(source) ? new URL(source).pathname : source;
  return decodeURIComponent(path.split(/[\\/]/).filter(Boolean).pop() ?? "");
}
