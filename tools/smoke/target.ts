import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { type OutputValues, readLakeOutputs, TerraformOutputsError } from "../../stacks/outputs";
import { UnreachableError, UsageError } from "../cli/conventions";

/** The deployment the checks run against. */
export interface Target {
  /** Needed whenever an AWS API is called (not for local mode on files alone). */
  readonly region?: string;
  /** AWS endpoint override (local AWS on moto); unset for real AWS. */
  readonly endpoint?: string;
  readonly workgroup?: string;
  /** The curated database: the default database of every check. */
  readonly database?: string;
  readonly outputLocation?: string;
  readonly ingestionTable?: string;
  readonly cleanedBucket?: string;
  readonly curatedBucket?: string;
}

/** The lake stack's outputs this harness reads (stacks/outputs.ts). */
export const SMOKE_OUTPUTS = [
  "region",
  "athenaWorkgroup",
  "curatedDatabase",
  "athenaResultsBucket",
  "ingestionTable",
  "cleanedBucket",
  "curatedBucket",
] as const;

export function targetFromOutputs(json: unknown, where: string): Target {
  let o: OutputValues<(typeof SMOKE_OUTPUTS)[number]>;
  try {
    o = readLakeOutputs(json, SMOKE_OUTPUTS);
  } catch (e) {
    if (e instanceof TerraformOutputsError) throw new UsageError(`${where}: ${e.message}`);
    throw e;
  }
  return {
    region: o.region,
    workgroup: o.athenaWorkgroup,
    database: o.curatedDatabase,
    // Used only if the workgroup does not enforce its own location (the workgroup check flags that).
    outputLocation: `s3://${o.athenaResultsBucket}/smoke/`,
    ingestionTable: o.ingestionTable,
    cleanedBucket: o.cleanedBucket,
    curatedBucket: o.curatedBucket,
  };
}

export function readOutputsFile(path: string): Target {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(`--outputs ${path}: cannot read it (${(e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--outputs ${path}: invalid JSON (${(e as Error).message})`);
  }
  return targetFromOutputs(json, `--outputs ${path}`);
}

/** Runs `terraform output -json` in a synthesized stack directory (its backend holds the state). */
export function outputsFromStack(dir: string): Target {
  if (!existsSync(dir)) throw new UsageError(`--outputs-from ${dir}: no such directory`);
  let stdout: string;
  try {
    stdout = execFileSync("terraform", ["output", "-json"], {
      cwd: dir,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (e) {
    const err = e as Error & { stderr?: string };
    // The state lives in the stack's backend (S3, Terraform Cloud): not reading it is the environment's fault.
    throw new UnreachableError(
      `'terraform output -json' failed in ${dir}: ${(err.stderr ?? err.message).trim()}`,
    );
  }
  return targetFromOutputs(JSON.parse(stdout), `terraform output in ${dir}`);
}
