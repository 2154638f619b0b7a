import type { Comparator, Expectation } from "./checks";
import type { IngestedCount } from "./ingestion";

/** A finished query's result, engine-independent: values as Athena returns them (strings or null). */
export interface QueryResult {
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly rows: readonly (readonly (string | null)[])[];
  readonly bytesScanned: number;
  readonly queryId?: string;
}

export interface Verdict {
  readonly passed: boolean;
  /** One line for the terminal; the numbers that decided it. */
  readonly message: string;
  /** Further lines (e.g. each mismatching dataset and year). */
  readonly details: readonly string[];
}

const compare = (a: number, op: Comparator, b: number): boolean =>
  op === "=" ? a === b : op === "<=" ? a <= b : a >= b;

const MAX_DETAILS = 20;

function showRows(result: QueryResult): string[] {
  const names = result.columns.map((c) => c.name);
  const lines = result.rows
    .slice(0, MAX_DETAILS)
    .map((r) => names.map((n, i) => `${n}=${r[i] ?? "NULL"}`).join(", "));
  if (result.rows.length > MAX_DETAILS) lines.push(`... and ${result.rows.length - MAX_DETAILS} more rows`);
  return lines;
}

export function evaluate(
  expect: Expectation,
  result: QueryResult,
  ingested: readonly IngestedCount[] | undefined,
): Verdict {
  switch (expect.kind) {
    case "rows": {
      const n = result.rows.length;
      const passed = compare(n, expect.op, expect.n);
      return { passed, message: `${n} rows (expected rows ${expect.op} ${expect.n})`, details: [] };
    }
    case "no rows": {
      const n = result.rows.length;
      return {
        passed: n === 0,
        message: n === 0 ? "no rows" : `${n} offending rows (expected none)`,
        details: n === 0 ? [] : showRows(result),
      };
    }
    case "value": {
      const first = result.rows[0];
      if (!first)
        return { passed: false, message: `no rows (expected value ${expect.op} ${expect.n})`, details: [] };
      const raw = first[0] ?? null;
      const v = raw === null ? Number.NaN : Number(raw);
      if (!Number.isFinite(v)) {
        return {
          passed: false,
          message: `value ${raw === null ? "NULL" : `'${raw}'`} is not a number (expected ${expect.op} ${expect.n})`,
          details: [],
        };
      }
      // The other columns of the row say where the value comes from (e.g. the worst dataset-year).
      return {
        passed: compare(v, expect.op, expect.n),
        message: `value ${raw} (expected ${expect.op} ${expect.n})`,
        details: result.columns.length > 1 ? showRows({ ...result, rows: [first] }) : [],
      };
    }
    case "bytes scanned": {
      const b = result.bytesScanned;
      return {
        passed: b <= expect.n,
        message: `${b} bytes scanned (expected <= ${expect.n})`,
        details: [],
      };
    }
    case "matches ingestion": {
      if (!ingested) throw new Error("'matches ingestion' needs the ingestion records: none were loaded");
      return matchesIngestion(result, ingested);
    }
  }
}

function matchesIngestion(result: QueryResult, ingested: readonly IngestedCount[]): Verdict {
  const idx = (name: string) => result.columns.findIndex((c) => c.name.toLowerCase() === name);
  const [di, yi, ri] = [idx("dataset"), idx("program_year"), idx("records")];
  if (di < 0 || yi < 0 || ri < 0) {
    const got = result.columns.map((c) => c.name).join(", ");
    throw new Error(
      `'matches ingestion' needs columns dataset, program_year, records; the query returned: ${got}`,
    );
  }
  if (ingested.length === 0) {
    return {
      passed: false,
      message: "the ingestion table holds no verified files: nothing to reconcile the lake with",
      details: [],
    };
  }
  const lakeCounts = new Map<string, number>();
  for (const row of result.rows) {
    lakeCounts.set(`${row[di]} ${Number(row[yi])}`, Number(row[ri]));
  }
  const details: string[] = [];
  for (const exp of ingested) {
    const key = `${exp.dataset} ${exp.programYear}`;
    const got = lakeCounts.get(key);
    lakeCounts.delete(key);
    const { expected, why } = expectedRows(exp);
    if (got === expected) continue;
    const source = `publication ${exp.publication}, ${exp.files} file${exp.files === 1 ? "" : "s"}`;
    if (got === undefined) details.push(`${key}: missing from the lake (expected ${why}; ${source})`);
    else {
      const diff = got - expected;
      details.push(
        `${key}: lake has ${got} records, expected ${why} (${diff > 0 ? "+" : ""}${diff}; ${source})`,
      );
    }
  }
  for (const [key, got] of lakeCounts)
    details.push(`${key}: lake has ${got} records but no verified ingestion`);
  const total = ingested.reduce((s, e) => s + expectedRows(e).expected, 0);
  return details.length === 0
    ? {
        passed: true,
        message: `${ingested.length} dataset-years match ingestion (${total} records)`,
        details: [],
      }
    : {
        passed: false,
        message: `${details.length} mismatches against ${ingested.length} ingested dataset-years`,
        details,
      };
}

/** Ingested records less what the jobs reported as quarantined, removed and de-duplicated, with the sum spelled out. */
function expectedRows(c: IngestedCount): { expected: number; why: string } {
  const d = c.deductions;
  if (!d) return { expected: c.records, why: `${c.records} = ingestion verified` };
  const expected = c.records - d.quarantined - d.removed - d.duplicatesResolved;
  return {
    expected,
    why:
      `${expected} = ingested ${c.records} - quarantined ${d.quarantined} - removed ${d.removed}` +
      ` - duplicates ${d.duplicatesResolved}`,
  };
}
