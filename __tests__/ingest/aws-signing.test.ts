import { createHash, Hash } from "node:crypto";
import { Readable } from "node:stream";
import { ListObjectsV2Command, PutObjectCommand, UploadPartCommand } from "@aws-sdk/client-s3";
import { awsClients } from "../../tools/ingest/aws";

/** What the ingestion S3 client puts on the wire, and how many bytes it hashed to get there. */
async function signedRequest(command: PutObjectCommand | UploadPartCommand | ListObjectsV2Command) {
  const { s3 } = awsClients({
    region: "us-east-1",
    endpoint: "http://127.0.0.1:9",
    rawBucket: "b",
    table: "t",
  });
  s3.config.credentials = async () => ({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" });
  let headers: Record<string, string> = {};
  // After signing (a low-priority finalizeRequest step runs after httpSigningMiddleware), answer without a network.
  s3.middlewareStack.add(
    (_next) => async (args) => {
      headers = { ...(args.request as { headers: Record<string, string> }).headers };
      return {
        response: { statusCode: 200, headers: { etag: '"e"' }, body: Readable.from([]) },
        output: { $metadata: {} },
      } as never;
    },
    { step: "finalizeRequest", priority: "low", name: "captureSignedRequest" },
  );
  const update = jest.spyOn(Hash.prototype, "update");
  try {
    await s3.send(command as PutObjectCommand);
    const hashed = update.mock.calls.reduce(
      (n, [data]: unknown[]) =>
        n +
        (typeof data === "string" ? Buffer.byteLength(data) : (data as NodeJS.ArrayBufferView).byteLength),
      0,
    );
    return { headers, hashed };
  } finally {
    update.mockRestore();
  }
}

describe("the ingestion S3 client signs an upload with the checksum it already carries", () => {
  const body = Buffer.alloc(4 * 1024 * 1024, "x");
  const bodyHash = createHash("sha256").update(body).digest();

  it.each([
    ["PutObject", new PutObjectCommand({ Bucket: "b", Key: "k", Body: body, ChecksumAlgorithm: "SHA256" })],
    [
      "UploadPart",
      new UploadPartCommand({
        Bucket: "b",
        Key: "k",
        UploadId: "u",
        PartNumber: 1,
        Body: body,
        ChecksumAlgorithm: "SHA256",
      }),
    ],
  ])("%s: the body is hashed once, for S3's checksum and SigV4 alike", async (_name, command) => {
    const { headers, hashed } = await signedRequest(command);
    expect(headers["x-amz-checksum-sha256"]).toBe(bodyHash.toString("base64"));
    expect(headers["x-amz-content-sha256"]).toBe(bodyHash.toString("hex"));
    expect(headers.authorization).toMatch(/^AWS4-HMAC-SHA256 .*SignedHeaders=.*x-amz-content-sha256/);
    // One pass over the body (the flexible checksum); SigV4 itself only hashes a few hundred bytes.
    expect(hashed).toBeGreaterThanOrEqual(body.length);
    expect(hashed).toBeLessThan(body.length + 64 * 1024);
  });

  it("leaves other requests to SigV4", async () => {
    const { headers } = await signedRequest(new ListObjectsV2Command({ Bucket: "b" }));
    expect(headers["x-amz-content-sha256"]).toBe(createHash("sha256").update("").digest("hex"));
  });
});
