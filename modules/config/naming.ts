import { createHash } from "node:crypto";
import type { LakeConfig } from "./schema";

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

  constructor(config: Pick<LakeConfig, "namePrefix" | "environment" | "accountId" | "region">) {
    this.prefix = `${config.namePrefix}-${config.environment}`;
    this.accountId = config.accountId;
    this.region = config.region;
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
    return `arn:aws:iam::${this.accountId}:role/${roleName}`;
  }
}

function assertPurpose(purpose: string): void {
  if (!/^[a-z][a-z0-9-]*$/.test(purpose)) {
    throw new Error(
      `name purpose "${purpose}" must be lower-case letters, digits and hyphens, starting with a letter`,
    );
  }
}
