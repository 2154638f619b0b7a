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
  const s3 = new S3Client({
    ...common,
    forcePathStyle: Boolean(target.endpoint),
    // The SDK would send each 8 MiB upload part with `Expect: 100-continue`, which costs a round trip and, in the
    // Node handler, a new connection per request (no keep-alive): a TLS handshake per part in AWS.
    expectContinueHeader: false,
  });
  s3.middlewareStack.addRelativeTo(signChecksummedPayload, signChecksummedPayloadOptions);
  const ddb = DynamoDBDocumentClient.from(new DynamoDBClient(common), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return { s3, ddb };
}

/**
 * SigV4 signs the SHA-256 of a request's payload and hashes the body for it unless `x-amz-content-sha256` is
 * already set. An upload (PutObject, UploadPart) sent with S3's SHA-256 checksum (`x-amz-checksum-sha256`, set by
 * the caller or by the flexible-checksums middleware at the build step) carries that very hash in base64: giving
 * SigV4 its hex form spares a second pass over every uploaded byte. S3 checks both against the bytes it receives.
 */
const signChecksummedPayload =
  <A extends { request: unknown }, R>(next: (args: A) => Promise<R>, context: { commandName?: string }) =>
  (args: A) => {
    const headers = (args.request as { headers?: Record<string, string> }).headers;
    const checksum = headers?.["x-amz-checksum-sha256"];
    if (
      headers &&
      checksum &&
      !headers["x-amz-content-sha256"] &&
      checksummedUploads.has(context.commandName ?? "")
    )
      headers["x-amz-content-sha256"] = Buffer.from(checksum, "base64").toString("hex");
    return next(args);
  };
const checksummedUploads = new Set(["PutObjectCommand", "UploadPartCommand"]);
const signChecksummedPayloadOptions = {
  name: "ingestSignChecksummedPayload",
  relation: "before",
  toMiddleware: "httpSigningMiddleware",
} as const;

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
