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
  partition: "aws",
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
    // Refused only when the header is present and names something else (a missing header gets the default).
    expect(statements[2]?.Condition).toEqual({
      StringNotEquals: { "s3:x-amz-server-side-encryption": "aws:kms" },
      Null: { "s3:x-amz-server-side-encryption": false },
    });
    expect(statements[3]?.Condition).toEqual({
      StringNotEquals: {
        "s3:x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:us-east-1:111111111111:key/abc",
      },
      Null: { "s3:x-amz-server-side-encryption-aws-kms-key-id": false },
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
    ["reserved prefix", { bucketName: "sthree-dev-raw" }, 'must not start with "sthree-" (reserved by S3)'],
    [
      "expiring rule on a write-once bucket",
      { writeOnce: { breakGlassRoleArn: "arn:aws:iam::111111111111:role/BreakGlass" } },
      'lifecycle rule "housekeeping" expires objects or versions of a write-once bucket',
    ],
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

  it("keep raw write-once: only the break-glass role may delete raw objects or change what lifecycle may do", () => {
    const policy = of("aws_s3_bucket_policy", "raw");
    const statements = policyOf(policy.config.policy).Statement;
    const exceptBreakGlass = {
      ArnNotEquals: { "aws:PrincipalArn": "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole" },
    };
    const raw = "arn:aws:s3:::opl-dev-raw-111111111111-us-east-1";
    expect(statements.find((s) => s.Sid === "DenyDeletion")).toEqual({
      Sid: "DenyDeletion",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: ["s3:DeleteObject", "s3:DeleteObjectVersion"],
      Resource: `${raw}/*`,
      Condition: exceptBreakGlass,
    });
    expect(statements.find((s) => s.Sid === "DenyRetentionChanges")).toMatchObject({
      Effect: "Deny",
      Action: expect.arrayContaining([
        "s3:PutLifecycleConfiguration",
        "s3:PutBucketVersioning",
        "s3:PutBucketPolicy",
      ]),
      Resource: raw,
      Condition: exceptBreakGlass,
    });
    expect(statements.find((s) => s.Sid === "DenyOverwrites")).toEqual({
      Sid: "DenyOverwrites",
      Effect: "Deny",
      Principal: { AWS: "*" },
      Action: "s3:PutObject",
      Resource: `${raw}/*`,
      Condition: { Null: { "s3:if-none-match": true }, BoolIfExists: { "s3:ObjectCreationOperation": true } },
    });
  });

  it("never expire a raw object or version: raw's lifecycle only aborts uploads and moves storage classes", () => {
    const rules = of("aws_s3_bucket_lifecycle_configuration", "raw").config.rule as Array<
      Record<string, unknown>
    >;
    expect(rules.map((r) => r.id)).toEqual(["abort-incomplete-uploads", "age-raw-files"]);
    for (const rule of rules) {
      expect(rule).not.toHaveProperty("expiration");
      expect(rule).not.toHaveProperty("noncurrent_version_expiration");
    }
  });

  it("the state bucket accepts uploads naming the state key by its alias ARN, as the lake's backend does", () => {
    const bootstrap = synthStack("dev", "state-bootstrap");
    const [policy] = resourcesOfType(bootstrap, "aws_s3_bucket_policy").filter((p) =>
      String(p.config.bucket).includes("state_bucket"),
    );
    const denyOtherKey = policyOf(policy?.config.policy).Statement.find((s) => s.Sid === "DenyOtherKmsKey");
    const accepted = denyOtherKey?.Condition?.StringNotEquals?.[
      "s3:x-amz-server-side-encryption-aws-kms-key-id"
    ] as string[];
    const backendKey = synthStack("dev", "lake").terraform.backend?.s3?.kms_key_id;
    expect(accepted).toEqual([
      expect.stringMatching(/^\$\{aws_kms_key\.state-key_[0-9A-F]+\.arn\}$/),
      backendKey,
    ]);
    expect(backendKey).toBe("arn:aws:kms:us-east-1:111111111111:alias/opl-dev-tfstate");
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
