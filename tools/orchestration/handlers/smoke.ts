import { existsSync } from "node:fs";
import { join } from "node:path";
import { defaultChecksDir } from "../../smoke/checks";
import { main } from "../../smoke/cli";
import { loadJobReports } from "../../smoke/job-reports";
import type { RunSummary } from "../../smoke/report";
import { publishQuarantineRatio, quarantineRatio } from "../quarantine-metric";
import { captured, optionalSetting, setting } from "./environment";

/** Thrown when a smoke check fails: the message names the failing checks. */
export class SmokeFailedError extends Error {
  override readonly name = "SmokeFailed";
}

interface SmokeReport {
  summary: RunSummary;
  checks: { id: string; status: string; message: string }[];
}

/** In the bundle the SQL checks sit next to the code (tools/orchestration/bundle.ts puts them there). */
function checksDir(): string {
  const bundled = join(process.env.LAMBDA_TASK_ROOT ?? __dirname, "sql", "smoke");
  return existsSync(bundled) ? bundled : defaultChecksDir;
}

/**
 * The smoke harness itself (tools/smoke), in-process, against the lake this function belongs to: the same checks,
 * reports and exit codes as `npm run smoke`. Returns the summary and each check's status; any failure throws.
 */
export async function handler(): Promise<{ summary: RunSummary; checks: { id: string; status: string }[] }> {
  const only = optionalSetting("smokeOnly");
  const localWarehouse = optionalSetting("smokeLocalWarehouse");
  const run = await captured((io) =>
    main(
      [
        "--json",
        "--region",
        setting("region"),
        "--workgroup",
        setting("workgroup"),
        "--database",
        setting("curatedDatabase"),
        "--ingestion-table",
        setting("ingestionTable"),
        "--clean-report",
        `s3://${setting("cleanedBucket")}/reports/clean/latest.json`,
        "--curate-report",
        `s3://${setting("curatedBucket")}/reports/curate/latest.json`,
        "--checks-dir",
        checksDir(),
        "--junit",
        "/tmp/smoke/junit.xml",
        "--json-report",
        "/tmp/smoke/report.json",
        ...(only ? ["--only", only] : []),
        ...(localWarehouse ? ["--local", "--warehouse", localWarehouse] : []),
      ],
      io,
    ),
  );
  await publishRatio();
  let report: SmokeReport | undefined;
  try {
    report = JSON.parse(run.stdout) as SmokeReport;
  } catch {
    // No report: the harness stopped before running checks; its stderr says why.
  }
  if (run.code !== 0 || !report) {
    const failing = report?.checks.filter((c) => c.status !== "passed" && c.status !== "skipped") ?? [];
    throw new SmokeFailedError(
      failing.length
        ? `smoke checks failed: ${failing.map((c) => `${c.id} (${c.status}: ${c.message})`).join("; ")}`
        : `smoke exited ${run.code}: ${run.stderr.trim().split("\n").pop() ?? "no output"}`,
    );
  }
  return { summary: report.summary, checks: report.checks.map((c) => ({ id: c.id, status: c.status })) };
}

/**
 * The clean job's quarantine ratio from its report, as a CloudWatch metric (before the checks are judged, so a
 * failing run still reports it). No report (the jobs never ran) publishes nothing and says so in the log.
 */
async function publishRatio(): Promise<void> {
  const endpoint = optionalSetting("endpoint");
  const aws = { region: setting("region"), ...(endpoint ? { endpoint } : {}) };
  let ratio: number | undefined;
  try {
    const { clean } = await loadJobReports(
      { clean: `s3://${setting("cleanedBucket")}/reports/clean/latest.json` },
      aws,
    );
    ratio = quarantineRatio(clean);
  } catch (error) {
    process.stderr.write(
      `quarantine ratio not published: no readable clean report (${(error as Error).message})\n`,
    );
    return;
  }
  if (ratio === undefined) return;
  await publishQuarantineRatio(ratio, setting("lakeName"), aws);
  process.stderr.write(`${JSON.stringify({ event: "quarantine-ratio", ratio })}\n`);
}
