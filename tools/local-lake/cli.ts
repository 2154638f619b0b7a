import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { createInterface } from "node:readline/promises";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { LAKE_OUTPUTS, type LakeOutputKey, readLakeOutputs } from "../../stacks/outputs";
import {
  type ErrorOutcome,
  EXIT_CODES_HELP,
  ExitCode,
  errorOutcome,
  FailedError,
  jsonOption,
  runMain,
  UnreachableError,
  UsageError,
} from "../cli/conventions";
import {
  type AnalystQuery,
  DEFAULT_SAMPLES,
  describeScope,
  destroyStacks,
  type LakePaths,
  lakePaths,
  localEnv,
  type QueryAnswer,
  queryLake,
  readOutputs,
  repoRoot,
  rerun,
  type Session,
  up,
  type WarehouseAnswer,
} from "./lake";
import { StepError, Steps } from "./steps";

/** Where the CLI writes: stdout for results and instructions, stderr for progress and errors. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
}
const stdio: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};
const rel = (path: string) => relative(repoRoot, path) || ".";

function positiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError(`expected a positive integer, got "${text}"`);
  return n;
}

function table(answer: QueryAnswer, limit: number): string[] {
  const header = answer.columns.map((c) => c.name);
  const rows = answer.rows.slice(0, limit).map((r) => r.map((v) => (v === null ? "" : String(v))));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
}

/** The latest program year's rows of an answer whose first column is program_year. */
function latestYear(answer: QueryAnswer): QueryAnswer {
  const year = Math.max(...answer.rows.map((r) => Number(r[0])));
  return { columns: answer.columns, rows: answer.rows.filter((r) => Number(r[0]) === year) };
}

function printAnswers(io: Io, answers: Record<AnalystQuery, QueryAnswer>): void {
  const titles: Record<AnalystQuery, string> = {
    top_manufacturers_by_year: "Top manufacturers by general-payment dollars",
    nature_of_payment_breakdown: "General payments by nature of payment",
    payments_by_recipient_location: "General payments by recipient state and city",
  };
  for (const [name, answer] of Object.entries(answers) as [AnalystQuery, QueryAnswer][]) {
    io.out("");
    io.out(`${titles[name]} (sql/analytics/${name}.sql, latest program year):`);
    for (const line of table(latestYear(answer), 8)) io.out(`  ${line}`);
  }
}

/** The warehouse step's dashboard: each row from the marts beside curated's total for it. */
export function printWarehouse(io: Io, answer: WarehouseAnswer): void {
  const { dashboard, parameters, marts, curated, load } = answer;
  io.out("");
  io.out(
    `Serving warehouse: ${dashboard} ${parameters.year ?? ""} (warehouse/sql/dashboards/${dashboard}.sql), ` +
      `PostgreSQL marts | curated on the local Athena engine:`,
  );
  const width = Math.max(0, ...marts.map((r) => r[0].length));
  const amount = Math.max(0, ...[...marts, ...curated].map((r) => r[1].length));
  for (const [i, row] of marts.entries()) {
    io.out(
      `  ${row[0].padEnd(width)}  ${row[1].padStart(amount)} | ${(curated[i]?.[1] ?? "").padStart(amount)}`,
    );
  }
  io.out(
    `  ${answer.equal ? "answers equal" : "ANSWERS DIFFER"}; marts loaded from ${load.payments} payments, ` +
      `$${load.total_usd}, reconciled with curated to the cent`,
  );
}

async function choose(then: string | undefined): Promise<"keep" | "destroy"> {
  if (then === "keep" || then === "destroy") return then;
  // CI has no stdin: nothing may wait for an answer there, and nothing should be left running.
  if (!process.stdin.isTTY) return "destroy";
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  const answer = await rl.question("Keep the local lake running to query it? [Y/n] ");
  rl.close();
  return /^n/i.test(answer.trim()) ? "destroy" : "keep";
}

function queryInstructions(io: Io, paths: LakePaths, endpoint: string): void {
  const outputs = readOutputs(paths.outputsFile);
  const say = io.out;
  say("");
  say(`The local lake is up: local AWS at ${endpoint}; terraform outputs in ${rel(paths.outputsFile)}.`);
  say("Query the curated tables (Athena SQL on the local engine), from another terminal:");
  say(
    `  .venv/bin/python tools/local-athena/local_athena.py --warehouse s3://${outputs.curatedBucket}/curated/ \\`,
  );
  say(`      --s3-endpoint ${endpoint} --database ${outputs.curatedDatabase} \\`);
  say("      --sql 'SELECT program_year, count(*) FROM general_payments GROUP BY 1'");
  say(`  AWS_ENDPOINT_URL=${endpoint} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \\`);
  say(`      .venv/bin/aws s3 ls s3://${outputs.curatedBucket}/curated/ --recursive`);
  say(`  npm run smoke -- --local --outputs ${rel(paths.outputsFile)} --endpoint ${endpoint}`);
  say(
    "Stop: Ctrl-C here (moto's memory goes with it), or `npm run local-lake -- down` (terraform destroy, then stop).",
  );
}

interface UpOptions {
  readonly port?: number;
  readonly rows: number;
  readonly files?: string[];
  readonly then?: string;
}

async function runUp(io: Io, paths: LakePaths, opts: UpOptions) {
  const started = Date.now();
  const lake = await up({
    paths,
    port: opts.port,
    samples: { ...DEFAULT_SAMPLES, rows: opts.rows },
    files: opts.files,
  });
  io.out(lake.smokeOutput.trimEnd());
  printAnswers(io, lake.answers);
  printWarehouse(io, lake.warehouse);
  io.out("");
  io.out(
    `Steps: ${lake.steps.timings.map((t) => `${t.step} ${t.seconds.toFixed(0)} s`).join(", ")}; ` +
      `total ${((Date.now() - started) / 1000).toFixed(0)} s. Logs: ${rel(paths.logDir)}/`,
  );
  if ((await choose(opts.then)) === "destroy") {
    try {
      await destroyStacks(lake.steps, paths, lake.env, lake.moto.endpoint);
    } finally {
      await lake.moto.stop();
    }
    io.out("Destroyed the lake and its state bootstrap; local AWS stopped.");
    return;
  }
  const session: Session = { endpoint: lake.moto.endpoint, pid: process.pid, workDir: paths.workDir };
  writeFileSync(paths.sessionFile, JSON.stringify(session, null, 2));
  queryInstructions(io, paths, lake.moto.endpoint);
  await new Promise<void>((ok) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => ok());
  });
  rmSync(paths.sessionFile, { force: true });
  await lake.moto.stop();
  io.out("Local AWS stopped.");
}

function readSession(paths: LakePaths): Session | undefined {
  if (!existsSync(paths.sessionFile)) return undefined;
  const session = JSON.parse(readFileSync(paths.sessionFile, "utf8")) as Session;
  try {
    process.kill(session.pid, 0);
    return session;
  } catch {
    rmSync(paths.sessionFile, { force: true }); // the `up` that wrote it is gone, and moto with it
    return undefined;
  }
}

// moto's dashboard page: data.json would serialize every backend's state, slow on a used lake, and a 500 on
// some states (an IAM lookup of "default_user" failed after several runs), which made `down` refuse to destroy.
async function answering(endpoint: string): Promise<boolean> {
  const res = await fetch(`${endpoint}/moto-api/`).catch(() => undefined);
  return res?.ok === true;
}

async function runDown(io: Io, paths: LakePaths): Promise<void> {
  const session = readSession(paths);
  if (!session) {
    io.out("No local lake is running (nothing to destroy: moto keeps its resources in memory only).");
    return;
  }
  if (!(await answering(session.endpoint))) {
    throw new UnreachableError(
      `local AWS at ${session.endpoint} does not answer (up process ${session.pid}): nothing can be destroyed; ` +
        "stop that process (its resources live in moto's memory only)",
    );
  }
  await destroyStacks(
    new Steps(paths.logDir, io.err),
    paths,
    localEnv(session.endpoint, paths),
    session.endpoint,
  );
  process.kill(session.pid, "SIGTERM");
  io.out(`Destroyed the lake and its state bootstrap; stopped local AWS (process ${session.pid}).`);
}

/** Every lake output of the saved `terraform output -json`, by Terraform name. */
function savedOutputs(file: string): Record<string, string> {
  const keys = Object.keys(LAKE_OUTPUTS) as LakeOutputKey[];
  const values = readLakeOutputs(JSON.parse(readFileSync(file, "utf8")), keys);
  return Object.fromEntries(keys.map((key) => [LAKE_OUTPUTS[key].name, values[key]]));
}

async function runStatus(io: Io, paths: LakePaths, opts: { json?: boolean }): Promise<void> {
  const session = readSession(paths);
  if (!session) {
    if (opts.json) io.out(JSON.stringify({ running: false }, null, 2));
    else io.out("No local lake is running. Start one: make demo (or npm run local-lake -- up).");
    throw new FailedError("no local lake is running");
  }
  const status = {
    running: true,
    endpoint: session.endpoint,
    answering: await answering(session.endpoint),
    pid: session.pid,
    outputs: savedOutputs(paths.outputsFile),
  };
  if (opts.json) io.out(JSON.stringify(status, null, 2));
  else {
    io.out(
      `local AWS: ${session.endpoint} (${status.answering ? "answering" : "NOT answering"}), up process ${session.pid}`,
    );
    for (const [name, value] of Object.entries(status.outputs)) io.out(`  ${name} = ${value}`);
  }
  if (!status.answering) throw new UnreachableError(`local AWS at ${session.endpoint} does not answer`);
}

/** The running lake; without one there is nothing to reach (exit 3), and the error says how to start one. */
function runningLake(paths: LakePaths): Session {
  const session = readSession(paths);
  if (!session) {
    throw new UnreachableError(
      "no local lake is running: start one and keep it (make demo and answer Y, or npm run local-lake -- up --then keep)",
    );
  }
  return session;
}

interface RunFlags {
  files?: string[];
  json?: boolean;
}

async function runRun(io: Io, paths: LakePaths, opts: RunFlags): Promise<void> {
  const session = runningLake(paths);
  const result = await rerun({
    paths,
    endpoint: session.endpoint,
    files: opts.files ?? [],
  });
  if (opts.json) {
    const smoke = JSON.parse(readFileSync(join(paths.smokeDir, "report.json"), "utf8")) as unknown;
    const scope = result.scope ?? "all";
    io.out(JSON.stringify({ steps: result.steps.timings, scope, smoke, answers: result.answers }, null, 2));
    return;
  }
  io.out(
    result.scope
      ? `The Glue jobs ran over what the new files went into: ${describeScope(result.scope)} (run without --files: everything).`
      : "The Glue jobs ran over every dataset and program year.",
  );
  io.out(result.smokeOutput.trimEnd());
  printAnswers(io, result.answers);
  io.out("");
  io.out(`Steps: ${result.steps.timings.map((t) => `${t.step} ${t.seconds.toFixed(0)} s`).join(", ")}.`);
}

async function runQuery(io: Io, paths: LakePaths, sql: string, opts: { json?: boolean }): Promise<void> {
  const session = runningLake(paths);
  let answer: QueryAnswer;
  try {
    answer = await queryLake(paths, session.endpoint, sql);
  } catch (error) {
    // local_athena.py exits 2 when the SQL does not parse or run: the user's input.
    if (error instanceof StepError && error.exitCode === 2) throw new UsageError(error.message);
    throw error;
  }
  if (opts.json) {
    io.out(JSON.stringify(answer, null, 2));
    return;
  }
  for (const line of table(answer, answer.rows.length)) io.out(line);
  io.out(`(${answer.rows.length} row${answer.rows.length === 1 ? "" : "s"})`);
}

function program(io: Io, paths: LakePaths): Command {
  const cli = new Command("local-lake")
    .description(
      "The whole Open Payments lake on this machine: moto as local AWS, the real terraform, the ingestion CLI,\n" +
        `the Glue scripts on local Spark, the smoke checks and the analyst queries. ${EXIT_CODES_HELP}`,
    )
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  cli
    .command("up", { isDefault: true })
    .description("bring the lake up on local AWS and run it end to end; then keep it running or destroy it")
    .option(
      "--port <port>",
      "moto's port on 127.0.0.1 (default: the port of config/local.json localEndpoint)",
      positiveInt,
    )
    .option("--rows <n>", "records per generated file", positiveInt, DEFAULT_SAMPLES.rows)
    .addOption(
      new Option(
        "--files <paths...>",
        "ingest these CMS CSV/ZIP files or folders (through the ingestion CLI) instead of generated samples",
      ).conflicts("rows"),
    )
    .addOption(
      new Option(
        "--then <what>",
        "after the run: keep the lake running, or destroy it (default: ask on a terminal, else destroy)",
      ).choices(["keep", "destroy"]),
    )
    .action((opts: UpOptions) => runUp(io, paths, opts));
  cli
    .command("down")
    .description("terraform destroy the running local lake, then stop local AWS")
    .action(() => runDown(io, paths));
  cli
    .command("status")
    .description("is a local lake running, where, with which outputs (exit 1 when none runs)")
    .addOption(jsonOption())
    .action((opts: { json?: boolean }) => runStatus(io, paths, opts));
  cli
    .command("run")
    .description(
      "on the running lake: ingest new files (if any), run both Glue jobs and the smoke checks again, answer the analysts",
    )
    .option("--files <paths...>", "CMS CSV/ZIP files or folders to ingest first")
    .addOption(jsonOption())
    .action((opts: RunFlags) => runRun(io, paths, opts));
  cli
    .command("query")
    .description("answer Athena (Trino) SQL from the running lake's curated tables (local Athena engine)")
    .argument("<sql>", 'one statement, e.g. "SELECT program_year, count(*) FROM general_payments GROUP BY 1"')
    .addOption(jsonOption())
    .action((sql: string, opts: { json?: boolean }) => runQuery(io, paths, sql, opts));
  return cli;
}

/** The outcome of an error: a failed step names its log (exit 1); the rest as tools/cli/conventions.ts says. */
export function outcomeOf(error: unknown, paths: LakePaths): ErrorOutcome {
  if (error instanceof StepError) {
    return {
      message: `${error.message}\nAll logs are kept in ${rel(paths.logDir)}/`,
      exitCode: ExitCode.failed,
    };
  }
  return errorOutcome(error);
}

/** Runs the CLI and returns its exit code (never calls process.exit, so tests run it in-process). */
export async function main(argv: readonly string[], io: Io = stdio, paths = lakePaths()): Promise<number> {
  try {
    await program(io, paths).parseAsync(argv, { from: "user" });
    return ExitCode.ok;
  } catch (error) {
    const outcome = outcomeOf(error, paths);
    if (!(error instanceof CommanderError)) io.err(`local-lake: error: ${outcome.message}`);
    if (outcome.stack) io.err(outcome.stack);
    return outcome.exitCode;
  }
}

if (require.main === module) runMain("local-lake", () => main(process.argv.slice(2)));
