import { resolve } from "node:path";
import { AthenaClient } from "@aws-sdk/client-athena";
import { Command, InvalidArgumentError, Option } from "commander";
import { LAKE_OUTPUTS } from "../../stacks/outputs";
import {
  EXIT_CODES_HELP,
  errorOutcome,
  jsonOption,
  runMain,
  UnreachableError,
  UsageError,
} from "../cli/conventions";
import { AthenaEngine } from "./athena-engine";
import { defaultChecksDir, loadChecks } from "./checks";
import type { QueryEngine } from "./engine";
import {
  expectedCounts,
  expectedFiles,
  type IngestedFile,
  type IngestionSource,
  loadIngestionItems,
} from "./ingestion";
import {
  JOB_RUNS_CHECK_DESCRIPTION,
  JOB_RUNS_CHECK_ID,
  type JobReports,
  judgeJobRuns,
  loadJobReports,
  RECONCILE_CHECK_DESCRIPTION,
  RECONCILE_CHECK_ID,
  reconcileFiles,
  withDeductions,
} from "./job-reports";
import { LocalAthenaEngine } from "./local-engine";
import { formatTable, toJson, toJUnit, writeFileEnsuringDir } from "./report";
import { type BuiltinCheck, exitCode, runChecks } from "./runner";
import { outputsFromStack, readOutputsFile, type Target } from "./target";
import {
  judgeWorkgroup,
  readWorkgroup,
  WORKGROUP_CHECK_DESCRIPTION,
  WORKGROUP_CHECK_ID,
} from "./workgroup-check";

interface Flags {
  outputs?: string;
  outputsFrom?: string;
  workgroup?: string;
  database?: string;
  resultsLocation?: string;
  region?: string;
  endpoint?: string;
  ingestionTable?: string;
  ingestionFile?: string;
  local?: boolean;
  warehouse?: string;
  s3Endpoint?: string;
  cleanReport?: string;
  curateReport?: string;
  checksDir?: string;
  only?: string[];
  concurrency: number;
  timeout: number;
  pollMaxMs: number;
  junit: string;
  jsonReport: string;
  json?: boolean;
}

const positiveInt = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${what} must be a positive integer`);
  return n;
};

function program(): Command {
  return new Command("smoke")
    .description(
      "Run the smoke checks (sql/smoke/*.sql, plus the workgroup's settings, the Glue jobs' last runs and the " +
        "per-file reconciliation with ingestion) against a deployed lake or the local lake.\n" +
        `${EXIT_CODES_HELP} A check that errored (e.g. timed out) or a run interrupted by Ctrl-C exits 1.`,
    )
    .addOption(new Option("--outputs <file>", "file with the lake stack's `terraform output -json`"))
    .addOption(
      new Option(
        "--outputs-from <dir>",
        "synthesized lake stack dir: runs `terraform output -json` there",
      ).conflicts("outputs"),
    )
    .option("--workgroup <name>", `Athena workgroup (default: output ${LAKE_OUTPUTS.athenaWorkgroup.name})`)
    .option(
      "--database <name>",
      `curated Glue database (default: output ${LAKE_OUTPUTS.curatedDatabase.name})`,
    )
    .option("--results-location <s3uri>", "query results location if the workgroup does not enforce one")
    .option("--region <region>", "AWS region (default: output region, then AWS_REGION)")
    .addOption(
      new Option("--endpoint <url>", "AWS endpoint override (local AWS)").env("LAKE_LOCAL_AWS_ENDPOINT"),
    )
    .option(
      "--ingestion-table <name>",
      `DynamoDB ingestion table (default: output ${LAKE_OUTPUTS.ingestionTable.name})`,
    )
    .option("--ingestion-file <file>", "JSON array of ingestion items instead of the DynamoDB table")
    .option("--local", "run the checks on the local Athena engine over curated Parquet")
    .option("--warehouse <dir|s3uri>", "local mode: curated root (default: s3://<curated bucket>/curated/)")
    .option("--s3-endpoint <url>", "local mode: S3 endpoint for an s3:// warehouse (default: --endpoint)")
    .option(
      "--clean-report <path|s3uri>",
      "clean job report (default: s3://<cleaned bucket>/reports/clean/latest.json)",
    )
    .option(
      "--curate-report <path|s3uri>",
      "curate job report (default: s3://<curated bucket>/reports/curate/latest.json)",
    )
    .option("--checks-dir <dir>", "directory of smoke checks (default: sql/smoke)")
    .option("--only <ids>", "comma-separated check ids to run", (v: string) => v.split(",").filter(Boolean))
    .option("--concurrency <n>", "queries in flight at once", positiveInt("--concurrency"), 4)
    .option(
      "--timeout <seconds>",
      "overall timeout; running queries are cancelled",
      positiveInt("--timeout"),
      900,
    )
    .option("--poll-max-ms <ms>", "longest wait between status polls", positiveInt("--poll-max-ms"), 5000)
    .option("--junit <file>", "JUnit XML report file", "reports/smoke/junit.xml")
    .option("--json-report <file>", "JSON report file", "reports/smoke/report.json")
    .addOption(jsonOption());
}

interface Io {
  out(s: string): void;
  err(s: string): void;
}

const stdio: Io = { out: (s) => process.stdout.write(`${s}\n`), err: (s) => process.stderr.write(`${s}\n`) };

function resolveTarget(f: Flags): Target {
  const base: Partial<Target> = f.outputs
    ? readOutputsFile(f.outputs)
    : f.outputsFrom
      ? outputsFromStack(f.outputsFrom)
      : {};
  const region = f.region ?? base.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  return {
    ...base,
    region,
    endpoint: f.endpoint ?? base.endpoint,
    workgroup: f.workgroup ?? base.workgroup,
    database: f.database ?? base.database,
    outputLocation: f.resultsLocation ?? base.outputLocation,
    ingestionTable: f.ingestionTable ?? base.ingestionTable,
  };
}

function needRegion(t: Target): string {
  if (!t.region) throw new UsageError("no region: pass --region, --outputs or set AWS_REGION");
  return t.region;
}

async function loadIngested(f: Flags, t: Target): Promise<IngestedFile[]> {
  const source: IngestionSource | undefined = f.ingestionFile
    ? { kind: "file", path: f.ingestionFile }
    : t.ingestionTable
      ? { kind: "table", tableName: t.ingestionTable, region: needRegion(t), endpoint: t.endpoint }
      : undefined;
  if (!source)
    throw new UsageError("reconciling with ingestion needs --ingestion-table, --ingestion-file or --outputs");
  try {
    return expectedFiles(await loadIngestionItems(source));
  } catch (e) {
    // A file named on the command line is the user's to fix; the table is the environment's.
    if (source.kind === "file") {
      throw new UsageError(`--ingestion-file ${source.path}: ${(e as Error).message}`, { cause: e });
    }
    throw new UnreachableError(
      `cannot read the ingestion records (table ${source.tableName}): ${(e as Error).message}`,
      { cause: e },
    );
  }
}

/** The jobs' reports as read, or why they could not be. */
type ReportsRead = { readonly loaded: JobReports } | { readonly problem: string };

/** No location → undefined (the per-file check is skipped, saying so); unreadable → the reason. */
async function loadReports(f: Flags, t: Target): Promise<ReportsRead | undefined> {
  const clean = f.cleanReport ?? (t.cleanedBucket && `s3://${t.cleanedBucket}/reports/clean/latest.json`);
  const curate = f.curateReport ?? (t.curatedBucket && `s3://${t.curatedBucket}/reports/curate/latest.json`);
  if (!clean) return undefined;
  try {
    const loaded = await loadJobReports(
      { clean, curate: curate || undefined },
      { region: t.region, endpoint: t.endpoint },
    );
    return { loaded };
  } catch (e) {
    return { problem: (e as Error).message };
  }
}

async function workgroupCheck(
  client: AthenaClient | undefined,
  workgroup: string | undefined,
): Promise<BuiltinCheck> {
  const base = {
    id: WORKGROUP_CHECK_ID,
    description: WORKGROUP_CHECK_DESCRIPTION,
    expectText: "workgroup settings",
  };
  if (!client || !workgroup) {
    return {
      ...base,
      skipReason: "local mode without an Athena API: pass --endpoint and --workgroup (or --outputs)",
    };
  }
  // Read before any query runs: a missing workgroup or bad credentials means the lake is unreachable (exit 3).
  const wg = await readWorkgroup(client, workgroup);
  return { ...base, run: async () => judgeWorkgroup(wg) };
}

function jobRunsCheck(reports: ReportsRead | undefined): BuiltinCheck {
  const base = {
    id: JOB_RUNS_CHECK_ID,
    description: JOB_RUNS_CHECK_DESCRIPTION,
    expectText: "status passed",
  };
  if (!reports) return { ...base, skipReason: "no job reports: pass --clean-report or --outputs" };
  return {
    ...base,
    run: async () =>
      "loaded" in reports
        ? judgeJobRuns(reports.loaded)
        : { passed: false, message: reports.problem, details: [] },
  };
}

function reconcileCheck(files: readonly IngestedFile[], reports: ReportsRead | undefined): BuiltinCheck {
  const base = {
    id: RECONCILE_CHECK_ID,
    description: RECONCILE_CHECK_DESCRIPTION,
    expectText: "raw = cleaned + quarantined",
  };
  if (!reports) return { ...base, skipReason: "no clean job report: pass --clean-report or --outputs" };
  return {
    ...base,
    run: async () =>
      "loaded" in reports
        ? reconcileFiles(files, reports.loaded.clean)
        : { passed: false, message: reports.problem, details: [] },
  };
}

function makeEngine(f: Flags, target: Target, client: AthenaClient | undefined): QueryEngine {
  const database = target.database as string;
  if (f.local) {
    const warehouse =
      f.warehouse ?? (target.curatedBucket ? `s3://${target.curatedBucket}/curated/` : undefined);
    if (!warehouse) throw new UsageError("local mode needs --warehouse or --outputs (curated bucket)");
    const s3Endpoint = f.s3Endpoint ?? (warehouse.startsWith("s3://") ? target.endpoint : undefined);
    return new LocalAthenaEngine({ warehouse, database, s3Endpoint });
  }
  if (!client || !target.workgroup) throw new UsageError("no workgroup: pass --workgroup or --outputs");
  return new AthenaEngine({
    client,
    workgroup: target.workgroup,
    database,
    outputLocation: target.outputLocation,
    poll: { maxMs: f.pollMaxMs },
    endpoint: target.endpoint,
  });
}

/** Runs the harness; returns the exit code (tools/cli/conventions.ts). `signal` is aborted on Ctrl-C. */
export async function main(argv: readonly string[], io: Io = stdio, signal?: AbortSignal): Promise<number> {
  const cmd = program().exitOverride();
  cmd.configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  let f: Flags;
  try {
    f = cmd.parse(argv, { from: "user" }).opts<Flags>();
  } catch (e) {
    return errorOutcome(e).exitCode; // commander printed the problem, or the help (exit 0)
  }
  const startedAt = new Date();
  let client: AthenaClient | undefined;
  let engine: QueryEngine | undefined;
  try {
    const target = resolveTarget(f);
    if (!target.database) throw new UsageError("no curated database: pass --database or --outputs");
    let checks = loadChecks(f.checksDir ?? defaultChecksDir);
    const builtinIds = [WORKGROUP_CHECK_ID, JOB_RUNS_CHECK_ID, RECONCILE_CHECK_ID];
    if (f.only) {
      const unknown = f.only.filter((id) => !checks.some((c) => c.id === id) && !builtinIds.includes(id));
      if (unknown.length) throw new UsageError(`--only names unknown checks: ${unknown.join(", ")}`);
      checks = checks.filter((c) => f.only?.includes(c.id));
    }
    const only = (id: string) => !f.only || f.only.includes(id);
    const needsIngestion =
      checks.some((c) => c.expect.kind === "matches ingestion") || only(RECONCILE_CHECK_ID);
    const files = needsIngestion ? await loadIngested(f, target) : undefined;
    const reports = files || only(JOB_RUNS_CHECK_ID) ? await loadReports(f, target) : undefined;
    const counts = files && expectedCounts(files);
    // Without the jobs' reports, the curated counts must equal ingestion exactly.
    const ingested =
      counts && reports && "loaded" in reports ? withDeductions(counts, reports.loaded) : counts;

    if (!f.local || target.endpoint !== undefined) {
      client = new AthenaClient({ region: needRegion(target), endpoint: target.endpoint, maxAttempts: 3 });
    }
    if (!f.local && !target.workgroup) throw new UsageError("no workgroup: pass --workgroup or --outputs");
    const builtins: BuiltinCheck[] = [];
    if (only(WORKGROUP_CHECK_ID)) builtins.push(await workgroupCheck(client, target.workgroup));
    if (only(JOB_RUNS_CHECK_ID)) builtins.push(jobRunsCheck(reports));
    if (files && only(RECONCILE_CHECK_ID)) builtins.push(reconcileCheck(files, reports));

    engine = makeEngine(f, target, client);
    const described = engine.description;

    io.err(
      `Running ${checks.length + builtins.length} checks on ${described} (concurrency ${f.concurrency})`,
    );
    let n = 0;
    const total = checks.length + builtins.length;
    const result = await runChecks({
      engine,
      checks,
      builtins,
      ingested,
      concurrency: f.concurrency,
      timeoutMs: f.timeout * 1000,
      signal,
      onOutcome: (o) =>
        io.err(`[${++n}/${total}] ${o.status.toUpperCase()} ${o.id} (${(o.durationMs / 1000).toFixed(1)}s)`),
    });
    const json = `${JSON.stringify(toJson(result, { target: described, startedAt, finishedAt: new Date() }), null, 2)}`;
    io.out(f.json ? json : formatTable(result, described));
    writeFileEnsuringDir(resolve(f.junit), toJUnit(result));
    writeFileEnsuringDir(resolve(f.jsonReport), `${json}\n`);
    io.err(`Reports: ${f.junit}, ${f.jsonReport}`);
    return exitCode(result);
  } catch (e) {
    const outcome = errorOutcome(e);
    io.err(`smoke: error: ${outcome.message}`);
    if (outcome.stack) io.err(outcome.stack);
    return outcome.exitCode;
  } finally {
    await engine?.close?.();
    client?.destroy();
  }
}

if (require.main === module) {
  const controller = new AbortController();
  process.once("SIGINT", () => {
    process.stderr.write("\nInterrupted: cancelling running queries...\n");
    controller.abort("Ctrl-C");
  });
  runMain("smoke", () => main(process.argv.slice(2), stdio, controller.signal));
}
