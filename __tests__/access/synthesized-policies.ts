import type { LakeConfig } from "../../modules/config";
import { Testing } from "../../modules/core";
import { LakeStack } from "../../stacks";
import type { SynthesizedStack } from "./synth-support";

/** An IAM policy document as it lands in the synthesized JSON, references resolved. */
export type PolicyJson = { Version: string; Statement: Record<string, unknown>[] };

/**
 * Resolves the Terraform references in a synthesized policy string to the ARNs and names the config makes
 * deterministic (bucket, table and role names come from the naming rules; KMS key ids are random on AWS, so
 * a key's ARN is built from its logical name). Fails on any reference it cannot resolve: the simulator must
 * never evaluate a half-resolved policy.
 */
export function resolveReferences(stack: SynthesizedStack, config: LakeConfig, text: string): string {
  const { accountId: account, region } = config;
  const resolved = text.replace(
    /\$\{(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.(arn|bucket|id|name|key_id)\}/g,
    (ref, type: string, name: string, attribute: string) => {
      const resource = stack.resource[type]?.[name];
      if (!resource) throw new Error(`unresolvable reference ${ref}: no such resource`);
      const named = (resource.name ?? resource.bucket) as string | undefined;
      const arns: Record<string, () => string> = {
        aws_s3_bucket: () => `arn:aws:s3:::${resource.bucket}`,
        aws_dynamodb_table: () => `arn:aws:dynamodb:${region}:${account}:table/${resource.name}`,
        aws_kms_key: () => `arn:aws:kms:${region}:${account}:key/${name}`,
        aws_iam_role: () => `arn:aws:iam::${account}:role/${resource.name}`,
        aws_sns_topic: () => `arn:aws:sns:${region}:${account}:${resource.name}`,
        aws_cloudwatch_event_rule: () => `arn:aws:events:${region}:${account}:rule/${resource.name}`,
      };
      if (attribute === "arn" && arns[type]) return arns[type]();
      if (attribute === "key_id" && type === "aws_kms_key") return name;
      if (attribute !== "arn" && typeof named === "string" && !named.includes("${")) return named;
      throw new Error(`unresolvable reference ${ref}`);
    },
  );
  if (resolved.includes("${")) throw new Error(`unresolved Terraform expression left in: ${resolved}`);
  return resolved;
}

export interface SynthesizedLake {
  readonly stack: SynthesizedStack;
  /** Permission policy of each lake role, by role name. */
  readonly rolePolicies: Record<string, PolicyJson>;
  /** Bucket policy of each bucket, by bucket name. */
  readonly bucketPolicies: Record<string, PolicyJson>;
  /** Key policy of each KMS key, by key ARN (KMS needs the key policy to allow as well). */
  readonly keyPolicies: Record<string, PolicyJson>;
  readonly bucketArn: (zone: "raw" | "cleaned" | "curated" | "athena-results") => string;
}

/** Synthesizes the environment's real lake stack and extracts its role and bucket policies, resolved. */
export function synthesizeLake(config: LakeConfig): SynthesizedLake {
  const lake = new LakeStack(Testing.app(), `lake-${config.environment}`, { config });
  const stack = JSON.parse(Testing.synth(lake)) as SynthesizedStack;
  const resolve = (text: string) => JSON.parse(resolveReferences(stack, config, text)) as PolicyJson;
  const rolePolicies: Record<string, PolicyJson> = {};
  for (const policy of Object.values(stack.resource.aws_iam_role_policy ?? {})) {
    rolePolicies[resolveReferences(stack, config, policy.role as string)] = resolve(policy.policy as string);
  }
  const bucketPolicies: Record<string, PolicyJson> = {};
  for (const policy of Object.values(stack.resource.aws_s3_bucket_policy ?? {})) {
    bucketPolicies[resolveReferences(stack, config, policy.bucket as string)] = resolve(
      policy.policy as string,
    );
  }
  const keyPolicies: Record<string, PolicyJson> = {};
  for (const policy of Object.values(stack.resource.aws_kms_key_policy ?? {})) {
    const keyArn = resolveReferences(
      stack,
      config,
      (policy.key_id as string).replace(/\.key_id\}$/, ".arn}"),
    );
    keyPolicies[keyArn] = resolve(policy.policy as string);
  }
  const buckets = Object.values(stack.resource.aws_s3_bucket ?? {}).map((b) => b.bucket as string);
  const bucketArn = (zone: string) => {
    const matches = buckets.filter((b) =>
      b.startsWith(`${config.namePrefix}-${config.environment}-${zone}-`),
    );
    if (matches.length !== 1)
      throw new Error(`expected one ${zone} bucket, found ${matches.join(", ") || "none"}`);
    return `arn:aws:s3:::${matches[0]}`;
  };
  return { stack, rolePolicies, bucketPolicies, keyPolicies, bucketArn };
}
