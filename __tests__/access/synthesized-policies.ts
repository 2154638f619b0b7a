import { type LakeConfig, Naming } from "../../modules/config";
import { Testing } from "../../modules/core";
import { type PolicyDocument, resolveReferences, stackPolicies } from "../../scripts/policies";
import { LakeStack } from "../../stacks";
import type { SynthesizedStack } from "./synth-support";

/** An IAM policy document as it lands in the synthesized JSON, references resolved. */
export type PolicyJson = PolicyDocument;

export interface SynthesizedLake {
  readonly stack: SynthesizedStack;
  /** Permission policies of each lake role (inline and attached managed ones, merged), by role name. */
  readonly rolePolicies: Record<string, PolicyJson>;
  /** Permissions boundary of each role that has one, by role name. */
  readonly roleBoundaries: Record<string, PolicyJson>;
  /** Bucket policy of each bucket, by bucket name. */
  readonly bucketPolicies: Record<string, PolicyJson>;
  /** Key policy of each KMS key, by key ARN (KMS needs the key policy to allow as well). */
  readonly keyPolicies: Record<string, PolicyJson>;
  readonly bucketArn: (zone: "raw" | "cleaned" | "curated" | "athena-results") => string;
  /** Resolves Terraform references of this stack in a string. */
  readonly resolve: (text: string) => string;
}

/** Synthesizes the environment's real lake stack and extracts its role and bucket policies, resolved. */
export function synthesizeLake(config: LakeConfig): SynthesizedLake {
  const lake = new LakeStack(Testing.app(), `lake-${config.environment}`, { config });
  const stack = JSON.parse(Testing.synth(lake)) as SynthesizedStack;
  const location = new Naming(config).location;
  const resolve = (text: string) => resolveReferences(stack.resource, location, text);
  const policies = stackPolicies(`lake-${config.environment}`, stack.resource, location);
  const byKind = (kind: string) =>
    Object.fromEntries(policies.filter((p) => p.kind === kind).map((p) => [p.subject, p.document]));
  // A role's inline policy and its attached managed policies (the CI roles') grant together: one document each.
  const rolePolicies: Record<string, PolicyJson> = {};
  for (const p of policies.filter((x) => x.kind === "identity" || x.kind === "managed")) {
    rolePolicies[p.subject] = {
      Version: "2012-10-17",
      Statement: [...(rolePolicies[p.subject]?.Statement ?? []), ...p.document.Statement],
    };
  }
  const managed = Object.fromEntries(
    policies.filter((p) => p.kind === "boundary").map((p) => [resolve(`\${${p.address}.arn}`), p.document]),
  );
  const roleBoundaries: Record<string, PolicyJson> = {};
  for (const role of Object.values(stack.resource.aws_iam_role ?? {})) {
    if (role.permissions_boundary === undefined) continue;
    const boundary = managed[resolve(String(role.permissions_boundary))];
    if (!boundary)
      throw new Error(`role ${role.name}: boundary ${role.permissions_boundary} not in the stack`);
    roleBoundaries[String(role.name)] = boundary;
  }
  const buckets = Object.values(stack.resource.aws_s3_bucket ?? {}).map((b) => b.bucket as string);
  const bucketArn = (zone: string) => {
    const matches = buckets.filter((b) =>
      b.startsWith(`${config.namePrefix}-${config.environment}-${zone}-`),
    );
    if (matches.length !== 1)
      throw new Error(`expected one ${zone} bucket, found ${matches.join(", ") || "none"}`);
    return `arn:${location.partition}:s3:::${matches[0]}`;
  };
  return {
    stack,
    rolePolicies,
    roleBoundaries,
    bucketPolicies: byKind("bucket"),
    keyPolicies: byKind("key"),
    bucketArn,
    resolve,
  };
}
