import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AthenaClient, CreateWorkGroupCommand } from "@aws-sdk/client-athena";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  CreateCrawlerCommand,
  CreateDatabaseCommand,
  CreateJobCommand,
  GlueClient,
} from "@aws-sdk/client-glue";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import {
  CreateBucketCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { GLUE_ARTIFACTS_PREFIX } from "../../modules/etl";
import { refreshDefinition } from "../../modules/orchestration/definition";
import { createIngestionTarget } from "../ingest/bench/local-lake";
import { glueJobs } from "../local-lake/glue-driver";
import { ENGINE_V3 } from "../smoke/workgroup-check";
import type { HandlerSetting } from "./handlers/environment";

/**
 * The AWS side of a refresh, created directly on a moto server for the local run (its integration test and the
 * demo step): the lake's buckets, ingestion table, Glue database, crawlers and jobs, the Athena workgroup, the
 * alerts topic with a queue that reads it, and the landing queue with its dead-letter queue, fed by the landing
 * bucket's ObjectCreated events. The cdktf module creates the real ones (modules/orchestration).
 */
export const LOCAL_REFRESH_NAMES = {
  raw: "opl-local-raw",
  cleaned: "opl-local-cleaned",
  curated: "opl-local-curated",
  table: "opl-local-ingestion",
  database: "opl_local_curated",
  workgroup: "opl-local-analysts",
  jobs: { clean: "opl-local-clean", curate: "opl-local-curate" },
  crawlers: { raw: "opl-local-raw-crawler", curated: "opl-local-curated-crawler" },
};
const names = LOCAL_REFRESH_NAMES;
const role = "arn:aws:iam::123456789012:role/opl-local-glue";

export interface LocalRefreshTarget {
  /** The data key the Glue jobs write with (the local Spark's SSE-KMS key). */
  readonly dataKeyArn: string;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly topicArn: string;
  /** A queue subscribed to the alerts topic: what the refresh published. */
  readonly alertsQueue: string;
  readonly landingQueue: string;
  readonly deadLetterQueue: string;
  /** The handlers' settings for this lake (landing bucket: cleaned, as in the module). */
  readonly settings: Partial<Record<HandlerSetting, string>>;
  definition(mapConcurrency?: number): ReturnType<typeof refreshDefinition>;
  /** The notices published since the last call (each is taken off the alerts queue as it is read). */
  published(): Promise<{ Subject: string; Message: string }[]>;
  close(): void;
}

export async function createLocalRefreshTarget(
  endpoint: string,
  region: string,
): Promise<LocalRefreshTarget> {
  const client = { region, endpoint };
  const s3 = new S3Client({ ...client, forcePathStyle: true });
  const sqs = new SQSClient(client);
  const queueArn = async (url: string) => {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
    );
    return String(Attributes?.QueueArn);
  };
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
  // The lake's data key: the Glue jobs write with it (SSE-KMS), as the Glue security configuration makes them.
  const kms = new KMSClient(client);
  const dataKeyArn = String(
    (await kms.send(new CreateKeyCommand({ Description: "opl-local data" }))).KeyMetadata?.Arn,
  );
  kms.destroy();
  // The jobs of glue-scripts/jobs.json as the ETL module defines them: the script uploaded to the artifacts
  // prefix, the arguments (placeholders filled with these buckets) as the job's DefaultArguments.
  const jobs = glueJobs({ rawBucket: names.raw, cleanedBucket: names.cleaned, curatedBucket: names.curated });
  for (const [id, name] of Object.entries(names.jobs)) {
    const job = jobs.find((j) => j.id === id);
    if (!job) throw new Error(`glue-scripts/jobs.json has no job "${id}" (LOCAL_REFRESH_NAMES.jobs)`);
    const key = `${GLUE_ARTIFACTS_PREFIX}/scripts/${job.script}`;
    await s3.send(
      new PutObjectCommand({
        Bucket: names.cleaned,
        Key: key,
        Body: readFileSync(join(__dirname, "..", "..", "glue-scripts", job.script)),
      }),
    );
    await glue.send(
      new CreateJobCommand({
        Name: name,
        Role: role,
        Command: { Name: "glueetl", ScriptLocation: `s3://${names.cleaned}/${key}`, PythonVersion: "3" },
        GlueVersion: "5.0",
        DefaultArguments: job.arguments,
        ExecutionProperty: { MaxConcurrentRuns: 1 },
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
  await fetch(`${endpoint}/moto-api/state-manager/set-transition`, {
    method: "POST",
    body: JSON.stringify({ model_name: "glue::crawl", transition: { progression: "immediate" } }),
  });
  const topicArn = String((await sns.send(new CreateTopicCommand({ Name: "opl-local-alerts" }))).TopicArn);
  const alertsQueue = String(
    (await sqs.send(new CreateQueueCommand({ QueueName: "alerts-reader" }))).QueueUrl,
  );
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: "sqs",
      Endpoint: await queueArn(alertsQueue),
      Attributes: { RawMessageDelivery: "false" },
    }),
  );
  const dlq = String(
    (await sqs.send(new CreateQueueCommand({ QueueName: "opl-local-landing-dlq" }))).QueueUrl,
  );
  const landingQueue = String(
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
  return {
    dataKeyArn,
    s3,
    sqs,
    topicArn,
    alertsQueue,
    landingQueue,
    deadLetterQueue: dlq,
    settings: {
      rawBucket: names.raw,
      landingBucket: names.cleaned,
      ingestionTable: names.table,
      workgroup: names.workgroup,
      curatedDatabase: names.database,
      cleanedBucket: names.cleaned,
      curatedBucket: names.curated,
      lakeName: "opl",
      // moto runs no Athena SQL: the checks query the curated Parquet with the local Athena engine.
      smokeLocalWarehouse: `s3://${names.curated}/curated/`,
    },
    definition: (mapConcurrency = 2) =>
      refreshDefinition({
        functions: { discover: "opl-local-discover", ingest: "opl-local-ingest", smoke: "opl-local-smoke" },
        largeIngestProject: "opl-local-ingest-large",
        jobs: names.jobs,
        crawlers: names.crawlers,
        topicArn,
        mapConcurrency,
        crawlerPollSeconds: 30,
        timeoutSeconds: 3600,
      }),
    async published() {
      const out: { Subject: string; Message: string }[] = [];
      for (;;) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: alertsQueue,
            MaxNumberOfMessages: 10,
            VisibilityTimeout: 60,
          }),
        );
        if (!Messages.length) return out;
        out.push(...Messages.map((m) => JSON.parse(String(m.Body)) as { Subject: string; Message: string }));
        // Deleted, not left to reappear when the visibility timeout ends: a later call would read them again
        // (before anything newer) once more than a minute has passed.
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: alertsQueue,
            Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
      }
    },
    close() {
      s3.destroy();
      sqs.destroy();
    },
  };
}
