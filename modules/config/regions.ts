/**
 * The AWS regions an environment may use, each with its partition: every ARN the stacks build starts with
 * `arn:<partition>:`. The list is explicit so that a typo (`us-east1`, `eu-west-9`) is refused at synthesis
 * instead of surfacing as a provider error mid-apply.
 */
export const PARTITIONS = ["aws", "aws-us-gov"] as const;
export type Partition = (typeof PARTITIONS)[number];

const COMMERCIAL = [
  "us-east-1",
  "us-east-2",
  "us-west-1",
  "us-west-2",
  "af-south-1",
  "ap-east-1",
  "ap-east-2",
  "ap-south-1",
  "ap-south-2",
  "ap-southeast-1",
  "ap-southeast-2",
  "ap-southeast-3",
  "ap-southeast-4",
  "ap-southeast-5",
  "ap-southeast-7",
  "ap-northeast-1",
  "ap-northeast-2",
  "ap-northeast-3",
  "ca-central-1",
  "ca-west-1",
  "eu-central-1",
  "eu-central-2",
  "eu-west-1",
  "eu-west-2",
  "eu-west-3",
  "eu-south-1",
  "eu-south-2",
  "eu-north-1",
  "il-central-1",
  "me-south-1",
  "me-central-1",
  "mx-central-1",
  "sa-east-1",
] as const;
const GOVCLOUD = ["us-gov-west-1", "us-gov-east-1"] as const;

/** Every supported region and its partition. */
export const REGIONS: Readonly<Record<string, Partition>> = Object.fromEntries([
  ...COMMERCIAL.map((r) => [r, "aws"] as const),
  ...GOVCLOUD.map((r) => [r, "aws-us-gov"] as const),
]);

/**
 * Regions that exist but that the lake refuses, with the reason. The China partition (`aws-cn`) names its
 * service principals and endpoints under `amazonaws.com.cn` and runs its own GitHub OIDC trust: the key and
 * role policies would need a second set of names that nothing here tests.
 */
export const REFUSED_REGIONS: Readonly<Record<string, string>> = {
  "cn-north-1": "the China partition (aws-cn) is not supported",
  "cn-northwest-1": "the China partition (aws-cn) is not supported",
};

export function isSupportedRegion(region: string): boolean {
  return Object.hasOwn(REGIONS, region);
}

/** The partition of a supported region; throws for any other (the config schema refuses them first). */
export function partitionOf(region: string): Partition {
  const partition = isSupportedRegion(region) ? REGIONS[region] : undefined;
  if (!partition) throw new Error(`region "${region}" is not supported: ${regionRule(region)}`);
  return partition;
}

/** What to tell someone who configured `region`. */
export function regionRule(region: string): string {
  const refused = REFUSED_REGIONS[region];
  if (refused) return `${refused}; use a region of ${PARTITIONS.join(" or ")}`;
  return `must be an AWS region such as us-east-1, one of ${Object.keys(REGIONS).join(", ")}`;
}

/** Service endpoints as KMS sees them in `kms:ViaService` (both supported partitions use amazonaws.com). */
export function serviceEndpoint(service: string, region: string): string {
  partitionOf(region);
  return `${service}.${region}.amazonaws.com`;
}
