import { AwsProvider, type AwsProviderEndpoints } from "@cdktf/provider-aws/lib/provider";
import type { Construct } from "constructs";
import type { LakeConfig } from "../modules/config";

/** Every AWS service the stacks call; the local profile points each of them at moto. */
export const LOCAL_ENDPOINT_SERVICES = [
  "athena",
  "cloudwatch",
  "cloudwatchevents",
  "cloudwatchlogs",
  "dynamodb",
  "ec2",
  "glue",
  "iam",
  "kms",
  "lakeformation",
  "rds",
  "s3",
  "s3Control",
  "secretsmanager",
  "sns",
  "sqs",
  "sts",
] as const satisfies readonly (keyof AwsProviderEndpoints)[];

/**
 * The AWS provider of a stack: region, the one allowed account, default tags from config. In the local
 * environment it targets moto: every endpoint, path-style S3, moto's fake credentials and few retries (moto
 * answers unimplemented calls with 500, which the SDK would otherwise retry for minutes). It keeps requesting
 * the account id: with it skipped, Glue catalog ids and ARNs come out empty.
 */
export function lakeAwsProvider(scope: Construct, config: LakeConfig): AwsProvider {
  const tags = { ...config.tags };
  const common = { region: config.region, allowedAccountIds: [config.accountId], defaultTags: [{ tags }] };
  if (config.localEndpoint === undefined) return new AwsProvider(scope, "aws", common);
  const endpoint = config.localEndpoint;
  return new AwsProvider(scope, "aws", {
    ...common,
    endpoints: [Object.fromEntries(LOCAL_ENDPOINT_SERVICES.map((s) => [s, endpoint]))],
    s3UsePathStyle: true,
    skipCredentialsValidation: true,
    skipMetadataApiCheck: "true",
    // moto's well-known dummy credentials, never valid on AWS.
    accessKey: "testing",
    secretKey: "testing",
    maxRetries: 2,
  });
}
