import { resolve } from "node:path";
import { AthenaClient } from "@aws-sdk/client-athena";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
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
  type JobReports,
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
  CouldNotRunError,
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
  json: string;
}

const positiveInt = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${what} must be a positive integer`);
  return n;
};

function program(): Command {
  return new Command("smoke")
    .description(
      "Run the smoke checks (sql/smoke/*.sql + the workgroup read-back) against a deployed lake or the local lake.\n" +
        "Exit codes: 0 all passed, 1 a check failed, 2 could not run.",
    )
    .addOption(new Option("--outputs <file>", "file with `terraform output -json` of the lake stack"))
    .addOption(
      new Option(
        "--outputs-from <dir>",
        "synthesized lake stack dir: runs `terraform output -json` there",
      ).conflicts("outputs"),
    )
    .option("--workgroup <name>", "Athena workgroup (default: output athena_workgroup_name)")
    .option("--database <name>", "curated Glue database (default: output curated_database_name)")
    .option("--results-location <s3uri>", "query results location if the workgroup does not enforce one")
    .option("--region <region>", "AWS region (default: output region, then AWS_REGION)")
    .addOption(
      new Option("--endpoint <url>", "AWS endpoint override (local AWS)").env("LAKE_LOCAL_AWS_ENDPOINT"),
    )
    .option("--ingestion-table <name>", "DynamoDB ingestion table (default: output ingestion_table_name)")
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
    .option("--junit <file>", "JUnit XML report", "reports/smoke/junit.xml")
    .option("--json <file>", "JSON report", "reports/smoke/report.json");
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
  if (!t.region) throw new CouldNotRunError("no region: pass --region, --outputs or set AWS_REGION");
  return t.region;
}

async function loadIngested(f: Flags, t: Target): Promise<IngestedFile[]> {
  const source: IngestionSource | undefined = f.ingestionFile
    ? { kind: "file", path: f.ingestionFile }
    : t.ingestionTable
      ? { kind: "table", tableName: t.ingestionTable, region: needRegion(t), endpoint: t.endpoint }
      : undefined;
  if (!source)
    throw new CouldNotRunError(
      "reconciling with ingestion needs --ingestion-table, --ingestion-file or --outputs",
    );
  try {
    return expectedFiles(await loadIngestionItems(source));
  } catch (e) {
    const where = source.kind === "file" ? source.path : `table ${source.tableName}`;
    throw new CouldNotRunError(`cannot read the ingestion records (${where}): ${(e as Error).message}`, {
      cause: e,
    });
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
  // Read before any query runs: a missing workgroup or bad credentials means "could not run" (exit 2).
  const wg = await readWorkgroup(client, workgroup);
  return { ...base, run: async () => judgeWorkgroup(wg) };
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
    if (!warehouse) throw new CouldNotRunError("local mode needs --warehouse or --outputs (curated bucket)");
    const s3Endpoint = f.s3Endpoint ?? (warehouse.startsWith("s3://") ? target.endpoint : undefined);
    return new LocalAthenaEngine({ warehouse, database, s3Endpoint });
  }
  if (!client || !target.workgroup) throw new CouldNotRunError("no workgroup: pass --workgroup or --outputs");
  return new AthenaEngine({
    client,
    workgroup: target.workgroup,
    database,
    outputLocation: target.outputLocation,
    poll: { maxMs: f.pollMaxMs },
    endpoint: target.endpoint,
  });
}

/** Runs the harness; returns the exit code. `signal` is aborted on Ctrl-C. */
export async function main(argv: readonly string[], io: Io = stdio, signal?: AbortSignal): Promise<number> {
  const cmd = program().exitOverride();
  cmd.configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  let f: Flags;
  try {
    f = cmd.parse(argv, { from: "user" }).opts<Flags>();
  } catch (e) {
    if (e instanceof CommanderError && e.exitCode === 0) return 0; // --help
    return 2;
  }
  const startedAt = new Date();
  let client: AthenaClient | undefined;
  let engine: QueryEngine | undefined;
  try {
    const target = resolveTarget(f);
    if (!target.database) throw new CouldNotRunError("no curated database: pass --database or --outputs");
    let checks = loadChecks(f.checksDir ?? defaultChecksDir);
    if (f.only) {
      const builtinIds = [WORKGROUP_CHECK_ID, RECONCILE_CHECK_ID];
      const unknown = f.only.filter((id) => !checks.some((c) => c.id === id) && !builtinIds.includes(id));
      if (unknown.length) throw new CouldNotRunError(`--only names unknown checks: ${unknown.join(", ")}`);
      checks = checks.filter((c) => f.only?.includes(c.id));
    }
    const only = (id: string) => !f.only || f.only.includes(id);
    const needsIngestion =
      checks.some((c) => c.expect.kind === "matches ingestion") || only(RECONCILE_CHECK_ID);
    const files = needsIngestion ? await loadIngested(f, target) : undefined;
    const reports = files ? await loadReports(f, target) : undefined;
    const counts = files && expectedCounts(files);
    // Without the jobs' reports, the curated counts must equal ingestion exactly.
    const ingested =
      counts && reports && "loaded" in reports ? withDeductions(counts, reports.loaded) : counts;

    if (!f.local || target.endpoint !== undefined) {
      client = new AthenaClient({ region: needRegion(target), endpoint: target.endpoint, maxAttempts: 3 });
    }
    if (!f.local && !target.workgroup)
      throw new CouldNotRunError("no workgroup: pass --workgroup or --outputs");
    const builtins: BuiltinCheck[] = [];
    if (only(WORKGROUP_CHECK_ID)) builtins.push(await workgroupCheck(client, target.workgroup));
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
    io.out(formatTable(result, described));
    writeFileEnsuringDir(resolve(f.junit), toJUnit(result));
    writeFileEnsuringDir(
      resolve(f.json),
      `${JSON.stringify(toJson(result, { target: described, startedAt, finishedAt: new Date() }), null, 2)}\n`,
    );
    io.err(`Reports: ${f.junit}, ${f.json}`);
    return exitCode(result);
  } catch (e) {
    io.err(`smoke: could not run: ${(e as Error).message}`);
    return 2;
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
  main(process.argv.slice(2), stdio, controller.signal).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`smoke: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(2);
    },
  );
}
