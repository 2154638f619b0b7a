import { BudgetsBudget } from "@cdktf/provider-aws/lib/budgets-budget";
import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { CodebuildProject } from "@cdktf/provider-aws/lib/codebuild-project";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { LambdaEventSourceMapping } from "@cdktf/provider-aws/lib/lambda-event-source-mapping";
import { S3BucketNotification } from "@cdktf/provider-aws/lib/s3-bucket-notification";
import { S3Object } from "@cdktf/provider-aws/lib/s3-object";
import { SchedulerSchedule } from "@cdktf/provider-aws/lib/scheduler-schedule";
import { SfnStateMachine } from "@cdktf/provider-aws/lib/sfn-state-machine";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { SqsQueuePolicy } from "@cdktf/provider-aws/lib/sqs-queue-policy";
import { Construct } from "constructs";
import { type AwsLocation, arns } from "../access/arns";
import {
  ATHENA_CATALOG_BROWSE,
  ATHENA_QUERY_ACTIONS,
  GLUE_CATALOG_READ,
  recordIngestions,
  S3_OBJECT_READ,
  S3_OBJECT_WRITE,
} from "../access/lake-access";
import { LakeRole } from "../access/lake-role";
import { allow, deny } from "../access/policy";
import { AssetType, type PolicyStatement, policyJson, TerraformAsset } from "../core";
import { type RefreshJobs, refreshDefinition } from "./definition";
import { buildBundle, INGEST_BUILD_COMMAND } from "./lambda-bundle";
import { QUARANTINE_METRIC } from "./metrics";
import { RefreshFunction } from "./refresh-function";

/** The custom metric namespace the refresh publishes to (the smoke step's quarantine ratio). */
export const METRIC_NAMESPACE = QUARANTINE_METRIC.namespace;
export const QUARANTINE_RATIO_METRIC = QUARANTINE_METRIC.name;

export interface OrchestrationSettings {
  readonly schedule: string | null;
  readonly programYears?: readonly number[];
  readonly mapConcurrency: number;
  readonly lambdaMaxBytes: number;
  readonly timeoutHours: number;
  readonly glueMaxMinutes: number;
  readonly quarantineRatioMax: number;
  readonly budgetMonthlyUsd?: number;
  readonly logRetentionDays: number;
}

export interface KeyUserSpec {
  readonly name: string;
  readonly principalArn: string;
  readonly viaServices: string[];
}

interface Bucket {
  readonly name: string;
  readonly arn: string;
}

export interface LakeOrchestrationProps {
  readonly location: AwsLocation;
  readonly namePrefix: string;
  readonly settings: OrchestrationSettings;
  /** Encrypts queues, log groups, Lambda environments and the CodeBuild project (the lake's logs key). */
  readonly logsKeyArn: string;
  /** Encrypts the lake's buckets and the ingestion table. */
  readonly dataKeyArn: string;
  readonly alertsTopicArn: string;
  readonly buckets: {
    readonly raw: Bucket;
    readonly cleaned: Bucket;
    readonly curated: Bucket;
    readonly athenaResults: Bucket;
    /**
     * Where people drop files (landing/), accepted ones wait (incoming/) and rejected ones stay (rejected/): never
     * the raw bucket, whose write-once policy refuses the validator's moves (deletes, copies over a key).
     */
    readonly landing: Bucket;
  };
  readonly ingestionTable: { readonly name: string; readonly arn: string };
  /** The lake's Glue jobs; `warehouse`: the warehouse loader (modules/warehouse), run after smoke when set. */
  readonly jobs: RefreshJobs;
  readonly crawlers: { readonly raw: string; readonly curated?: string };
  readonly curatedDatabase: string;
  readonly workgroup: string;
  /** Where the CodeBuild project's source (the ingest CLI bundle) is uploaded: the Glue code's prefix. */
  readonly artifactsPrefix: string;
}

/** The refresh's alarms (names `<prefix>-alarm-*`): known before they exist, for the alerts topic's policy. */
function crawlerNames(crawlers: LakeOrchestrationProps["crawlers"]): string[] {
  return [crawlers.raw, ...(crawlers.curated ? [crawlers.curated] : [])];
}

export function alarmArnPattern(location: AwsLocation, namePrefix: string): string {
  return `arn:${location.partition}:cloudwatch:${location.region}:${location.account}:alarm:${namePrefix}-alarm-*`;
}

/** Lambda's 15 minutes, less a margin for the handler to report. */
const LAMBDA_TIMEOUT_SECONDS = 900;
const LANDING_MAX_RECEIVES = 3;

/**
 * The hands-off refresh (docs/orchestration.md): a Standard state machine (logging and X-Ray, KMS log group) that
 * EventBridge Scheduler starts, its Lambda handlers and large-file CodeBuild project, the landing validator fed by
 * S3 → SQS with a dead-letter queue, alarms to the alerts topic and a dashboard. Every role carries the
 * orchestration permissions boundary, which this construct also defines.
 */
export class LakeOrchestration extends Construct {
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly landingQueueArn: string;
  readonly deadLetterQueueArn: string;
  readonly boundaryName: string;
  readonly roleNames: string[];
  /** Each role and the one service it is passed to (what the CI deployer may pass, modules/access). */
  readonly passedRoles: ReadonlyArray<{ readonly roleName: string; readonly service: string }>;
  readonly functionNames: string[];
  readonly alarmArns: string[];
  /** The roles that use the logs key (queues, topic, environments) and the data key, for the keys' policies. */
  readonly logsKeyUsers: KeyUserSpec[];
  readonly dataKeyUsers: KeyUserSpec[];
  /** This construct's alarms as an ARN pattern: the alerts topic lets CloudWatch publish for these only. */
  readonly alarmArnPattern: string;

  constructor(scope: Construct, id: string, props: LakeOrchestrationProps) {
    super(scope, id);
    const { location, buckets, settings } = props;
    const name = (purpose: string) => `${props.namePrefix}-${purpose}`;
    const via = (service: string) => `${service}.${location.region}.amazonaws.com`;
    const stateMachineName = name("refresh");
    const stateMachineArn = `arn:${location.partition}:states:${location.region}:${location.account}:stateMachine:${stateMachineName}`;

    // The most any orchestration role can do; each role's own policy is narrower.
    this.boundaryName = name("orchestration-boundary");
    const boundary = new IamPolicy(this, "boundary", {
      name: this.boundaryName,
      description: "Permissions boundary of the refresh's roles: the most any of them can ever do",
      policy: policyJson(boundaryStatements(props, stateMachineArn)),
    });

    const deadLetters = new SqsQueue(this, "landing-dlq", {
      name: name("landing-dlq"),
      kmsMasterKeyId: props.logsKeyArn,
      kmsDataKeyReusePeriodSeconds: 300,
      messageRetentionSeconds: 1_209_600,
    });
    const landing = new SqsQueue(this, "landing-queue", {
      name: name("landing"),
      kmsMasterKeyId: props.logsKeyArn,
      kmsDataKeyReusePeriodSeconds: 300,
      // Six times the function's timeout, as AWS advises for an SQS event source.
      visibilityTimeoutSeconds: 6 * 60,
      redrivePolicy: JSON.stringify({
        deadLetterTargetArn: deadLetters.arn,
        maxReceiveCount: LANDING_MAX_RECEIVES,
      }),
    });
    new SqsQueuePolicy(this, "landing-queue-policy", {
      queueUrl: landing.url,
      policy: policyJson([
        allow({
          sid: "RawBucketLandingEvents",
          principal: { Service: "s3.amazonaws.com" },
          actions: ["sqs:SendMessage"],
          resources: [landing.arn],
          conditions: {
            ArnEquals: { "aws:SourceArn": buckets.landing.arn },
            StringEquals: { "aws:SourceAccount": location.account },
          },
        }),
        deny({
          sid: "DenyInsecureTransport",
          principal: "*",
          actions: ["sqs:SendMessage", "sqs:ReceiveMessage"],
          resources: [landing.arn],
          conditions: { Bool: { "aws:SecureTransport": "false" } },
        }),
      ]),
    });
    new S3BucketNotification(this, "landing-notification", {
      bucket: buckets.landing.name,
      queue: [{ queueArn: landing.arn, events: ["s3:ObjectCreated:*"], filterPrefix: "landing/" }],
      dependsOn: [landing],
    });

    const common = {
      location,
      permissionsBoundaryArn: boundary.arn,
      kmsKeyArn: props.logsKeyArn,
      logRetentionDays: settings.logRetentionDays,
    };
    const lakeEnv = {
      RAW_BUCKET: buckets.raw.name,
      INGESTION_TABLE: props.ingestionTable.name,
    };
    const ingestStatements = ingestPermissions(props);
    const discover = new RefreshFunction(this, "discover", {
      ...common,
      functionName: name("refresh-discover"),
      description: "lists new or changed CMS files and accepted hand-dropped files",
      bundle: "discover",
      timeoutSeconds: 300,
      memoryMb: 512,
      reservedConcurrency: 2,
      deadLetterQueueArn: deadLetters.arn,
      environment: {
        ...lakeEnv,
        LANDING_BUCKET: buckets.landing.name,
        LAMBDA_MAX_BYTES: String(settings.lambdaMaxBytes),
        ...(settings.programYears ? { PROGRAM_YEARS: settings.programYears.join(",") } : {}),
      },
      statements: [
        allow({
          sid: "ListIncoming",
          actions: ["s3:ListBucket"],
          resources: [buckets.landing.arn],
          conditions: { StringLike: { "s3:prefix": ["incoming/*", "incoming/"] } },
        }),
        allow({
          sid: "ReadIncoming",
          actions: ["s3:GetObject"],
          resources: [`${buckets.landing.arn}/incoming/*`],
        }),
        allow({
          sid: "ReadIngestions",
          actions: ["dynamodb:Query", "dynamodb:GetItem"],
          resources: [props.ingestionTable.arn],
        }),
        dataKeyUse("DecryptLakeData", ["kms:Decrypt"], props.dataKeyArn, [via("s3"), via("dynamodb")]),
      ],
    });
    const ingest = new RefreshFunction(this, "ingest", {
      ...common,
      functionName: name("refresh-ingest"),
      description: "streams one CMS file into raw/ with the ingest CLI",
      bundle: "ingest",
      timeoutSeconds: LAMBDA_TIMEOUT_SECONDS,
      // Memory buys CPU (hashing, splitting) and network; the CLI's peak RSS is about 250 MB.
      memoryMb: 1769,
      reservedConcurrency: settings.mapConcurrency,
      deadLetterQueueArn: deadLetters.arn,
      environment: lakeEnv,
      statements: ingestStatements,
    });
    const smoke = new RefreshFunction(this, "smoke", {
      ...common,
      functionName: name("refresh-smoke"),
      description: "runs the smoke checks (tools/smoke) against the lake",
      bundle: "smoke",
      timeoutSeconds: LAMBDA_TIMEOUT_SECONDS,
      memoryMb: 512,
      reservedConcurrency: 1,
      deadLetterQueueArn: deadLetters.arn,
      environment: {
        INGESTION_TABLE: props.ingestionTable.name,
        ATHENA_WORKGROUP: props.workgroup,
        CURATED_DATABASE: props.curatedDatabase,
        CLEANED_BUCKET: buckets.cleaned.name,
        CURATED_BUCKET: buckets.curated.name,
        LAKE_NAME: props.namePrefix,
      },
      statements: smokePermissions(props, via),
    });
    const validator = new RefreshFunction(this, "landing-validator", {
      ...common,
      functionName: name("landing-validator"),
      description: "checks files dropped into landing/ and moves them to incoming/ or rejected/",
      bundle: "landing-validator",
      timeoutSeconds: 60,
      memoryMb: 256,
      reservedConcurrency: 2,
      // Only ever invoked by the SQS event source, whose own redrive is the DLQ that matters; an asynchronous
      // invocation by hand would land here too.
      deadLetterQueueArn: deadLetters.arn,
      environment: {},
      statements: [
        allow({
          sid: "ConsumeLandingEvents",
          actions: [
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ChangeMessageVisibility",
          ],
          resources: [landing.arn],
        }),
        allow({
          sid: "JudgeAndMoveLanded",
          actions: ["s3:GetObject", "s3:DeleteObject"],
          resources: [`${buckets.landing.arn}/landing/*`],
        }),
        allow({
          sid: "FileLanded",
          actions: ["s3:PutObject"],
          resources: [`${buckets.landing.arn}/incoming/*`, `${buckets.landing.arn}/rejected/*`],
        }),
        dataKeyUse("LakeDataThroughS3", ["kms:Decrypt", "kms:GenerateDataKey"], props.dataKeyArn, [
          via("s3"),
        ]),
        dataKeyUse("LandingQueueKey", ["kms:Decrypt"], props.logsKeyArn, [via("sqs")]),
      ],
    });
    new LambdaEventSourceMapping(this, "landing-events", {
      eventSourceArn: landing.arn,
      functionName: validator.functionArn,
      batchSize: 10,
      functionResponseTypes: ["ReportBatchItemFailures"],
    });

    // Files too large for Lambda's 15 minutes: the same ingest CLI, bundled, in CodeBuild (no image to build).
    const cliBundle = buildBundle("ingest-cli");
    const sourceKey = `${props.artifactsPrefix}/ingest-cli/${cliBundle.sourceCodeHash.replace(/[^A-Za-z0-9]/g, "").slice(0, 16)}.zip`;
    const source = new S3Object(this, "ingest-cli", {
      bucket: buckets.cleaned.name,
      key: sourceKey,
      source: new TerraformAsset(this, "ingest-cli-asset", { path: cliBundle.zipFile, type: AssetType.FILE })
        .path,
      sourceHash: cliBundle.sourceCodeHash,
      kmsKeyId: props.dataKeyArn,
    });
    const buildLogs = new CloudwatchLogGroup(this, "ingest-large-logs", {
      name: `/aws/codebuild/${name("ingest-large")}`,
      retentionInDays: settings.logRetentionDays,
      kmsKeyId: props.logsKeyArn,
    });
    const buildRole = new LakeRole(this, "ingest-large-role", {
      roleName: name("ingest-large"),
      description: "Runs the ingest CLI in CodeBuild for CMS files too large for Lambda",
      permissionsBoundaryArn: boundary.arn,
      trustStatements: [serviceTrust("codebuild.amazonaws.com", location.account)],
      statements: [
        ...ingestStatements,
        allow({
          sid: "WriteBuildLogs",
          actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
          resources: [arns.logGroup(location, `/aws/codebuild/${name("ingest-large")}:*`)],
        }),
        allow({
          sid: "ReadBuildSource",
          actions: ["s3:GetObject", "s3:GetObjectVersion"],
          resources: [`${buckets.cleaned.arn}/${sourceKey}`],
        }),
        dataKeyUse("DecryptBuildSource", ["kms:Decrypt"], props.dataKeyArn, [via("s3")]),
      ],
    });
    const project = new CodebuildProject(this, "ingest-large", {
      name: name("ingest-large"),
      description: "The ingest CLI for one CMS file too large for Lambda (the General files, year ZIPs)",
      serviceRole: buildRole.roleArn,
      encryptionKey: props.logsKeyArn,
      // CodeBuild's maximum: a 9 GB General file at even 5 MB/s takes about 30 minutes.
      buildTimeout: 480,
      queuedTimeout: 60,
      source: {
        type: "S3",
        location: `${buckets.cleaned.name}/${sourceKey}`,
        buildspec: JSON.stringify({
          version: "0.2",
          phases: {
            install: { "runtime-versions": { nodejs: 22 } },
            build: { commands: [INGEST_BUILD_COMMAND] },
          },
        }),
      },
      artifacts: { type: "NO_ARTIFACTS" },
      environment: {
        computeType: "BUILD_GENERAL1_MEDIUM",
        image: "aws/codebuild/amazonlinux-x86_64-standard:5.0",
        type: "LINUX_CONTAINER",
        privilegedMode: false,
        environmentVariable: [
          { name: "RAW_BUCKET", value: buckets.raw.name },
          { name: "INGESTION_TABLE", value: props.ingestionTable.name },
        ],
      },
      logsConfig: {
        cloudwatchLogs: { groupName: buildLogs.name, status: "ENABLED" },
        s3Logs: { status: "DISABLED" },
      },
      dependsOn: [source],
    });

    const definition = refreshDefinition({
      functions: { discover: discover.functionArn, ingest: ingest.functionArn, smoke: smoke.functionArn },
      largeIngestProject: project.name,
      jobs: props.jobs,
      crawlers: props.crawlers,
      topicArn: props.alertsTopicArn,
      mapConcurrency: settings.mapConcurrency,
      crawlerPollSeconds: 60,
      timeoutSeconds: settings.timeoutHours * 3600,
      partition: location.partition,
    });
    const sfnLogs = new CloudwatchLogGroup(this, "state-machine-logs", {
      // The /aws/vendedlogs/ prefix keeps the log group's resource policy small (AWS's advice for Step Functions).
      name: `/aws/vendedlogs/states/${stateMachineName}`,
      retentionInDays: settings.logRetentionDays,
      kmsKeyId: props.logsKeyArn,
    });
    const sfnRole = new LakeRole(this, "state-machine-role", {
      roleName: stateMachineName,
      description:
        "Runs the refresh state machine: its functions, the Glue jobs and crawlers, CodeBuild, SNS",
      permissionsBoundaryArn: boundary.arn,
      trustStatements: [serviceTrust("states.amazonaws.com", location.account)],
      statements: stateMachinePermissions(props, {
        functions: [discover.functionArn, ingest.functionArn, smoke.functionArn],
        projectArn: project.arn,
        stateMachineArn,
        via,
      }),
    });
    const machine = new SfnStateMachine(this, "state-machine", {
      name: stateMachineName,
      type: "STANDARD",
      roleArn: sfnRole.roleArn,
      definition: JSON.stringify(definition),
      loggingConfiguration: {
        level: "ALL",
        includeExecutionData: true,
        logDestination: `${sfnLogs.arn}:*`,
      },
      tracingConfiguration: { enabled: true },
      encryptionConfiguration: {
        type: "CUSTOMER_MANAGED_KMS_KEY",
        kmsKeyId: props.logsKeyArn,
        kmsDataKeyReusePeriodSeconds: 300,
      },
    });

    const schedulerRoleNames: string[] = [];
    if (settings.schedule) {
      const schedulerRole = new LakeRole(this, "scheduler-role", {
        roleName: name("refresh-scheduler"),
        description: "Lets EventBridge Scheduler start the refresh state machine",
        permissionsBoundaryArn: boundary.arn,
        trustStatements: [serviceTrust("scheduler.amazonaws.com", location.account)],
        statements: [
          allow({ sid: "StartRefresh", actions: ["states:StartExecution"], resources: [stateMachineArn] }),
        ],
      });
      schedulerRoleNames.push(schedulerRole.roleName);
      new SchedulerSchedule(this, "schedule", {
        name: name("refresh"),
        description: "Starts the hands-off refresh of the lake",
        scheduleExpression: settings.schedule,
        scheduleExpressionTimezone: "UTC",
        flexibleTimeWindow: { mode: "FLEXIBLE", maximumWindowInMinutes: 60 },
        target: {
          arn: machine.arn,
          roleArn: schedulerRole.roleArn,
          input: JSON.stringify(settings.programYears ? { programYears: settings.programYears } : {}),
          retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
        },
      });
    }

    const alarms = this.alarms(props, {
      stateMachineArn: machine.arn,
      deadLetterQueue: deadLetters.name,
      functions: {
        discover: discover.functionName,
        ingest: ingest.functionName,
        smoke: smoke.functionName,
        "landing-validator": validator.functionName,
      },
    });
    this.dashboard(
      props,
      machine.arn,
      [discover, ingest, smoke, validator].map((f) => f.functionName),
    );
    if (settings.budgetMonthlyUsd !== undefined) {
      new BudgetsBudget(this, "budget", {
        name: name("monthly"),
        budgetType: "COST",
        limitAmount: settings.budgetMonthlyUsd.toFixed(2),
        limitUnit: "USD",
        timeUnit: "MONTHLY",
        notification: [80, 100].map((threshold) => ({
          comparisonOperator: "GREATER_THAN",
          notificationType: "ACTUAL",
          threshold,
          thresholdType: "PERCENTAGE",
          subscriberSnsTopicArns: [props.alertsTopicArn],
        })),
      });
    }

    this.stateMachineArn = machine.arn;
    this.stateMachineName = machine.name;
    this.landingQueueArn = landing.arn;
    this.deadLetterQueueArn = deadLetters.arn;
    this.roleNames = [
      ...[discover, ingest, smoke, validator].map((f) => f.roleName),
      buildRole.roleName,
      sfnRole.roleName,
      ...schedulerRoleNames,
    ];
    this.passedRoles = [
      ...[discover, ingest, smoke, validator].map((f) => ({
        roleName: f.roleName,
        service: "lambda.amazonaws.com",
      })),
      { roleName: buildRole.roleName, service: "codebuild.amazonaws.com" },
      { roleName: sfnRole.roleName, service: "states.amazonaws.com" },
      ...schedulerRoleNames.map((roleName) => ({ roleName, service: "scheduler.amazonaws.com" })),
    ];
    this.functionNames = [discover, ingest, smoke, validator].map((f) => f.functionName);
    this.alarmArns = alarms;
    this.alarmArnPattern = alarmArnPattern(location, props.namePrefix);
    const fns = {
      RefreshDiscover: discover,
      RefreshIngest: ingest,
      RefreshSmoke: smoke,
      RefreshValidator: validator,
    };
    this.logsKeyUsers = [
      {
        name: "RefreshStateMachine",
        principalArn: sfnRole.roleArn,
        viaServices: [via("sns"), via("states")],
      },
      ...Object.entries(fns).map(([n, f]) => ({
        name: n,
        principalArn: f.roleArn,
        viaServices: n === "RefreshValidator" ? [via("lambda"), via("sqs")] : [via("lambda")],
      })),
    ];
    this.dataKeyUsers = [
      ...Object.entries(fns).map(([n, f]) => ({
        name: n,
        principalArn: f.roleArn,
        viaServices: [via("s3"), via("dynamodb"), ...(n === "RefreshSmoke" ? [via("athena")] : [])],
      })),
      {
        name: "RefreshLargeIngest",
        principalArn: buildRole.roleArn,
        viaServices: [via("s3"), via("dynamodb")],
      },
    ];
  }

  /** The alarms, all to the alerts topic; returns their ARNs (the topic's policy names them). */
  private alarms(
    props: LakeOrchestrationProps,
    // Functions by purpose: alarm names are built from the purpose, since a function's name is a token here.
    on: { stateMachineArn: string; deadLetterQueue: string; functions: Readonly<Record<string, string>> },
  ): string[] {
    const name = (purpose: string) => `${props.namePrefix}-${purpose}`;
    const common = {
      alarmActions: [props.alertsTopicArn],
      okActions: [props.alertsTopicArn],
      treatMissingData: "notBreaching",
      evaluationPeriods: 1,
      period: 300,
    };
    const specs: {
      id: string;
      description: string;
      namespace: string;
      metric: string;
      dimensions: Record<string, string>;
      statistic: string;
      threshold: number;
      period?: number;
    }[] = [
      {
        id: "refresh-failed",
        description: "A refresh execution failed, timed out or was aborted (its SNS notice names the step)",
        namespace: "AWS/States",
        metric: "ExecutionsFailed",
        dimensions: { StateMachineArn: on.stateMachineArn },
        statistic: "Sum",
        threshold: 0,
      },
      {
        id: "refresh-timed-out",
        description: "A refresh execution ran past its timeout",
        namespace: "AWS/States",
        metric: "ExecutionsTimedOut",
        dimensions: { StateMachineArn: on.stateMachineArn },
        statistic: "Sum",
        threshold: 0,
      },
      {
        id: "landing-dlq",
        description: "Landing events the validator could not handle are in the dead-letter queue",
        namespace: "AWS/SQS",
        metric: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: on.deadLetterQueue },
        statistic: "Maximum",
        threshold: 0,
      },
      ...Object.entries(on.functions).flatMap(([purpose, fn]) =>
        (["Errors", "Throttles"] as const).map((metric) => ({
          id: `${purpose}-${metric.toLowerCase()}`,
          description: `${metric} of the ${fn} Lambda function`,
          namespace: "AWS/Lambda",
          metric,
          dimensions: { FunctionName: fn },
          statistic: "Sum",
          threshold: 0,
        })),
      ),
      ...Object.entries(props.jobs).flatMap(([id, job]) => [
        {
          id: `${id}-job-failed`,
          description: `The Glue job ${job} had failed tasks`,
          namespace: "Glue",
          metric: "glue.driver.aggregate.numFailedTasks",
          dimensions: { JobName: job, JobRunId: "ALL", Type: "count" },
          statistic: "Sum",
          threshold: 0,
        },
        {
          id: `${id}-job-slow`,
          description: `A run of the Glue job ${job} took longer than ${props.settings.glueMaxMinutes} minutes`,
          namespace: "Glue",
          metric: "glue.driver.aggregate.elapsedTime",
          dimensions: { JobName: job, JobRunId: "ALL", Type: "count" },
          statistic: "Maximum",
          threshold: props.settings.glueMaxMinutes * 60_000,
        },
      ]),
      {
        id: "quarantine-ratio",
        description: `The clean job quarantined more than ${props.settings.quarantineRatioMax * 100} % of the rows it read`,
        namespace: METRIC_NAMESPACE,
        metric: QUARANTINE_RATIO_METRIC,
        dimensions: { [QUARANTINE_METRIC.dimension]: props.namePrefix },
        statistic: "Maximum",
        threshold: props.settings.quarantineRatioMax,
        period: 86_400,
      },
    ];
    return specs.map((s) => {
      const alarm = new CloudwatchMetricAlarm(this, `alarm-${s.id}`, {
        ...common,
        alarmName: name(`alarm-${s.id}`),
        alarmDescription: s.description,
        namespace: s.namespace,
        metricName: s.metric,
        dimensions: s.dimensions,
        statistic: s.statistic,
        comparisonOperator: "GreaterThanThreshold",
        threshold: s.threshold,
        period: s.period ?? common.period,
      });
      return alarm.arn;
    });
  }

  private dashboard(props: LakeOrchestrationProps, stateMachineArn: string, functions: string[]): void {
    const region = props.location.region;
    const widget = (title: string, metrics: (string | Record<string, string>)[][], x: number, y: number) => ({
      type: "metric",
      x,
      y,
      width: 12,
      height: 6,
      properties: { title, region, stat: "Sum", period: 3600, view: "timeSeries", metrics },
    });
    const jobs = Object.values(props.jobs);
    new CloudwatchDashboard(this, "dashboard", {
      dashboardName: `${props.namePrefix}-lake`,
      dashboardBody: JSON.stringify({
        widgets: [
          widget(
            "Refresh runs",
            ["ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut"].map(
              (m) => ["AWS/States", m, "StateMachineArn", stateMachineArn],
            ),
            0,
            0,
          ),
          widget(
            "Refresh duration (ms)",
            [["AWS/States", "ExecutionTime", "StateMachineArn", stateMachineArn, { stat: "Maximum" }]],
            12,
            0,
          ),
          widget(
            "Glue job durations (ms)",
            jobs.map((j) => [
              "Glue",
              "glue.driver.aggregate.elapsedTime",
              "JobName",
              j,
              "JobRunId",
              "ALL",
              "Type",
              "count",
              { stat: "Maximum" },
            ]),
            0,
            6,
          ),
          widget(
            "Rows in / out (records read, written)",
            jobs.flatMap((j) => [
              ["Glue", "glue.driver.aggregate.recordsRead", "JobName", j, "JobRunId", "ALL", "Type", "count"],
              [
                "Glue",
                "glue.ALL.s3.filesystem.write_bytes",
                "JobName",
                j,
                "JobRunId",
                "ALL",
                "Type",
                "gauge",
              ],
            ]),
            12,
            6,
          ),
          widget(
            "Quarantine ratio",
            [[METRIC_NAMESPACE, QUARANTINE_RATIO_METRIC, "Lake", props.namePrefix, { stat: "Maximum" }]],
            0,
            12,
          ),
          widget(
            "Athena bytes scanned",
            [["AWS/Athena", "ProcessedBytes", "WorkGroup", props.workgroup]],
            12,
            12,
          ),
          widget(
            "Lambda errors and throttles",
            functions.flatMap((f) => [
              ["AWS/Lambda", "Errors", "FunctionName", f],
              ["AWS/Lambda", "Throttles", "FunctionName", f],
            ]),
            0,
            18,
          ),
        ],
      }),
    });
  }
}

function serviceTrust(service: string, account: string): PolicyStatement {
  return allow({
    sid: "ServiceAssumes",
    principal: { Service: service },
    actions: ["sts:AssumeRole"],
    resources: ["*"],
    unscopedBecause: "a trust policy's resource is the role itself",
    conditions: { StringEquals: { "aws:SourceAccount": account } },
  });
}

function dataKeyUse(sid: string, actions: string[], keyArn: string, services: string[]): PolicyStatement {
  return allow({
    sid,
    actions,
    resources: [keyArn],
    conditions: { StringEquals: { "kms:ViaService": services } },
  });
}

/** What the ingest CLI does (tools/ingest/README.md): write raw/, verify it, read incoming/, record in the table. */
function ingestPermissions(props: LakeOrchestrationProps): PolicyStatement[] {
  const raw = props.buckets.raw;
  const via = (service: string) => `${service}.${props.location.region}.amazonaws.com`;
  return [
    allow({ sid: "PutRawObjects", actions: S3_OBJECT_WRITE, resources: [`${raw.arn}/raw/*`] }),
    allow({ sid: "VerifyRaw", actions: [...S3_OBJECT_READ], resources: [`${raw.arn}/raw/*`] }),
    allow({
      sid: "ReadIncoming",
      actions: ["s3:GetObject"],
      resources: [`${props.buckets.landing.arn}/incoming/*`],
    }),
    allow({
      sid: "ListRawPrefix",
      actions: ["s3:ListBucket"],
      resources: [raw.arn],
      conditions: { StringLike: { "s3:prefix": ["raw/*"] } },
    }),
    recordIngestions(props.ingestionTable.arn),
    dataKeyUse("LakeDataKey", ["kms:GenerateDataKey", "kms:Encrypt", "kms:Decrypt"], props.dataKeyArn, [
      via("s3"),
      via("dynamodb"),
    ]),
  ];
}

/** What the smoke harness reads: the workgroup and its queries, the curated catalog and data, the job reports. */
function smokePermissions(props: LakeOrchestrationProps, via: (s: string) => string): PolicyStatement[] {
  const { buckets, location } = props;
  return [
    allow({
      sid: "QueryInWorkgroup",
      actions: ATHENA_QUERY_ACTIONS,
      resources: [arns.athenaWorkgroup(location, props.workgroup)],
    }),
    allow({
      sid: "BrowseDataCatalog",
      actions: ATHENA_CATALOG_BROWSE,
      resources: [arns.athenaDataCatalog(location)],
    }),
    allow({
      sid: "ReadCuratedCatalog",
      actions: GLUE_CATALOG_READ,
      resources: [
        arns.glueCatalog(location),
        arns.glueDatabase(location, props.curatedDatabase),
        arns.glueTables(location, props.curatedDatabase),
      ],
    }),
    allow({
      sid: "ReadCuratedAndReports",
      actions: ["s3:GetObject"],
      resources: [
        `${buckets.curated.arn}/curated/*`,
        `${buckets.curated.arn}/reports/*`,
        `${buckets.cleaned.arn}/reports/*`,
      ],
    }),
    allow({
      sid: "ListLakeBuckets",
      actions: ["s3:ListBucket", "s3:GetBucketLocation"],
      resources: [buckets.curated.arn, buckets.athenaResults.arn],
    }),
    allow({
      sid: "WriteQueryResults",
      actions: ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"],
      resources: [`${buckets.athenaResults.arn}/*`],
    }),
    allow({
      sid: "ReadIngestions",
      actions: ["dynamodb:Query", "dynamodb:Scan"],
      resources: [props.ingestionTable.arn, `${props.ingestionTable.arn}/index/*`],
    }),
    dataKeyUse("LakeDataKey", ["kms:Decrypt", "kms:GenerateDataKey"], props.dataKeyArn, [
      via("s3"),
      via("dynamodb"),
      via("athena"),
    ]),
    allow({
      sid: "PublishQuarantineRatio",
      actions: ["cloudwatch:PutMetricData"],
      resources: ["*"],
      unscopedBecause: "cloudwatch:PutMetricData has no resource types; scoped by namespace instead",
      conditions: { StringEquals: { "cloudwatch:namespace": METRIC_NAMESPACE } },
    }),
  ];
}

function stateMachinePermissions(
  props: LakeOrchestrationProps,
  on: { functions: string[]; projectArn: string; stateMachineArn: string; via: (s: string) => string },
): PolicyStatement[] {
  const { location } = props;
  return [
    allow({ sid: "InvokeHandlers", actions: ["lambda:InvokeFunction"], resources: on.functions }),
    allow({
      sid: "RunGlueJobs",
      actions: ["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun"],
      resources: Object.values(props.jobs).map((j) => arns.glueJob(location, j)),
    }),
    allow({
      sid: "RunCrawlers",
      actions: ["glue:StartCrawler", "glue:GetCrawler"],
      resources: crawlerNames(props.crawlers).map((c) => arns.glueCrawler(location, c)),
    }),
    ...largeIngestRun(location, "RunLargeIngest", on.projectArn),
    allow({ sid: "PublishSummaries", actions: ["sns:Publish"], resources: [props.alertsTopicArn] }),
    dataKeyUse("EncryptWithLogsKey", ["kms:GenerateDataKey", "kms:Decrypt"], props.logsKeyArn, [
      on.via("sns"),
      on.via("states"),
    ]),
    allow({
      sid: "DeliverExecutionLogs",
      actions: [
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
      ],
      resources: ["*"],
      unscopedBecause:
        "CloudWatch Logs' log-delivery APIs have no resource types (AWS's documented policy for Step Functions logging)",
    }),
    allow({
      sid: "Traces",
      actions: [
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
      ],
      resources: ["*"],
      unscopedBecause: "the X-Ray actions Step Functions tracing uses have no resource types",
    }),
  ];
}

/** The boundary: the union of what the refresh's roles do, nothing else (no IAM, no deletes outside landing/). */
function boundaryStatements(props: LakeOrchestrationProps, stateMachineArn: string): PolicyStatement[] {
  const { buckets, location } = props;
  const lambdaArn = (fn: string) =>
    `arn:${location.partition}:lambda:${location.region}:${location.account}:function:${fn}`;
  const prefixed = `${props.namePrefix}-*`;
  return [
    allow({
      sid: "LakeObjects",
      actions: [...S3_OBJECT_READ, ...S3_OBJECT_WRITE],
      resources: [buckets.raw, buckets.cleaned, buckets.curated, buckets.athenaResults, buckets.landing].map(
        (b) => `${b.arn}/*`,
      ),
    }),
    allow({
      sid: "MoveLandedFiles",
      actions: ["s3:DeleteObject"],
      resources: [`${buckets.landing.arn}/landing/*`],
    }),
    allow({
      sid: "ListLakeBuckets",
      actions: ["s3:ListBucket", "s3:GetBucketLocation"],
      resources: [buckets.raw, buckets.cleaned, buckets.curated, buckets.athenaResults, buckets.landing].map(
        (b) => b.arn,
      ),
    }),
    allow({
      sid: "IngestionTable",
      actions: [
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:GetItem",
        "dynamodb:Query",
        "dynamodb:Scan",
        "dynamodb:ConditionCheckItem",
      ],
      resources: [props.ingestionTable.arn, `${props.ingestionTable.arn}/index/*`],
    }),
    allow({
      sid: "LakeKeysThroughServices",
      actions: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
      resources: [props.dataKeyArn, props.logsKeyArn],
      conditions: {
        StringEquals: {
          "kms:ViaService": ["s3", "dynamodb", "athena", "sqs", "sns", "states", "lambda"].map(
            (s) => `${s}.${location.region}.amazonaws.com`,
          ),
        },
      },
    }),
    allow({
      sid: "OwnEnvironments",
      actions: ["kms:Decrypt"],
      resources: [props.logsKeyArn],
      conditions: { StringLike: { "kms:EncryptionContext:LambdaFunctionName": prefixed } },
    }),
    allow({
      sid: "LandingQueues",
      actions: [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ChangeMessageVisibility",
        "sqs:SendMessage",
      ],
      resources: [`arn:${location.partition}:sqs:${location.region}:${location.account}:${prefixed}`],
    }),
    allow({
      sid: "Logs",
      actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
      resources: [arns.logGroup(location, "/aws/lambda/*"), arns.logGroup(location, "/aws/codebuild/*")],
    }),
    allow({
      sid: "LogDeliveryAndTraces",
      actions: [
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
      ],
      resources: ["*"],
      unscopedBecause: "log delivery and X-Ray APIs have no resource types",
    }),
    allow({
      sid: "Metrics",
      actions: ["cloudwatch:PutMetricData"],
      resources: ["*"],
      unscopedBecause: "cloudwatch:PutMetricData has no resource types; scoped by namespace instead",
      conditions: { StringEquals: { "cloudwatch:namespace": METRIC_NAMESPACE } },
    }),
    allow({
      sid: "Query",
      actions: [...ATHENA_QUERY_ACTIONS, ...ATHENA_CATALOG_BROWSE],
      resources: [arns.athenaWorkgroup(location, props.workgroup), arns.athenaDataCatalog(location)],
    }),
    allow({
      sid: "CatalogAndEtl",
      actions: [
        ...GLUE_CATALOG_READ,
        "glue:StartJobRun",
        "glue:GetJobRun",
        "glue:GetJobRuns",
        "glue:BatchStopJobRun",
        "glue:StartCrawler",
        "glue:GetCrawler",
      ],
      resources: [
        arns.glueCatalog(location),
        arns.glueDatabase(location, props.curatedDatabase),
        arns.glueTables(location, props.curatedDatabase),
        ...Object.values(props.jobs).map((j) => arns.glueJob(location, j)),
        ...crawlerNames(props.crawlers).map((c) => arns.glueCrawler(location, c)),
      ],
    }),
    allow({ sid: "Handlers", actions: ["lambda:InvokeFunction"], resources: [lambdaArn(prefixed)] }),
    ...largeIngestRun(
      location,
      "LargeIngest",
      `arn:${location.partition}:codebuild:${location.region}:${location.account}:project/${prefixed}`,
    ),
    allow({ sid: "Notify", actions: ["sns:Publish"], resources: [props.alertsTopicArn] }),
    allow({ sid: "StartRefresh", actions: ["states:StartExecution"], resources: [stateMachineArn] }),
  ];
}

/** Running the large-file CodeBuild project from the state machine (its role, and the boundary that caps it). */
function largeIngestRun(location: AwsLocation, sid: string, projectArn: string): PolicyStatement[] {
  return [
    allow({
      sid,
      actions: ["codebuild:StartBuild", "codebuild:StopBuild", "codebuild:BatchGetBuilds"],
      resources: [projectArn],
    }),
    allow({
      // The .sync integration with CodeBuild waits through a rule Step Functions manages in the account.
      sid: "CodeBuildSyncRule",
      actions: ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
      resources: [
        `arn:${location.partition}:events:${location.region}:${location.account}:rule/StepFunctionsGetEventsForCodeBuildJobsRule`,
      ],
    }),
  ];
}
