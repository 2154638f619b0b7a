import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { z } from "zod";
import { CouldNotRunError } from "./workgroup-check";

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

/** `terraform output -json`: `{ name: { value, type, sensitive } }`. */
const terraformOutputs = z.record(z.string(), z.object({ value: z.unknown() }));

/** The lake stack's outputs this harness reads (contract 5). */
const lakeOutputs = z.object({
  athena_workgroup_name: z.string().min(1),
  curated_database_name: z.string().min(1),
  athena_results_bucket_name: z.string().min(1),
  ingestion_table_name: z.string().min(1),
  cleaned_bucket_name: z.string().min(1),
  curated_bucket_name: z.string().min(1),
  region: z.string().min(1),
});

export function targetFromOutputs(json: unknown, where: string): Target {
  const parsed = terraformOutputs.safeParse(json);
  if (!parsed.success) throw new CouldNotRunError(`${where}: not the JSON of 'terraform output -json'`);
  const values = Object.fromEntries(Object.entries(parsed.data).map(([k, v]) => [k, v.value]));
  const lake = lakeOutputs.safeParse(values);
  if (!lake.success) {
    const missing = lake.error.issues.map((i) => i.path.join(".")).join(", ");
    throw new CouldNotRunError(`${where}: the lake stack's outputs lack or have empty: ${missing}`);
  }
  const o = lake.data;
  return {
    region: o.region,
    workgroup: o.athena_workgroup_name,
    database: o.curated_database_name,
    // Used only if the workgroup does not enforce its own location (the workgroup check flags that).
    outputLocation: `s3://${o.athena_results_bucket_name}/smoke/`,
    ingestionTable: o.ingestion_table_name,
    cleanedBucket: o.cleaned_bucket_name,
    curatedBucket: o.curated_bucket_name,
  };
}

export function readOutputsFile(path: string): Target {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new CouldNotRunError(`cannot read terraform outputs ${path}: ${(e as Error).message}`);
  }
  try {
    return targetFromOutputs(JSON.parse(text), path);
  } catch (e) {
    if (e instanceof CouldNotRunError) throw e;
    throw new CouldNotRunError(`${path}: invalid JSON: ${(e as Error).message}`);
  }
}

/** Runs `terraform output -json` in a synthesized stack directory (its backend holds the state). */
export function outputsFromStack(dir: string): Target {
  let stdout: string;
  try {
    stdout = execFileSync("terraform", ["output", "-json"], {
      cwd: dir,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new CouldNotRunError(
      `'terraform output -json' failed in ${dir}: ${(err.stderr ?? err.message).trim()}`,
    );
  }
  return targetFromOutputs(JSON.parse(stdout), `terraform output in ${dir}`);
}
