// The refresh state machine in Amazon States Language, built in one place: the cdktf module deploys it and the
// local run (tools/orchestration/local-run.ts) executes the very same JSON. No cdktf imports here, so both can.

/** A JSON value as ASL holds it. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type AslState = { [key: string]: Json };
export interface AslDefinition {
  readonly Comment: string;
  readonly StartAt: string;
  readonly TimeoutSeconds: number;
  readonly States: Record<string, AslState>;
}

/** The Glue jobs the refresh runs; `warehouse` (the warehouse loader) only when the warehouse is on. */
export interface RefreshJobs {
  readonly clean: string;
  readonly curate: string;
  readonly warehouse?: string;
}

export interface RefreshDefinitionProps {
  /** Lambda function ARNs (or names) of the handlers in tools/orchestration/handlers. */
  readonly functions: { readonly discover: string; readonly ingest: string; readonly smoke: string };
  /** CodeBuild project running the same ingest CLI for files too large for Lambda's 15 minutes. */
  readonly largeIngestProject: string;
  readonly jobs: RefreshJobs;
  /** No curated crawler when curated is Iceberg: the curate job writes its tables to the catalog itself. */
  readonly crawlers: { readonly raw: string; readonly curated?: string };
  /** The encrypted alerts topic: run summaries and failures. */
  readonly topicArn: string;
  /** Files ingested at once (Map MaxConcurrency). */
  readonly mapConcurrency: number;
  /** Seconds between polls of a running crawler. */
  readonly crawlerPollSeconds: number;
  /** The whole execution is stopped after this many seconds. */
  readonly timeoutSeconds: number;
  /** The partition of the service integrations' ARNs (`aws`, `aws-us-gov`); default aws. */
  readonly partition?: string;
}

/** State names: the local run binds its handlers by these, the docs and alarms name them. */
export const STEP = {
  discover: "Discover",
  anythingNew: "AnythingNew",
  ingestEach: "IngestEach",
  route: "RouteBySize",
  ingestLambda: "IngestInLambda",
  ingestLarge: "IngestInCodeBuild",
  crawlRaw: "CrawlRaw",
  clean: "CleanJob",
  curate: "CurateJob",
  crawlCurated: "CrawlCurated",
  smoke: "Smoke",
  warehouse: "WarehouseLoad",
  publishSummary: "PublishSummary",
  nothingNew: "NothingNew",
  notifyFailure: "NotifyFailure",
  failed: "RefreshFailed",
  done: "RefreshDone",
} as const;

// Lambda's own transient faults, retried with backoff (AWS's recommended retrier for lambda:invoke).
const LAMBDA_TRANSIENT = [
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
];
const retryLambda: Json = [
  {
    ErrorEquals: LAMBDA_TRANSIENT,
    IntervalSeconds: 2,
    MaxAttempts: 3,
    BackoffRate: 2,
    JitterStrategy: "FULL",
  },
];

/** Routes an error to a state that records which step failed, then to the failure notice. */
function catchInto(step: string): Json {
  return [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: failedName(step) }];
}
const failedName = (step: string) => `${step}Failed`;

/** Pass state naming the failed step (its error and cause come from the Catch) before the SNS notice. */
function recordFailure(step: string): AslState {
  return {
    Type: "Pass",
    Parameters: {
      step,
      errorName: `${step}Failed`,
      "error.$": "$.error.Error",
      "cause.$": "$.error.Cause",
      "execution.$": "$$.Execution.Id",
    },
    ResultPath: "$.failure",
    Next: STEP.notifyFailure,
  };
}

/**
 * A crawler run as three states: start it (a run already under way is waited for by the retrier), poll its
 * state, and judge the last crawl once it is READY again.
 */
function crawl(
  partition: string,
  step: string,
  crawlerName: string,
  pollSeconds: number,
  next: string,
): Record<string, AslState> {
  const wait = `${step}Wait`;
  const poll = `${step}Poll`;
  const judge = `${step}Done`;
  return {
    [step]: {
      Type: "Task",
      Resource: `arn:${partition}:states:::aws-sdk:glue:startCrawler`,
      Parameters: { Name: crawlerName },
      ResultPath: null,
      Retry: [
        {
          ErrorEquals: ["Glue.CrawlerRunningException"],
          IntervalSeconds: 60,
          MaxAttempts: 30,
          BackoffRate: 1,
        },
      ],
      Catch: catchInto(step),
      Next: wait,
    },
    [wait]: { Type: "Wait", Seconds: pollSeconds, Next: poll },
    [poll]: {
      Type: "Task",
      Resource: `arn:${partition}:states:::aws-sdk:glue:getCrawler`,
      Parameters: { Name: crawlerName },
      ResultSelector: { "crawler.$": "$.Crawler" },
      ResultPath: "$.crawl",
      Retry: [{ ErrorEquals: ["Glue.OperationTimeoutException"], IntervalSeconds: 5, MaxAttempts: 3 }],
      Catch: catchInto(step),
      Next: judge,
    },
    [judge]: {
      Type: "Choice",
      Choices: [
        { Not: { Variable: "$.crawl.crawler.State", StringEquals: "READY" }, Next: wait },
        {
          And: [
            { Variable: "$.crawl.crawler.LastCrawl.Status", IsPresent: true },
            {
              Or: [
                { Variable: "$.crawl.crawler.LastCrawl.Status", StringEquals: "FAILED" },
                { Variable: "$.crawl.crawler.LastCrawl.Status", StringEquals: "CANCELLED" },
              ],
            },
          ],
          Next: `${step}Unsuccessful`,
        },
      ],
      Default: next,
    },
    [`${step}Unsuccessful`]: {
      Type: "Pass",
      Parameters: {
        Error: "Glue.CrawlFailed",
        "Cause.$":
          "States.Format('crawler {} ended {}', $.crawl.crawler.Name, $.crawl.crawler.LastCrawl.Status)",
      },
      ResultPath: "$.error",
      Next: failedName(step),
    },
    [failedName(step)]: recordFailure(step),
  };
}

/** A Glue job run, waited for (.sync): a failed, stopped or timed-out run fails the step. */
function glueJob(
  partition: string,
  step: string,
  jobName: string,
  next: string,
  args?: Record<string, string>,
): Record<string, AslState> {
  return {
    [step]: {
      Type: "Task",
      Resource: `arn:${partition}:states:::glue:startJobRun.sync`,
      Parameters: { JobName: jobName, ...(args ? { Arguments: args } : {}) },
      ResultSelector: {
        "jobRunId.$": "$.Id",
        "state.$": "$.JobRunState",
        "executionTime.$": "$.ExecutionTime",
      },
      ResultPath: `$.glue.${step}`,
      Retry: [
        {
          ErrorEquals: ["Glue.ConcurrentRunsExceededException", "Glue.ThrottlingException"],
          IntervalSeconds: 60,
          MaxAttempts: 5,
          BackoffRate: 2,
        },
      ],
      Catch: catchInto(step),
      Next: next,
    },
    [failedName(step)]: recordFailure(step),
  };
}

/** The per-file branch of the Map: small files in Lambda, large ones in CodeBuild, both running the ingest CLI. */
function ingestBranch(props: RefreshDefinitionProps): { StartAt: string; States: Record<string, AslState> } {
  const partition = props.partition ?? "aws";
  // The Pass before it writes the message: Fail's CausePath takes a reference path (intrinsics there are not
  // understood by every interpreter, the local one included).
  const failInBranch = (step: string): AslState => ({
    Type: "Fail",
    Error: "IngestFailed",
    CausePath: "$.message",
    Comment: `a failed ${step} fails the Map; the ingest invariants keep the file's folder unsealed`,
  });
  const describeFailure = (step: string): AslState => ({
    Type: "Pass",
    Parameters: {
      "file.$": "$.file",
      step,
      "error.$": "$.error",
      "message.$": `States.Format('${step} failed for {}: {}', $.file.url, $.error.Cause)`,
    },
    Next: `${step}Fail`,
  });
  return {
    StartAt: STEP.route,
    States: {
      [STEP.route]: {
        Type: "Choice",
        Choices: [{ Variable: "$.file.runner", StringEquals: "codebuild", Next: STEP.ingestLarge }],
        Default: STEP.ingestLambda,
      },
      [STEP.ingestLambda]: {
        Type: "Task",
        Resource: `arn:${partition}:states:::lambda:invoke`,
        Parameters: { FunctionName: props.functions.ingest, "Payload.$": "$.file" },
        ResultSelector: { "outcome.$": "$.Payload" },
        ResultPath: "$.ingest",
        Retry: retryLambda,
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: `${STEP.ingestLambda}Failed` }],
        End: true,
      },
      [`${STEP.ingestLambda}Failed`]: describeFailure(STEP.ingestLambda),
      [`${STEP.ingestLambda}Fail`]: failInBranch(STEP.ingestLambda),
      [STEP.ingestLarge]: {
        Type: "Task",
        Resource: `arn:${partition}:states:::codebuild:startBuild.sync`,
        Parameters: {
          ProjectName: props.largeIngestProject,
          EnvironmentVariablesOverride: [
            { Name: "INGEST_SOURCE", Type: "PLAINTEXT", "Value.$": "$.file.url" },
          ],
        },
        ResultSelector: { "buildId.$": "$.Build.Id", "buildStatus.$": "$.Build.BuildStatus" },
        ResultPath: "$.ingest",
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: `${STEP.ingestLarge}Failed` }],
        End: true,
      },
      [`${STEP.ingestLarge}Failed`]: describeFailure(STEP.ingestLarge),
      [`${STEP.ingestLarge}Fail`]: failInBranch(STEP.ingestLarge),
    },
  };
}

/**
 * discover → (nothing new: summary) → ingest each new or changed file (Map, bounded) → crawl raw → clean → curate
 * → crawl curated → smoke → (warehouse on: refresh the marts) → summary to SNS. Every step's failure names the step (and, in the Map, the file) in
 * an SNS notice, then fails the execution (an alarm watches ExecutionsFailed).
 */
export function refreshDefinition(props: RefreshDefinitionProps): AslDefinition {
  const partition = props.partition ?? "aws";
  if (!Number.isInteger(props.mapConcurrency) || props.mapConcurrency < 1 || props.mapConcurrency > 40) {
    throw new Error(`refreshDefinition: mapConcurrency ${props.mapConcurrency} must be a whole number 1-40`);
  }
  if (props.crawlerPollSeconds < 1) {
    throw new Error(`refreshDefinition: crawlerPollSeconds ${props.crawlerPollSeconds} must be at least 1`);
  }
  const summary = (status: string, next: string): AslState => ({
    Type: "Task",
    Resource: `arn:${partition}:states:::sns:publish`,
    Parameters: {
      TopicArn: props.topicArn,
      Subject: `Open Payments Lake refresh: ${status}`,
      "Message.$": "States.JsonToString($.summary)",
      MessageAttributes: { outcome: { DataType: "String", StringValue: status } },
    },
    ResultPath: null,
    Next: next,
  });
  return {
    Comment: "Open Payments Lake refresh: discover, ingest, Glue, smoke, summary (modules/orchestration)",
    StartAt: STEP.discover,
    TimeoutSeconds: props.timeoutSeconds,
    States: {
      [STEP.discover]: {
        Type: "Task",
        Resource: `arn:${partition}:states:::lambda:invoke`,
        Parameters: { FunctionName: props.functions.discover, "Payload.$": "$" },
        ResultSelector: {
          "files.$": "$.Payload.files",
          "count.$": "$.Payload.count",
          "skipped.$": "$.Payload.skipped",
        },
        ResultPath: "$.discovered",
        Retry: retryLambda,
        Catch: catchInto(STEP.discover),
        Next: STEP.anythingNew,
      },
      [failedName(STEP.discover)]: recordFailure(STEP.discover),
      [STEP.anythingNew]: {
        Type: "Choice",
        Choices: [{ Variable: "$.discovered.count", NumericGreaterThan: 0, Next: STEP.ingestEach }],
        Default: STEP.nothingNew,
      },
      [STEP.nothingNew]: {
        Type: "Pass",
        Parameters: { status: "nothing new", "unchanged.$": "$.discovered.skipped" },
        ResultPath: "$.summary",
        Next: `${STEP.nothingNew}Publish`,
      },
      [`${STEP.nothingNew}Publish`]: summary("nothing new", STEP.done),
      [STEP.ingestEach]: {
        Type: "Map",
        ItemsPath: "$.discovered.files",
        ItemSelector: { "file.$": "$$.Map.Item.Value" },
        MaxConcurrency: props.mapConcurrency,
        ItemProcessor: { ProcessorConfig: { Mode: "INLINE" }, ...ingestBranch(props) },
        ResultPath: "$.ingested",
        Catch: catchInto(STEP.ingestEach),
        Next: STEP.crawlRaw,
      },
      [failedName(STEP.ingestEach)]: recordFailure(STEP.ingestEach),
      ...crawl(partition, STEP.crawlRaw, props.crawlers.raw, props.crawlerPollSeconds, STEP.clean),
      ...glueJob(partition, STEP.clean, props.jobs.clean, STEP.curate),
      ...glueJob(
        partition,
        STEP.curate,
        props.jobs.curate,
        props.crawlers.curated ? STEP.crawlCurated : STEP.smoke,
      ),
      ...(props.crawlers.curated
        ? crawl(partition, STEP.crawlCurated, props.crawlers.curated, props.crawlerPollSeconds, STEP.smoke)
        : {}),
      [STEP.smoke]: {
        Type: "Task",
        Resource: `arn:${partition}:states:::lambda:invoke`,
        Parameters: { FunctionName: props.functions.smoke, Payload: {} },
        ResultSelector: { "checks.$": "$.Payload" },
        ResultPath: "$.smoke",
        Retry: retryLambda,
        Catch: catchInto(STEP.smoke),
        Next: props.jobs.warehouse ? STEP.warehouse : `${STEP.smoke}Summary`,
      },
      [failedName(STEP.smoke)]: recordFailure(STEP.smoke),
      // The marts from the curated zone just checked: the loader unloads it under this execution's name.
      ...(props.jobs.warehouse
        ? glueJob(partition, STEP.warehouse, props.jobs.warehouse, `${STEP.smoke}Summary`, {
            "--run_id.$": "$$.Execution.Name",
          })
        : {}),
      [`${STEP.smoke}Summary`]: {
        Type: "Pass",
        Parameters: {
          status: "succeeded",
          "execution.$": "$$.Execution.Id",
          "ingested.$": "$.ingested",
          "glue.$": "$.glue",
          "smoke.$": "$.smoke.checks",
        },
        ResultPath: "$.summary",
        Next: STEP.publishSummary,
      },
      [STEP.publishSummary]: summary("succeeded", STEP.done),
      [STEP.notifyFailure]: {
        Type: "Task",
        Resource: `arn:${partition}:states:::sns:publish`,
        Parameters: {
          TopicArn: props.topicArn,
          "Subject.$": "States.Format('Open Payments Lake refresh FAILED at {}', $.failure.step)",
          // Plain text for the people subscribed by e-mail; the cause is often itself JSON (a Glue job run).
          "Message.$":
            "States.Format('Refresh step {} failed ({}). Execution: {}. Cause: {}', $.failure.step, $.failure.error, $.failure.execution, $.failure.cause)",
          MessageAttributes: { outcome: { DataType: "String", StringValue: "failed" } },
        },
        ResultPath: null,
        Next: STEP.failed,
      },
      [STEP.failed]: {
        Type: "Fail",
        ErrorPath: "$.failure.errorName",
        CausePath: "$.failure.cause",
      },
      [STEP.done]: { Type: "Succeed" },
    },
  };
}
