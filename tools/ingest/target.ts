import { readFileSync } from "node:fs";
import { z } from "zod";
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

/**
 * The lake stack's output names this tool reads: the one place they are spelled here (the stack's exported
 * contract of output names replaces these literals when it exists).
 */
const OUTPUT_NAMES = {
  rawBucket: "raw_bucket_name",
  table: "ingestion_table_name",
  region: "region",
} as const;

const outputValue = z.object({ value: z.string().min(1) });
// `terraform output -json` of the lake stack: { name: { value, type, sensitive } }.
const lakeOutputs = z.object({
  [OUTPUT_NAMES.rawBucket]: outputValue,
  [OUTPUT_NAMES.table]: outputValue,
  [OUTPUT_NAMES.region]: outputValue,
});
type LakeOutputs = Record<(typeof OUTPUT_NAMES)[keyof typeof OUTPUT_NAMES], { value: string }>;

function readOutputs(file: string): LakeOutputs {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new UsageError(`--outputs ${file}: cannot read JSON (${(error as Error).message})`);
  }
  const parsed = lakeOutputs.safeParse(json);
  if (!parsed.success) {
    const missing = parsed.error.issues.map((i) => i.path[0]).join(", ");
    throw new UsageError(
      `--outputs ${file}: not the lake stack's 'terraform output -json' (missing or empty: ${missing})`,
    );
  }
  return parsed.data as LakeOutputs;
}

/** Flags override the outputs file; the endpoint may also come from LAKE_LOCAL_AWS_ENDPOINT. */
export function resolveTarget(flags: TargetFlags, env: NodeJS.ProcessEnv = process.env): Target {
  const outputs = flags.outputs ? readOutputs(flags.outputs) : undefined;
  const rawBucket = flags.bucket ?? outputs?.[OUTPUT_NAMES.rawBucket].value;
  const table = flags.table ?? outputs?.[OUTPUT_NAMES.table].value;
  const region =
    flags.region ?? outputs?.[OUTPUT_NAMES.region].value ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
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
