import validator from "asl-validator";
import { DEFAULT_REFRESH_SCHEDULE, type LakeConfig, loadConfig, parseConfig } from "../../modules/config";
import { buildBundle } from "../../modules/orchestration/lambda-bundle";
import { LAMBDA_RUNTIME } from "../../modules/orchestration/refresh-function";
import { synthEnvironment, type TfJson } from "../helpers/synth";

type Res = Record<string, unknown>;
const all = (json: TfJson, type: string): [string, Res][] => Object.entries(json.resource[type] ?? {});

function withOrchestration(environment: "dev" | "local", orchestration: Record<string, unknown>): LakeConfig {
  const base = loadConfig(environment, { env: {} });
  return { ...base, orchestration: { ...base.orchestration, enabled: true, ...orchestration } } as LakeConfig;
}

describe("the orchestration module in the lake stack (dev, enabled, with a budget)", () => {
  const lake = synthEnvironment(withOrchestration("dev", { budgetMonthlyUsd: 150 })).lake;
  const machine = all(lake, "aws_sfn_state_machine")[0][1];

  it("a Standard state machine with full logging to a KMS log group, X-Ray and KMS encryption", () => {
    expect(machine).toMatchObject({
      type: "STANDARD",
      logging_configuration: { level: "ALL", include_execution_data: true },
      tracing_configuration: { enabled: true },
      encryption_configuration: { type: "CUSTOMER_MANAGED_KMS_KEY" },
    });
    const group = all(lake, "aws_cloudwatch_log_group").find(([, g]) =>
      String(g.name).startsWith("/aws/vendedlogs/states/"),
    );
    expect(group?.[1].kms_key_id).toMatch(/aws_kms_key\.keys_logs/);
  });

  it("deploys a definition asl-validator accepts (paths checked; ARNs are terraform references here)", () => {
    const result = validator(JSON.parse(String(machine.definition)), { checkPaths: true, checkArn: false });
    expect(result.errors).toEqual([]);
  });

  it("every Lambda function: Node 22, the reproducible bundle's hash, KMS environment, X-Ray, bounded concurrency", () => {
    const fns = all(lake, "aws_lambda_function");
    expect(fns).toHaveLength(4);
    for (const [name, fn] of fns) {
      const bundle = buildBundle(
        String(name)
          .replace(/^orchestration_/, "")
          .replace(/_function_.*$/, "") as never,
      );
      expect({ name, runtime: fn.runtime, hash: fn.source_code_hash }).toEqual({
        name,
        runtime: LAMBDA_RUNTIME,
        hash: bundle.sourceCodeHash,
      });
      expect(fn.kms_key_arn).toMatch(/aws_kms_key\.keys_logs/);
      expect(fn.tracing_config).toEqual({ mode: "Active" });
      expect(Number(fn.reserved_concurrent_executions)).toBeGreaterThan(0);
    }
  });

  it("every queue and log group is encrypted with a customer managed key", () => {
    for (const [, q] of all(lake, "aws_sqs_queue"))
      expect(q.kms_master_key_id).toMatch(/aws_kms_key\.keys_logs/);
    for (const [, g] of all(lake, "aws_cloudwatch_log_group"))
      expect(g.kms_key_id).toMatch(/aws_kms_key\.keys_logs/);
  });

  it("the landing queue redrives to the DLQ after 3 receives; S3 ObjectCreated on landing/ feeds it", () => {
    const landing = all(lake, "aws_sqs_queue").find(([, q]) => String(q.name).endsWith("-landing"))?.[1];
    expect(JSON.parse(String(landing?.redrive_policy))).toEqual({
      deadLetterTargetArn: expect.stringMatching(/aws_sqs_queue\.orchestration_landing-dlq/),
      maxReceiveCount: 3,
    });
    expect(all(lake, "aws_s3_bucket_notification")[0][1]).toMatchObject({
      queue: [{ events: ["s3:ObjectCreated:*"], filter_prefix: "landing/" }],
    });
    expect(all(lake, "aws_lambda_event_source_mapping")[0][1]).toMatchObject({
      function_response_types: ["ReportBatchItemFailures"],
    });
  });

  it("every role of the refresh carries the orchestration permissions boundary", () => {
    const roles = all(lake, "aws_iam_role").filter(([name]) => name.startsWith("orchestration_"));
    expect(roles.length).toBe(7);
    for (const [name, role] of roles) {
      expect({ name, boundary: role.permissions_boundary }).toEqual({
        name,
        boundary: expect.stringMatching(/aws_iam_policy\.orchestration_boundary/),
      });
    }
  });

  it("schedules the refresh (default cron) and sends every alarm and the budget to the alerts topic", () => {
    expect(all(lake, "aws_scheduler_schedule")[0][1]).toMatchObject({
      schedule_expression: "cron(0 6 ? * MON *)",
    });
    const alarms = all(lake, "aws_cloudwatch_metric_alarm");
    const names = alarms.map(([, a]) => String(a.metric_name));
    expect(names).toEqual(
      expect.arrayContaining([
        "ExecutionsFailed",
        "ApproximateNumberOfMessagesVisible",
        "Errors",
        "Throttles",
        "glue.driver.aggregate.elapsedTime",
        "QuarantineRatio",
      ]),
    );
    for (const [, a] of alarms)
      expect(a.alarm_actions).toEqual([expect.stringMatching(/aws_sns_topic\.alerts_topic/)]);
    // Names are plain text people read in notices (a function name is a token at synth time).
    const errorAlarms = alarms.map(([, a]) => String(a.alarm_name)).filter((n) => n.endsWith("-errors"));
    expect(errorAlarms.sort()).toEqual([
      "opl-dev-alarm-discover-errors",
      "opl-dev-alarm-ingest-errors",
      "opl-dev-alarm-landing-validator-errors",
      "opl-dev-alarm-smoke-errors",
    ]);
    for (const [, a] of alarms) expect(a.alarm_name).toMatch(/^opl-dev-alarm-[a-z-]+$/);
    expect(all(lake, "aws_budgets_budget")[0][1]).toMatchObject({
      limit_amount: "150.00",
      time_unit: "MONTHLY",
    });
    expect(all(lake, "aws_cloudwatch_dashboard")).toHaveLength(1);
  });
});

describe("orchestration config", () => {
  it("is off unless an environment turns it on: dev runs it on the default schedule, prod and local do not", () => {
    expect(loadConfig("dev", { env: {} }).orchestration).toMatchObject({ enabled: true, mapConcurrency: 4 });
    for (const env of ["prod", "local"] as const) {
      expect(loadConfig(env, { env: {} }).orchestration).toMatchObject({ enabled: false, mapConcurrency: 4 });
    }
    const dev = synthEnvironment(loadConfig("dev", { env: {} })).lake;
    expect(all(dev, "aws_scheduler_schedule").map(([, s]) => s.schedule_expression)).toEqual([
      DEFAULT_REFRESH_SCHEDULE,
    ]);
  });

  it("never schedules in local, and refuses a schedule there by name", () => {
    const lake = synthEnvironment(withOrchestration("local", {})).lake;
    expect(all(lake, "aws_scheduler_schedule")).toEqual([]);
    expect(all(lake, "aws_sfn_state_machine")).toHaveLength(1);
    const data = {
      ...loadConfig("local", { env: {} }),
      orchestration: { enabled: true, schedule: "rate(1 day)" },
    };
    expect(() => parseConfig(data, { source: "local.json", env: {} })).toThrow(
      /orchestration\.schedule.*must be null in local/s,
    );
  });

  it("refuses a malformed schedule and a Map concurrency above 40", () => {
    const base = loadConfig("dev", { env: {} });
    expect(() =>
      parseConfig({ ...base, orchestration: { schedule: "every monday" } }, { source: "dev.json", env: {} }),
    ).toThrow(/cron\(\.\.\.\) or rate/);
    expect(() =>
      parseConfig({ ...base, orchestration: { mapConcurrency: 41 } }, { source: "dev.json", env: {} }),
    ).toThrow(/at most 40/);
  });
});
