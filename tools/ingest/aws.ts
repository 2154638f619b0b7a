import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { AwsUnreachableError, errorMessage } from "./errors";
import type { Target } from "./target";

export interface AwsClients {
  readonly s3: S3Client;
  readonly ddb: DynamoDBDocumentClient;
}

/** SDK clients with retries on throttling and transient network errors (the SDK's own backoff). */
export function awsClients(target: Target, maxAttempts = 5): AwsClients {
  const common = {
    region: target.region,
    maxAttempts,
    retryMode: "adaptive",
    ...(target.endpoint ? { endpoint: target.endpoint } : {}),
  };
  const s3 = new S3Client({ ...common, forcePathStyle: Boolean(target.endpoint) });
  const ddb = DynamoDBDocumentClient.from(new DynamoDBClient(common), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return { s3, ddb };
}

const unreachable = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "CredentialsProviderError",
  "NoSuchBucket",
  "ResourceNotFoundException",
  "AccessDenied",
  "AccessDeniedException",
  "UnrecognizedClientException",
  "InvalidAccessKeyId",
  "ExpiredToken",
]);

/** Maps "cannot talk to AWS at all" errors onto exit code 3 with what was being attempted. */
export function asAwsError(what: string, error: unknown): unknown {
  const e = error as { name?: string; code?: string; cause?: { code?: string } };
  // The SDK may wrap a network error (e.g. "AWS SDK error wrapper for Error: connect ECONNREFUSED …").
  const inMessage = /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT)\b/.exec(errorMessage(error))?.[1];
  const code = [e.name, e.code, e.cause?.code, inMessage].find((c) => c && unreachable.has(c));
  return code ? new AwsUnreachableError(`${what}: ${code}: ${errorMessage(error)}`) : error;
}
