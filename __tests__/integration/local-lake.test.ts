// The embedded default end to end (issue 3): moto, the real terraform + provider (S3 backend and DynamoDB lock in
// moto), CMS files through the ingestion CLI, the Glue scripts on local Spark over s3a, the smoke harness, the
// analyst queries. The lake starts on files (`up --files`): generated samples and real CMS Ownership files. The
// answers are checked against values computed here straight from the generated CSVs (own parsing, cents as big
// integers); then the CLI's `run` ingests more real files into the running lake and `query` counts them; then the
// state lock is contended, and a destroy must leave nothing.
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AthenaClient, ListWorkGroupsCommand } from "@aws-sdk/client-athena";
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { DynamoDBClient, ListTablesCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import {
  GetDatabasesCommand,
  GetJobCommand,
  GetSecurityConfigurationsCommand,
  GetTriggersCommand,
  GetWorkflowRunsCommand,
  GlueClient,
  ListCrawlersCommand,
  ListJobsCommand,
  ListTriggersCommand,
  ListWorkflowsCommand,
} from "@aws-sdk/client-glue";
import { IAMClient, ListPoliciesCommand, ListRolesCommand } from "@aws-sdk/client-iam";
import { DescribeKeyCommand, KMSClient, ListAliasesCommand, ListKeysCommand } from "@aws-sdk/client-kms";
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  paginateListObjectsV2,
  S3Client,
} from "@aws-sdk/client-s3";
import { ListTopicsCommand, SNSClient } from "@aws-sdk/client-sns";
import { parse } from "csv-parse/sync";
import { strFromU8, unzipSync } from "fflate";
import { loadConfig, Naming } from "../../modules/config";
import { freePort } from "../../tools/local-aws/moto-server";
import {
  DEFAULT_SAMPLES,
  destroyStacks,
  generateSamples,
  type LakePaths,
  lakePaths,
  type QueryAnswer,
  type RunningLake,
  repoRoot,
  type Session,
  terraform,
  up,
} from "../../tools/local-lake/lake";
import { Steps } from "../../tools/local-lake/steps";
import { cents, datasetsFile, expectedCurated } from "../helpers/curated-oracle";

jest.setTimeout(900_000);

let paths: LakePaths;
let lake: RunningLake;
const progress: string[] = [];

// Complete, unmodified CMS Ownership files (the shared reference folder next to the checkout). The samples have
// PY2015, PY2022 and PY2023, so these years do not collide with them.
const REAL = join(repoRoot, "..", "shared", "open-payments", "real");
const realFile = (year: number) => join(REAL, `OP_DTL_OWNRSHP_PGYR${year}_P01302025_01212025.csv`);
const REAL_AT_UP = [2017, 2018, 2019];
const REAL_AT_RUN = [2020, 2021];

beforeAll(async () => {
  // Inside the checkout and removed only by the next run: a failed run keeps every step's log for reading.
  paths = lakePaths(join(repoRoot, ".build", "local-lake-test"));
  rmSync(paths.workDir, { recursive: true, force: true });
  await generateSamples(
    new Steps(join(paths.workDir, "fixture-logs"), () => undefined),
    paths,
    DEFAULT_SAMPLES,
  );
  const started = Date.now();
  lake = await up({
    paths,
    port: await freePort(),
    files: [paths.samplesDir, ...REAL_AT_UP.map(realFile)],
    print: (line) => progress.push(line),
  });
  const upSeconds = (Date.now() - started) / 1000;
  process.stderr.write(
    `local lake up in ${upSeconds.toFixed(0)} s: ${progress.filter((l) => l.includes("done")).join("; ")}\n`,
  );
});

afterAll(async () => {
  await lake?.moto.stop();
});

// ---- the oracle: the generated files, read here with csv-parse and the datasets file's layouts ----

/** General payments the curated table must hold (the shared oracle over the generated files). */
function expectedGeneral(): Record<string, string>[] {
  const files = readdirSync(paths.samplesDir).map((f) => join(paths.samplesDir, f));
  expect(files.length).toBeGreaterThan(0);
  return expectedCurated(files, "general").rows;
}

function sumBy(rows: Record<string, string>[], key: (r: Record<string, string>) => string) {
  const amount = datasetsFile.datasets.general.amountColumn ?? "";
  const out = new Map<string, { payments: number; cents: bigint }>();
  for (const r of rows) {
    const k = key(r);
    const acc = out.get(k) ?? { payments: 0, cents: 0n };
    out.set(k, { payments: acc.payments + 1, cents: acc.cents + cents(r[amount]) });
  }
  return out;
}

/** An answer's rows as objects by column name. */
function rowsOf(name: keyof RunningLake["answers"]): Record<string, unknown>[] {
  const { columns, rows } = lake.answers[name];
  return rows.map((r) => Object.fromEntries(columns.map((c, i) => [c.name, r[i]])));
}

const asCents = (v: unknown) => cents(String(v));

// ---- the tests ----

it("runs every step, each named with its duration, the lifecycle rules' applies in the background", () => {
  const steps = lake.steps.timings.map((t) => t.step);
  // `files` given: the files are ingested, no samples generated. Steps are listed as they finish.
  const inOrder = ["moto", "synth", "bootstrap", "lake", "ingest", "glue-clean"];
  inOrder.push("glue-curate", "smoke", "analytics", "warehouse");
  expect(steps.filter((s) => inOrder.includes(s))).toEqual(inOrder);
  const background = ["tls-front", "spark", "bootstrap-lifecycle", "lake-lifecycle"];
  expect([...steps].sort()).toEqual([...inOrder, ...background].sort());
  // The Spark driver starts (after its TLS front) while terraform applies: it needs local AWS, not the lake.
  expect(steps.indexOf("tls-front")).toBeGreaterThan(steps.indexOf("synth"));
  expect(steps.indexOf("spark")).toBeGreaterThan(steps.indexOf("tls-front"));
  expect(steps.indexOf("spark")).toBeLessThan(steps.indexOf("lake"));
  // The background applies start right after their stack's core apply and end before `up` returns.
  expect(steps.indexOf("bootstrap-lifecycle")).toBeGreaterThan(steps.indexOf("bootstrap"));
  expect(steps.indexOf("lake-lifecycle")).toBeGreaterThan(steps.indexOf("lake"));
  expect(progress.filter((l) => / done in \d+\.\d s$/.test(l))).toHaveLength(steps.length);
});

it("passes every smoke check on the lake the Glue scripts built", () => {
  const report = JSON.parse(readFileSync(join(paths.smokeDir, "report.json"), "utf8")) as {
    summary: { total: number; passed: number; failed: number; errors: number; skipped: number };
    checks: { id: string; status: string }[];
  };
  expect(report.checks.filter((c) => c.status !== "passed")).toEqual([]);
  expect(report.summary.total).toBeGreaterThanOrEqual(readdirSync(join(repoRoot, "sql", "smoke")).length);
});

it("answers payments by nature of payment as the generated files add up", () => {
  const expected = sumBy(
    expectedGeneral(),
    (r) => `${r.program_year}|${r.nature_of_payment_or_transfer_of_value}`,
  );
  const actual = new Map(
    rowsOf("nature_of_payment_breakdown").map((r) => [
      `${r.program_year}|${r.payment_nature}`,
      { payments: Number(r.payments), cents: asCents(r.total_usd) },
    ]),
  );
  expect(actual.size).toBeGreaterThan(3);
  expect(actual).toEqual(expected);
});

it("answers payments by recipient state as the generated files add up", () => {
  const expected = sumBy(expectedGeneral(), (r) => `${r.program_year}|${r.recipient_state}`);
  const actual = sumBy(
    rowsOf("payments_by_recipient_location").flatMap((r) =>
      // Each row holds a (state, city) group: spread its count back into single payments of its cents.
      Array.from({ length: Number(r.payments) }, (_, i) => ({
        program_year: String(r.program_year),
        recipient_state: String(r.recipient_state),
        total_amount_of_payment_usdollars: i === 0 ? String(r.total_usd) : "0",
      })),
    ),
    (r) => `${r.program_year}|${r.recipient_state}`,
  );
  expect(actual.size).toBeGreaterThan(3);
  expect(actual).toEqual(expected);
});

it("answers the top manufacturers per year as the generated files add up", () => {
  // Companies by their CMS id: the lake groups their spelling variants by normalized name, the oracle by id.
  const payer = "applicable_manufacturer_or_applicable_gpo_making_payment";
  const general = expectedGeneral();
  const totals = sumBy(general, (r) => `${r.program_year}|${r[`${payer}_id`]}`);
  const spellings = new Map<string, Set<string>>();
  for (const r of general) {
    spellings.set(r[`${payer}_id`], (spellings.get(r[`${payer}_id`]) ?? new Set()).add(r[`${payer}_name`]));
  }
  expect([...spellings.values()].some((names) => names.size > 1)).toBe(true);
  const years = new Set([...totals.keys()].map((k) => k.split("|")[0]));
  for (const year of years) {
    const expected = [...totals.entries()]
      .filter(([k]) => k.startsWith(`${year}|`))
      .map(([, v]) => v)
      .sort((a, b) => (b.cents > a.cents ? 1 : b.cents < a.cents ? -1 : 0))
      .slice(0, 10);
    const actual = rowsOf("top_manufacturers_by_year")
      .filter((r) => String(r.program_year) === year)
      .map((r) => ({ payments: Number(r.payments), cents: asCents(r.total_usd) }));
    expect(actual).toEqual(expected);
  }
  expect(years.size).toBe(DEFAULT_SAMPLES.legacyYears.length + DEFAULT_SAMPLES.modernYears.length);
});

it("loads the marts into a real PostgreSQL and answers a dashboard as curated and the generated files do", () => {
  const { warehouse } = lake;
  expect(warehouse.dashboard).toBe("top_manufacturers");
  // The step's own comparison, and the rows themselves: the marts' answer is curated's, row for row.
  expect(warehouse.equal).toBe(true);
  expect(warehouse.marts).toEqual(warehouse.curated);
  // The load reconciled with curated; here it must also add up to the generated files, to the cent.
  const general = expectedGeneral();
  const amount = datasetsFile.datasets.general.amountColumn ?? "";
  expect(warehouse.load.payments).toBe(general.length);
  expect(asCents(warehouse.load.total_usd)).toBe(general.reduce((sum, r) => sum + cents(r[amount]), 0n));
  // The dashboard's year is the latest, and its ten totals are that year's top ten payers in the files.
  const year = String(Math.max(...general.map((r) => Number(r.program_year))));
  expect(warehouse.parameters.year).toBe(year);
  const payer = "applicable_manufacturer_or_applicable_gpo_making_payment_id";
  const topTen = [
    ...sumBy(
      general.filter((r) => r.program_year === year),
      (r) => r[payer],
    ).values(),
  ]
    .map((v) => v.cents)
    .sort((a, b) => (b > a ? 1 : b < a ? -1 : 0))
    .slice(0, 10);
  expect(topTen.length).toBeGreaterThan(3);
  expect(warehouse.marts.map(([, total]) => asCents(total))).toEqual(topTen);
});

/** The local-lake CLI, on this test's lake (LOCAL_LAKE_DIR), as a user runs it. */
async function cli(
  args: string[],
  workDir = paths.workDir,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    execFile(
      join(repoRoot, "node_modules", ".bin", "tsx"),
      ["tools/local-lake/cli.ts", ...args],
      { cwd: repoRoot, env: { ...process.env, LOCAL_LAKE_DIR: workDir }, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => ok({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A zone's Parquet files (key: ETag) under a prefix of its bucket. */
async function zoneFiles(bucket: string, prefix: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for await (const page of paginateListObjectsV2(
    { client: aws(S3Client) },
    { Bucket: bucket, Prefix: prefix },
  )) {
    for (const { Key, ETag } of page.Contents ?? []) {
      if (Key?.endsWith(".parquet")) files[Key] = ETag ?? "";
    }
  }
  expect(Object.keys(files).length).toBeGreaterThan(0);
  return files;
}

/** Records of a real CMS file (csv-parse: quoted fields hold line breaks). */
const recordsOf = (file: string) => (parse(readFileSync(file), { bom: true }) as string[][]).length - 1;

describe("run and query on the running lake (CLI)", () => {
  beforeAll(() => {
    // What `up --then keep` leaves for the other commands: where the running lake's local AWS is.
    const session: Session = { endpoint: lake.moto.endpoint, pid: process.pid, workDir: paths.workDir };
    writeFileSync(paths.sessionFile, JSON.stringify(session));
  });

  it("ingests new files, then runs clean and curate over their partitions and every smoke check again (run --files)", async () => {
    const zones = async () => ({
      ...(await zoneFiles(lake.outputs.cleanedBucket, "cleaned/")),
      ...(await zoneFiles(lake.outputs.curatedBucket, "curated/")),
    });
    const before = await zones();
    const run = await cli(["run", "--files", ...REAL_AT_RUN.map(realFile), "--json"]);
    expect({ code: run.code, stderr: run.code === 0 ? "" : run.stderr }).toEqual({ code: 0, stderr: "" });
    const result = JSON.parse(run.stdout) as {
      steps: { step: string }[];
      scope: unknown;
      smoke: { checks: { id: string; status: string }[] };
      answers: Record<string, QueryAnswer>;
    };
    // The jobs ran over the new files' partitions only: every other cleaned and curated file is the one `up`
    // wrote (Spark names each file it writes anew), and the new years have files in both zones.
    expect(result.scope).toEqual({ datasets: ["ownership"], programYears: REAL_AT_RUN });
    const after = await zones();
    const newPartition = /^(cleaned|curated)\/ownership\/program_year=(2020|2021)\//;
    const outside = (files: Record<string, string>) =>
      Object.entries(files).filter(([key]) => !newPartition.test(key));
    expect(outside(after)).toEqual(outside(before));
    expect(outside(before).length).toBe(Object.keys(before).length);
    const written = Object.keys(after).map((key) => key.match(newPartition)?.slice(1, 3).join(" ") ?? "");
    expect([...new Set(written)].filter(Boolean).sort()).toEqual([
      "cleaned 2020",
      "cleaned 2021",
      "curated 2020",
      "curated 2021",
    ]);
    expect(result.steps.map((s) => s.step)).toEqual([
      "ingest",
      "tls-front",
      "spark",
      "glue-clean",
      "glue-curate",
      "smoke",
      "analytics",
    ]);
    expect(result.smoke.checks.length).toBeGreaterThan(0);
    expect(result.smoke.checks.filter((c) => c.status !== "passed")).toEqual([]);
    expect(Object.keys(result.answers).sort()).toEqual(Object.keys(lake.answers).sort());
  });

  it("answers Athena SQL from the curated tables: every real ownership record, up's and run's (query --json)", async () => {
    const sql =
      "SELECT program_year, count(*) AS records FROM ownership_interests " +
      "WHERE program_year BETWEEN 2017 AND 2021 GROUP BY program_year ORDER BY program_year";
    const query = await cli(["query", sql, "--json"]);
    expect(query.code).toBe(0);
    const answer = JSON.parse(query.stdout) as QueryAnswer;
    expect(answer.columns.map((c) => c.name)).toEqual(["program_year", "records"]);
    const expected = [...REAL_AT_UP, ...REAL_AT_RUN].map((year) => [year, recordsOf(realFile(year))]);
    expect(answer.rows.map(([year, n]) => [Number(year), Number(n)])).toEqual(expected);
    expect(expected.every(([, n]) => n > 2500)).toBe(true);
  });

  it("prints the answer as a table", async () => {
    const query = await cli([
      "query",
      "SELECT recipient_state, count(*) AS records FROM ownership_interests WHERE program_year = 2021 " +
        "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3",
    ]);
    expect(query.code).toBe(0);
    const lines = query.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^recipient_state\s+records$/);
    expect(lines[1]).toMatch(/^-+\s+-+$/);
    expect(lines.slice(2, 5).every((l) => /^[A-Z]{2}\s+\d+$/.test(l))).toBe(true);
    expect(lines[5]).toBe("(3 rows)");
  });

  it("exits 2 on SQL that does not parse, and 3 when no lake is running", async () => {
    const bad = await cli(["query", "SELEC program_year FROM ownership_interests"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not valid Athena SQL|Parser Error|syntax error/i);
    const none = await cli(["query", "SELECT 1"], mkdtempSync(join(tmpdir(), "no-lake-")));
    expect(none.code).toBe(3);
    // The error names the problem and the remedy, in the shared "<tool>: error: …" form.
    expect(none.stderr).toMatch(
      /^local-lake: error: no local lake is running: start one and keep it \(make demo/m,
    );
  });
});

/** Runs terraform with its own log file; resolves to the log (terraform prints its findings there). */
let logCount = 0;
async function terraformLog(dir: string, name: string, args: string[]): Promise<string> {
  const log = join(paths.logDir, `${name}-${++logCount}.log`);
  try {
    await terraform(dir, args, lake.env, log, name);
  } catch (error) {
    throw Object.assign(error as Error, { log: readFileSync(log, "utf8") });
  }
  return readFileSync(log, "utf8");
}

const aws = <T>(Client: new (c: object) => T) =>
  new Client({
    endpoint: lake.moto.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  });

describe("the infrastructure as applied to the local AWS", () => {
  it("plans no change to either stack right after the apply (no permanent diff)", async () => {
    for (const dir of [paths.bootstrapDir, paths.lakeDir]) {
      // -detailed-exitcode: 0 = no changes, 2 = changes (terraform() rejects on any non-zero exit).
      expect(await terraformLog(dir, "replan", ["plan", "-input=false", "-detailed-exitcode"])).toMatch(
        /No changes\./,
      );
    }
  });

  it("keeps the lake's state in the bootstrap bucket, encrypted with the state key, with the lock table's digest", async () => {
    const naming = new Naming(loadConfig("local", { env: { LAKE_LOCAL_AWS_ENDPOINT: lake.moto.endpoint } }));
    const json = JSON.parse(readFileSync(join(paths.lakeDir, "cdk.tf.json"), "utf8"));
    // The backend block is the production one; only the endpoints and path-style addressing differ here.
    expect(json.terraform.backend.s3).toMatchObject({ bucket: naming.stateBucket, encrypt: true });
    const head = await aws(S3Client).send(
      new HeadObjectCommand({ Bucket: naming.stateBucket, Key: naming.stateKey("lake-local") }),
    );
    expect(head.ServerSideEncryption).toBe("aws:kms");
    expect(head.SSEKMSKeyId).toBe(`arn:aws:kms:us-east-1:${naming.accountId}:${naming.stateKeyAlias}`);
    const locks = await aws(DynamoDBClient).send(new ScanCommand({ TableName: naming.lockTable }));
    expect(locks.Items?.map((i) => i.LockID?.S)).toContain(
      `${naming.stateBucket}/${naming.stateKey("lake-local")}-md5`,
    );
  });

  it("runs the Glue jobs with the security configuration, on the code terraform uploaded", async () => {
    const glue = aws(GlueClient);
    const s3 = aws(S3Client);
    const { Job } = await glue.send(new GetJobCommand({ JobName: lake.outputs.cleanJob }));
    expect(Job?.GlueVersion).toBe("5.0");
    expect(Job?.SecurityConfiguration).toMatch(/^opl-local-/);
    const [, bucket, key] =
      Job?.DefaultArguments?.["--extra-py-files"]?.match(/^s3:\/\/([^/]+)\/(.+)$/) ?? [];
    expect(bucket).toBe(lake.outputs.cleanedBucket);
    const zip = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const files = unzipSync(
      await (zip.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
    expect(Object.keys(files)).toEqual(
      expect.arrayContaining(["open_payments_lake/__init__.py", "open_payments_lake/open-payments.json"]),
    );
    expect(JSON.parse(strFromU8(files["open_payments_lake/open-payments.json"]))).toEqual(datasetsFile);
    const [, scriptBucket, scriptKey] = Job?.Command?.ScriptLocation?.match(/^s3:\/\/([^/]+)\/(.+)$/) ?? [];
    const script = await s3.send(new GetObjectCommand({ Bucket: scriptBucket, Key: scriptKey }));
    expect(await script.Body?.transformToString()).toBe(
      readFileSync(join(repoRoot, "glue-scripts", "clean_job.py"), "utf8"),
    );
  });

  it("chains the workflow: crawl raw, then clean, then curate, then crawl curated", async () => {
    const { Triggers } = await aws(GlueClient).send(new GetTriggersCommand({}));
    const lakeTriggers = (Triggers ?? []).filter((t) => t.WorkflowName === lake.outputs.workflow);
    expect(lakeTriggers.map((t) => t.Type).sort()).toEqual([
      "CONDITIONAL",
      "CONDITIONAL",
      "CONDITIONAL",
      "ON_DEMAND",
    ]);
  });
});

describe("docs/operations.md", () => {
  it("starts a workflow run with its documented commands, by the workflow_name output", async () => {
    const doc = readFileSync(join(repoRoot, "docs", "operations.md"), "utf8");
    const section = doc.slice(doc.indexOf("## Running the pipeline"));
    const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
    const [cd, ...commands] = block.trim().split("\n");
    expect(cd).toBe("cd cdktf.out/stacks/lake-dev");
    expect(commands.join("\n")).toContain("aws glue start-workflow-run");
    const run = spawnSync("bash", ["-euo", "pipefail", "-c", commands.join("\n")], {
      cwd: paths.lakeDir,
      encoding: "utf8",
      env: {
        ...lake.env,
        AWS_ENDPOINT_URL: lake.moto.endpoint,
        PATH: `${join(repoRoot, ".venv", "bin")}:${process.env.PATH}`,
      },
    });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
    expect(run.stdout).toContain("RUNNING");
    const { Runs } = await aws(GlueClient).send(new GetWorkflowRunsCommand({ Name: lake.outputs.workflow }));
    expect(Runs?.map((r) => r.Status)).toEqual(["RUNNING"]);
  });
});

describe("state locking in the local AWS", () => {
  let holder: ChildProcess | undefined;
  /** Declines the holder's apply, so it releases the lock (a killed terraform would leave it behind). */
  const release = async () => {
    if (!holder || holder.exitCode !== null || holder.signalCode !== null) return;
    const closed = new Promise((r) => holder?.once("close", r));
    holder.stdin?.end("no\n");
    await closed;
  };
  afterEach(release);

  it("refuses a second plan while an apply holds the lock, and plans again once it is released", async () => {
    // An apply that needs approval holds the state lock while it waits at its prompt: a reliable holder.
    const config = JSON.parse(readFileSync(join(paths.lakeDir, "cdk.tf.json"), "utf8"));
    const topic = Object.keys(config.resource.aws_sns_topic)[0];
    holder = spawn("terraform", ["apply", "-input=true", `-replace=aws_sns_topic.${topic}`], {
      cwd: paths.lakeDir,
      env: { ...lake.env, TF_INPUT: "1", TF_PLUGIN_CACHE_DIR: join(paths.synthDir, "plugin-cache") },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    holder.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
    });
    holder.stderr?.on("data", (c: Buffer) => {
      out += c.toString();
    });
    const deadline = Date.now() + 240_000;
    while (!/Enter a value:/.test(out)) {
      if (Date.now() > deadline || holder.exitCode !== null)
        throw new Error(`the lock holder did not reach its prompt:\n${out}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const contender = terraformLog(paths.lakeDir, "lock-contender", [
      "plan",
      "-input=false",
      "-lock-timeout=0s",
    ]);
    await expect(contender).rejects.toMatchObject({
      log: expect.stringMatching(/Error acquiring the state lock/),
    });
    await release();
    expect(out).toMatch(/Apply cancelled/);
    expect(
      await terraformLog(paths.lakeDir, "after-release", [
        "plan",
        "-input=false",
        "-lock-timeout=30s",
        "-detailed-exitcode",
      ]),
    ).toMatch(/No changes\./);
  });
});

/** Every lake resource still present in the local AWS, as "<kind> <name>". */
async function remainingResources(): Promise<string[]> {
  const left: string[] = [];
  const add = (kind: string, names: (string | undefined)[] = []) => {
    for (const n of names) left.push(`${kind} ${n}`);
  };
  add(
    "bucket",
    (await aws(S3Client).send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name),
  );
  add("table", (await aws(DynamoDBClient).send(new ListTablesCommand({}))).TableNames);
  const glue = aws(GlueClient);
  add(
    "glue database",
    (await glue.send(new GetDatabasesCommand({}))).DatabaseList?.map((d) => d.Name),
  );
  add("glue job", (await glue.send(new ListJobsCommand({}))).JobNames);
  add("glue crawler", (await glue.send(new ListCrawlersCommand({}))).CrawlerNames);
  add("glue trigger", (await glue.send(new ListTriggersCommand({}))).TriggerNames);
  add("glue workflow", (await glue.send(new ListWorkflowsCommand({}))).Workflows);
  add(
    "glue security configuration",
    (await glue.send(new GetSecurityConfigurationsCommand({}))).SecurityConfigurations?.map((c) => c.Name),
  );
  const workgroups = (await aws(AthenaClient).send(new ListWorkGroupsCommand({}))).WorkGroups ?? [];
  add(
    "workgroup",
    workgroups.map((w) => w.Name).filter((n) => n !== "primary"),
  );
  const iam = aws(IAMClient);
  add(
    "role",
    (await iam.send(new ListRolesCommand({}))).Roles?.map((r) => r.RoleName),
  );
  add(
    "policy",
    (await iam.send(new ListPoliciesCommand({ Scope: "Local" }))).Policies?.map((p) => p.PolicyName),
  );
  add(
    "topic",
    (await aws(SNSClient).send(new ListTopicsCommand({}))).Topics?.map((t) => t.TopicArn),
  );
  const kms = aws(KMSClient);
  // AWS managed keys (alias/aws/<service>) appear on first use of a service's default encryption; no stack owns them.
  const awsManaged = new Set(
    ((await kms.send(new ListAliasesCommand({}))).Aliases ?? [])
      .filter((a) => a.AliasName?.startsWith("alias/aws/"))
      .map((a) => a.TargetKeyId),
  );
  for (const { KeyId } of (await kms.send(new ListKeysCommand({}))).Keys ?? []) {
    if (awsManaged.has(KeyId)) continue;
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId }));
    // KMS never deletes a key at once: a destroyed key is pending deletion for its waiting period.
    if (KeyMetadata?.KeyState !== "PendingDeletion") add("key", [`${KeyId} (${KeyMetadata?.KeyState})`]);
  }
  add(
    "log group",
    (await aws(CloudWatchLogsClient).send(new DescribeLogGroupsCommand({}))).logGroups?.map(
      (g) => g.logGroupName,
    ),
  );
  return left;
}

it("destroys both stacks and leaves no lake resource behind in the local AWS", async () => {
  const before = await remainingResources();
  // The inventory sees the lake: otherwise an empty answer below would prove nothing.
  for (const kind of [
    "bucket",
    "table",
    "glue database",
    "glue job",
    "glue crawler",
    "glue trigger",
    "glue workflow",
    "glue security configuration",
    "workgroup",
    "role",
    "key",
    "topic",
    "log group",
  ]) {
    expect(before.some((r) => r.startsWith(`${kind} `))).toBe(true);
  }
  await destroyStacks(lake.steps, paths, lake.env, lake.moto.endpoint);
  expect(await remainingResources()).toEqual([]);
  // Dropped from the state instead of destroyed, each named in the log, and nothing else: the named queries
  // (moto has no DeleteNamedQuery) and the key policies (their key's scheduled deletion, checked above, takes
  // them).
  const dropped = (dir: string) => {
    const resources = JSON.parse(readFileSync(join(dir, "cdk.tf.json"), "utf8")).resource;
    return ["aws_athena_named_query", "aws_kms_key_policy"]
      .flatMap((type) => Object.keys(resources[type] ?? {}).map((name) => `${type}.${name}`))
      .sort();
  };
  const removed = (log: string) =>
    [...readFileSync(join(paths.logDir, log), "utf8").matchAll(/^Removed (\S+)$/gm)].map((m) => m[1]).sort();
  const lakeDropped = dropped(paths.lakeDir);
  expect(lakeDropped.some((a) => a.startsWith("aws_athena_named_query."))).toBe(true);
  expect(lakeDropped.some((a) => a.startsWith("aws_kms_key_policy."))).toBe(true);
  expect(removed("destroy-lake.log")).toEqual(lakeDropped);
  expect(dropped(paths.bootstrapDir).length).toBeGreaterThan(0);
  expect(removed("destroy-bootstrap.log")).toEqual(dropped(paths.bootstrapDir));
});
