import "./promise-with-resolvers";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import {
  GetCrawlerCommand,
  GetJobCommand,
  GetJobRunCommand,
  GlueClient,
  StartCrawlerCommand,
  StartJobRunCommand,
} from "@aws-sdk/client-glue";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { StateMachine } from "aws-local-stepfunctions";
import { unzipSync } from "fflate";
import type { AslDefinition, Json } from "../../modules/orchestration/definition";
import { STEP } from "../../modules/orchestration/definition";
import { BUNDLE_MAIN, buildBundle, INGEST_BUILD_COMMAND } from "../../modules/orchestration/lambda-bundle";
import { LocalJobFailed } from "../local-lake/glue-driver";
import { handler as discover } from "./handlers/discover";
import { HANDLER_ENV, type HandlerSetting } from "./handlers/environment";
import { handler as ingest } from "./handlers/ingest";
import { handler as smoke } from "./handlers/smoke";
import type { LocalSpark } from "./local-spark";

export interface LocalRunOptions {
  readonly definition: AslDefinition;
  readonly input: Json;
  /** moto's endpoint: every AWS call of the handlers and of the service integrations goes there. */
  readonly endpoint: string;
  readonly region: string;
  /** The handlers' settings, as the cdktf module sets them on the functions. */
  readonly settings: Partial<Record<HandlerSetting, string>>;
  /**
   * Runs the Glue tasks' job runs for real: each run executes the job's script (downloaded from the job's
   * ScriptLocation in moto's S3) on this local Spark, with the job's DefaultArguments and the task's Arguments,
   * as Glue does. Unset: moto's StartJobRun/GetJobRun alone, which step through states and run nothing.
   */
  readonly spark?: LocalSpark;
  /** Milliseconds each Wait state and moto Glue poll waits locally (default 50). */
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

/** Turns an SDK error of a Glue call into the error Step Functions reports (`Glue.<Exception>`). */
const glueError = (error: Error): never => {
  throw stateError(`Glue.${error.name}`, error.message);
};

/**
 * `glue:startJobRun.sync` against moto alone: starts the run, polls GetJobRun until it ends, and fails the task as
 * Step Functions does (States.TaskFailed, the run as the cause) unless it SUCCEEDED. moto runs no script.
 */
function motoJobTask(glue: GlueClient, pollMs: number): Task {
  return async (input) => {
    const jobName = String(asObject(input).JobName);
    const { JobRunId } = await glue.send(new StartJobRunCommand({ JobName: jobName })).catch(glueError);
    for (;;) {
      const { JobRun } = await glue.send(new GetJobRunCommand({ JobName: jobName, RunId: JobRunId }));
      const run = sdkJson(JobRun ?? {}) as JsonObject;
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
 * `glue:startJobRun.sync` bound to local Spark: reads the job from moto's Glue (GetJob), downloads its script from
 * its ScriptLocation, and runs it in the local Spark driver with the arguments Glue would pass (the job's
 * DefaultArguments, overridden by the task's Arguments). The output is the run as GetJobRun describes it; a script
 * that fails fails the task as Step Functions does: States.TaskFailed, the FAILED run (its ErrorMessage the
 * script's exception) as the cause.
 */
function sparkJobTask(glue: GlueClient, s3: S3Client, spark: LocalSpark): Task {
  return async (input) => {
    const task = asObject(input);
    const jobName = String(task.JobName);
    const { Job } = await glue.send(new GetJobCommand({ JobName: jobName })).catch(glueError);
    const args: Record<string, string> = {
      ...(Job?.DefaultArguments ?? {}),
      ...Object.fromEntries(Object.entries(asObject(task.Arguments ?? {})).map(([k, v]) => [k, String(v)])),
    };
    const id = `jr_local_${randomUUID().replaceAll("-", "")}`;
    const dir = join(spark.workDir, id);
    const startedOn = new Date().toISOString();
    const run = (state: string, seconds: number, error?: string): JsonObject => ({
      Id: id,
      Attempt: 0,
      JobName: jobName,
      Arguments: args,
      StartedOn: startedOn,
      CompletedOn: new Date().toISOString(),
      JobRunState: state,
      ExecutionTime: Math.round(seconds),
      ...(error === undefined ? {} : { ErrorMessage: error }),
    });
    try {
      const script = await downloadScript(s3, String(Job?.Command?.ScriptLocation), dir);
      const { seconds } = await spark.driver.run({
        id,
        script,
        arguments: args,
        dataKeyArn: spark.dataKeyArn,
      });
      return run("SUCCEEDED", seconds);
    } catch (error) {
      if (error instanceof LocalJobFailed) {
        throw stateError("States.TaskFailed", JSON.stringify(run("FAILED", error.seconds, error.error)));
      }
      // The run could not start or the driver died: Glue reports such a run FAILED too.
      throw stateError("States.TaskFailed", JSON.stringify(run("FAILED", 0, (error as Error).message)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** The job's script from its ScriptLocation (s3://bucket/key), as Glue fetches it before a run. */
async function downloadScript(s3: S3Client, location: string, dir: string): Promise<string> {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(location);
  if (!match) throw new Error(`the job's ScriptLocation is not an s3:// URI: ${location}`);
  const { Body } = await s3.send(new GetObjectCommand({ Bucket: match[1], Key: match[2] }));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, basename(match[2]));
  writeFileSync(file, await (Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
  return file;
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
 * process, the CodeBuild task runs the ingest CLI bundle, the Glue jobs run on `spark` (or moto alone), the
 * crawler and SNS integrations call moto, all against `endpoint`.
 * Returns the outcome and each state's duration, in the order the states ended.
 */
export async function runRefreshLocally(options: LocalRunOptions): Promise<LocalRunResult> {
  const pollMs = options.pollMs ?? 50;
  const client = { endpoint: options.endpoint, region: options.region, maxAttempts: 2 };
  const glue = new GlueClient(client);
  const sns = new SNSClient(client);
  const s3 = new S3Client({ ...client, forcePathStyle: true });
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
  const glueJob = options.spark ? sparkJobTask(glue, s3, options.spark) : motoJobTask(glue, pollMs);
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
  const machine = new StateMachine(withAwsTaskTimeouts(options.definition) as never, {
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
    s3.destroy();
  }
}

/**
 * A Task state without TimeoutSeconds has none to speak of on AWS (the default is 99,999,999 s), but 60 s in
 * aws-local-stepfunctions 3.0.0, which would time a local Spark run out. Each such Task gets the longest timer
 * Node can set (2^31-1 ms, 24 days) instead; states that set a timeout keep theirs.
 */
export function withAwsTaskTimeouts(definition: AslDefinition): AslDefinition {
  type Machine = { States: Record<string, Record<string, unknown>> };
  const patch = (machine: Machine): Machine => ({
    ...machine,
    States: Object.fromEntries(
      Object.entries(machine.States).map(([name, state]) => {
        const out = { ...state };
        if (out.Type === "Task" && out.TimeoutSeconds === undefined && out.TimeoutSecondsPath === undefined) {
          out.TimeoutSeconds = NODE_MAX_TIMEOUT_SECONDS;
        }
        for (const key of ["ItemProcessor", "Iterator"]) {
          if (out[key]) out[key] = patch(out[key] as Machine);
        }
        if (Array.isArray(out.Branches)) out.Branches = (out.Branches as Machine[]).map(patch);
        return [name, out];
      }),
    ),
  });
  return patch(definition as unknown as Machine) as unknown as AslDefinition;
}

const NODE_MAX_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** aws-local-stepfunctions throws ExecutionError; its cause is the Fail state's error (name) and cause (message). */
function parseExecutionError(e: Error & { cause?: unknown }): { error: string; cause: string } {
  const inner = e.cause;
  return inner instanceof Error
    ? { error: inner.name, cause: inner.message }
    : { error: e.name, cause: e.message };
}
