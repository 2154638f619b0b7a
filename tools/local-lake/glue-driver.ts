// The local stand-in for Glue's job runner, shared by the local lake (lake.ts) and the refresh state machine's
// local run (tools/orchestration/local-run.ts): one spark-submit of glue_local.py (the .venv's pyspark, hadoop-aws
// over s3a to moto through the TLS front), which then runs job after job, each through its own entry script as
// `__main__` with exactly the arguments it is given, as Glue runs a job's script.
import { existsSync, readFileSync } from "node:fs";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { join } from "node:path";
import { GLUE_TEMP_PREFIX, loadGlueJobs, resolveArguments } from "../../modules/etl";
import { type Dataset, datasets } from "../ingest/layouts";
import { localAwsEnv } from "../local-aws/moto-server";
import { type ChildEvent, startWithEvents } from "./steps";
import type { TlsFront } from "./tls-front";

const repoRoot = join(__dirname, "..", "..");

// S3A and its dependencies, pinned in jars.lock (with why these versions) and fetched by `make setup`.
const S3A_ARTIFACTS = ["hadoop-aws", "aws-java-sdk-bundle", "wildfly-openssl"];

/** The jars of these artifacts as scripts/fetch-jars.sh places them, from jars.lock; names a missing one. */
export function lockedJars(artifacts: readonly string[], root = repoRoot): string[] {
  const pinned = new Map<string, string>();
  for (const line of readFileSync(join(root, "jars.lock"), "utf8").split("\n")) {
    if (!line.trim() || line.startsWith("#")) continue;
    const [, artifact, version] = line.split(/\s+/)[0].split(":");
    pinned.set(artifact, join(root, ".build", "jars", `${artifact}-${version}.jar`));
  }
  return artifacts.map((artifact) => {
    const jar = pinned.get(artifact);
    if (jar === undefined) throw new Error(`${artifact} is not pinned in ${join(root, "jars.lock")}`);
    if (!existsSync(jar)) {
      throw new Error(`${jar} is missing: run 'make setup' (scripts/fetch-jars.sh fetches jars.lock)`);
    }
    return jar;
  });
}

/** What the driver's processes need: Spark's home, the .venv's Python, the jobs' package (Glue's --extra-py-files). */
export function sparkEnv(): NodeJS.ProcessEnv {
  return {
    SPARK_HOME: join(repoRoot, ".venv", "lib", "python3.11", "site-packages", "pyspark"),
    PYSPARK_PYTHON: join(repoRoot, ".venv", "bin", "python"),
    // Spark's Python workers import the jobs' package from here, as Glue does from --extra-py-files.
    PYTHONPATH: join(repoRoot, "glue-scripts"),
  };
}

/** A job of glue-scripts/jobs.json, its arguments filled for one lake. */
export interface GlueJob {
  readonly id: string;
  /** The entry script's file name in glue-scripts/. */
  readonly script: string;
  readonly arguments: Record<string, string>;
}

/** The jobs of glue-scripts/jobs.json with their placeholders filled from the lake's buckets, as modules/etl does. */
export function glueJobs(buckets: {
  readonly rawBucket: string;
  readonly cleanedBucket: string;
  readonly curatedBucket: string;
}): GlueJob[] {
  const placeholders = {
    raw_bucket: buckets.rawBucket,
    cleaned_bucket: buckets.cleanedBucket,
    curated_bucket: buckets.curatedBucket,
  };
  return loadGlueJobs(join(repoRoot, "glue-scripts")).map((job) => ({
    id: job.id,
    script: job.script,
    arguments: {
      ...resolveArguments(job.arguments, placeholders),
      // Glue's scratch location, where the ETL module points it (modules/etl).
      "--TempDir": `s3://${buckets.cleanedBucket}/${GLUE_TEMP_PREFIX}/${job.id}/`,
    },
  }));
}

/** The (dataset, program year) partitions a run of the jobs is limited to: those new files went into. */
export interface JobScope {
  readonly datasets: readonly Dataset[];
  readonly programYears: readonly number[];
}

/** The scope of these ingested files: their datasets and program years (none: no scope, the jobs take all). */
export function scopeOf(files: readonly { dataset: Dataset; programYear: number }[]): JobScope | undefined {
  if (files.length === 0) return undefined;
  return {
    datasets: [...new Set(files.map((f) => f.dataset))].sort(),
    programYears: [...new Set(files.map((f) => f.programYear))].sort((a, b) => a - b),
  };
}

/** The job that reads cleaned data and selects among the datasets with a curated table (jobs.json). */
const CURATE_JOB = "curate";

/**
 * The jobs with their --datasets and --program_years limited to `scope`. The curate job selects among datasets
 * with a curated table: the scope's, or every one when the scope holds one without (removed/deleted records
 * apply to all of them).
 */
export function scopedJobs(jobs: readonly GlueJob[], scope: JobScope): GlueJob[] {
  const curated = scope.datasets.every((d) => datasets[d].curatedTable !== null) ? scope.datasets : undefined;
  const limits = (job: GlueJob): Record<string, string> => ({
    "--datasets": (job.id === CURATE_JOB ? curated : scope.datasets)?.join(",") ?? "all",
    "--program_years": scope.programYears.join(","),
  });
  // Only the selections a job takes: a job without them runs as jobs.json says.
  return jobs.map((job) => ({
    ...job,
    arguments: {
      ...job.arguments,
      ...Object.fromEntries(Object.entries(limits(job)).filter(([name]) => name in job.arguments)),
    },
  }));
}

/**
 * spark-submit settings that make the jobs' s3:// paths reach moto's S3 through s3a, over the TLS front. The
 * data key is not among them: each run names it (LocalJobRun.dataKeyArn), so the driver can start before the
 * lake that creates the key is applied.
 */
export function sparkSubmitArgs(front: TlsFront): string[] {
  const conf = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.hadoop.fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
    "spark.hadoop.fs.s3a.endpoint": front.endpoint,
    "spark.hadoop.fs.s3a.path.style.access": "true",
    "spark.hadoop.fs.s3a.connection.ssl.enabled": "true",
    // Plain JSSE (honours the trust store below) rather than the optional native OpenSSL binding.
    "spark.hadoop.fs.s3a.ssl.channel.mode": "default_jsse",
    "spark.hadoop.fs.s3a.access.key": localAwsEnv.AWS_ACCESS_KEY_ID,
    "spark.hadoop.fs.s3a.secret.key": localAwsEnv.AWS_SECRET_ACCESS_KEY,
    "spark.hadoop.fs.s3a.aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
  };
  const args = [
    "--master",
    "local[2]",
    "--driver-memory",
    "1g",
    "--jars",
    lockedJars(S3A_ARTIFACTS).join(","),
  ];
  const jvm = [
    `-Djavax.net.ssl.trustStore=${front.trustStore}`,
    `-Djavax.net.ssl.trustStorePassword=${front.trustStorePassword}`,
    // The serial collector suits a 1 GB heap on 2 cores. The optimizing JIT (C2) stays on: it costs CPU, but
    // it compiles on the other core while the driver plans, and on a quiet machine both jobs finish sooner with
    // it (clean 54 -> 45 s, curate 27 -> 22 s; tools/local-lake/README.md).
    "-XX:+UseSerialGC",
  ];
  args.push("--driver-java-options", jvm.join(" "));
  for (const [k, v] of Object.entries(conf)) args.push("--conf", `${k}=${v}`);
  return args;
}

/** One job run: its entry script (a local file) and the arguments Glue would pass it. */
export interface LocalJobRun {
  /** Names the run in the driver's progress (unique among the runs of one driver). */
  readonly id: string;
  readonly script: string;
  readonly arguments: Readonly<Record<string, string>>;
  /**
   * The key of the job's security configuration: S3A writes every object of the run with it (SSE-KMS), as the
   * lake's Glue security configuration makes Glue do. One driver serves one key: a run naming another fails.
   */
  readonly dataKeyArn: string;
}

/** The job's script ended with an error (the message is the exception, its traceback is in the driver's log). */
export class LocalJobFailed extends Error {
  override readonly name = "LocalJobFailed";
  constructor(
    readonly run: string,
    readonly error: string,
    readonly seconds: number,
    readonly log: string,
  ) {
    super(`job run ${run} failed after ${seconds} s: ${error}\n  log: ${log}`);
  }
}

export interface GlueDriver {
  /** Runs one job to its end; rejects with LocalJobFailed if its script fails (the driver serves on). */
  run(job: LocalJobRun): Promise<{ seconds: number }>;
  /** Ends the driver (its input closed, then its exit awaited; killed if it does not exit). */
  close(): Promise<void>;
}

export interface GlueDriverOptions {
  readonly front: TlsFront;
  /** Environment of the driver: local AWS credentials and sparkEnv() (lake.ts localEnv has both). */
  readonly env: NodeJS.ProcessEnv;
  /** The driver's whole output, every job's log and traceback included. */
  readonly log: string;
  /** Names the driver in a StepError if it ends unexpectedly. */
  readonly step: string;
}

/**
 * Starts the driver and waits until its Spark session is up. Runs are served one after the other, in the order
 * they were asked for; a job that fails leaves the driver running for the next one. Requests go over a loopback
 * TCP connection the driver opens to us: spark-submit does not pass its stdin on to the Python driver.
 */
export async function startGlueDriver(options: GlueDriverOptions): Promise<GlueDriver> {
  const server = createServer();
  const connected = new Promise<Socket>((ok) => server.once("connection", ok));
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => ok());
  });
  const child = startWithEvents(
    join(repoRoot, ".venv", "bin", "spark-submit"),
    [
      ...sparkSubmitArgs(options.front),
      join(repoRoot, "tools", "local-lake", "glue_local.py"),
      String((server.address() as AddressInfo).port),
    ],
    { cwd: repoRoot, env: options.env, log: options.log, step: options.step },
  );
  let requests: Socket;
  try {
    await child.next((e) => e.event === "ready");
    requests = await connected;
  } catch (error) {
    await child.stop();
    throw error;
  } finally {
    server.close(); // one connection: no other comes
  }
  // A driver that ended early resets the connection: its exit is what `next()` and `exited` report.
  requests.on("error", () => undefined);
  let queue: Promise<unknown> = Promise.resolve();
  const ended = (job: LocalJobRun) => (e: ChildEvent) =>
    e.job === job.id && (e.event === "done" || e.event === "failed");
  return {
    run(job) {
      const result = queue.then(async () => {
        const argv = Object.entries(job.arguments).flat();
        const request = { id: job.id, script: job.script, argv, s3KmsKeyArn: job.dataKeyArn };
        requests.write(`${JSON.stringify(request)}\n`);
        const event = await child.next(ended(job));
        const seconds = Number(event.seconds);
        if (event.event === "failed") {
          throw new LocalJobFailed(job.id, String(event.error), seconds, options.log);
        }
        return { seconds };
      });
      queue = result.catch(() => undefined);
      return result;
    },
    async close() {
      requests.end();
      const timer = setTimeout(() => void child.stop(), 30_000);
      try {
        await child.exited;
      } finally {
        clearTimeout(timer);
        await child.stop();
      }
    },
  };
}

/**
 * A driver started on a running TLS front, the two closed together: closing the result closes the driver, then
 * the front; if the driver cannot start, the front is closed at once.
 */
export async function driverOnFront(front: TlsFront, start: () => Promise<GlueDriver>): Promise<GlueDriver> {
  try {
    const driver = await start();
    return {
      run: (job) => driver.run(job),
      async close() {
        try {
          await driver.close();
        } finally {
          await front.close();
        }
      },
    };
  } catch (error) {
    await front.close();
    throw error;
  }
}
