import { type EnvironmentName, loadConfig, Naming } from "../../modules/config";
import {
  policyOf,
  referencing,
  resourcesOfType,
  synthAllStacks,
  type TfJson,
  type TfResource,
} from "../helpers/synth";

// Invariants over EVERY resource of a type in EVERY synthesized stack of EVERY environment. Each failure names
// the resource address, so a new bucket or key that misses a setting fails here, whoever added it.

const stacks = synthAllStacks();
const environmentOf = (stackName: string) => stackName.split("-").pop() as EnvironmentName;

/** The resources of `type` attached to `bucket` through their `bucket` attribute. */
const attached = (json: TfJson, type: string, bucket: TfResource) => referencing(json, type, bucket);

/** Buckets that receive S3 server access logs (SSE-S3 and no logging of their own, by AWS's rules). */
function logTargets(json: TfJson): Set<string> {
  return new Set(resourcesOfType(json, "aws_s3_bucket_logging").map((l) => String(l.config.target_bucket)));
}
const isLogTarget = (json: TfJson, bucket: TfResource) =>
  logTargets(json).has(`\${${bucket.address}.bucket}`);

describe.each(stacks)("%s", (name, json) => {
  const local = name.endsWith("-local");
  const config = loadConfig(environmentOf(name), { env: {} });
  const protect = config.protectStatefulResources;
  const rawBucketName = new Naming(config).bucket("raw");
  const buckets = resourcesOfType(json, "aws_s3_bucket");
  const bucketCases = buckets.map((b) => [b.address, b] as [string, TfResource]);

  it("has at least one bucket and one key to check", () => {
    expect(buckets.length).toBeGreaterThan(0);
    expect(resourcesOfType(json, "aws_kms_key").length).toBeGreaterThan(0);
  });

  describe.each(bucketCases)("bucket %s", (_address, bucket) => {
    it("is never force-destroyed, and terraform refuses to destroy it where the config protects state", () => {
      expect(bucket.config.force_destroy).toBe(false);
      expect(bucket.config.lifecycle).toEqual(protect ? { prevent_destroy: true } : undefined);
    });

    it("blocks public access four ways", () => {
      const [pab, ...more] = attached(json, "aws_s3_bucket_public_access_block", bucket);
      expect(more).toHaveLength(0);
      expect(pab?.config).toMatchObject({
        block_public_acls: true,
        block_public_policy: true,
        ignore_public_acls: true,
        restrict_public_buckets: true,
      });
    });

    it("has ACLs disabled (BucketOwnerEnforced)", () => {
      const owners = attached(json, "aws_s3_bucket_ownership_controls", bucket);
      expect(owners.map((o) => o.config.rule)).toEqual([{ object_ownership: "BucketOwnerEnforced" }]);
    });

    it("is encrypted: SSE-KMS with bucket keys, or SSE-S3 only as a log target", () => {
      const [enc, ...more] = attached(json, "aws_s3_bucket_server_side_encryption_configuration", bucket);
      expect(more).toHaveLength(0);
      const rule = (enc?.config.rule as Array<Record<string, Record<string, unknown>>> | undefined)?.[0];
      if (isLogTarget(json, bucket)) {
        expect(rule?.apply_server_side_encryption_by_default).toEqual({ sse_algorithm: "AES256" });
      } else {
        expect(rule?.apply_server_side_encryption_by_default?.sse_algorithm).toBe("aws:kms");
        expect(String(rule?.apply_server_side_encryption_by_default?.kms_master_key_id)).toMatch(
          /^\$\{aws_kms_key\./,
        );
        expect(rule?.bucket_key_enabled).toBe(true);
      }
    });

    it("is versioned", () => {
      const versioning = attached(json, "aws_s3_bucket_versioning", bucket);
      expect(versioning.map((v) => v.config.versioning_configuration)).toEqual([{ status: "Enabled" }]);
    });

    it("logs server access to another bucket, unless it is the log target", () => {
      const logging = attached(json, "aws_s3_bucket_logging", bucket);
      if (isLogTarget(json, bucket)) expect(logging).toHaveLength(0);
      else {
        expect(logging).toHaveLength(1);
        expect(logging[0]?.config.target_bucket).not.toBe(`\${${bucket.address}.bucket}`);
      }
    });

    const raw = bucket.config.bucket === rawBucketName;
    it(
      raw
        ? "has lifecycle rules with explicit filters that abort uploads and never expire anything (raw is write-once)"
        : "has lifecycle rules with explicit filters that abort uploads and expire old versions",
      () => {
        const [lifecycle, ...more] = attached(json, "aws_s3_bucket_lifecycle_configuration", bucket);
        expect(more).toHaveLength(0);
        const rules = (lifecycle?.config.rule ?? []) as Array<Record<string, unknown>>;
        expect(rules.length).toBeGreaterThan(0);
        for (const rule of rules)
          expect(rule.filter).toEqual([expect.objectContaining({ prefix: expect.any(String) })]);
        expect(rules.some((r) => r.abort_incomplete_multipart_upload !== undefined)).toBe(true);
        const expiring = rules.filter(
          (r) => r.noncurrent_version_expiration !== undefined || r.expiration !== undefined,
        );
        if (raw) expect(expiring).toEqual([]);
        else expect(rules.some((r) => r.noncurrent_version_expiration !== undefined)).toBe(true);
        expect(lifecycle?.config.depends_on).toEqual(
          attached(json, "aws_s3_bucket_versioning", bucket).map((v) => v.address),
        );
      },
    );

    it(
      local
        ? "has no Deny statements on moto (MOTO_GAPS.s3PolicyDenyStatements)"
        : "denies non-TLS and TLS < 1.2",
      () => {
        const policies = attached(json, "aws_s3_bucket_policy", bucket);
        expect(policies.length).toBeLessThanOrEqual(1);
        const statements = policies.flatMap((p) => policyOf(p.config.policy).Statement);
        if (local) {
          expect(statements.filter((s) => s.Effect === "Deny")).toEqual([]);
          return;
        }
        const resources = [`arn:aws:s3:::${bucket.config.bucket}`, `arn:aws:s3:::${bucket.config.bucket}/*`];
        expect(statements).toEqual(
          expect.arrayContaining([
            expect.objectContaining({
              Effect: "Deny",
              Action: "s3:*",
              Resource: resources,
              Condition: { Bool: { "aws:SecureTransport": false } },
            }),
            expect.objectContaining({
              Effect: "Deny",
              Action: "s3:*",
              Resource: resources,
              Condition: { NumericLessThan: { "s3:TlsVersion": 1.2 } },
            }),
          ]),
        );
        expect(policies[0]?.config.depends_on).toEqual(
          attached(json, "aws_s3_bucket_public_access_block", bucket).map((p) => p.address),
        );
      },
    );

    if (!local && !isLogTarget(json, bucket)) {
      it("refuses uploads that name another key than its default key", () => {
        const statements = attached(json, "aws_s3_bucket_policy", bucket).flatMap(
          (p) => policyOf(p.config.policy).Statement,
        );
        const [enc] = attached(json, "aws_s3_bucket_server_side_encryption_configuration", bucket);
        const keyArn = (enc?.config.rule as Array<Record<string, Record<string, unknown>>>)[0]
          ?.apply_server_side_encryption_by_default?.kms_master_key_id;
        const keyId = "s3:x-amz-server-side-encryption-aws-kms-key-id";
        const denyOtherKey = statements.find((s) => s.Sid === "DenyOtherKmsKey");
        expect(denyOtherKey).toMatchObject({ Effect: "Deny", Action: "s3:PutObject" });
        expect(denyOtherKey?.Condition?.Null).toEqual({ [keyId]: false });
        // The default key first; the state bucket also accepts the state key's alias ARN (the lake's backend).
        expect([denyOtherKey?.Condition?.StringNotEquals?.[keyId]].flat()[0]).toBe(keyArn);
      });
    }
  });

  it.each(resourcesOfType(json, "aws_kms_key").map((k) => [k.address, k] as [string, TfResource]))(
    "key %s rotates, waits at least 7 days before deletion and has a least-privilege key policy",
    (_address, key) => {
      expect(key.config.enable_key_rotation).toBe(true);
      expect(key.config.lifecycle).toEqual(protect ? { prevent_destroy: true } : undefined);
      expect(Number(key.config.deletion_window_in_days)).toBeGreaterThanOrEqual(7);
      const [policy, ...more] = referencing(json, "aws_kms_key_policy", key, "key_id");
      expect(more).toHaveLength(0);
      const statements = policyOf(policy?.config.policy).Statement;
      for (const s of statements) {
        expect([s.Action].flat()).not.toContain("kms:*");
        const principal = s.Principal as { AWS?: unknown; Service?: unknown };
        if (principal.Service !== undefined || principal.AWS === "*") expect(s.Condition).toBeDefined();
      }
    },
  );

  it.each(resourcesOfType(json, "aws_dynamodb_table").map((t) => [t.address, t] as [string, TfResource]))(
    "table %s is on demand, point-in-time recoverable and encrypted with a customer managed key",
    (_address, table) => {
      expect(table.config).toMatchObject({
        billing_mode: "PAY_PER_REQUEST",
        point_in_time_recovery: { enabled: true },
      });
      expect(table.config.server_side_encryption).toEqual({
        enabled: true,
        kms_key_arn: expect.stringMatching(/^\$\{aws_kms_key\./),
      });
      expect(table.config.deletion_protection_enabled).toBe(protect);
      expect(table.config.lifecycle).toEqual(protect ? { prevent_destroy: true } : undefined);
    },
  );

  it("gives every Glue job and crawler the security configuration", () => {
    for (const r of [
      ...resourcesOfType(json, "aws_glue_job"),
      ...resourcesOfType(json, "aws_glue_crawler"),
    ]) {
      expect([r.address, r.config.security_configuration]).toEqual([r.address, expect.stringMatching(/\S/)]);
    }
  });

  it("encrypts every SNS topic and log group with a customer managed key", () => {
    for (const r of resourcesOfType(json, "aws_sns_topic")) {
      expect([r.address, r.config.kms_master_key_id]).toEqual([
        r.address,
        expect.stringMatching(/^\$\{aws_kms_key\./),
      ]);
    }
    for (const r of resourcesOfType(json, "aws_cloudwatch_log_group")) {
      expect([r.address, r.config.kms_key_id]).toEqual([
        r.address,
        expect.stringMatching(/^\$\{aws_kms_key\./),
      ]);
    }
  });

  it("tags every resource through the provider's default tags", () => {
    const tags =
      (json.provider.aws?.[0]?.default_tags as Array<{ tags: Record<string, string> }>)[0]?.tags ?? {};
    expect(Object.keys(tags).sort()).toEqual([
      "cost-center",
      "data-classification",
      "environment",
      "owner",
      "project",
    ]);
  });
});
