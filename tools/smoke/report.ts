import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { CheckOutcome, CheckStatus, RunResult } from "./runner";

export interface RunSummary {
  readonly total: number;
  readonly passed: number;
  readonly failed: number;
  readonly errors: number;
  readonly skipped: number;
}

export function summarize(outcomes: readonly CheckOutcome[]): RunSummary {
  const count = (s: CheckStatus) => outcomes.filter((o) => o.status === s).length;
  return {
    total: outcomes.length,
    passed: count("passed"),
    failed: count("failed"),
    errors: count("error"),
    skipped: count("skipped"),
  };
}

const LABEL: Record<CheckStatus, string> = {
  passed: "PASS",
  failed: "FAIL",
  error: "ERROR",
  skipped: "SKIP",
};

/** A plain-text table for the terminal: one line per check, the deciding numbers, then details of failures. */
export function formatTable(result: RunResult, target: string): string {
  const rows = result.outcomes.map((o) => [
    LABEL[o.status],
    o.id,
    `${(o.durationMs / 1000).toFixed(1)}s`,
    o.message,
  ]);
  const header = ["STATUS", "CHECK", "TIME", "RESULT"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join("  ")
      .trimEnd();
  const out = [`Smoke checks against ${target}`, "", line(header), line(widths.map((w) => "-".repeat(w)))];
  for (const [i, o] of result.outcomes.entries()) {
    out.push(line(rows[i] as string[]));
    // Details explain failures; a passing check's context stays in the JSON report.
    if (o.status !== "passed") for (const d of o.details) out.push(`        ${d}`);
  }
  const s = summarize(result.outcomes);
  out.push(
    "",
    `${s.passed} passed, ${s.failed} failed, ${s.errors} errors, ${s.skipped} skipped (${s.total} checks)`,
  );
  if (result.interrupted) out.push(`Interrupted: ${result.interrupted}; the results are incomplete.`);
  return out.join("\n");
}

export function toJson(result: RunResult, meta: { target: string; startedAt: Date; finishedAt: Date }) {
  return {
    version: 1,
    target: meta.target,
    startedAt: meta.startedAt.toISOString(),
    finishedAt: meta.finishedAt.toISOString(),
    interrupted: result.interrupted ?? null,
    summary: summarize(result.outcomes),
    checks: result.outcomes,
  };
}

const xml = (s: string) =>
  s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    // XML 1.0 forbids most control characters even when escaped.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "");

/** JUnit XML as CI systems read it: one testsuite, one testcase per check. */
export function toJUnit(result: RunResult, suiteName = "smoke"): string {
  const s = summarize(result.outcomes);
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const total = result.outcomes.reduce((t, o) => t + o.durationMs, 0);
  const cases = result.outcomes.map((o) => {
    const open = `  <testcase classname="${xml(suiteName)}" name="${xml(o.id)}" time="${seconds(o.durationMs)}"`;
    const body = [o.message, ...o.details].join("\n");
    if (o.status === "passed") return `${open}/>`;
    const inner =
      o.status === "skipped"
        ? `<skipped message="${xml(o.message)}"/>`
        : o.status === "failed"
          ? `<failure message="${xml(o.message)}" type="${xml(o.expect)}">${xml(body)}</failure>`
          : `<error message="${xml(o.message)}">${xml(body)}</error>`;
    return `${open}>\n    ${inner}\n  </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites tests="${s.total}" failures="${s.failed}" errors="${s.errors}" skipped="${s.skipped}" time="${seconds(total)}">`,
    `<testsuite name="${xml(suiteName)}" tests="${s.total}" failures="${s.failed}" errors="${s.errors}" skipped="${s.skipped}" time="${seconds(total)}">`,
    ...cases,
    "</testsuite>",
    "</testsuites>",
    "",
  ].join("\n");
}

export function writeFileEnsuringDir(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}
