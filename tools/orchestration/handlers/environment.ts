/**
 * The settings every handler reads from its Lambda environment (set by modules/orchestration, or by the local run).
 * A missing one is named with what sets it, so a misconfigured function fails on its first event, loudly.
 */
export const HANDLER_ENV = {
  rawBucket: "RAW_BUCKET",
  /** Where people drop files (landing/) and accepted ones wait (incoming/): not the write-once raw bucket. */
  landingBucket: "LANDING_BUCKET",
  ingestionTable: "INGESTION_TABLE",
  region: "AWS_REGION",
  /** Local runs only: moto's endpoint (the tools read the same variable). */
  endpoint: "LAKE_LOCAL_AWS_ENDPOINT",
  cmsApi: "CMS_API",
  /** Files larger than this (bytes), or of unknown size, are ingested by CodeBuild instead of Lambda. */
  lambdaMaxBytes: "LAMBDA_MAX_BYTES",
  programYears: "PROGRAM_YEARS",
  workgroup: "ATHENA_WORKGROUP",
  curatedDatabase: "CURATED_DATABASE",
  cleanedBucket: "CLEANED_BUCKET",
  curatedBucket: "CURATED_BUCKET",
  /** The lake's name prefix: the quarantine metric's dimension. */
  lakeName: "LAKE_NAME",
  /** Comma-separated smoke check ids; unset: every check. */
  smokeOnly: "SMOKE_ONLY",
  /**
   * Local runs only: the curated root (s3://…/curated/) the smoke checks query with the local Athena engine
   * (`--local`), because moto runs no Athena SQL. Unset (as in Lambda): Athena.
   */
  smokeLocalWarehouse: "SMOKE_LOCAL_WAREHOUSE",
} as const;

export type HandlerSetting = keyof typeof HANDLER_ENV;

export function setting(name: HandlerSetting, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[HANDLER_ENV[name]];
  if (!value) {
    throw new Error(
      `environment variable ${HANDLER_ENV[name]} is not set: the function's configuration (modules/orchestration) sets it`,
    );
  }
  return value;
}

export const optionalSetting = (name: HandlerSetting, env: NodeJS.ProcessEnv = process.env) =>
  env[HANDLER_ENV[name]] || undefined;

/** The ingest CLI's target flags for this function's lake. */
export function targetArgs(env: NodeJS.ProcessEnv = process.env): string[] {
  const endpoint = optionalSetting("endpoint", env);
  return [
    "--bucket",
    setting("rawBucket", env),
    "--table",
    setting("ingestionTable", env),
    "--region",
    setting("region", env),
    ...(endpoint ? ["--endpoint", endpoint] : []),
  ];
}

/** Runs one of the project's CLIs in-process, capturing what it prints on stdout. */
export async function captured(
  run: (io: { out: (s: string) => void; err: (s: string) => void }) => Promise<number>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await run({
    out: (s) => {
      stdout += s;
    },
    err: (s) => {
      stderr += s;
      // Lambda sends stderr to the function's log group: progress and errors stay visible there.
      process.stderr.write(s.endsWith("\n") ? s : `${s}\n`);
    },
  });
  return { code, stdout, stderr };
}
