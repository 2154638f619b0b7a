import type { LakeConfig } from "./schema";

/**
 * What moto (the local environment's AWS) does not do like AWS, and how the local profile reacts. Each gap is
 * handled visibly: code asks `supports(config, gap)` and changes a setting, never drops a resource.
 */
export const MOTO_GAPS = {
  kmsRotationPeriod:
    "moto ignores rotation_period_in_days, so terraform would show a permanent diff: locally the key rotates " +
    "with KMS's default period (enable_key_rotation stays true) and rotation_period_in_days is not set.",
} as const;

export type MotoGap = keyof typeof MOTO_GAPS;

export function isLocal(config: Pick<LakeConfig, "environment">): boolean {
  return config.environment === "local";
}

/** False when the environment runs on moto and moto has this gap. */
export function supports(config: Pick<LakeConfig, "environment">, _gap: MotoGap): boolean {
  return !isLocal(config);
}
