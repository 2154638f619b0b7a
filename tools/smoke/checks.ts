import { readdirSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";

/** The smoke checks directory: one check per `.sql` file (format: tools/smoke/README.md). */
export const defaultChecksDir = resolve(__dirname, "..", "..", "sql", "smoke");

export type Comparator = "=" | "<=" | ">=";

/** What a check's result must satisfy; parsed from its `-- expect:` header line. */
export type Expectation =
  | { readonly kind: "rows"; readonly op: Comparator; readonly n: number }
  | { readonly kind: "value"; readonly op: Comparator; readonly n: number }
  | { readonly kind: "no rows" }
  | { readonly kind: "matches ingestion" }
  | { readonly kind: "bytes scanned"; readonly op: "<="; readonly n: number };

export interface SqlCheck {
  readonly id: string;
  readonly description: string;
  readonly expect: Expectation;
  /** The expectation exactly as written, for reports. */
  readonly expectText: string;
  readonly sql: string;
  readonly file: string;
}

const comparison = /^(rows|value|bytes scanned)\s*(=|<=|>=)\s*(-?\d+(?:\.\d+)?)$/;

export function parseExpectation(text: string): Expectation {
  const t = text.trim().replace(/\s+/g, " ").toLowerCase();
  if (t === "no rows") return { kind: "no rows" };
  if (t === "matches ingestion") return { kind: "matches ingestion" };
  const m = comparison.exec(t);
  if (m) {
    const [, subject, op, num] = m as unknown as [string, Expectation["kind"], Comparator, string];
    const n = Number(num);
    if (subject === "bytes scanned") {
      if (op !== "<=") throw new Error(`'bytes scanned' supports only '<=': got '${text}'`);
      return { kind: "bytes scanned", op, n };
    }
    if (subject === "rows" && op === "<=") throw new Error(`'rows' supports '=' and '>=': got '${text}'`);
    return { kind: subject as "rows" | "value", op, n };
  }
  throw new Error(
    `unknown expectation '${text}': use one of 'rows >= N', 'rows = N', 'value = N', 'value <= N', ` +
      "'value >= N', 'no rows', 'matches ingestion', 'bytes scanned <= N'",
  );
}

/** Parses one check file: leading `-- key: value` comment lines, then the query. */
export function parseCheck(text: string, file: string): SqlCheck {
  const header = new Map<string, string>();
  const body: string[] = [];
  let inHeader = true;
  for (const line of text.split(/\r?\n/)) {
    const m = inHeader ? /^--\s*([a-z]+)\s*:\s*(.*)$/i.exec(line.trim()) : null;
    if (m) {
      const key = (m[1] as string).toLowerCase();
      if (header.has(key)) throw new Error(`${file}: duplicate header '-- ${key}:'`);
      header.set(key, (m[2] as string).trim());
      continue;
    }
    if (inHeader && (line.trim() === "" || line.trim().startsWith("--"))) continue;
    inHeader = false;
    body.push(line);
  }
  const need = (key: string): string => {
    const v = header.get(key);
    if (!v)
      throw new Error(
        `${file}: missing header line '-- ${key}: ...' (every check starts with '-- check:', '-- description:' and '-- expect:' lines)`,
      );
    return v;
  };
  const id = need("check");
  if (!/^[a-z0-9_]+$/.test(id)) throw new Error(`${file}: check id '${id}' must be snake_case [a-z0-9_]`);
  const expectText = need("expect");
  let expect: Expectation;
  try {
    expect = parseExpectation(expectText);
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  const sql = body.join("\n").trim().replace(/;\s*$/, "");
  if (!sql) throw new Error(`${file}: no query after the header`);
  return { id, description: need("description"), expect, expectText, sql, file };
}

/** Loads every `*.sql` in the directory, sorted by file name; check ids must be unique. */
export function loadChecks(dir: string = defaultChecksDir): SqlCheck[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".sql"));
  } catch (e) {
    throw new Error(`cannot read the checks directory ${dir}: ${(e as Error).message}`);
  }
  if (files.length === 0) throw new Error(`no smoke checks (*.sql) in ${dir}`);
  const checks = files.sort().map((f) => parseCheck(readFileSync(join(dir, f), "utf8"), f));
  const seen = new Map<string, string>();
  for (const c of checks) {
    const other = seen.get(c.id);
    if (other) throw new Error(`check id '${c.id}' is declared by both ${other} and ${basename(c.file)}`);
    seen.set(c.id, c.file);
  }
  return checks;
}
