// The refresh state machine executed for real, locally: aws-local-stepfunctions interprets the very definition
// the cdktf module deploys; its Lambda tasks run the real handlers (tools/ingest, tools/smoke inside), the Glue,
// SNS and CodeBuild integrations go to moto's server (the project's tools/local-aws), and the landing validator is
// fed by moto's own S3 → SQS notification with the dead-letter queue's redrive. Glue runs no script on moto: a job
// run ends SUCCEEDED, or with a recorded FAILED state for the failure test (docs/orchestration.md says so).
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
import { csvFor, FakeCms, headerOf } from "../ingest/fixtures";

jest.setTimeout(60_000);

const region = localAwsEnv.AWS_REGION;
const general = "/PGYR2023_P01302025_01212025/OP_DTL_GNRL_PGYR2023_P01302025_01212025.csv";
const ownership = "/PGYR2023_P01302025_01212025/OP_DTL_OWNRSHP_PGYR2023_P01302025_01212025.csv";

let moto: MotoServer;
let cms: FakeCms;
let lake: LocalRefreshTarget;
const timings: Record<string, LocalRunResult> = {};
const published = () => lake.published();

/** Keys under a prefix: raw/ in the raw bucket, landing/, incoming/ and rejected/ in the landing (cleaned) bucket. */
async function keys(prefix: string): Promise<string[]> {
  const bucket = prefix.startsWith("raw/") ? names.raw : names.cleaned;
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
  lambdaMaxBytes: "20000",
});

const run = (name: string, extra: Partial<Parameters<typeof runRefreshLocally>[0]> = {}) =>
  runRefreshLocally({
    definition: lake.definition(),
    input: { programYears: [2023] },
    endpoint: moto.endpoint,
    region,
    settings: settings(),
    onStep: process.env.DEBUG_REFRESH
      ? (s) => process.stderr.write(`${name}: ${s.state} ${s.ms} ms\n`)
      : undefined,
    ...extra,
  }).then((result) => {
    timings[name] = result;
    return result;
  });

beforeAll(async () => {
  Object.assign(process.env, localAwsEnv);
  [moto, cms] = await Promise.all([startMotoServer(), new FakeCms().start()]);
  // The landing validator's Lambda environment: moto as AWS.
  process.env.LAKE_LOCAL_AWS_ENDPOINT = moto.endpoint;
  lake = await createLocalRefreshTarget(moto.endpoint, region);
  const dist = (path: string) => ({ downloadURL: `${cms.url}${path}` });
  cms.routes.set("/api/1/metastore/schemas/dataset/items", {
    contentType: "application/json",
    body: Buffer.from(
      JSON.stringify([
        { identifier: "g23", title: "2023 General Payment Data", distribution: [dist(general)] },
        { identifier: "o23", title: "2023 Ownership Payment Data", distribution: [dist(ownership)] },
      ]),
    ),
  });
  cms.routes.set(general, { body: csvFor("general.modern-91", 120) });
  cms.routes.set(ownership, { body: csvFor("ownership.modern-30", 40) });
});

afterAll(async () => {
  for (const [name, r] of Object.entries(timings)) {
    process.stderr.write(
      `local refresh "${name}": ${r.status} in ${r.ms} ms${r.status === "FAILED" ? ` (${r.error}: ${r.cause})` : ""}\n${r.steps.map((s) => `  ${s.state.padEnd(26)} ${s.ms} ms`).join("\n")}\n`,
    );
  }
  lake?.close();
  await Promise.all([moto?.stop(), cms?.stop()]);
});

describe("the refresh state machine, run locally against moto", () => {
  it("happy path: discovers both files, ingests them (Lambda and the CodeBuild bundle), runs Glue and smoke, publishes the summary and the quarantine ratio", async () => {
    // The clean job's report as the Glue job writes it (glue-scripts/README.md): 6 of 160 rows quarantined.
    await lake.s3.send(
      new PutObjectCommand({
        Bucket: names.cleaned,
        Key: "reports/clean/latest.json",
        Body: JSON.stringify({
          status: "passed",
          failures: [],
          files: [
            {
              source_object: "g",
              dataset: "general",
              program_year: 2023,
              raw_records: 120,
              cleaned: 116,
              quarantined: 4,
            },
            {
              source_object: "o",
              dataset: "ownership",
              program_year: 2023,
              raw_records: 40,
              cleaned: 38,
              quarantined: 2,
            },
          ],
        }),
      }),
    );
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
    const [summary] = await published();
    expect(summary.Subject).toBe("Open Payments Lake refresh: succeeded");
    const body = JSON.parse(summary.Message);
    expect(body.smoke.summary).toMatchObject({ passed: 1, failed: 0 });
    expect(Object.keys(body.glue)).toEqual([STEP.clean, STEP.curate]);
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
    expect(stats.Datapoints?.map((d) => d.Maximum)).toEqual([6 / 160]);
  });

  it("a second run finds nothing new (same URLs, ETags and sizes) and says so", async () => {
    const result = await run("nothing new");
    expect(result).toMatchObject({ status: "SUCCEEDED" });
    expect(result.steps.map((s) => s.state)).not.toContain(STEP.ingestEach);
    const [summary] = await published();
    expect(summary.Subject).toBe("Open Payments Lake refresh: nothing new");
    expect(JSON.parse(summary.Message).unchanged).toHaveLength(2);
  });

  it("a failed Glue job fails the execution at its step and publishes the failure, naming the step and the run's error", async () => {
    cms.routes.set(ownership, { body: csvFor("ownership.modern-30", 41) });
    const result = await run("failed clean job", {
      recordedJobRuns: {
        [names.jobs.clean]: {
          JobRunState: "FAILED",
          ErrorMessage: "An error occurred while calling o93.parquet",
        },
      },
    });
    expect(result).toMatchObject({ status: "FAILED", error: `${STEP.clean}Failed` });
    expect(result.steps.map((s) => s.state)).not.toContain(STEP.curate);
    const [notice] = await published();
    expect(notice.Subject).toBe(`Open Payments Lake refresh FAILED at ${STEP.clean}`);
    expect(notice.Message).toMatch(
      /^Refresh step CleanJob failed \(States\.TaskFailed\)\. Execution: arn:aws:states:/,
    );
    expect(notice.Message).toContain('"JobRunState":"FAILED"');
    expect(notice.Message).toContain("An error occurred while calling o93.parquet");
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
        Key: "landing/OP_DTL_OWNRSHP_PGYR2021_P01302025_01212025.csv",
        Body: csvFor("ownership.modern-30", 5),
      }),
    );
    await drain(lake.sqs, lake.landingQueue, validateLanding);
    expect(await keys("landing/")).toEqual([]);
    expect(await keys("incoming/")).toEqual(["incoming/OP_DTL_OWNRSHP_PGYR2021_P01302025_01212025.csv"]);
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

  it("the next refresh ingests the accepted hand-dropped file from incoming/", async () => {
    const result = await run("incoming file", { input: { sources: [] } });
    expect(result).toMatchObject({ status: "SUCCEEDED" });
    expect(
      (await keys("raw/ownership/program_year=2021/")).filter((k) => k.endsWith("manifest.json")),
    ).toHaveLength(1);
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
});
