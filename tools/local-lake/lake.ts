// The whole lake on one machine. moto as local AWS, the real terraform and provider
// (state bootstrap with local state, then the lake stack on its production S3 backend + DynamoDB lock living in
// moto), generated CMS files through the ingestion CLI, the Glue job scripts on local Spark over s3a, the smoke
// harness in local mode and the analyst queries on the local Athena engine.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  DeleteObjectsCommand,
  ListObjectVersionsCommand,
  type ObjectIdentifier,
  PutBucketLoggingCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { z } from "zod";
import { LOCAL_ENDPOINT_ENV, loadConfig } from "../../modules/config";
import { App } from "../../modules/core";
import { addEnvironment } from "../../stacks";
import { localAwsConfig } from "../../stacks/aws-provider";
import { bucketNames, type OutputValues, readLakeOutputs, type STACK_OUTPUTS } from "../../stacks/outputs";
import { type Dataset, datasetIds } from "../ingest/layouts";
import { localAwsEnv, type MotoServer, startMotoServer } from "../local-aws/moto-server";
import {
  driverOnFront,
  type GlueDriver,
  glueJobs,
  type JobScope,
  LocalJobFailed,
  scopedJobs,
  scopeOf,
  sparkEnv,
  startGlueDriver,
} from "./glue-driver";
import { exec, StepError, Steps } from "./steps";
import { startTlsFront } from "./tls-front";

export { glueJobs };
export const repoRoot = resolve(__dirname, "..", "..");
const python = join(repoRoot, ".venv", "bin", "python");
const tsx = join(repoRoot, "node_modules", ".bin", "tsx");

/** The analyst questions printed at the end, from sql/analytics/ (file stem). */
export const ANALYST_QUERIES = [
  "top_manufacturers_by_year",
  "nature_of_payment_breakdown",
  "payments_by_recipient_location",
] as const;
export type AnalystQuery = (typeof ANALYST_QUERIES)[number];

/** The sample publication: legacy layouts for an early year, modern layouts and removals for two recent ones. */
export interface SampleSpec {
  readonly rows: number;
  readonly legacyYears: readonly number[];
  readonly modernYears: readonly number[];
  readonly seed: number;
}

// 250 records per file keeps each file's quarantined share (the generator dirties record 3) under the jobs'
// 1% threshold from jobs.json even if that record is duplicated, so the jobs run with their real arguments.
export const DEFAULT_SAMPLES: SampleSpec = {
  rows: 250,
  legacyYears: [2015],
  modernYears: [2022, 2023],
  seed: 7,
};

export interface LakePaths {
  readonly workDir: string;
  readonly logDir: string;
  readonly synthDir: string;
  readonly bootstrapDir: string;
  readonly lakeDir: string;
  readonly samplesDir: string;
  readonly outputsFile: string;
  /** Written while `up` keeps the lake running: what `down` and `status` need. */
  readonly sessionFile: string;
  readonly smokeDir: string;
  /** The AWS shared config file whose profile points the local stacks' provider at moto (localAwsConfig). */
  readonly awsConfigFile: string;
}

/** Where a lake's files go: LOCAL_LAKE_DIR if set (tests keep theirs apart), else .build/local-lake. */
export function lakePaths(
  workDir = process.env.LOCAL_LAKE_DIR
    ? resolve(process.env.LOCAL_LAKE_DIR)
    : join(repoRoot, ".build", "local-lake"),
): LakePaths {
  const synthDir = join(workDir, "cdktf.out");
  return {
    workDir,
    logDir: join(workDir, "logs"),
    synthDir,
    bootstrapDir: join(synthDir, "stacks", "state-bootstrap-local"),
    lakeDir: join(synthDir, "stacks", "lake-local"),
    samplesDir: join(workDir, "samples"),
    outputsFile: join(workDir, "outputs.json"),
    sessionFile: join(workDir, "session.json"),
    smokeDir: join(workDir, "smoke"),
    awsConfigFile: join(workDir, "aws-config"),
  };
}

/** The lake stack's outputs the local lake reads (stacks/outputs.ts). */
export const LOCAL_LAKE_OUTPUTS = [
  "rawBucket",
  "cleanedBucket",
  "curatedBucket",
  "curatedDatabase",
  "dataKey",
  "cleanJob",
  "curateJob",
  "workflow",
] as const;
export type LakeOutputs = OutputValues<(typeof LOCAL_LAKE_OUTPUTS)[number]>;

export interface Session {
  readonly endpoint: string;
  readonly pid: number;
  readonly workDir: string;
}

/**
 * The environment every child gets: fake credentials, every AWS SDK and terraform's backend pointed at moto, and
 * the shared config file of the local stacks' provider profile (written by `synthesize`).
 */
export function localEnv(endpoint: string, paths: LakePaths): NodeJS.ProcessEnv {
  const tfrc = process.env.TF_CLI_CONFIG_FILE;
  return {
    ...process.env,
    ...localAwsEnv,
    [LOCAL_ENDPOINT_ENV]: endpoint,
    // The S3 backend of lake-local is the production block; only its endpoints come from the environment.
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    AWS_ENDPOINT_URL_STS: endpoint,
    AWS_ENDPOINT_URL_IAM: endpoint,
    AWS_CONFIG_FILE: paths.awsConfigFile,
    TF_CLI_CONFIG_FILE:
      tfrc?.endsWith(".tfrc") && existsSync(tfrc) ? tfrc : join(repoRoot, ".build", "terraform.tfrc"),
    TF_IN_AUTOMATION: "1",
    TF_INPUT: "0",
    NO_PROXY: ["127.0.0.1", process.env.NO_PROXY].filter(Boolean).join(","),
    ...sparkEnv(),
  };
}

/** Synthesizes the local environment and writes its provider profile, pointed at `endpoint`. */
export function synthesize(paths: LakePaths, endpoint: string): void {
  rmSync(paths.synthDir, { recursive: true, force: true });
  const config = loadConfig("local", { env: { [LOCAL_ENDPOINT_ENV]: endpoint } });
  const app = new App({ outdir: paths.synthDir });
  addEnvironment(app, config);
  app.synth();
  writeFileSync(paths.awsConfigFile, localAwsConfig(config.localEndpoint ?? endpoint));
}

export async function terraform(
  dir: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  log: string,
  step: string,
): Promise<string> {
  mkdirSync(join(dir, "..", "..", "plugin-cache"), { recursive: true });
  return exec("terraform", args, {
    cwd: dir,
    env: { ...env, TF_PLUGIN_CACHE_DIR: join(dir, "..", "..", "plugin-cache") },
    log,
    step,
    captureStdout: args[0] === "output" || args[0] === "state",
  });
}

/**
 * Resource types whose create the AWS provider follows with a fixed read-back wait that has nothing to do with
 * the API's answer: after PutBucketLifecycleConfiguration it waits 10 s, then needs 10 equal reads 5 s apart
 * (hashicorp/aws 5.100, waitLifecycleConfigEquals): 55 s per bucket, on AWS as on moto, with no setting to
 * change it. Nothing the lake runs depends on them, so `up` applies them in the background (see applyStacks).
 */
export const DEFERRED_RESOURCE_TYPES = ["aws_s3_bucket_lifecycle_configuration"] as const;

/** `<type>.<name>` of every resource of a synthesized stack except the deferred types. */
export function coreAddresses(stackDir: string): string[] {
  const config = JSON.parse(readFileSync(join(stackDir, "cdk.tf.json"), "utf8")) as {
    resource?: Record<string, Record<string, unknown>>;
  };
  return Object.entries(config.resource ?? {})
    .filter(([type]) => !(DEFERRED_RESOURCE_TYPES as readonly string[]).includes(type))
    .flatMap(([type, resources]) => Object.keys(resources).map((name) => `${type}.${name}`));
}

/** Outputs whose value is a literal in the synthesized stack, as `terraform output -json` gives them. */
function constantOutputs(stackDir: string): Record<string, { value: unknown }> {
  const config = JSON.parse(readFileSync(join(stackDir, "cdk.tf.json"), "utf8")) as {
    output?: Record<string, { value: unknown }>;
  };
  return Object.fromEntries(
    Object.entries(config.output ?? {})
      .filter(([, o]) => !JSON.stringify(o.value).includes("${"))
      .map(([name, o]) => [name, { value: o.value }]),
  );
}

export interface AppliedStacks {
  readonly outputs: LakeOutputs;
  /** The complete applies of both stacks, still running: the deferred resources (lifecycle rules). */
  readonly complete: Promise<void>;
}

/**
 * Applies both stacks. Each is applied in two runs of the same configuration: first every resource but the
 * deferred types (`-target`), which is everything the next stack and the lake's data steps need, then the
 * whole stack (only the deferred resources are left to create), in the background while `up` goes on. Both
 * runs use the stack's real backend and locking; `complete` settles when both whole applies are done, and
 * `up` waits for it before it reports success.
 */
export async function applyStacks(
  steps: Steps,
  paths: LakePaths,
  env: NodeJS.ProcessEnv,
): Promise<AppliedStacks> {
  const apply = ["apply", "-auto-approve", "-input=false"];
  const core = (dir: string) => [...apply, ...coreAddresses(dir).map((a) => `-target=${a}`)];
  await steps.run("bootstrap", "terraform apply state-bootstrap-local (local state)", async (log) => {
    await terraform(paths.bootstrapDir, ["init", "-input=false"], env, log, "bootstrap");
    await terraform(paths.bootstrapDir, core(paths.bootstrapDir), env, log, "bootstrap");
  });
  const bootstrapRest = steps.run(
    "bootstrap-lifecycle",
    "terraform apply state-bootstrap-local: lifecycle rules (in the background)",
    (log) => terraform(paths.bootstrapDir, apply, env, log, "bootstrap-lifecycle"),
  );
  bootstrapRest.catch(() => undefined); // awaited through `complete`
  try {
    const outputs = await steps.run(
      "lake",
      "terraform apply lake-local (S3 backend + DynamoDB lock in local AWS)",
      async (log) => {
        await terraform(
          paths.lakeDir,
          ["init", "-input=false", "-backend-config=use_path_style=true"],
          env,
          log,
          "lake",
        );
        await terraform(paths.lakeDir, core(paths.lakeDir), env, log, "lake");
        const raw = await terraform(paths.lakeDir, ["output", "-json"], env, log, "lake");
        // A targeted apply leaves out the outputs that depend on no targeted resource: the constant ones,
        // whose values the configuration states. The complete apply rewrites the file from terraform's own.
        writeOutputs(paths, JSON.stringify({ ...constantOutputs(paths.lakeDir), ...JSON.parse(raw) }));
        return readOutputs(paths.outputsFile);
      },
    );
    const lakeRest = steps.run(
      "lake-lifecycle",
      "terraform apply lake-local: lifecycle rules (in the background)",
      async (log) => {
        await terraform(paths.lakeDir, apply, env, log, "lake-lifecycle");
        writeOutputs(paths, await terraform(paths.lakeDir, ["output", "-json"], env, log, "lake-lifecycle"));
      },
    );
    const complete = Promise.all([bootstrapRest, lakeRest]).then(() => undefined);
    complete.catch(() => undefined); // the caller awaits it
    return { outputs, complete };
  } catch (error) {
    await bootstrapRest.catch(() => undefined);
    throw error;
  }
}

/** Replaces outputs.json at once: the ingestion CLI may be reading it while the complete apply rewrites it. */
function writeOutputs(paths: LakePaths, json: string): void {
  const partial = `${paths.outputsFile}.partial`;
  writeFileSync(partial, json);
  renameSync(partial, paths.outputsFile);
}

/** The lake stack's `terraform output -json` saved by `up`. */
export function readOutputs(file: string): LakeOutputs {
  return readLakeOutputs(JSON.parse(readFileSync(file, "utf8")), LOCAL_LAKE_OUTPUTS);
}

export async function generateSamples(steps: Steps, paths: LakePaths, spec: SampleSpec): Promise<void> {
  await steps.run(
    "samples",
    "generate sample CMS files (legacy and modern layouts, removals)",
    async (log) => {
      rmSync(paths.samplesDir, { recursive: true, force: true });
      for (const [kind, years] of [
        ["legacy", spec.legacyYears],
        ["modern", spec.modernYears],
      ] as const) {
        if (years.length === 0) continue;
        const args = [join(repoRoot, "glue-scripts", "sample_data.py"), "--out", paths.samplesDir];
        args.push("--rows", String(spec.rows), "--seed", String(spec.seed), "--years", years.join(","));
        // A kind: each dataset's layout of that generation, with the removed/deleted records' (sample_data.py).
        args.push("--layouts", kind, "--dirty-every", "1000");
        await exec(python, args, { cwd: repoRoot, env: process.env, log, step: "samples" });
      }
    },
  );
}

/** The ingestion CLI's --json: every file's outcome; a verified file names its dataset and program year. */
const ingestOutcome = z.object({ status: z.string(), file: z.unknown().optional() });
const verifiedFile = z.object({
  dataset: z.enum(datasetIds as [Dataset, ...Dataset[]]),
  programYear: z.number().int(),
});

/**
 * The ingestion CLI, exactly as in production (`ingest --outputs`), on CMS files, ZIPs or folders. Returns the
 * files it verified in raw/ this time (an unchanged file is not among them).
 */
export async function ingest(
  steps: Steps,
  paths: LakePaths,
  env: NodeJS.ProcessEnv,
  sources: readonly string[],
  what = "the sample files",
): Promise<{ dataset: Dataset; programYear: number }[]> {
  const out = await steps.run("ingest", `ingest ${what} into raw/ (ingestion CLI)`, (log) =>
    exec(
      tsx,
      [
        "tools/ingest/cli.ts",
        "ingest",
        "--json",
        "--outputs",
        paths.outputsFile,
        "--endpoint",
        env[LOCAL_ENDPOINT_ENV] ?? "",
        ...sources.map((source) => resolve(source)),
      ],
      { cwd: repoRoot, env, log, step: "ingest", captureStdout: true },
    ),
  );
  return z
    .array(ingestOutcome)
    .parse(JSON.parse(out))
    .flatMap((outcome) => (outcome.status === "verified" ? [verifiedFile.parse(outcome.file)] : []));
}

/**
 * Runs the Glue jobs of glue-scripts/jobs.json in order, each through its own entry script with the arguments
 * jobs.json gives it, in one local Spark driver (glue-driver.ts): the JVM, hadoop-aws and S3A start once, not
 * once per job. Steps: the driver's start, then each job; a failing job fails its step and ends the run.
 */
/** The lake's Glue jobs' local runner: one Spark driver on the TLS front for S3A (closing it closes both). */
export interface LakeSpark {
  readonly driver: GlueDriver;
  /** The driver's log (every job's output). */
  readonly log: string;
}

/**
 * Starts the TLS front and the Spark driver. They need only the local AWS, not the lake (each job run names the
 * data key), so `up` starts them while terraform applies, which mostly waits on the provider's polling.
 */
export async function startSpark(
  steps: Steps,
  paths: LakePaths,
  env: NodeJS.ProcessEnv,
  motoPort: number,
): Promise<LakeSpark> {
  const front = await steps.run("tls-front", "TLS front for Spark's S3A (SSE-KMS needs HTTPS)", (log) =>
    startTlsFront(motoPort, paths.workDir, log, "tls-front"),
  );
  const log = steps.logFile("glue");
  const driver = await driverOnFront(front, () =>
    steps.run("spark", "local Spark driver for the Glue jobs (JVM, hadoop-aws, S3A)", () =>
      startGlueDriver({ front, env, log, step: "glue" }),
    ),
  );
  return { driver, log };
}

/** A scope in words, e.g. "ownership 2020, 2021". */
export function describeScope(scope: JobScope): string {
  return `${scope.datasets.join(", ")} ${scope.programYears.join(", ")}`;
}

/**
 * Both Glue jobs of glue-scripts/jobs.json, one after the other, with the lake's buckets and data key; limited to
 * `scope`'s datasets and program years when given (jobs.json's `all` otherwise).
 */
export async function runGlueJobs(
  steps: Steps,
  spark: LakeSpark,
  outputs: LakeOutputs,
  scope?: JobScope,
): Promise<void> {
  const jobs = scope ? scopedJobs(glueJobs(outputs), scope) : glueJobs(outputs);
  const over = scope ? ` (${describeScope(scope)})` : "";
  for (const job of jobs) {
    const step = `glue-${job.id}`;
    const script = join(repoRoot, "glue-scripts", job.script);
    await steps.run(step, `Glue job ${job.id} (${job.script}) on local Spark over s3a${over}`, () =>
      spark.driver
        .run({ id: job.id, script, arguments: job.arguments, dataKeyArn: outputs.dataKey })
        .catch((error: Error) => {
          throw error instanceof LocalJobFailed ? new StepError(step, spark.log, error.error) : error;
        }),
    );
  }
}

export async function smoke(steps: Steps, paths: LakePaths, env: NodeJS.ProcessEnv): Promise<string> {
  return steps.run("smoke", "smoke checks (local mode)", async (log) => {
    const args = ["tools/smoke/cli.ts", "--local", "--outputs", paths.outputsFile];
    args.push("--endpoint", env[LOCAL_ENDPOINT_ENV] ?? "");
    args.push("--json-report", join(paths.smokeDir, "report.json"));
    args.push("--junit", join(paths.smokeDir, "junit.xml"));
    return exec(tsx, args, { cwd: repoRoot, env, log, step: "smoke", captureStdout: true });
  });
}

/** A result of the local Athena engine (tools/local-athena). */
export interface QueryAnswer {
  readonly columns: { name: string; type: string }[];
  readonly rows: unknown[][];
}

export async function analystAnswers(
  steps: Steps,
  env: NodeJS.ProcessEnv,
  outputs: LakeOutputs,
): Promise<Record<AnalystQuery, QueryAnswer>> {
  return steps.run(
    "analytics",
    "analyst questions (sql/analytics on the local Athena engine)",
    async (log) => {
      const answers = {} as Record<AnalystQuery, QueryAnswer>;
      for (const name of ANALYST_QUERIES) {
        const args = [join(repoRoot, "tools", "local-athena", "local_athena.py")];
        args.push("--warehouse", `s3://${outputs.curatedBucket}/curated/`);
        args.push("--s3-endpoint", env[LOCAL_ENDPOINT_ENV] ?? "", "--database", outputs.curatedDatabase);
        args.push("--file", join(repoRoot, "sql", "analytics", `${name}.sql`));
        const out = await exec(python, args, {
          cwd: repoRoot,
          env,
          log,
          step: "analytics",
          captureStdout: true,
        });
        answers[name] = JSON.parse(out) as QueryAnswer;
      }
      return answers;
    },
  );
}

/** One dashboard's answer from the PostgreSQL marts beside the same answer from curated (tools/warehouse). */
export interface WarehouseAnswer {
  readonly dashboard: string;
  readonly parameters: Record<string, string>;
  /** The reconciled load: curated's general payments and dollars, all years (decimal text). */
  readonly load: { readonly payments: number; readonly total_usd: string };
  /** Rows as text (decimals exact): from the marts, and from curated on the local Athena engine. */
  readonly marts: string[][];
  readonly curated: string[][];
  readonly equal: boolean;
}

/**
 * The serving warehouse on a real local PostgreSQL (docs/warehouse.md): `tools/warehouse/cli.py local` starts
 * a throw-away server, applies the migrations, loads the marts from the curated zone in local AWS's S3
 * (reconciled with curated to the cent) and answers one dashboard from the marts and from curated; it exits 1,
 * failing the step, when the two answers differ.
 */
export async function warehouseAnswer(
  steps: Steps,
  env: NodeJS.ProcessEnv,
  outputs: LakeOutputs,
): Promise<WarehouseAnswer> {
  return steps.run(
    "warehouse",
    "serving warehouse: local PostgreSQL, migrations, marts from curated, one dashboard",
    async (log) => {
      const args = [join(repoRoot, "tools", "warehouse", "cli.py"), "local", "--json"];
      args.push("--curated", `s3://${outputs.curatedBucket}/curated/`);
      args.push("--s3-endpoint", env[LOCAL_ENDPOINT_ENV] ?? "");
      const out = await exec(python, args, {
        cwd: repoRoot,
        env,
        log,
        step: "warehouse",
        captureStdout: true,
      });
      return JSON.parse(out) as WarehouseAnswer;
    },
  );
}

function s3(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: localAwsEnv.AWS_REGION,
    forcePathStyle: true,
    credentials: {
      accessKeyId: localAwsEnv.AWS_ACCESS_KEY_ID,
      secretAccessKey: localAwsEnv.AWS_SECRET_ACCESS_KEY,
    },
  });
}

/**
 * Deletes every object version of a bucket. The buckets are versioned and deliberately have no force_destroy
 * (production keeps data on a destroy); the local lake's data is disposable, so `down` empties them first.
 */
export async function emptyBucket(endpoint: string, bucket: string): Promise<void> {
  const client = s3(endpoint);
  for (;;) {
    const page = await client.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    const objects: ObjectIdentifier[] = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map(
      (v) => ({
        Key: v.Key ?? "",
        VersionId: v.VersionId,
      }),
    );
    if (objects.length === 0) return;
    await client.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }),
    );
  }
}

/**
 * Destroys one stack on the local AWS. What differs from a plain `terraform destroy`, each because of what the
 * local lake is, none hidden:
 * - the buckets are emptied first (versioned, no force_destroy by design; local data is disposable);
 * - their server access logging is switched off through the S3 API before that: moto writes an access-log
 *   object for every request, so a logs bucket emptied while logging is on fills up again during the destroy
 *   and cannot be deleted (terraform then deletes the already empty logging configuration);
 * - Athena named queries are dropped from the state instead of deleted: moto (5.2.5) implements no
 *   DeleteNamedQuery. They live only in moto's memory and go when it stops;
 * - key policies are dropped from the state too: their key's scheduled deletion (which terraform does) takes
 *   them with it, while the provider's delete first puts the default policy back and then waits for it to read
 *   back the same several times, 1 s apart (about 4 s on the critical path of each stack);
 * - no refresh before the destroy (`-refresh=false`): the local AWS holds only what these stacks created, so
 *   the state is current, and a refresh reads every resource back once more for nothing.
 * The state is read once (`state pull`: outputs and resources): every terraform command costs its start-up.
 */
async function destroyStack(
  dir: string,
  stack: keyof typeof STACK_OUTPUTS,
  env: NodeJS.ProcessEnv,
  endpoint: string,
  log: string,
  step: string,
): Promise<void> {
  const tf = (args: string[]) => terraform(dir, args, env, log, step);
  const state = terraformState.parse(JSON.parse(await tf(["state", "pull"])));
  const buckets = bucketNames(stack, state.outputs);
  const client = s3(endpoint);
  await Promise.all(
    buckets.map((bucket) =>
      client.send(new PutBucketLoggingCommand({ Bucket: bucket, BucketLoggingStatus: {} })),
    ),
  );
  await Promise.all(buckets.map((bucket) => emptyBucket(endpoint, bucket)));
  const dropped = state.resources
    .filter((r) => r.mode === "managed" && DROPPED_FROM_STATE.includes(r.type))
    .map((r) => [r.module, r.type, r.name].filter(Boolean).join("."));
  if (dropped.length > 0) await tf(["state", "rm", ...dropped]);
  await tf(["destroy", "-auto-approve", "-input=false", "-refresh=false"]);
}

/** Resource types `destroyStack` drops from the state instead of destroying (why: its doc comment). */
const DROPPED_FROM_STATE: readonly string[] = ["aws_athena_named_query", "aws_kms_key_policy"];

/** The parts of `terraform state pull` that a destroy reads. */
const terraformState = z.object({
  outputs: z.record(z.string(), z.unknown()).default({}),
  resources: z
    .array(z.object({ mode: z.string(), type: z.string(), name: z.string(), module: z.string().optional() }))
    .default([]),
});

export async function destroyStacks(
  steps: Steps,
  paths: LakePaths,
  env: NodeJS.ProcessEnv,
  endpoint: string,
): Promise<void> {
  await steps.run("destroy-lake", "terraform destroy lake-local (buckets emptied first)", (log) =>
    destroyStack(paths.lakeDir, "lake", env, endpoint, log, "destroy-lake"),
  );
  await steps.run("destroy-bootstrap", "terraform destroy state-bootstrap-local", (log) =>
    destroyStack(paths.bootstrapDir, "state-bootstrap", env, endpoint, log, "destroy-bootstrap"),
  );
}

export interface UpOptions {
  readonly paths?: LakePaths;
  /** moto's port; default: the port of config/local.json's localEndpoint. */
  readonly port?: number;
  readonly samples?: SampleSpec;
  /** CMS files, ZIPs or folders to ingest instead of generated samples. */
  readonly files?: readonly string[];
  readonly print?: (line: string) => void;
}

export interface RunningLake {
  readonly moto: MotoServer;
  readonly paths: LakePaths;
  readonly env: NodeJS.ProcessEnv;
  readonly outputs: LakeOutputs;
  readonly smokeOutput: string;
  readonly answers: Record<AnalystQuery, QueryAnswer>;
  readonly warehouse: WarehouseAnswer;
  readonly steps: Steps;
}

export function defaultPort(): number {
  return Number(new URL(loadConfig("local", { env: {} }).localEndpoint ?? "").port);
}

/** Brings the whole lake up and runs it; moto keeps running as long as this process (the caller stops it or
 * tears the stacks down). */
export async function up(options: UpOptions = {}): Promise<RunningLake> {
  const paths = options.paths ?? lakePaths();
  rmSync(paths.logDir, { recursive: true, force: true });
  const steps = new Steps(paths.logDir, options.print);
  const port = options.port ?? defaultPort();
  const moto = await steps.run("moto", `start local AWS (moto on 127.0.0.1:${port})`, async (log) =>
    startMotoServer({ port, logFile: log }),
  );
  let complete: Promise<void> | undefined;
  let spark: Promise<LakeSpark> | undefined;
  try {
    const env = localEnv(moto.endpoint, paths);
    await steps.run("synth", "synthesize the local environment (cdktf)", async () =>
      synthesize(paths, moto.endpoint),
    );
    spark = startSpark(steps, paths, env, moto.port);
    spark.catch(() => undefined); // awaited below, or closed on the way out
    const applied = await applyStacks(steps, paths, env);
    complete = applied.complete;
    const { outputs } = applied;
    if (options.files) {
      await ingest(steps, paths, env, options.files, "the given files");
    } else {
      await generateSamples(steps, paths, options.samples ?? DEFAULT_SAMPLES);
      await ingest(steps, paths, env, [paths.samplesDir]);
    }
    const running = await spark;
    spark = undefined;
    try {
      await runGlueJobs(steps, running, outputs);
    } finally {
      await running.driver.close();
    }
    const smokeOutput = await smoke(steps, paths, env);
    const answers = await analystAnswers(steps, env, outputs);
    const warehouse = await warehouseAnswer(steps, env, outputs);
    await complete;
    return { moto, paths, env, outputs, smokeOutput, answers, warehouse, steps };
  } catch (error) {
    await spark?.then((s) => s.driver.close()).catch(() => undefined);
    await complete?.catch(() => undefined); // no terraform left running against a stopped moto
    await moto.stop();
    throw error;
  }
}

export interface RerunOptions {
  readonly paths?: LakePaths;
  /** The running lake's local AWS (session.json). */
  readonly endpoint: string;
  /** New CMS files, ZIPs or folders to ingest first (none: the jobs run on what raw/ holds). */
  readonly files: readonly string[];
  readonly print?: (line: string) => void;
}

export interface Rerun {
  readonly steps: Steps;
  /** The partitions the jobs ran over; undefined: all of them. */
  readonly scope?: JobScope;
  readonly smokeOutput: string;
  readonly answers: Record<AnalystQuery, QueryAnswer>;
}

/**
 * On a running lake: ingest new files, run both Glue jobs over the partitions they went into (all of them when
 * no file was new), run the smoke checks again, answer the analysts.
 */
export async function rerun(options: RerunOptions): Promise<Rerun> {
  const paths = options.paths ?? lakePaths();
  const steps = new Steps(join(paths.logDir, "run"), options.print);
  const env = localEnv(options.endpoint, paths);
  const outputs = readOutputs(paths.outputsFile);
  const ingested =
    options.files.length > 0 ? await ingest(steps, paths, env, options.files, "the given files") : [];
  const scope = scopeOf(ingested);
  const spark = await startSpark(steps, paths, env, Number(new URL(options.endpoint).port));
  try {
    await runGlueJobs(steps, spark, outputs, scope);
  } finally {
    await spark.driver.close();
  }
  const smokeOutput = await smoke(steps, paths, env);
  const answers = await analystAnswers(steps, env, outputs);
  return { steps, scope, smokeOutput, answers };
}

/** An Athena (Trino) query on the running lake's curated tables, on the local Athena engine. */
export async function queryLake(paths: LakePaths, endpoint: string, sql: string): Promise<QueryAnswer> {
  const outputs = readOutputs(paths.outputsFile);
  mkdirSync(paths.logDir, { recursive: true });
  const out = await exec(
    python,
    [
      join(repoRoot, "tools", "local-athena", "local_athena.py"),
      ...["--warehouse", `s3://${outputs.curatedBucket}/curated/`, "--s3-endpoint", endpoint],
      ...["--database", outputs.curatedDatabase, "--sql", sql],
    ],
    {
      cwd: repoRoot,
      env: localEnv(endpoint, paths),
      log: join(paths.logDir, "query.log"),
      step: "query",
      captureStdout: true,
    },
  );
  return JSON.parse(out) as QueryAnswer;
}
