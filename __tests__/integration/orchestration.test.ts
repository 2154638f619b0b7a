// The refresh state machine executed for real, locally: aws-local-stepfunctions interprets the very definition
// the cdktf module deploys; its Lambda tasks run the real handlers (tools/ingest, tools/smoke inside), the Glue,
// SNS and CodeBuild integrations go to moto's server (the project's tools/local-aws), and the landing validator is
// fed by moto's own S3 → SQS notification with the dead-letter queue's redrive. Glue runs no script on moto: a job
// run ends SUCCEEDED, or with a recorded FAILED state for the failure test (docs/orchestration.md says so).
import { AthenaClient, CreateWorkGroupCommand } from "@aws-sdk/client-athena";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  CreateCrawlerCommand,
  CreateDatabaseCommand,
  CreateJobCommand,
  GlueClient,
} from "@aws-sdk/client-glue";
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { refreshDefinition, STEP } from "../../modules/orchestration/definition";
import { createIngestionTarget } from "../../tools/ingest/bench/local-lake";
import { localAwsEnv, type MotoServer, startMotoServer } from "../../tools/local-aws/moto-server";
import { handler as validateLanding } from "../../tools/orchestration/handlers/landing-validator";
import { drain } from "../../tools/orchestration/local-queue";
import { type LocalRunResult, runRefreshLocally } from "../../tools/orchestration/local-run";
import { ENGINE_V3, WORKGROUP_CHECK_ID } from "../../tools/smoke/workgroup-check";
import { csvFor, FakeCms, headerOf } from "../ingest/fixtures";

jest.setTimeout(60_000);

const region = localAwsEnv.AWS_REGION;
const names = {
  raw: "opl-local-raw",
  cleaned: "opl-local-cleaned",
  curated: "opl-local-curated",
  table: "opl-local-ingestion",
  database: "opl_local_curated",
  workgroup: "opl-local-analysts",
  jobs: { clean: "opl-local-clean", curate: "opl-local-curate" },
  crawlers: { raw: "opl-local-raw-crawler", curated: "opl-local-curated-crawler" },
};
const role = "arn:aws:iam::123456789012:role/opl-local-glue";
const general = "/PGYR2023_P01302025_01212025/OP_DTL_GNRL_PGYR2023_P01302025_01212025.csv";
const ownership = "/PGYR2023_P01302025_01212025/OP_DTL_OWNRSHP_PGYR2023_P01302025_01212025.csv";

let moto: MotoServer;
let cms: FakeCms;
let s3: S3Client;
let sqs: SQSClient;
let topicArn: string;
let alertsQueue: string;
let landingQueue: string;
let dlq: string;
const timings: Record<string, LocalRunResult> = {};

async function createLake(): Promise<void> {
  const client = { region, endpoint: moto.endpoint };
  s3 = new S3Client({ ...client, forcePathStyle: true });
  sqs = new SQSClient(client);
  const ddb = new DynamoDBClient(client);
  const glue = new GlueClient(client);
  const sns = new SNSClient(client);
  await createIngestionTarget(s3, ddb, names.raw, names.table);
  for (const b of [names.cleaned, names.curated]) await s3.send(new CreateBucketCommand({ Bucket: b }));
  await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: names.database } }));
  for (const [id, crawler] of Object.entries(names.crawlers)) {
    await glue.send(
      new CreateCrawlerCommand({
        Name: crawler,
        Role: role,
        DatabaseName: names.database,
        Targets: { S3Targets: [{ Path: `s3://${id === "raw" ? names.raw : names.curated}/${id}/` }] },
      }),
    );
  }
  for (const job of Object.values(names.jobs)) {
    await glue.send(
      new CreateJobCommand({
        Name: job,
        Role: role,
        Command: { Name: "glueetl", ScriptLocation: `s3://${names.cleaned}/${job}.py` },
      }),
    );
  }
  const athena = new AthenaClient(client);
  await athena.send(
    new CreateWorkGroupCommand({
      Name: names.workgroup,
      Configuration: {
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: 10_737_418_240,
        EngineVersion: { SelectedEngineVersion: ENGINE_V3 },
        ResultConfiguration: {
          OutputLocation: `s3://${names.cleaned}/athena/`,
          EncryptionConfiguration: {
            EncryptionOption: "SSE_KMS",
            KmsKey: "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000",
          },
        },
      },
    }),
  );
  athena.destroy();
  // moto leaves a crawl RUNNING until told how it progresses: done on the first read.
  await fetch(`${moto.endpoint}/moto-api/state-manager/set-transition`, {
    method: "POST",
    body: JSON.stringify({ model_name: "glue::crawl", transition: { progression: "immediate" } }),
  });
  topicArn = String((await sns.send(new CreateTopicCommand({ Name: "opl-local-alerts" }))).TopicArn);
  alertsQueue = String((await sqs.send(new CreateQueueCommand({ QueueName: "alerts-reader" }))).QueueUrl);
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: "sqs",
      Endpoint: await queueArn(alertsQueue),
      Attributes: { RawMessageDelivery: "false" },
    }),
  );
  dlq = String((await sqs.send(new CreateQueueCommand({ QueueName: "opl-local-landing-dlq" }))).QueueUrl);
  landingQueue = String(
    (
      await sqs.send(
        new CreateQueueCommand({
          QueueName: "opl-local-landing",
          Attributes: {
            VisibilityTimeout: "0",
            RedrivePolicy: JSON.stringify({ deadLetterTargetArn: await queueArn(dlq), maxReceiveCount: 3 }),
          },
        }),
      )
    ).QueueUrl,
  );
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: names.cleaned,
      NotificationConfiguration: {
        QueueConfigurations: [
          {
            QueueArn: await queueArn(landingQueue),
            Events: ["s3:ObjectCreated:*"],
            Filter: { Key: { FilterRules: [{ Name: "prefix", Value: "landing/" }] } },
          },
        ],
      },
    }),
  );
  ddb.destroy();
  glue.destroy();
  sns.destroy();
}

async function queueArn(url: string): Promise<string> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
  );
  return String(Attributes?.QueueArn);
}

/** Everything published to the alerts topic since the last call (SNS → SQS envelopes). */
async function published(): Promise<{ Subject: string; Message: string }[]> {
  const out: { Subject: string; Message: string }[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: alertsQueue, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }),
    );
    if (!Messages.length) return out;
    out.push(...Messages.map((m) => JSON.parse(String(m.Body)) as { Subject: string; Message: string }));
  }
}

/** Keys under a prefix: raw/ in the raw bucket, landing/, incoming/ and rejected/ in the landing (cleaned) bucket. */
async function keys(prefix: string): Promise<string[]> {
  const bucket = prefix.startsWith("raw/") ? names.raw : names.cleaned;
  const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return Contents.map((o) => String(o.Key)).sort();
}

async function messagesIn(url: string): Promise<number> {
  const { Attributes } = await sqs.send(
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

const definition = () =>
  refreshDefinition({
    functions: { discover: "opl-local-discover", ingest: "opl-local-ingest", smoke: "opl-local-smoke" },
    largeIngestProject: "opl-local-ingest-large",
    jobs: names.jobs,
    crawlers: names.crawlers,
    topicArn,
    mapConcurrency: 2,
    crawlerPollSeconds: 30,
    timeoutSeconds: 3600,
  });

const settings = () => ({
  rawBucket: names.raw,
  landingBucket: names.cleaned,
  ingestionTable: names.table,
  cmsApi: `${cms.url}/api/1`,
  // The General file goes the large-file way (the CodeBuild bundle), the Ownership file through Lambda.
  lambdaMaxBytes: "20000",
  workgroup: names.workgroup,
  curatedDatabase: names.database,
  cleanedBucket: names.cleaned,
  curatedBucket: names.curated,
  // moto runs no Athena SQL and Glue wrote no tables: only the check that reads the workgroup back can run.
  smokeOnly: WORKGROUP_CHECK_ID,
});

const run = (name: string, extra: Partial<Parameters<typeof runRefreshLocally>[0]> = {}) =>
  runRefreshLocally({
    definition: definition(),
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
  await createLake();
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
  s3?.destroy();
  sqs?.destroy();
  await Promise.all([moto?.stop(), cms?.stop()]);
});

describe("the refresh state machine, run locally against moto", () => {
  it("happy path: discovers both files, ingests them (Lambda and the CodeBuild bundle), runs Glue and smoke, publishes the summary", async () => {
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
    await s3.send(
      new PutObjectCommand({
        Bucket: names.cleaned,
        Key: "landing/OP_DTL_RSRCH_PGYR2023_P01302025_01212025.csv",
        Body: csvFor("general.modern-91", 3),
      }),
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: names.cleaned,
        Key: "landing/OP_DTL_OWNRSHP_PGYR2021_P01302025_01212025.csv",
        Body: csvFor("ownership.modern-30", 5),
      }),
    );
    await drain(sqs, landingQueue, validateLanding);
    expect(await keys("landing/")).toEqual([]);
    expect(await keys("incoming/")).toEqual(["incoming/OP_DTL_OWNRSHP_PGYR2021_P01302025_01212025.csv"]);
    expect(await keys("rejected/")).toEqual([
      "rejected/OP_DTL_RSRCH_PGYR2023_P01302025_01212025.csv",
      "rejected/OP_DTL_RSRCH_PGYR2023_P01302025_01212025.csv.reason.json",
    ]);
    const reason = await s3.send(
      new GetObjectCommand({
        Bucket: names.cleaned,
        Key: "rejected/OP_DTL_RSRCH_PGYR2023_P01302025_01212025.csv.reason.json",
      }),
    );
    expect(JSON.parse((await reason.Body?.transformToString()) ?? "{}").reason).toMatch(
      /layout general\.modern-91 \(general\) but the name says research/,
    );
    expect(await messagesIn(dlq)).toBe(0);
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
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: landingQueue,
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
    await drain(sqs, landingQueue, validateLanding);
    expect(await messagesIn(landingQueue)).toBe(0);
    expect(await messagesIn(dlq)).toBe(1);
  });
});
