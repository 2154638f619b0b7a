// The refresh state machine executed for real, locally: aws-local-stepfunctions interprets the very definition
// the cdktf module deploys; its Lambda tasks run the real handlers (tools/ingest, tools/smoke inside), the Glue,
// SNS and CodeBuild integrations go to moto's server (the project's tools/local-aws), the Glue jobs' scripts run
// on the local lake's Spark driver over s3a against moto's S3 (one driver for every test), the smoke checks run on
// the local Athena engine, and the landing validator is fed by moto's own S3 → SQS notification with the
// dead-letter queue's redrive. The CMS files are the project's generated samples; what the curated tables must
// hold is computed from them independently (__tests__/helpers/curated-oracle.ts).
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { CloudWatchClient, GetMetricStatisticsCommand } from "@aws-sdk/client-cloudwatch";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { GetQueueAttributesCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { STEP } from "../../modules/orchestration/definition";
import { QUARANTINE_METRIC } from "../../modules/orchestration/metrics";
import { localAwsEnv, type MotoServer, startMotoServer } from "../../tools/local-aws/moto-server";
import { handler as validateLanding } from "../../tools/orchestration/handlers/landing-validator";
import {
  createLocalRefreshTarget,
  type LocalRefreshTarget,
  LOCAL_REFRESH_NAMES as names,
} from "../../tools/orchestration/local-fixture";
import { drain } from "../../tools/orchestration/local-queue";
import { type LocalRunResult, runRefreshLocally } from "../../tools/orchestration/local-run";
import { type LocalSpark, startLocalSpark } from "../../tools/orchestration/local-spark";
import { JOB_RUNS_CHECK_ID, RECONCILE_CHECK_ID } from "../../tools/smoke/job-reports";
import { WORKGROUP_CHECK_ID } from "../../tools/smoke/workgroup-check";
import { datasetsFile, expectedCurated } from "../helpers/curated-oracle";
import { csvFor, FakeCms, headerOf } from "../ingest/fixtures";

// A refresh that runs both Glue jobs on the shared local Spark takes tens of seconds on 2 busy cores.
jest.setTimeout(300_000);

const repoRoot = join(__dirname, "..", "..");
const python = join(repoRoot, ".venv", "bin", "python");
// Inside the checkout, removed by the next run: a failed run's Spark log (glue.log) stays for reading.
const workDir = join(repoRoot, ".build", "orchestration-test");

const region = localAwsEnv.AWS_REGION;

/**
 * CMS files from the project's generator (glue-scripts/sample_data.py), into workDir/<name>/. Its 4th record
 * is always dirty (an amount with 3 decimals: quarantined); with `dirtyEvery` 1000 that is the only one, under
 * the clean job's 1% threshold in 250 records.
 */
function samples(name: string, year: number, layouts: string, rows = 250, dirtyEvery = 1000): string[] {
  const out = join(workDir, name);
  execFileSync(python, [
    join(repoRoot, "glue-scripts", "sample_data.py"),
    ...["--out", out, "--years", String(year), "--layouts", layouts],
    ...["--rows", String(rows), "--dirty-every", String(dirtyEvery)],
  ]);
  return readdirSync(out)
    .sort()
    .map((f) => join(out, f));
}

const path = (file: string) => `/${basename(file)}`;

let moto: MotoServer;
let cms: FakeCms;
let lake: LocalRefreshTarget;
let spark: LocalSpark;
let py2023: string[];
let general: string;
let ownership: string;
const timings: Record<string, LocalRunResult> = {};
const published = () => lake.published();

/** Keys under a prefix: raw/ in the raw bucket, curated/ in the curated one, the rest in the cleaned bucket. */
async function keys(prefix: string): Promise<string[]> {
  const bucket = prefix.startsWith("raw/")
    ? names.raw
    : prefix.startsWith("curated/")
      ? names.curated
      : names.cleaned;
  const { Contents = [] } = await lake.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return Contents.map((o) => String(o.Key)).sort();
}

async function messagesIn(url: string): Promise<number> {
  const { Attributes } = await lake.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible)
  );
}

const settings = () => ({
  ...lake.settings,
  cmsApi: `${cms.url}/api/1`,
  // The General file goes the large-file way (the CodeBuild bundle), the Ownership file through Lambda.
  lambdaMaxBytes: String(statSync(ownership).size),
});

/** An Athena query on the curated tables, answered by the local Athena engine over moto's curated bucket. */
function query(sql: string): Record<string, unknown>[] {
  const out = execFileSync(
    python,
    [
      join(repoRoot, "tools", "local-athena", "local_athena.py"),
      ...["--warehouse", `s3://${names.curated}/curated/`, "--s3-endpoint", moto.endpoint],
      ...["--database", names.database, "--sql", sql],
    ],
    { env: { ...process.env, ...localAwsEnv }, encoding: "utf8" },
  );
  const { columns, rows } = JSON.parse(out) as { columns: { name: string }[]; rows: unknown[][] };
  return rows.map((r) => Object.fromEntries(columns.map((c, i) => [c.name, r[i]])));
}

/** The curated table of `dataset` for one program year: rows and the amount's total in cents. */
function curated(dataset: string, year: number): { rows: number; cents: bigint } {
  const { curatedTable, amountColumn } = datasetsFile.datasets[dataset];
  const [answer] = query(
    `SELECT count(*) AS n, CAST(sum(${amountColumn}) * 100 AS bigint) AS c FROM ${curatedTable} WHERE program_year = ${year}`,
  );
  return { rows: Number(answer.n), cents: BigInt(String(answer.c ?? 0)) };
}

const run = (name: string, extra: Partial<Parameters<typeof runRefreshLocally>[0]> = {}) =>
  runRefreshLocally({
    definition: lake.definition(),
    input: { programYears: [2023] },
    endpoint: moto.endpoint,
    region,
    settings: settings(),
    spark,
    onStep: process.env.DEBUG_REFRESH
      ? (s) => process.stderr.write(`${name}: ${s.state} ${s.ms} ms\n`)
      : undefined,
    ...extra,
  }).then((result) => {
    timings[name] = result;
    return result;
  });

beforeAll(async () => {
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  py2023 = samples("py2023", 2023, "general.modern-91,ownership.modern-30");
  [general, ownership] = py2023;
  Object.assign(process.env, localAwsEnv);
  [moto, cms] = await Promise.all([startMotoServer(), new FakeCms().start()]);
  // The landing validator's Lambda environment: moto as AWS.
  process.env.LAKE_LOCAL_AWS_ENDPOINT = moto.endpoint;
  lake = await createLocalRefreshTarget(moto.endpoint, region);
  const sparkStarted = Date.now();
  spark = await startLocalSpark({ endpoint: moto.endpoint, dataKeyArn: lake.dataKeyArn, workDir });
  process.stderr.write(`local Spark driver up in ${Date.now() - sparkStarted} ms (log: ${spark.log})\n`);
  const dist = (file: string) => ({ downloadURL: `${cms.url}${path(file)}` });
  cms.routes.set("/api/1/metastore/schemas/dataset/items", {
    contentType: "application/json",
    body: Buffer.from(
      JSON.stringify([
        { identifier: "g23", title: "2023 General Payment Data", distribution: [dist(general)] },
        { identifier: "o23", title: "2023 Ownership Payment Data", distribution: [dist(ownership)] },
      ]),
    ),
  });
  for (const file of py2023) cms.routes.set(path(file), { body: readFileSync(file) });
}, 300_000);

afterAll(async () => {
  for (const [name, r] of Object.entries(timings)) {
    process.stderr.write(
      `local refresh "${name}": ${r.status} in ${r.ms} ms${r.status === "FAILED" ? ` (${r.error}: ${r.cause})` : ""}\n${r.steps.map((s) => `  ${s.state.padEnd(26)} ${s.ms} ms`).join("\n")}\n`,
    );
  }
  await spark?.close();
  lake?.close();
  await Promise.all([moto?.stop(), cms?.stop()]);
});

describe("the refresh state machine, run locally against moto and local Spark", () => {
  it("happy path: discovers both files, ingests them (Lambda and the CodeBuild bundle), runs both Glue jobs on Spark, smoke, publishes the summary and the quarantine ratio", async () => {
    const result = await run("happy path");
    expect(result).toMatchObject({ status: "SUCCEEDED" });
    const sealed = (await keys("raw/")).filter((k) => k.endsWith("manifest.json"));
    expect(sealed).toEqual([
      expect.stringMatching(
        /^raw\/general\/program_year=2023\/.*OP_DTL_GNRL_PGYR2023_P01302025_01212025\/.*manifest\.json$/,
      ),
      expect.stringMatching(/^raw\/ownership\/program_year=2023\/.*OP_DTL_OWNRSHP_.*manifest\.json$/),
    ]);
    const ran = result.steps.map((s) => s.state);
    expect(ran).toEqual(
      expect.arrayContaining([STEP.ingestLambda, STEP.ingestLarge, STEP.clean, STEP.curate, STEP.smoke]),
    );
    expect(ran).toEqual(expect.arrayContaining([`${STEP.crawlRaw}Poll`, `${STEP.crawlCurated}Poll`]));

    // The jobs really ran: cleaned and curated Parquet in moto's S3, and the curated tables hold exactly what the
    // ingested files hold (valid records, one per record id, CHANGED corrections winning), to the cent.
    for (const dataset of ["general", "ownership"]) {
      expect((await keys(`cleaned/${dataset}/program_year=2023/`)).some((k) => k.endsWith(".parquet"))).toBe(
        true,
      );
      expect((await keys(`curated/${dataset}/program_year=2023/`)).some((k) => k.endsWith(".parquet"))).toBe(
        true,
      );
      const expected = expectedCurated(py2023, dataset);
      expect(expected.rows.length).toBeGreaterThan(200);
      expect(curated(dataset, 2023)).toEqual({ rows: expected.rows.length, cents: expected.cents });
    }

    const [summary] = await published();
    expect(summary.Subject).toBe("Open Payments Lake refresh: succeeded");
    const body = JSON.parse(summary.Message);
    expect(Object.keys(body.glue)).toEqual([STEP.clean, STEP.curate]);
    for (const step of [STEP.clean, STEP.curate]) {
      expect(body.glue[step]).toMatchObject({ state: "SUCCEEDED", jobRunId: expect.stringMatching(/^jr_/) });
    }
    // The clean job ran with the job's DefaultArguments (as the ETL module sets them from jobs.json): its report.
    const report = await lake.s3.send(
      new GetObjectCommand({ Bucket: names.cleaned, Key: "reports/clean/latest.json" }),
    );
    expect(JSON.parse((await report.Body?.transformToString()) ?? "{}")).toMatchObject({
      status: "passed",
      raw_path: `s3://${names.raw}/raw/`,
      cleaned_path: `s3://${names.cleaned}/cleaned/`,
      thresholds: { max_quarantine_ratio: 0.01 },
    });
    // Every smoke check ran on the local Athena engine over the curated Parquet, and passed.
    expect(body.smoke.summary).toMatchObject({ failed: 0, errors: 0, skipped: 0 });
    expect(body.smoke.summary.passed).toBe(body.smoke.summary.total);
    expect(body.smoke.summary.total).toBeGreaterThan(5);
    expect(body.smoke.checks.map((c: { id: string }) => c.id)).toEqual(
      expect.arrayContaining([WORKGROUP_CHECK_ID, JOB_RUNS_CHECK_ID, RECONCILE_CHECK_ID]),
    );

    // The quarantine ratio the smoke step published, from the clean job's report: the dirty records over all.
    const both = ["general", "ownership"].map((d) => expectedCurated(py2023, d));
    const quarantined = both.reduce((n, e) => n + e.quarantined, 0);
    expect(quarantined).toBeGreaterThan(0);
    const cloudwatch = new CloudWatchClient({ region, endpoint: moto.endpoint });
    const stats = await cloudwatch.send(
      new GetMetricStatisticsCommand({
        Namespace: QUARANTINE_METRIC.namespace,
        MetricName: QUARANTINE_METRIC.name,
        Dimensions: [{ Name: QUARANTINE_METRIC.dimension, Value: "opl" }],
        StartTime: new Date(Date.now() - 3_600_000),
        EndTime: new Date(Date.now() + 60_000),
        Period: 3600,
        Statistics: ["Maximum"],
      }),
    );
    cloudwatch.destroy();
    expect(stats.Datapoints?.map((d) => d.Maximum)).toEqual([
      quarantined / both.reduce((n, e) => n + e.raw, 0),
    ]);
  });

  it("a second run finds nothing new (same URLs, ETags and sizes) and says so", async () => {
    const result = await run("nothing new");
    expect(result).toMatchObject({ status: "SUCCEEDED" });
    expect(result.steps.map((s) => s.state)).not.toContain(STEP.ingestEach);
    const [summary] = await published();
    expect(summary.Subject).toBe("Open Payments Lake refresh: nothing new");
    expect(JSON.parse(summary.Message).unchanged).toHaveLength(2);
  });

  it("a failing ingest names the file and the step in the failure notice; nothing half-written is sealed", async () => {
    const broken = "/PGYR2022_P01302025_01212025/OP_DTL_OWNRSHP_PGYR2022_P01302025_01212025.csv";
    cms.routes.set(broken, { body: Buffer.from(`${headerOf("general.modern-91")}\n1,2,3\n`) });
    const result = await run("failed ingest", { input: { sources: [`${cms.url}${broken}`] } });
    expect(result).toMatchObject({ status: "FAILED", error: `${STEP.ingestEach}Failed` });
    const [notice] = await published();
    expect(notice.Subject).toBe(`Open Payments Lake refresh FAILED at ${STEP.ingestEach}`);
    expect(notice.Message).toContain(`${STEP.ingestLambda} failed for ${cms.url}${broken}`);
    expect(
      (await keys("raw/ownership/program_year=2022/")).filter((k) => k.endsWith("manifest.json")),
    ).toEqual([]);
  });

  it("a bad file dropped into landing/ lands in rejected/ with its reason; a good one moves to incoming/; the DLQ stays empty", async () => {
    const [good] = samples("py2021", 2021, "ownership.modern-30");
    await lake.s3.send(
      new PutObjectCommand({
        Bucket: names.cleaned,
        Key: "landing/OP_DTL_RSRCH_PGYR2023_P01302025_01212025.csv",
        Body: csvFor("general.modern-91", 3),
      }),
    );
    await lake.s3.send(
      new PutObjectCommand({
        Bucket: names.cleaned,
        Key: `landing/${basename(good)}`,
        Body: readFileSync(good),
      }),
    );
    await drain(lake.sqs, lake.landingQueue, validateLanding);
    expect(await keys("landing/")).toEqual([]);
    expect(await keys("incoming/")).toEqual([`incoming/${basename(good)}`]);
    expect(await keys("rejected/")).toEqual([
      "rejected/OP_DTL_RSRCH_PGYR2023_P01302025_01212025.csv",
      "rejected/OP_DTL_RSRCH_PGYR2023_P01302025_01212025.csv.reason.json",
    ]);
    const reason = await lake.s3.send(
      new GetObjectCommand({
        Bucket: names.cleaned,
        Key: "rejected/OP_DTL_RSRCH_PGYR2023_P01302025_01212025.csv.reason.json",
      }),
    );
    expect(JSON.parse((await reason.Body?.transformToString()) ?? "{}").reason).toMatch(
      /layout general\.modern-91 \(general\) but the name says research/,
    );
    expect(await messagesIn(lake.deadLetterQueue)).toBe(0);
  });

  it("the next refresh ingests the accepted hand-dropped file from incoming/ and curates it", async () => {
    const result = await run("incoming file", { input: { sources: [] } });
    expect(result).toMatchObject({ status: "SUCCEEDED" });
    expect(
      (await keys("raw/ownership/program_year=2021/")).filter((k) => k.endsWith("manifest.json")),
    ).toHaveLength(1);
    const expected = expectedCurated(
      readdirSync(join(workDir, "py2021")).map((f) => join(workDir, "py2021", f)),
      "ownership",
    );
    expect(curated("ownership", 2021)).toEqual({ rows: expected.rows.length, cents: expected.cents });
    await published();
  });

  it("a message the validator cannot handle is retried and lands in the DLQ after maxReceiveCount receives", async () => {
    await lake.sqs.send(
      new SendMessageCommand({
        QueueUrl: lake.landingQueue,
        MessageBody: JSON.stringify({
          Records: [
            {
              eventName: "ObjectCreated:Put",
              s3: {
                bucket: { name: "no-such-bucket" },
                object: { key: "landing/OP_DTL_GNRL_PGYR2023_P01302025_01212025.csv" },
              },
            },
          ],
        }),
      }),
    );
    await drain(lake.sqs, lake.landingQueue, validateLanding);
    expect(await messagesIn(lake.landingQueue)).toBe(0);
    expect(await messagesIn(lake.deadLetterQueue)).toBe(1);
  });

  // Last: the refused file stays in raw/, so every later clean run would refuse it again (as on AWS, until CMS
  // republishes it).
  it("a clean job that refuses its input (quarantine over the threshold) fails the execution at its step: the notice names the step and the run's error, the cleaned zone is left unchanged", async () => {
    // Every 4th record dirty, 3 of 5 dirty kinds quarantined: about 15% of the file.
    const [dirty] = samples("dirty", 2022, "ownership.modern-30", 60, 4);
    cms.routes.set(path(dirty), { body: readFileSync(dirty) });
    const cleanedBefore = await keys("cleaned/");
    const result = await run("failed clean job", { input: { sources: [`${cms.url}${path(dirty)}`] } });
    expect(result).toMatchObject({ status: "FAILED", error: `${STEP.clean}Failed` });
    expect(result.steps.map((s) => s.state)).not.toContain(STEP.curate);
    const [notice] = await published();
    expect(notice.Subject).toBe(`Open Payments Lake refresh FAILED at ${STEP.clean}`);
    expect(notice.Message).toMatch(
      /^Refresh step CleanJob failed \(States\.TaskFailed\)\. Execution: arn:aws:states:/,
    );
    expect(notice.Message).toContain('"JobRunState":"FAILED"');
    expect(notice.Message).toContain("ThresholdExceeded: clean job failed; cleaned zone left unchanged");
    expect(await keys("cleaned/")).toEqual(cleanedBefore);
    expect(await keys("cleaned/ownership/program_year=2022/")).toEqual([]);
  });
});
