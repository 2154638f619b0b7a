import { asAwsError } from "../../tools/ingest/aws";
import { AwsUnreachableError, ExitCode } from "../../tools/ingest/errors";

describe("asAwsError", () => {
  it.each([
    [
      "a refused connection",
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" }),
    ],
    [
      "the SDK's wrapper around one",
      new Error("AWS SDK error wrapper for Error: connect ECONNREFUSED 127.0.0.1:9"),
    ],
    [
      "a missing bucket",
      Object.assign(new Error("The specified bucket does not exist"), { name: "NoSuchBucket" }),
    ],
    [
      "a missing table",
      Object.assign(new Error("Requested resource not found"), { name: "ResourceNotFoundException" }),
    ],
    [
      "no credentials",
      Object.assign(new Error("Could not load credentials"), { name: "CredentialsProviderError" }),
    ],
  ])("maps %s to exit code 3, saying what was attempted", (_what, error) => {
    const mapped = asAwsError("S3 put x in lake-raw", error);
    expect(mapped).toBeInstanceOf(AwsUnreachableError);
    expect((mapped as AwsUnreachableError).exitCode).toBe(ExitCode.unreachable);
    expect((mapped as Error).message).toMatch(/^S3 put x in lake-raw: /);
  });

  it("leaves other errors alone", () => {
    const throttled = Object.assign(new Error("slow down"), { name: "SlowDown" });
    expect(asAwsError("S3 put", throttled)).toBe(throttled);
  });
});
