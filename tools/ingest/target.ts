import { readFileSync } from "node:fs";
import { type OutputValues, readLakeOutputs, TerraformOutputsError } from "../../stacks/outputs";
import { UsageError } from "./errors";

/** Where ingested files go: the lake stack's raw bucket and ingestion table (its terraform outputs). */
export interface Target {
  readonly rawBucket: string;
  readonly table: string;
  readonly region: string;
  /** A local AWS endpoint (moto); unset for real AWS. */
  readonly endpoint?: string;
}

export interface TargetFlags {
  readonly outputs?: string;
  readonly bucket?: string;
  readonly table?: string;
  readonly region?: string;
  readonly endpoint?: string;
}

type LakeOutputs = OutputValues<"rawBucket" | "ingestionTable" | "region">;

function readOutputs(file: string): LakeOutputs {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new UsageError(`--outputs ${file}: cannot read JSON (${(error as Error).message})`);
  }
  try {
    return readLakeOutputs(json, ["rawBucket", "ingestionTable", "region"]);
  } catch (error) {
    if (error instanceof TerraformOutputsError) throw new UsageError(`--outputs ${file}: ${error.message}`);
    throw error;
  }
}

/** Flags override the outputs file; the endpoint may also come from LAKE_LOCAL_AWS_ENDPOINT. */
export function resolveTarget(flags: TargetFlags, env: NodeJS.ProcessEnv = process.env): Target {
  const outputs = flags.outputs ? readOutputs(flags.outputs) : undefined;
  const rawBucket = flags.bucket ?? outputs?.rawBucket;
  const table = flags.table ?? outputs?.ingestionTable;
  const region = flags.region ?? outputs?.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const endpoint = flags.endpoint ?? env.LAKE_LOCAL_AWS_ENDPOINT;
  const missing = [
    rawBucket ? "" : "--bucket",
    table ? "" : "--table",
    region ? "" : "--region (or AWS_REGION)",
  ].filter(Boolean);
  if (!rawBucket || !table || !region) {
    throw new UsageError(`no target: pass --outputs <terraform output -json file> or ${missing.join(", ")}`);
  }
  if (endpoint && !/^https?:\/\/[^/]+/.test(endpoint)) {
    throw new UsageError(`--endpoint ${endpoint}: expected a URL such as http://127.0.0.1:5000`);
  }
  return { rawBucket, table, region, ...(endpoint ? { endpoint } : {}) };
}
