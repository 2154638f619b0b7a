// The oracle for what the Glue jobs must make of generated CMS files (glue-scripts/sample_data.py): computed here
// straight from the CSVs with csv-parse and the layouts of datasets/open-payments.json, the quarantine and
// duplicate rules applied independently of the jobs' code.
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parse } from "csv-parse/sync";

const repoRoot = join(__dirname, "..", "..");

interface DatasetsFile {
  datasets: Record<
    string,
    {
      fileToken: string;
      curatedTable: string | null;
      recordKey: string;
      amountColumn: string | null;
      paymentDateColumn: string | null;
    }
  >;
  layouts: { id: string; dataset: string; columns: { name: string; canonical: string }[] }[];
}
export const datasetsFile = JSON.parse(
  readFileSync(join(repoRoot, "datasets", "open-payments.json"), "utf8"),
) as DatasetsFile;

/** Rows of the files of one dataset (by the file name's token), keyed by canonical names, trimmed as the jobs trim. */
export function generatedRows(files: readonly string[], dataset: string): Record<string, string>[] {
  const token = datasetsFile.datasets[dataset].fileToken;
  return files
    .filter((f) => basename(f).includes(`_${token}_PGYR`))
    .flatMap((file) => {
      const [header, ...records] = parse(readFileSync(file), { bom: true }) as string[][];
      const layout = datasetsFile.layouts.find(
        (l) => l.dataset === dataset && l.columns.map((c) => c.name).join() === header.join(),
      );
      if (!layout) throw new Error(`no layout in datasets/open-payments.json has the header of ${file}`);
      return records.map((values) =>
        Object.fromEntries(
          layout.columns.map((c, i) => [c.canonical, values[i].trim().replace(/^['\t]+/, "")]),
        ),
      );
    });
}

const isDate = (text: string) => {
  const m = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(text);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[3]), Number(m[1]) - 1, Number(m[2])));
  return d.getUTCMonth() === Number(m[1]) - 1 && d.getUTCDate() === Number(m[2]);
};

/** Cents of a decimal text ("12.5" -> 1250n), exact. */
export function cents(text: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?0*$/.exec(text);
  if (!m) throw new Error(`not an amount with at most 2 decimals: ${text}`);
  const value = BigInt(m[2]) * 100n + BigInt((m[3] ?? "").padEnd(2, "0"));
  return m[1] ? -value : value;
}

export interface ExpectedCurated {
  /** Records read from the files. */
  readonly raw: number;
  /** Records the clean job must quarantine (an amount or a payment date that does not parse). */
  readonly quarantined: number;
  /** The curated rows: valid, one per record (a CHANGED correction over its original), removals applied. */
  readonly rows: Record<string, string>[];
  /** Sum of the curated rows' amounts in cents. */
  readonly cents: bigint;
}

/** What the curated table of `dataset` must hold after the jobs ran over `files` (removal files among them). */
export function expectedCurated(files: readonly string[], dataset: string): ExpectedCurated {
  const { recordKey, amountColumn, paymentDateColumn } = datasetsFile.datasets[dataset];
  // The removal files' payment_type of each dataset (as CMS writes them).
  const payment = {
    general: "General Payment",
    research: "Research Payment",
    ownership: "Ownership Payment",
  }[dataset];
  const removed = new Set(
    generatedRows(files, "removed_deleted")
      .filter((r) => r.payment_type === payment)
      .map((r) => `${r.program_year}#${r.record_id}`),
  );
  const all = generatedRows(files, dataset);
  const valid = all.filter(
    (row) =>
      (!amountColumn || /^-?\d{1,16}(\.\d{1,2})?$/.test(row[amountColumn])) &&
      (!paymentDateColumn || isDate(row[paymentDateColumn])),
  );
  const byRecord = new Map<string, Record<string, string>>();
  for (const row of valid) {
    const key = `${row.program_year}#${row[recordKey]}`;
    if (removed.has(key)) continue;
    const seen = byRecord.get(key);
    if (!seen || (row.change_type === "CHANGED" && seen.change_type !== "CHANGED")) byRecord.set(key, row);
  }
  const rows = [...byRecord.values()];
  return {
    raw: all.length,
    quarantined: all.length - valid.length,
    rows,
    cents: rows.reduce((sum, r) => sum + (amountColumn ? cents(r[amountColumn]) : 0n), 0n),
  };
}
