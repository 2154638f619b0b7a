import openPayments from "../../datasets/open-payments.json";
import { BadInputError } from "./errors";

/** Dataset ids as in datasets/open-payments.json (contract 1). */
export type Dataset = keyof typeof openPayments.datasets;

export interface Layout {
  readonly id: string;
  readonly dataset: Dataset;
  readonly kind: string;
  readonly columnCount: number;
  readonly columns: readonly { readonly name: string; readonly canonical: string }[];
}

export const datasets = openPayments.datasets;
export const layouts: readonly Layout[] = openPayments.layouts.map((l) => ({
  ...l,
  dataset: l.dataset as Dataset,
}));
export const datasetIds = Object.keys(datasets) as Dataset[];
/** The raw zone's key prefix (contract 2), checked against the zones list. */
export const rawZone = openPayments.zones.find((z) => z === "raw") ?? "raw";

export function isDataset(value: string): value is Dataset {
  return Object.hasOwn(datasets, value);
}

const normalise = (name: string) => name.trim().toLowerCase();

/** CMS has changed the letter case of header names between publications; order and spelling must match. */
export function findLayout(columns: readonly string[]): Layout | undefined {
  const wanted = columns.map(normalise);
  return layouts.find(
    (l) => l.columnCount === wanted.length && l.columns.every((c, i) => normalise(c.name) === wanted[i]),
  );
}

/** The known layout sharing most column names with the header (ties: closest column count). */
export function nearestLayout(columns: readonly string[]): Layout {
  const wanted = new Set(columns.map(normalise));
  const score = (l: Layout) => {
    const shared = l.columns.filter((c) => wanted.has(normalise(c.name))).length;
    return shared / (wanted.size + l.columnCount - shared);
  };
  return [...layouts].sort(
    (a, b) =>
      score(b) - score(a) ||
      Math.abs(a.columnCount - columns.length) - Math.abs(b.columnCount - columns.length),
  )[0];
}

function listSome(names: readonly string[]): string {
  return names.length <= 5
    ? names.join(", ")
    : `${names.slice(0, 5).join(", ")} and ${names.length - 5} more`;
}

/** One of datasets/open-payments.json's shared messages with its `{name}` placeholders filled in. */
export function sharedMessage(
  name: keyof typeof openPayments.messages,
  values: Record<string, string | number>,
): string {
  return openPayments.messages[name].replace(/\{(\w+)\}/g, (_, key: string) => String(values[key]));
}

/**
 * Refuses any header that is not exactly one of the shared layouts, naming the file, the column count and the
 * nearest layout with the differing columns, so an operator can tell a new CMS layout from a broken file. The
 * wording is the shared `unknownLayout` message: the clean job refuses such a file with the same words.
 */
export function requireLayout(fileName: string, columns: readonly string[]): Layout {
  const layout = findLayout(columns);
  if (layout) return layout;
  const nearest = nearestLayout(columns);
  const got = new Set(columns.map(normalise));
  const known = new Set(nearest.columns.map((c) => normalise(c.name)));
  const missing = nearest.columns.map((c) => c.name).filter((n) => !got.has(normalise(n)));
  const unexpected = columns.filter((n) => !known.has(normalise(n)));
  const difference = [
    missing.length ? `missing ${listSome(missing)}` : "",
    unexpected.length ? `unexpected ${listSome(unexpected)}` : "",
    !missing.length && !unexpected.length ? "same columns in a different order" : "",
  ]
    .filter(Boolean)
    .join("; ");
  throw new BadInputError(
    sharedMessage("unknownLayout", {
      file: fileName,
      columns: columns.length,
      nearest: nearest.id,
      nearestColumns: nearest.columnCount,
      difference,
    }),
  );
}
