import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { MOTO_GAPS } from "./local-profile";
import { lakeConfigSchema } from "./schema";

// Renders config/README.md from the zod schema, so the reference cannot drift from the rules that are enforced.
//   npx tsx modules/config/reference.ts --write

interface JsonSchema {
  readonly type?: string;
  readonly description?: string;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly pattern?: string;
  readonly format?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly minItems?: number;
  readonly properties?: Record<string, JsonSchema>;
  readonly required?: readonly string[];
  readonly items?: JsonSchema;
  readonly anyOf?: readonly JsonSchema[];
}

function rule(s: JsonSchema): string {
  const parts: string[] = [];
  if (s.const !== undefined) parts.push(`\`${JSON.stringify(s.const)}\``);
  else if (s.enum) parts.push(`one of ${s.enum.map((v) => `\`${v}\``).join(", ")}`);
  else if (s.type === "array") parts.push(`list of ${s.items ? rule(s.items) : "values"}`);
  else if (s.type) parts.push(s.type === "integer" ? "whole number" : s.type);
  if (s.format) parts.push(s.format);
  else if (s.pattern) parts.push(`\`${s.pattern}\``);
  const max = s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER ? s.maximum : undefined;
  if (s.minimum !== undefined && max === undefined) parts.push(`>= ${s.minimum}`);
  else if (max !== undefined) parts.push(`${s.minimum ?? ""}..${max}`);
  if (s.minItems) parts.push(`at least ${s.minItems}`);
  return parts.join(", ");
}

function rows(schema: JsonSchema, prefix: string, out: string[]): void {
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    const path = `${prefix}${key}`;
    const required = schema.required?.includes(key) ? "yes" : "no";
    const description = (child.description ?? "").replace(/\|/g, "\\|");
    if (child.properties) {
      out.push(`| \`${path}\` | object | ${required} | ${description} |`);
      rows(child, `${path}.`, out);
    } else if (child.anyOf) {
      out.push(`| \`${path}\` | one of the variants below | ${required} | ${description} |`);
      child.anyOf.forEach((variant, i) => {
        out.push(`| _${path} variant ${i + 1}_ | | | ${variant.description ?? ""} |`);
        rows(variant, `${path}.`, out);
      });
    } else {
      out.push(`| \`${path}\` | ${rule(child)} | ${required} | ${description} |`);
    }
  }
}

export function renderConfigReference(): string {
  const schema = z.toJSONSchema(lakeConfigSchema, { io: "input" }) as JsonSchema;
  const table = ["| Field | Type and rule | Required | Meaning |", "| --- | --- | --- | --- |"];
  rows(schema, "", table);
  const gaps = Object.entries(MOTO_GAPS).map(([gap, text]) => `- \`${gap}\`: ${text}`);
  return [
    "# Configuration reference",
    "",
    "<!-- Generated from modules/config/schema.ts by `npx tsx modules/config/reference.ts --write`; a test keeps it current. -->",
    "",
    "One file per environment: `config/dev.json`, `config/prod.json`, `config/local.json` (moto on loopback).",
    "Synthesis validates every file with the schema in `modules/config/schema.ts` and stops with one line per",
    "problem, naming the file, the field and the rule, e.g. `config/prod.json: tags.owner: must be an e-mail`.",
    "Unknown fields are errors (typos do not pass silently). Rules that span files: exactly one environment per",
    "AWS account has `ownsAccountSingletons: true`.",
    "",
    ...table,
    "",
    "Cross-field rules: `tags.environment` equals `environment`; `localEndpoint` is required for `local` and",
    "refused elsewhere; prod must set `protectStatefulResources` and `keys.deletionWindowDays` 30;",
    "`storage.rawGlacierAfterDays` is at least 30 days after `storage.rawInfrequentAccessAfterDays`;",
    "`namePrefix` must give bucket names S3 accepts (S3 reserves names starting with `sthree-`); `region` must be",
    "one of the listed regions (its partition, `aws` or `aws-us-gov`, starts every ARN; China regions are",
    "refused); the raw bucket never expires objects or versions, so `storage.noncurrentVersionExpiryDays`",
    "applies to every other bucket. `warehouse` may be omitted (off); when present, every field but `enabled`",
    "takes the default in `WAREHOUSE_DEFAULTS` (modules/config/schema.ts) when left out; prod with the warehouse",
    "on must set `warehouse.multiAz` and `warehouse.deletionProtection`.",
    "",
    "## Names",
    "",
    "Physical names derive from `namePrefix` and `environment` (`modules/config/naming.ts`): buckets",
    "`<prefix>-<env>-<purpose>-<account>-<region>`, other resources `<prefix>-<env>-<purpose>`, Glue databases",
    "`<prefix>_<env>_<purpose>`. A name longer than the AWS limit (S3 63, IAM role 64, ...) is cut and suffixed",
    "with a hash of the full name, so it stays stable and unique.",
    "",
    "## Bootstrap order and state",
    "",
    "1. `state-bootstrap-<env>` (local state file `terraform.state-bootstrap-<env>.tfstate`): the state bucket",
    "   `<prefix>-<env>-tfstate-<account>-<region>`, the lock table `<prefix>-<env>-tflock`, the state key",
    "   `alias/<prefix>-<env>-tfstate`, and the account-wide singletons where the environment owns them.",
    "2. `lake-<env>` with `backend.type = s3`: its state goes to `stacks/lake-<env>/terraform.tfstate` in that",
    "   bucket, encrypted with the state key, locked by the S3 lock file (`use_lockfile`) and the DynamoDB table",
    "   (kept while terraform still supports it).",
    "",
    "Migrating from local state: apply the lake stack once with `backend.type = local`, switch the config to",
    "`s3`, synthesize, then `terraform init -migrate-state` in `cdktf.out/stacks/lake-<env>`. The bootstrap's own",
    "state can move into its bucket the same way once the bucket exists (keep a copy of the local file).",
    "",
    "Terraform Cloud: `backend = {type: cloud, organization, workspace: {name} | {tags}}` renders a `cloud`",
    "block; runs, state and locking then live in Terraform Cloud (AWS credentials as workspace variables or",
    "dynamic provider credentials).",
    "",
    "## The local environment (moto)",
    "",
    "`config/local.json` points every AWS service at `localEndpoint` (replaced by `LAKE_LOCAL_AWS_ENDPOINT` when",
    "set), uses path-style S3, moto's dummy credentials and at most 2 retries. The endpoint reaches the provider",
    "through the AWS shared-config profile `open-payments-lake-local` (one `endpoint_url` for every service),",
    "which the local lake writes and names with `AWS_CONFIG_FILE`; without that profile the provider stops before",
    "any call. A profile rather than the provider's `endpoints` block: the AWS provider (5.100) spends about 3 s",
    "validating an `endpoints` block each time terraform configures it, three times per apply or destroy. It still",
    "requests the account id (moto answers `123456789012`): without it Glue catalog ids and ARNs come out empty.",
    "Where moto differs from AWS the local profile changes a setting visibly (`modules/config/local-profile.ts`):",
    "",
    ...gaps,
    "",
    "Expected slowness, on AWS as on moto: after writing a bucket's lifecycle configuration the AWS provider",
    "(5.100) waits 10 s, then until it has read the same rules back 10 times 5 s apart: 55 s whatever the API",
    "answers (buckets in parallel). The local lake applies the lifecycle rules in the background for that.",
    "",
  ].join("\n");
}

if (require.main === module) {
  const text = renderConfigReference();
  if (process.argv.includes("--write"))
    writeFileSync(join(__dirname, "..", "..", "config", "README.md"), text);
  else process.stdout.write(text);
}
