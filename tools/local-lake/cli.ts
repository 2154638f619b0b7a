import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { createInterface } from "node:readline/promises";
import { Command, InvalidArgumentError, Option } from "commander";
import {
  type AnalystQuery,
  DEFAULT_SAMPLES,
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
} from "./lake";
import { StepError, Steps } from "./steps";

const say = (line = "") => process.stdout.write(`${line}\n`);
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

function printAnswers(answers: Record<AnalystQuery, QueryAnswer>): void {
  const titles: Record<AnalystQuery, string> = {
    top_manufacturers_by_year: "Top manufacturers by general-payment dollars",
    nature_of_payment_breakdown: "General payments by nature of payment",
    payments_by_recipient_location: "General payments by recipient state and city",
  };
  for (const [name, answer] of Object.entries(answers) as [AnalystQuery, QueryAnswer][]) {
    say();
    say(`${titles[name]} (sql/analytics/${name}.sql, latest program year):`);
    for (const line of table(latestYear(answer), 8)) say(`  ${line}`);
  }
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

function queryInstructions(paths: LakePaths, endpoint: string): void {
  const outputs = readOutputs(paths.outputsFile);
  say();
  say(`The local lake is up: local AWS at ${endpoint}; terraform outputs in ${rel(paths.outputsFile)}.`);
  say("Query the curated tables (Athena SQL on the local engine), from another terminal:");
  say(
    `  .venv/bin/python tools/local-athena/local_athena.py --warehouse s3://${outputs.curated_bucket_name}/curated/ \\`,
  );
  say(`      --s3-endpoint ${endpoint} --database ${outputs.curated_database_name} \\`);
  say("      --sql 'SELECT program_year, count(*) FROM general_payments GROUP BY 1'");
  say(`  AWS_ENDPOINT_URL=${endpoint} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \\`);
  say(`      .venv/bin/aws s3 ls s3://${outputs.curated_bucket_name}/curated/ --recursive`);
  say(`  npm run smoke -- --local --outputs ${rel(paths.outputsFile)} --endpoint ${endpoint}`);
  say(
    "Stop: Ctrl-C here (moto's memory goes with it), or `npm run local-lake -- down` (terraform destroy, then stop).",
  );
}

async function runUp(opts: { port?: number; rows: number; files?: string[]; then?: string }): Promise<void> {
  const paths = lakePaths();
  const started = Date.now();
  const lake = await up({
    port: opts.port,
    samples: { ...DEFAULT_SAMPLES, rows: opts.rows },
    files: opts.files,
  });
  say(lake.smokeOutput.trimEnd());
  printAnswers(lake.answers);
  say();
  say(
    `Steps: ${lake.steps.timings.map((t) => `${t.step} ${t.seconds.toFixed(0)} s`).join(", ")}; ` +
      `total ${((Date.now() - started) / 1000).toFixed(0)} s. Logs: ${rel(paths.logDir)}/`,
  );
  if ((await choose(opts.then)) === "destroy") {
    try {
      await destroyStacks(lake.steps, paths, lake.env, lake.moto.endpoint);
    } finally {
      await lake.moto.stop();
    }
    say("Destroyed the lake and its state bootstrap; local AWS stopped.");
    return;
  }
  const session: Session = { endpoint: lake.moto.endpoint, pid: process.pid, workDir: paths.workDir };
  writeFileSync(paths.sessionFile, JSON.stringify(session, null, 2));
  queryInstructions(paths, lake.moto.endpoint);
  await new Promise<void>((ok) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => ok());
  });
  rmSync(paths.sessionFile, { force: true });
  await lake.moto.stop();
  say("Local AWS stopped.");
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

async function runDown(): Promise<void> {
  const paths = lakePaths();
  const session = readSession(paths);
  if (!session) {
    say("No local lake is running (nothing to destroy: moto keeps its resources in memory only).");
    return;
  }
  await destroyStacks(new Steps(paths.logDir), paths, localEnv(session.endpoint), session.endpoint);
  process.kill(session.pid, "SIGTERM");
  say(`Destroyed the lake and its state bootstrap; stopped local AWS (process ${session.pid}).`);
}

async function runStatus(): Promise<void> {
  const paths = lakePaths();
  const session = readSession(paths);
  if (!session) {
    say("No local lake is running. Start one: make demo (or npm run local-lake -- up).");
    process.exitCode = 1;
    return;
  }
  const res = await fetch(`${session.endpoint}/moto-api/data.json`).catch(() => undefined);
  say(
    `local AWS: ${session.endpoint} (${res?.ok ? "answering" : "NOT answering"}), up process ${session.pid}`,
  );
  for (const [name, value] of Object.entries(readOutputs(paths.outputsFile))) say(`  ${name} = ${value}`);
  if (!res?.ok) process.exitCode = 1;
}

/** The running lake, or undefined after telling how to start one (exit code 3: nothing to reach). */
function runningLake(paths: LakePaths): Session | undefined {
  const session = readSession(paths);
  if (!session) {
    process.stderr.write(
      "No local lake is running. Start one and keep it: make demo (answer Y), or npm run local-lake -- up --then keep\n",
    );
    process.exitCode = 3;
  }
  return session;
}

async function runRun(opts: { files?: string[]; json?: boolean }): Promise<void> {
  const paths = lakePaths();
  const session = runningLake(paths);
  if (!session) return;
  try {
    const result = await rerun({ paths, endpoint: session.endpoint, files: opts.files ?? [] });
    if (opts.json) {
      say(
        JSON.stringify(
          {
            steps: result.steps.timings,
            smoke: JSON.parse(readFileSync(join(paths.smokeDir, "report.json"), "utf8")),
            answers: result.answers,
          },
          null,
          2,
        ),
      );
      return;
    }
    say(result.smokeOutput.trimEnd());
    printAnswers(result.answers);
    say();
    say(`Steps: ${result.steps.timings.map((t) => `${t.step} ${t.seconds.toFixed(0)} s`).join(", ")}.`);
  } catch (error) {
    if (!(error instanceof StepError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
  }
}

async function runQuery(sql: string, opts: { json?: boolean }): Promise<void> {
  const paths = lakePaths();
  const session = runningLake(paths);
  if (!session) return;
  let answer: QueryAnswer;
  try {
    answer = await queryLake(paths, session.endpoint, sql);
  } catch (error) {
    if (!(error instanceof StepError)) throw error;
    // local_athena.py: 2 = the SQL does not parse or run (the user's input), 1 = the warehouse is unreadable.
    process.stderr.write(`${error.message}\n`);
    process.exitCode = error.exitCode === 2 ? 2 : 1;
    return;
  }
  if (opts.json) {
    say(JSON.stringify(answer, null, 2));
    return;
  }
  for (const line of table(answer, answer.rows.length)) say(line);
  say(`(${answer.rows.length} row${answer.rows.length === 1 ? "" : "s"})`);
}

const program = new Command("local-lake")
  .description(
    "The embedded default: the whole Open Payments lake on this machine (moto as local AWS, real terraform,\n" +
      "the ingestion CLI, the Glue scripts on local Spark, the smoke harness, the analyst queries).",
  )
  .showHelpAfterError();

program
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
      "after the run: keep the lake running, or destroy it (default: ask on a TTY, else destroy)",
    ).choices(["keep", "destroy"]),
  )
  .action(runUp);
program
  .command("down")
  .description("terraform destroy the running local lake, then stop local AWS")
  .action(runDown);
program.command("status").description("is a local lake running, where, with which outputs").action(runStatus);
program
  .command("run")
  .description(
    "on the running lake: ingest new files (if any), run both Glue jobs and the smoke checks again, answer the analysts",
  )
  .option("--files <paths...>", "CMS CSV/ZIP files or folders to ingest first")
  .option("--json", "print the result (steps, smoke report, answers) as JSON on stdout")
  .action(runRun);
program
  .command("query")
  .description("answer Athena (Trino) SQL from the running lake's curated tables (local Athena engine)")
  .argument("<sql>", 'one statement, e.g. "SELECT program_year, count(*) FROM general_payments GROUP BY 1"')
  .option("--json", "print the answer as JSON ({columns, rows}) on stdout")
  .action(runQuery);

program.parseAsync().catch((error: unknown) => {
  if (error instanceof StepError) {
    process.stderr.write(`${error.message}\nAll logs are kept in ${rel(lakePaths().logDir)}/\n`);
  } else {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
});
