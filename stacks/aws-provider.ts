import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import type { Construct } from "constructs";
import type { LakeConfig } from "../modules/config";

/**
 * The AWS shared-config profile the local environment's provider uses. Its file (localAwsConfig, named by
 * AWS_CONFIG_FILE) is written by the local lake next to moto: without it the provider stops with "failed to get
 * shared config profile" before any call, so a local stack never reaches AWS.
 */
export const LOCAL_AWS_PROFILE = "open-payments-lake-local";

/**
 * The shared config file of the local profile: one `endpoint_url` for every AWS service (the SDK's global
 * endpoint setting), so no service the stacks call can miss moto.
 */
export function localAwsConfig(endpoint: string): string {
  return `[profile ${LOCAL_AWS_PROFILE}]\nendpoint_url = ${endpoint}\n`;
}

/**
 * The AWS provider of a stack: region, the one allowed account, default tags from config. In the local
 * environment it targets moto through LOCAL_AWS_PROFILE, path-style S3, moto's fake credentials and few retries
 * (moto answers unimplemented calls with 500, which the SDK would otherwise retry for minutes). It keeps
 * requesting the account id: with it skipped, Glue catalog ids and ARNs come out empty.
 *
 * Why a profile rather than the provider's `endpoints` block: hashicorp/aws 5.100 spends about 3 s validating
 * an `endpoints` block (any, even one service) each time terraform configures the provider, which an apply or a
 * destroy does three times (validate, plan, apply walks): ~9 s per command (tools/local-lake/README.md).
 */
export function lakeAwsProvider(scope: Construct, config: LakeConfig): AwsProvider {
  const tags = { ...config.tags };
  const common = { region: config.region, allowedAccountIds: [config.accountId], defaultTags: [{ tags }] };
  if (config.localEndpoint === undefined) return new AwsProvider(scope, "aws", common);
  return new AwsProvider(scope, "aws", {
    ...common,
    profile: LOCAL_AWS_PROFILE,
    s3UsePathStyle: true,
    skipCredentialsValidation: true,
    skipMetadataApiCheck: "true",
    // moto's well-known dummy credentials, never valid on AWS.
    accessKey: "testing",
    secretKey: "testing",
    maxRetries: 2,
  });
}
