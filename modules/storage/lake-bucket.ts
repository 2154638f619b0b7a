import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import {
  S3BucketLifecycleConfiguration,
  type S3BucketLifecycleConfigurationRule,
} from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketLoggingA } from "@cdktf/provider-aws/lib/s3-bucket-logging";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { Construct } from "constructs";
import { Lazy, type PolicyStatement, policyJson } from "../core";

/** Default encryption: a KMS key (with S3 bucket keys), or SSE-S3 only where AWS demands it. */
export type BucketEncryption =
  | { readonly kind: "kms"; readonly keyArn: string }
  | {
      readonly kind: "s3-managed";
      /** Why KMS is impossible here; shown next to the setting in review. */
      readonly reason: string;
    };

/** A lifecycle rule in domain terms; every rule has an explicit filter (a prefix, "" for the whole bucket). */
export interface LifecycleRule {
  readonly id: string;
  readonly prefix: string;
  readonly abortIncompleteMultipartAfterDays?: number;
  readonly noncurrentVersionExpiryDays?: number;
  readonly expireAfterDays?: number;
  readonly transitions?: readonly {
    readonly days: number;
    readonly storageClass: "STANDARD_IA" | "GLACIER_IR";
  }[];
}

export interface AccessLogging {
  /** Name of the bucket that receives S3 server access logs. */
  readonly targetBucket: string;
  readonly targetPrefix: string;
}

export interface LakeBucketProps {
  readonly bucketName: string;
  readonly encryption: BucketEncryption;
  /** Where server access logs go; undefined only for the access-logs bucket itself (logging it to itself loops). */
  readonly accessLogging: AccessLogging | undefined;
  readonly lifecycleRules: readonly LifecycleRule[];
  /** Extra statements for the bucket policy (the TLS and encryption guards are always present). */
  readonly policyStatements?: readonly PolicyStatement[];
}

const BUCKET_NAME = /^(?!xn--)(?!sthree-)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * One S3 bucket with the lake's non-negotiable settings: all four public access blocks, BucketOwnerEnforced
 * (ACLs off), default encryption, versioning, server access logging, lifecycle rules with explicit filters, and
 * a policy that denies plain HTTP, TLS older than 1.2 and uploads that ask for another key. No force_destroy:
 * deleting a bucket with data is a deliberate, manual act.
 */
export class LakeBucket extends Construct {
  readonly bucket: S3Bucket;
  readonly bucketName: string;
  readonly bucketArn: string;
  readonly publicAccessBlock: S3BucketPublicAccessBlock;
  readonly versioning: S3BucketVersioningA;
  readonly encryption: S3BucketServerSideEncryptionConfigurationA;
  readonly policy: S3BucketPolicy;
  readonly lifecycle: S3BucketLifecycleConfiguration;
  readonly logging?: S3BucketLoggingA;
  private readonly extraStatements: PolicyStatement[] = [];

  constructor(scope: Construct, id: string, props: LakeBucketProps) {
    super(scope, id);
    if (!BUCKET_NAME.test(props.bucketName) || props.bucketName.includes("..")) {
      throw new Error(
        `LakeBucket ${id}: "${props.bucketName}" is not a valid S3 bucket name (3-63 of a-z 0-9 . -)`,
      );
    }
    if (props.lifecycleRules.length === 0) {
      throw new Error(
        `LakeBucket ${id}: give at least one lifecycle rule (incomplete uploads, old versions)`,
      );
    }
    const ruleIds = props.lifecycleRules.map((r) => r.id);
    if (new Set(ruleIds).size !== ruleIds.length)
      throw new Error(`LakeBucket ${id}: duplicate lifecycle rule ids`);

    this.bucket = new S3Bucket(this, "bucket", { bucket: props.bucketName, forceDestroy: false });
    this.bucketName = this.bucket.bucket;
    this.bucketArn = this.bucket.arn;

    this.publicAccessBlock = new S3BucketPublicAccessBlock(this, "public-access-block", {
      bucket: this.bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, "ownership", {
      bucket: this.bucket.id,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
    const enc = props.encryption;
    this.encryption = new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      bucket: this.bucket.id,
      rule: [
        enc.kind === "kms"
          ? {
              applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: enc.keyArn },
              bucketKeyEnabled: true,
            }
          : { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
      ],
    });
    this.versioning = new S3BucketVersioningA(this, "versioning", {
      bucket: this.bucket.id,
      versioningConfiguration: { status: "Enabled" },
    });
    if (props.accessLogging) {
      this.logging = new S3BucketLoggingA(this, "logging", {
        bucket: this.bucket.id,
        targetBucket: props.accessLogging.targetBucket,
        targetPrefix: props.accessLogging.targetPrefix,
      });
    }
    // S3 rejects a policy written while the public access block is being changed (409 OperationAborted), and a
    // policy with a public statement once the block exists: the block must be in place first.
    this.extraStatements.push(...(props.policyStatements ?? []));
    this.policy = new S3BucketPolicy(this, "policy", {
      bucket: this.bucket.id,
      policy: Lazy.stringValue({ produce: () => policyJson(this.policyStatements(enc)) }),
      dependsOn: [this.publicAccessBlock],
    });
    // Rules on noncurrent versions need versioning enabled first; the provider documents this depends_on.
    this.lifecycle = new S3BucketLifecycleConfiguration(this, "lifecycle", {
      bucket: this.bucket.id,
      rule: props.lifecycleRules.map(toProviderRule),
      dependsOn: [this.versioning],
    });
  }

  /** Adds statements to the bucket policy (e.g. a service's write access); rendered at synth time. */
  addPolicyStatements(...statements: PolicyStatement[]): void {
    this.extraStatements.push(...statements);
  }

  /** ARN pattern of the objects under `prefix` (e.g. `raw/`), for IAM policies. */
  objectsArn(prefix = ""): string {
    return `${this.bucketArn}/${prefix}*`;
  }

  private policyStatements(enc: BucketEncryption): PolicyStatement[] {
    const resources = [this.bucketArn, `${this.bucketArn}/*`];
    const statements: PolicyStatement[] = [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: resources,
        Condition: { Bool: { "aws:SecureTransport": false } },
      },
      {
        Sid: "DenyOutdatedTls",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: resources,
        Condition: { NumericLessThan: { "s3:TlsVersion": 1.2 } },
      },
    ];
    if (enc.kind === "kms") {
      // "IfExists": an upload without encryption headers gets the default key (bucket default encryption);
      // one that names another algorithm or key is refused. UploadPart carries no such header, so requiring
      // the header would break every multipart upload.
      statements.push(
        {
          Sid: "DenyOtherEncryption",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:PutObject",
          Resource: `${this.bucketArn}/*`,
          Condition: { StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption": "aws:kms" } },
        },
        {
          Sid: "DenyOtherKmsKey",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:PutObject",
          Resource: `${this.bucketArn}/*`,
          Condition: {
            StringNotEqualsIfExists: { "s3:x-amz-server-side-encryption-aws-kms-key-id": enc.keyArn },
          },
        },
      );
    }
    return [...statements, ...this.extraStatements];
  }
}

function toProviderRule(r: LifecycleRule): S3BucketLifecycleConfigurationRule {
  return {
    id: r.id,
    status: "Enabled",
    filter: [{ prefix: r.prefix }],
    ...(r.abortIncompleteMultipartAfterDays !== undefined && {
      abortIncompleteMultipartUpload: [{ daysAfterInitiation: r.abortIncompleteMultipartAfterDays }],
    }),
    ...(r.noncurrentVersionExpiryDays !== undefined && {
      noncurrentVersionExpiration: [{ noncurrentDays: r.noncurrentVersionExpiryDays }],
    }),
    ...(r.expireAfterDays !== undefined && { expiration: [{ days: r.expireAfterDays }] }),
    ...(r.transitions?.length && {
      transition: r.transitions.map((t) => ({ days: t.days, storageClass: t.storageClass })),
    }),
  };
}
