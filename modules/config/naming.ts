import { createHash } from "node:crypto";
import { type Partition, partitionOf, serviceEndpoint } from "./regions";
import type { LakeConfig } from "./schema";

/** Where an environment lives: every ARN of it is built from these three. */
export interface AwsLocation {
  readonly account: string;
  readonly region: string;
  readonly partition: Partition;
}

/** AWS name length limits the lake runs into. */
export const NAME_LIMITS = {
  s3Bucket: 63,
  iamRole: 64,
  iamPolicy: 128,
  dynamodbTable: 255,
  glueDatabase: 255,
  glueJob: 255,
  kmsAlias: 256,
  snsTopic: 256,
  athenaWorkgroup: 128,
  logGroup: 512,
  generic: 64,
} as const;

const HASH_LENGTH = 8;

/**
 * Returns `name` unchanged when it fits, else a prefix of it plus a short hash of the whole name, so that
 * the result is deterministic (stable across synths), within `maxLength`, and distinct for distinct inputs.
 */
export function boundedName(name: string, maxLength: number, separator = "-"): string {
  if (maxLength < HASH_LENGTH + 2)
    throw new RangeError(`maxLength ${maxLength} is too small for a hashed name`);
  if (name.length <= maxLength) return name;
  const hash = createHash("sha256").update(name).digest("hex").slice(0, HASH_LENGTH);
  const head = name.slice(0, maxLength - HASH_LENGTH - separator.length).replace(/[-_.]+$/, "");
  return `${head}${separator}${hash}`;
}

/**
 * Every physical name of the lake, derived from the environment's config. One place, so that the state
 * bootstrap and the lake stack's backend agree on the state bucket's name, and names never change by accident.
 */
export class Naming {
  readonly prefix: string;
  readonly accountId: string;
  readonly region: string;
  readonly partition: Partition;

  constructor(config: Pick<LakeConfig, "namePrefix" | "environment" | "accountId" | "region">) {
    this.prefix = `${config.namePrefix}-${config.environment}`;
    this.accountId = config.accountId;
    this.region = config.region;
    this.partition = partitionOf(config.region);
  }

  get location(): AwsLocation {
    return { account: this.accountId, region: this.region, partition: this.partition };
  }

  /** A service's regional endpoint as `kms:ViaService` names it, e.g. `s3.us-east-1.amazonaws.com`. */
  viaService(service: string): string {
    return serviceEndpoint(service, this.region);
  }

  /** A hyphenated name such as `opl-dev-ingestion`, bounded to `maxLength` (default 64). */
  resource(purpose: string, maxLength: number = NAME_LIMITS.generic): string {
    assertPurpose(purpose);
    return boundedName(`${this.prefix}-${purpose}`, maxLength);
  }

  /** Globally unique bucket name: prefix, purpose, account and region, e.g. `opl-dev-raw-123456789012-us-east-1`. */
  bucket(purpose: string): string {
    assertPurpose(purpose);
    return boundedName(`${this.prefix}-${purpose}-${this.accountId}-${this.region}`, NAME_LIMITS.s3Bucket);
  }

  role(purpose: string): string {
    return this.resource(purpose, NAME_LIMITS.iamRole);
  }

  /** Glue/Athena identifiers allow no hyphens: `opl_dev_curated`. */
  database(purpose: string): string {
    assertPurpose(purpose);
    return boundedName(`${this.prefix}-${purpose}`.replace(/-/g, "_"), NAME_LIMITS.glueDatabase, "_");
  }

  kmsAlias(purpose: string): string {
    return `alias/${this.resource(purpose, NAME_LIMITS.kmsAlias - "alias/".length)}`;
  }

  /** The Terraform state bucket, lock table and state key alias the bootstrap creates and the backend uses. */
  get stateBucket(): string {
    return this.bucket("tfstate");
  }

  get lockTable(): string {
    return this.resource("tflock", NAME_LIMITS.dynamodbTable);
  }

  get stateKeyAlias(): string {
    return this.kmsAlias("tfstate");
  }

  /** Where each stack's state lives inside the state bucket. */
  stateKey(stackName: string): string {
    return `stacks/${stackName}/terraform.tfstate`;
  }

  roleArn(roleName: string): string {
    return `arn:${this.partition}:iam::${this.accountId}:role/${roleName}`;
  }

  /** The state key's alias ARN: the S3 backend names the key by it (backends take static strings only). */
  get stateKeyAliasArn(): string {
    return `arn:${this.partition}:kms:${this.region}:${this.accountId}:${this.stateKeyAlias}`;
  }
}

// S3's rules for general purpose bucket names, with the reserved prefixes and suffixes.
const RESERVED_BUCKET_PREFIXES = ["xn--", "sthree-", "amzn-s3-demo-"];
const RESERVED_BUCKET_SUFFIXES = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

/** Why S3 would refuse `name` as a bucket name, or undefined when it is valid. */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return "a bucket name has 3-63 characters";
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name))
    return "a bucket name has only a-z 0-9 . - and starts and ends with a letter or digit";
  if (name.includes("..")) return "a bucket name has no two adjacent periods";
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return "a bucket name is not an IP address";
  const prefix = RESERVED_BUCKET_PREFIXES.find((p) => name.startsWith(p));
  if (prefix) return `bucket names must not start with "${prefix}" (reserved by S3)`;
  const suffix = RESERVED_BUCKET_SUFFIXES.find((p) => name.endsWith(p));
  if (suffix) return `bucket names must not end with "${suffix}" (reserved by S3)`;
  return undefined;
}

function assertPurpose(purpose: string): void {
  if (!/^[a-z][a-z0-9-]*$/.test(purpose)) {
    throw new Error(
      `name purpose "${purpose}" must be lower-case letters, digits and hyphens, starting with a letter`,
    );
  }
}
