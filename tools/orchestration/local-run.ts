import "./promise-with-resolvers";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  GetCrawlerCommand,
  GetJobRunCommand,
  GlueClient,
  StartCrawlerCommand,
  StartJobRunCommand,
} from "@aws-sdk/client-glue";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { StateMachine } from "aws-local-stepfunctions";
import { unzipSync } from "fflate";
import type { AslDefinition, Json } from "../../modules/orchestration/definition";
import { STEP } from "../../modules/orchestration/definition";
import { BUNDLE_MAIN, buildBundle, INGEST_BUILD_COMMAND } from "../../modules/orchestration/lambda-bundle";
import { handler as discover } from "./handlers/discover";
import { HANDLER_ENV, type HandlerSetting } from "./handlers/environment";
import { handler as ingest } from "./handlers/ingest";
import { handler as smoke } from "./handlers/smoke";

/** A Glue job run's final state recorded from AWS, replayed instead of the local one (see docs/orchestration.md). */
export interface RecordedJobRun {
  readonly JobRunState: "FAILED" | "TIMEOUT" | "STOPPED" | "ERROR";
  readonly ErrorMessage: string;
}

export interface LocalRunOptions {
  readonly definition: AslDefinition;
  readonly input: Json;
  /** moto's endpoint: every AWS call of the handlers and of the service integrations goes there. */
  readonly endpoint: string;
  readonly region: string;
  /** The handlers' settings, as the cdktf module sets them on the functions. */
  readonly settings: Partial<Record<HandlerSetting, string>>;
  /** Glue job name → a recorded unsuccessful final state to end its run with (the failure tests). */
  readonly recordedJobRuns?: Readonly<Record<string, RecordedJobRun>>;
  /** Milliseconds each Wait state and Glue poll waits locally (default 50). */
  readonly pollMs?: number;
  /** Called as each state ends (progress for a person watching). */
  readonly onStep?: (step: StepTiming) => void;
}

export interface StepTiming {
  readonly state: string;
  readonly ms: number;
}

export type LocalRunResult =
  | { readonly status: "SUCCEEDED"; readonly output: Json; readonly steps: StepTiming[]; readonly ms: number }
  | {
      readonly status: "FAILED";
      readonly error: string;
      readonly cause: string;
      readonly steps: StepTiming[];
      readonly ms: number;
    };

type Task = (input: Json) => Promise<Json>;
type JsonObject = { [key: string]: Json };
const asObject = (v: Json): JsonObject => (typeof v === "object" && v !== null && !Array.isArray(v) ? v : {});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An error as Step Functions reports it: its name is the error, its message the cause. */
function stateError(error: string, cause: string): Error {
  const e = new Error(cause);
  e.name = error;
  return e;
}

/**
 * `arn:aws:states:::lambda:invoke` bound to the handler's code: the payload in, `{StatusCode, Payload}` out, and a
 * thrown error reported as Lambda reports a function error (error = its type, cause = the JSON Lambda returns).
 */
function lambdaTask(handler: (event: never) => Promise<unknown>): Task {
  return async (input) => {
    try {
      const payload = await handler(asObject(input).Payload as never);
      return { StatusCode: 200, Payload: JSON.parse(JSON.stringify(payload ?? null)) as Json };
    } catch (error) {
      const e = error as Error;
      throw stateError(e.name, JSON.stringify({ errorType: e.name, errorMessage: e.message }));
    }
  };
}

/** Strips the SDK's `$metadata` and turns Dates into ISO strings, as the service integration's JSON has them. */
const sdkJson = (output: object): Json => {
  const { $metadata: _, ...rest } = output as { $metadata?: unknown };
  return JSON.parse(JSON.stringify(rest)) as Json;
};

/** An `aws-sdk:glue:*` integration against moto: errors named `Glue.<Exception>` as Step Functions names them. */
async function glueCall<T extends object>(call: () => Promise<T>): Promise<Json> {
  try {
    return sdkJson(await call());
  } catch (error) {
    const e = error as Error;
    throw stateError(`Glue.${e.name}`, e.message);
  }
}

/**
 * `glue:startJobRun.sync` against moto: starts the run, polls GetJobRun until it ends, and fails the task as Step
 * Functions does (States.TaskFailed, the run as the cause) unless it SUCCEEDED. A recorded final state, when given
 * for the job, replaces the one moto reports (moto runs no script).
 */
function glueJobTask(glue: GlueClient, recorded: LocalRunOptions["recordedJobRuns"], pollMs: number): Task {
  return async (input) => {
    const jobName = String(asObject(input).JobName);
    const { JobRunId } = await glue
      .send(new StartJobRunCommand({ JobName: jobName }))
      .catch((error: Error) => {
        throw stateError(`Glue.${error.name}`, error.message);
      });
    for (;;) {
      const { JobRun } = await glue.send(new GetJobRunCommand({ JobName: jobName, RunId: JobRunId }));
      const run = { ...(sdkJson(JobRun ?? {}) as JsonObject), ...(recorded?.[jobName] ?? {}) };
      const state = String(run.JobRunState);
      if (state === "SUCCEEDED") return run;
      if (["FAILED", "TIMEOUT", "STOPPED", "ERROR"].includes(state)) {
        throw stateError("States.TaskFailed", JSON.stringify(run));
      }
      await sleep(pollMs);
    }
  };
}

/**
 * `codebuild:startBuild.sync` bound to what the CodeBuild project runs: the ingest CLI bundle (the same zip),
 * started with the build's command and the source in INGEST_SOURCE, as a child process.
 */
function largeIngestTask(env: NodeJS.ProcessEnv): Task {
  return async (input) => {
    const overrides = asObject(input).EnvironmentVariablesOverride;
    const source = (Array.isArray(overrides) ? overrides : [])
      .map(asObject)
      .find((v) => v.Name === "INGEST_SOURCE")?.Value;
    const dir = mkdtempSync(join(tmpdir(), "ingest-build-"));
    try {
      const files = unzipSync(readFileSync(buildBundle("ingest-cli").zipFile));
      writeFileSync(join(dir, BUNDLE_MAIN), files[BUNDLE_MAIN]);
      let output = "";
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn("bash", ["-c", INGEST_BUILD_COMMAND], {
          cwd: dir,
          env: { ...env, INGEST_SOURCE: String(source) },
          stdio: ["ignore", "pipe", "pipe"],
        });
        // As the build log would: kept, and its end becomes the failure's cause.
        child.stdout.on("data", (d: Buffer) => {
          output += d.toString();
        });
        child.stderr.on("data", (d: Buffer) => {
          output += d.toString();
        });
        child.once("error", reject);
        child.once("exit", (c) => resolve(c ?? 1));
      });
      const build = { Id: `local:${Date.now()}`, BuildStatus: code === 0 ? "SUCCEEDED" : "FAILED" };
      if (code !== 0) {
        throw stateError(
          "States.TaskFailed",
          JSON.stringify({ Build: build, log: output.trim().split("\n").slice(-5) }),
        );
      }
      return { Build: build };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/**
 * Executes the state machine definition with aws-local-stepfunctions: Lambda tasks run the real handlers in this
 * process, the Glue, SNS and CodeBuild integrations call moto (or run the CodeBuild bundle), all against `endpoint`.
 * Returns the outcome and each state's duration, in the order the states ended.
 */
export async function runRefreshLocally(options: LocalRunOptions): Promise<LocalRunResult> {
  const pollMs = options.pollMs ?? 50;
  const client = { endpoint: options.endpoint, region: options.region, maxAttempts: 2 };
  const glue = new GlueClient(client);
  const sns = new SNSClient(client);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    [HANDLER_ENV.endpoint]: options.endpoint,
    [HANDLER_ENV.region]: options.region,
    ...Object.fromEntries(
      Object.entries(options.settings).map(([k, v]) => [HANDLER_ENV[k as HandlerSetting], v]),
    ),
  };
  // The handlers read their settings from the environment, as in Lambda: set for the run, restored after.
  const saved = { ...process.env };
  Object.assign(process.env, env);
  const crawler: Task = async (input) =>
    glueCall(() => glue.send(new StartCrawlerCommand({ Name: String(asObject(input).Name) })));
  const crawlerState: Task = async (input) =>
    glueCall(() => glue.send(new GetCrawlerCommand({ Name: String(asObject(input).Name) })));
  const publish: Task = async (input) => {
    const p = asObject(input);
    const attributes = asObject(p.MessageAttributes ?? {});
    return sdkJson(
      await sns.send(
        new PublishCommand({
          TopicArn: String(p.TopicArn),
          Subject: String(p.Subject),
          Message: String(p.Message),
          MessageAttributes: Object.fromEntries(
            Object.entries(attributes).map(([k, v]) => [
              k,
              { DataType: String(asObject(v).DataType), StringValue: String(asObject(v).StringValue) },
            ]),
          ),
        }),
      ),
    );
  };
  const glueJob = glueJobTask(glue, options.recordedJobRuns, pollMs);
  const handlers: Record<string, Task> = {
    [STEP.discover]: lambdaTask(discover),
    [STEP.ingestLambda]: lambdaTask(ingest),
    [STEP.ingestLarge]: largeIngestTask(env),
    [STEP.crawlRaw]: crawler,
    [`${STEP.crawlRaw}Poll`]: crawlerState,
    [STEP.clean]: glueJob,
    [STEP.curate]: glueJob,
    [STEP.crawlCurated]: crawler,
    [`${STEP.crawlCurated}Poll`]: crawlerState,
    [STEP.smoke]: lambdaTask(smoke),
    [STEP.publishSummary]: publish,
    [`${STEP.nothingNew}Publish`]: publish,
    [STEP.notifyFailure]: publish,
  };
  const waits = Object.fromEntries(
    Object.entries(options.definition.States)
      .filter(([, s]) => s.Type === "Wait")
      .map(([name]) => [name, pollMs]),
  );
  const machine = new StateMachine(options.definition as never, {
    // The definition is validated by asl-validator in the unit tests; ARNs here are the module's (names locally).
    validationOptions: { checkArn: false },
  });
  const started = Date.now();
  const name = `local-${new Date(started).toISOString().replace(/[:.]/g, "-")}`;
  const execution = machine.run(options.input as never, {
    overrides: { taskResourceLocalHandlers: handlers as never, waitTimeOverrides: waits },
    // The context object Step Functions gives every execution ($$.Execution.Id names the run in notices).
    context: {
      Execution: {
        Id: `arn:aws:states:${options.region}:000000000000:execution:local-refresh:${name}`,
        Name: name,
        Input: options.input,
        StartTime: new Date(started).toISOString(),
      },
    } as never,
  });
  const entered = new Map<string, number>();
  const steps: StepTiming[] = [];
  const collect = (async () => {
    for await (const event of execution.eventLogs) {
      const e = event as {
        type: string;
        timestamp: number;
        state?: { name: string; input?: unknown };
        index?: number;
      };
      if (!e.state) continue;
      // Map iterations run the same states side by side: their inputs (the file) tell them apart.
      const key = `${e.state.name}#${e.index ?? ""}#${JSON.stringify(e.state.input)}`;
      if (e.type === "StateEntered") entered.set(key, e.timestamp);
      else if (e.type === "StateExited" || e.type === "StateFailed") {
        const from = entered.get(key);
        if (from !== undefined) {
          const step = { state: e.state.name, ms: e.timestamp - from };
          steps.push(step);
          options.onStep?.(step);
        }
        entered.delete(key);
      }
    }
  })();
  try {
    const output = (await execution.result) as Json;
    await collect;
    return { status: "SUCCEEDED", output, steps, ms: Date.now() - started };
  } catch (error) {
    await collect.catch(() => undefined);
    return { status: "FAILED", ...parseExecutionError(error as Error), steps, ms: Date.now() - started };
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
    glue.destroy();
    sns.destroy();
  }
}

/** aws-local-stepfunctions throws ExecutionError; its cause is the Fail state's error (name) and cause (message). */
function parseExecutionError(e: Error & { cause?: unknown }): { error: string; cause: string } {
  const inner = e.cause;
  return inner instanceof Error
    ? { error: inner.name, cause: inner.message }
    : { error: e.name, cause: e.message };
}
