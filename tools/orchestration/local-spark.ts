import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { localAwsEnv } from "../local-aws/moto-server";
import { driverOnFront, type GlueDriver, sparkEnv, startGlueDriver } from "../local-lake/glue-driver";
import { startTlsFront } from "../local-lake/tls-front";

/** The local lake's Spark driver (tools/local-lake/glue-driver.ts) against one moto server, for the local run. */
export interface LocalSpark {
  readonly driver: GlueDriver;
  /** The lake's data key, which the refresh's job runs write with (their security configuration's key). */
  readonly dataKeyArn: string;
  /** Where the run's scripts are downloaded to and the driver's log lies (`glue.log`: every job's output). */
  readonly workDir: string;
  readonly log: string;
  close(): Promise<void>;
}

/**
 * Starts the TLS front for S3A and the Spark driver, once: the refresh's Glue tasks then run their job runs in it
 * (a JVM start, hadoop-aws and S3A's connections are paid once per local Spark, not per run).
 */
export async function startLocalSpark(options: {
  readonly endpoint: string;
  readonly dataKeyArn: string;
  readonly workDir: string;
}): Promise<LocalSpark> {
  mkdirSync(options.workDir, { recursive: true });
  const log = join(options.workDir, "glue.log");
  const front = await startTlsFront(
    Number(new URL(options.endpoint).port),
    options.workDir,
    join(options.workDir, "tls-front.log"),
    "tls-front",
  );
  const driver = await driverOnFront(front, () =>
    startGlueDriver({
      front,
      env: { ...process.env, ...localAwsEnv, ...sparkEnv(), NO_PROXY: "127.0.0.1" },
      log,
      step: "glue",
    }),
  );
  return {
    driver,
    dataKeyArn: options.dataKeyArn,
    workDir: options.workDir,
    log,
    close: () => driver.close(),
  };
}
