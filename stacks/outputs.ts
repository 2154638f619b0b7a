// The stacks' outputs: one contract for the stacks that declare them (stacks/declare-outputs.ts) and the tools that
// read them from `terraform output -json` (ingestion CLI, smoke harness, local lake). Free of cdktf on purpose:
// the tools import it and start fast.
import { z } from "zod";

/** One output: its Terraform name and what its value means (the `description` of the TerraformOutput). */
export interface OutputSpec {
  readonly name: string;
  readonly description: string;
  /** The value is an S3 bucket name (the local lake empties these before a destroy). */
  readonly bucket?: true;
}

export type OutputContract = Readonly<Record<string, OutputSpec>>;

export const LAKE_OUTPUTS = {
  region: { name: "region", description: "AWS region of every resource of the lake." },
  rawBucket: {
    name: "raw_bucket_name",
    description:
      "S3 bucket of the raw zone: CMS files as ingested, under `raw/<dataset>/program_year=<YYYY>/" +
      "publication=<stamp>/<file stem>/` (record-aligned parts and the `manifest.json` that seals them).",
    bucket: true,
  },
  cleanedBucket: {
    name: "cleaned_bucket_name",
    description:
      "S3 bucket of the cleaned zone: typed rows (`cleaned/`), quarantined rows (`quarantine/`), the clean " +
      "job's reports (`reports/clean/latest.json`), the Glue code and the jobs' scratch space.",
    bucket: true,
  },
  curatedBucket: {
    name: "curated_bucket_name",
    description:
      "S3 bucket of the curated zone: analyst tables as Parquet by program year (`curated/`) and the curate " +
      "job's reports (`reports/curate/latest.json`).",
    bucket: true,
  },
  athenaResultsBucket: {
    name: "athena_results_bucket_name",
    description: "S3 bucket where the Athena workgroup writes query results (encrypted with the data key).",
    bucket: true,
  },
  accessLogsBucket: {
    name: "access_logs_bucket_name",
    description: "S3 bucket receiving the server access logs of the lake's other buckets.",
    bucket: true,
  },
  dataKey: {
    name: "data_kms_key_arn",
    description:
      "ARN of the KMS key encrypting the lake's data: zone buckets, query results, ingestion table.",
  },
  ingestionTable: {
    name: "ingestion_table_name",
    description: "DynamoDB table holding the audit trail of every ingested file version (the ingestion CLI).",
  },
  rawDatabase: {
    name: "raw_database_name",
    description: "Glue Data Catalog database of the raw zone (filled by the raw crawler).",
  },
  curatedDatabase: {
    name: "curated_database_name",
    description: "Glue Data Catalog database of the curated tables: the database analysts query in Athena.",
  },
  athenaWorkgroup: {
    name: "athena_workgroup_name",
    description:
      "Athena workgroup analysts and the smoke checks run queries in (enforced, encrypted results).",
  },
  ingestionRole: {
    name: "ingestion_role_arn",
    description: "ARN of the role the ingestion CLI assumes to write `raw/` and the ingestion table.",
  },
  glueJobRole: {
    name: "glue_job_role_arn",
    description: "ARN of the role the Glue clean and curate jobs run as.",
  },
  analystRole: {
    name: "analyst_role_arn",
    description: "ARN of the role analysts assume to query the curated tables through the workgroup.",
  },
  alertsTopic: {
    name: "alerts_topic_arn",
    description: "ARN of the SNS topic receiving Glue job and crawler failure alerts.",
  },
  cleanJob: { name: "clean_job_name", description: "Name of the Glue job clean (raw -> cleaned)." },
  curateJob: { name: "curate_job_name", description: "Name of the Glue job curate (cleaned -> curated)." },
  workflow: {
    name: "workflow_name",
    description:
      "Name of the Glue workflow crawl raw -> clean -> curate -> crawl curated: start a run with " +
      "`aws glue start-workflow-run --name <value>` (docs/operations.md).",
  },
  ciPlanRole: {
    name: "ci_plan_role_arn",
    description: "ARN of the read-only role CI assumes (GitHub OIDC) to plan the lake on pull requests.",
  },
  ciDeployRole: {
    name: "ci_deploy_role_arn",
    description: "ARN of the role CI assumes (GitHub OIDC) to apply the lake from the deploy branch.",
  },
} as const satisfies OutputContract;

export const STATE_BOOTSTRAP_OUTPUTS = {
  region: { name: "region", description: "AWS region of the state bucket, lock table and state key." },
  stateBucket: {
    name: "state_bucket_name",
    description: "S3 bucket holding the Terraform state of every stack of the environment.",
    bucket: true,
  },
  stateAccessLogsBucket: {
    name: "state_access_logs_bucket_name",
    description: "S3 bucket receiving the server access logs of the state bucket.",
    bucket: true,
  },
  lockTable: {
    name: "lock_table_name",
    description: "DynamoDB table of the Terraform state locks (the S3 backend's `dynamodb_table`).",
  },
  stateKey: {
    name: "state_kms_key_arn",
    description:
      "ARN of the KMS key encrypting the state objects and the lock table (the backend's `kms_key_id`).",
  },
} as const satisfies OutputContract;

export type LakeOutputKey = keyof typeof LAKE_OUTPUTS;
export type StateBootstrapOutputKey = keyof typeof STATE_BOOTSTRAP_OUTPUTS;

/** The values of the outputs read, by contract key. */
export type OutputValues<K extends string> = { readonly [P in K]: string };

/** `terraform output -json` that lacks outputs a tool needs (or is not that JSON at all). */
export class TerraformOutputsError extends Error {
  constructor(
    message: string,
    /** The missing or empty outputs' Terraform names. */
    readonly missing: readonly string[] = [],
  ) {
    super(message);
    this.name = "TerraformOutputsError";
  }
}

/** `terraform output -json`: `{ name: { value, type, sensitive } }`. */
const terraformOutputJson = z.record(z.string(), z.object({ value: z.unknown() }));

/**
 * Reads the `required` outputs (by contract key) from the parsed `terraform output -json` of a stack. Throws a
 * TerraformOutputsError naming every missing or empty output.
 */
export function readOutputs<C extends OutputContract, K extends keyof C & string>(
  contract: C,
  stack: string,
  json: unknown,
  required: readonly K[],
): OutputValues<K> {
  const parsed = terraformOutputJson.safeParse(json);
  if (!parsed.success) {
    throw new TerraformOutputsError(
      `not the JSON of 'terraform output -json' (expected { "<output name>": { "value": ... } })`,
    );
  }
  const values: Partial<Record<K, string>> = {};
  const missing: string[] = [];
  for (const key of required) {
    const { name } = contract[key];
    const value = parsed.data[name]?.value;
    if (typeof value === "string" && value.length > 0) values[key] = value;
    else missing.push(name);
  }
  if (missing.length > 0) {
    throw new TerraformOutputsError(
      `the ${stack} stack's outputs lack or have empty: ${missing.join(", ")} ` +
        "(apply the stack, then write the file again with `terraform output -json`)",
      missing,
    );
  }
  return values as OutputValues<K>;
}

/** Reads outputs of the lake stack: `readLakeOutputs(json, ["rawBucket", "ingestionTable", "region"])`. */
export function readLakeOutputs<K extends LakeOutputKey>(
  json: unknown,
  required: readonly K[],
): OutputValues<K> {
  return readOutputs(LAKE_OUTPUTS, "lake", json, required);
}

export function readStateBootstrapOutputs<K extends StateBootstrapOutputKey>(
  json: unknown,
  required: readonly K[],
): OutputValues<K> {
  return readOutputs(STATE_BOOTSTRAP_OUTPUTS, "state-bootstrap", json, required);
}

/** Each stack kind's contract (the kinds of stacks/index.ts STACK_KINDS). */
export const STACK_OUTPUTS = { "state-bootstrap": STATE_BOOTSTRAP_OUTPUTS, lake: LAKE_OUTPUTS } as const;

/** The bucket names a stack's `terraform output -json` holds (its contract's bucket outputs). */
export function bucketNames(stack: keyof typeof STACK_OUTPUTS, json: unknown): string[] {
  const contract: OutputContract = STACK_OUTPUTS[stack];
  const keys = Object.keys(contract).filter((key) => contract[key].bucket === true);
  return Object.values(readOutputs(contract, stack, json, keys));
}

/** A contract as the Markdown table of docs/operations.md (kept equal by a test). */
export function outputsTable(contract: OutputContract): string {
  const rows = Object.values(contract).map(({ name, description }) => `| \`${name}\` | ${description} |`);
  return ["| output | value |", "|---|---|", ...rows].join("\n");
}
