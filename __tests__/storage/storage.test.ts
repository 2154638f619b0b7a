import { loadConfig, MOTO_GAPS } from "../../modules/config";
import { LakeBucket, type LakeBucketProps } from "../../modules/storage";
import {
  policyOf,
  referencing,
  resourcesOfType,
  single,
  synthConstruct,
  synthStack,
  synthToDisk,
  type TfJson,
} from "../helpers/synth";

const props: LakeBucketProps = {
  bucketName: "opl-test-raw-111111111111-us-east-1",
  encryption: { kind: "kms", keyArn: "arn:aws:kms:us-east-1:111111111111:key/abc" },
  accessLogging: undefined,
  lifecycleRules: [
    { id: "housekeeping", prefix: "", abortIncompleteMultipartAfterDays: 3, noncurrentVersionExpiryDays: 30 },
  ],
};

describe("LakeBucket", () => {
  const json = synthConstruct((scope) => new LakeBucket(scope, "raw", props));
  const only = (type: string) => single(resourcesOfType(json, type), type).config;

  it("never force-destroys", () => {
    expect(only("aws_s3_bucket")).toMatchObject({ bucket: props.bucketName, force_destroy: false });
  });

  it("blocks public access four ways and disables ACLs", () => {
    expect(only("aws_s3_bucket_public_access_block")).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(only("aws_s3_bucket_ownership_controls")).toMatchObject({
      rule: { object_ownership: "BucketOwnerEnforced" },
    });
  });

  it("encrypts with the KMS key and S3 bucket keys", () => {
    expect(only("aws_s3_bucket_server_side_encryption_configuration")).toMatchObject({
      rule: [
        {
          apply_server_side_encryption_by_default: {
            sse_algorithm: "aws:kms",
            kms_master_key_id: "arn:aws:kms:us-east-1:111111111111:key/abc",
          },
          bucket_key_enabled: true,
        },
      ],
    });
  });

  it("denies plain HTTP, old TLS and uploads naming another algorithm or key", () => {
    const policy = only("aws_s3_bucket_policy");
    const statements = policyOf(policy.policy).Statement;
    expect(statements.map((s) => s.Sid)).toEqual([
      "DenyInsecureTransport",
      "DenyOutdatedTls",
      "DenyOtherEncryption",
      "DenyOtherKmsKey",
    ]);
    expect(statements[0]).toMatchObject({
      Effect: "Deny",
      Action: "s3:*",
      Condition: { Bool: { "aws:SecureTransport": false } },
    });
    expect(statements[1]).toMatchObject({
      Effect: "Deny",
      Condition: { NumericLessThan: { "s3:TlsVersion": 1.2 } },
    });
    expect(statements[3]?.Condition).toEqual({
      StringNotEqualsIfExists: {
        "s3:x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:us-east-1:111111111111:key/abc",
      },
    });
  });

  it("writes the policy after the public access block and the lifecycle after versioning", () => {
    const pab = single(resourcesOfType(json, "aws_s3_bucket_public_access_block"), "public access block");
    const versioning = single(resourcesOfType(json, "aws_s3_bucket_versioning"), "versioning");
    expect(only("aws_s3_bucket_policy").depends_on).toEqual([pab.address]);
    expect(only("aws_s3_bucket_lifecycle_configuration").depends_on).toEqual([versioning.address]);
  });

  it("gives every lifecycle rule an explicit filter", () => {
    expect(only("aws_s3_bucket_lifecycle_configuration")).toMatchObject({
      rule: [
        {
          id: "housekeeping",
          status: "Enabled",
          filter: [{ prefix: "" }],
          abort_incomplete_multipart_upload: [{ days_after_initiation: 3 }],
          noncurrent_version_expiration: [{ noncurrent_days: 30 }],
        },
      ],
    });
  });

  it("keeps only Allow statements when Deny statements are off (the local profile), saying why", () => {
    const local = synthConstruct(
      (scope) =>
        new LakeBucket(scope, "raw", { ...props, denyStatements: { enforce: false, reason: "moto" } }),
    );
    expect(resourcesOfType(local, "aws_s3_bucket_policy")).toHaveLength(0);
  });

  it.each<[string, Partial<LakeBucketProps>, string]>([
    ["upper-case name", { bucketName: "Opl-Raw" }, '"Opl-Raw" is not a valid S3 bucket name'],
    ["too long name", { bucketName: "a".repeat(64) }, "is not a valid S3 bucket name"],
    ["no lifecycle rule", { lifecycleRules: [] }, "give at least one lifecycle rule"],
    [
      "duplicate rule ids",
      {
        lifecycleRules: [
          { id: "x", prefix: "" },
          { id: "x", prefix: "raw/" },
        ],
      },
      "duplicate lifecycle rule ids",
    ],
  ])("rejects %s", (_what, change, message) => {
    expect(() => synthConstruct((scope) => new LakeBucket(scope, "b", { ...props, ...change }))).toThrow(
      message,
    );
  });
});

describe("the lake's buckets", () => {
  const dev = synthStack("dev", "lake");
  const buckets = resourcesOfType(dev, "aws_s3_bucket");
  const byName = (fragment: string) =>
    single(
      buckets.filter((b) => String(b.config.bucket).startsWith(`opl-dev-${fragment}-`)),
      `bucket ${fragment}`,
    );
  const of = (type: string, bucket: string) =>
    single(referencing(dev, type, byName(bucket)), `${type} of ${bucket}`);

  it("are raw, cleaned, curated, athena-results and access-logs", () => {
    expect(buckets.map((b) => b.config.bucket).sort()).toEqual(
      ["access-logs", "athena-results", "cleaned", "curated", "raw"].map(
        (p) => `opl-dev-${p}-111111111111-us-east-1`,
      ),
    );
  });

  it("age raw files to STANDARD_IA then GLACIER_IR, under raw/ only", () => {
    const lifecycle = of("aws_s3_bucket_lifecycle_configuration", "raw");
    const rules = lifecycle.config.rule as Array<Record<string, unknown>>;
    expect(rules.find((r) => r.id === "age-raw-files")).toMatchObject({
      filter: [{ prefix: "raw/" }],
      transition: [
        { days: 30, storage_class: "STANDARD_IA" },
        { days: 90, storage_class: "GLACIER_IR" },
      ],
    });
  });

  it("expire query results and access logs", () => {
    for (const [bucket, days] of [
      ["athena-results", 7],
      ["access-logs", 90],
    ] as const) {
      const lifecycle = of("aws_s3_bucket_lifecycle_configuration", bucket);
      expect(lifecycle.config.rule).toEqual([
        expect.objectContaining({ expiration: [{ days }], filter: [{ prefix: "" }] }),
      ]);
    }
  });

  it("keep raw immutable: only the break-glass role may delete raw objects", () => {
    const policy = of("aws_s3_bucket_policy", "raw");
    expect(policyOf(policy.config.policy).Statement.find((s) => s.Sid === "DenyRawDeletion")).toEqual({
      Sid: "DenyRawDeletion",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: ["s3:DeleteObject", "s3:DeleteObjectVersion"],
      Resource: "arn:aws:s3:::opl-dev-raw-111111111111-us-east-1/*",
      Condition: {
        ArnNotEquals: { "aws:PrincipalArn": "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole" },
      },
    });
  });

  it("log to the access-logs bucket, which admits S3 log delivery for these buckets of this account only", () => {
    const logsBucket = byName("access-logs");
    const loggings = resourcesOfType(dev, "aws_s3_bucket_logging");
    expect(loggings).toHaveLength(4);
    for (const l of loggings) expect(l.config.target_bucket).toBe(`\${${logsBucket.address}.bucket}`);
    const [policy] = referencing(dev, "aws_s3_bucket_policy", logsBucket);
    const delivery = policyOf(policy.config.policy).Statement.find((s) => s.Sid === "AllowS3LogDelivery");
    expect(delivery?.Principal).toEqual({ Service: "logging.s3.amazonaws.com" });
    expect(delivery?.Condition?.StringEquals).toEqual({ "aws:SourceAccount": "111111111111" });
    expect((delivery?.Condition?.ArnLike?.["aws:SourceArn"] as string[]).sort()).toEqual(
      ["athena-results", "cleaned", "curated", "raw"].map(
        (p) => `arn:aws:s3:::opl-dev-${p}-111111111111-us-east-1`,
      ),
    );
  });

  it("say in the synthesized JSON why the access-logs bucket is SSE-S3, and locally why policies lack Denies", () => {
    const comment = (json: TfJson, fragment: string) =>
      single(
        resourcesOfType(json, "aws_s3_bucket").filter((b) =>
          String(b.config.bucket).includes(`-${fragment}-`),
        ),
        fragment,
      ).config["//"];
    const onDisk = synthToDisk(loadConfig("local", { env: {} })).lake;
    expect(comment(onDisk, "access-logs")).toMatchObject({
      why_sse_s3: expect.stringContaining("log delivery"),
    });
    expect(comment(onDisk, "raw")).not.toHaveProperty("why_sse_s3");
    expect(comment(onDisk, "raw")).toMatchObject({
      why_no_deny_statements: MOTO_GAPS.s3PolicyDenyStatements,
    });
  });

  it("encrypt the access-logs bucket with SSE-S3, the only encryption log delivery supports", () => {
    const [enc] = referencing(
      dev,
      "aws_s3_bucket_server_side_encryption_configuration",
      byName("access-logs"),
    );
    expect(enc.config.rule).toEqual([
      { apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } },
    ]);
  });

  it("locally keep the log-delivery Allow and drop the Deny statements (MOTO_GAPS.s3PolicyDenyStatements)", () => {
    const local = synthStack("local", "lake");
    const policies = resourcesOfType(local, "aws_s3_bucket_policy").map((p) => policyOf(p.config.policy));
    expect(policies.flatMap((p) => p.Statement).map((s) => `${s.Effect}:${s.Sid}`)).toEqual([
      "Allow:AllowS3LogDelivery",
    ]);
  });
});
