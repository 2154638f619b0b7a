import type { LakeConfig } from "./schema";

/**
 * What moto (the local environment's AWS) does not do like AWS, and how the local profile reacts. Each gap is
 * handled visibly: code asks `supports(config, gap)` and changes a setting, never drops a resource.
 */
export const MOTO_GAPS = {
  kmsRotationPeriod:
    "moto ignores rotation_period_in_days, so terraform would show a permanent diff: locally the key rotates " +
    "with KMS's default period (enable_key_rotation stays true) and rotation_period_in_days is not set.",
  s3ControlAccountEndpoint:
    "the provider calls S3 Control at <account-id>.<endpoint host>, a name that cannot resolve for a loopback " +
    "endpoint: locally the account-level S3 public access block is not created (every bucket keeps its own four " +
    "public access blocks).",
  s3PolicyDenyStatements:
    "moto evaluates bucket policies on object requests but ignores every condition operator except " +
    "StringEquals, so each conditional Deny (TLS only, TLS >= 1.2, encryption guards, raw write-once guards) " +
    "would refuse every object request: locally bucket policies keep only their Allow statements, and a " +
    "bucket left without any has no policy. The dev and prod policies are checked by the synth invariants " +
    "and the IAM simulator tests.",
} as const;

export type MotoGap = keyof typeof MOTO_GAPS;

export function isLocal(config: Pick<LakeConfig, "environment">): boolean {
  return config.environment === "local";
}

/** False when the environment runs on moto and moto has this gap. */
export function supports(config: Pick<LakeConfig, "environment">, _gap: MotoGap): boolean {
  return !isLocal(config);
}
