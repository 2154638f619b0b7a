import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { KmsKeyPolicy } from "@cdktf/provider-aws/lib/kms-key-policy";
import { Construct } from "constructs";
import type { AwsLocation } from "../config";
import { type ConditionValues, Lazy, type PolicyStatement, policyJson } from "../core";

/**
 * What a key administrator may do: manage the key, never use it for data. Listed one by one: AWS's
 * key-administrator set (`kms:Create*`, ...) includes kms:CreateGrant, and a grant is data use handed to any
 * principal the grantor names. Grants are only created by AWS services for AWS resources (see
 * `mayCreateGrantsForAwsResources`).
 */
export const KEY_ADMIN_ACTIONS = [
  "kms:CreateAlias",
  "kms:DescribeKey",
  "kms:EnableKey",
  "kms:EnableKeyRotation",
  "kms:ListAliases",
  "kms:ListGrants",
  "kms:ListKeyPolicies",
  "kms:ListKeyRotations",
  "kms:ListResourceTags",
  "kms:PutKeyPolicy",
  "kms:UpdateAlias",
  "kms:UpdateKeyDescription",
  "kms:RevokeGrant",
  "kms:DisableKey",
  "kms:DisableKeyRotation",
  "kms:GetKeyPolicy",
  "kms:GetKeyRotationStatus",
  "kms:DeleteAlias",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:ScheduleKeyDeletion",
  "kms:CancelKeyDeletion",
  "kms:RotateKeyOnDemand",
] as const;

/** What creating AWS resources encrypted with the key needs (DynamoDB tables): grants for AWS services only. */
const AWS_RESOURCE_GRANT_ACTIONS = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"];

/** What a key user may do with data keys (envelope encryption through S3, DynamoDB, Glue, Athena, Logs). */
export const KEY_USER_ACTIONS = [
  "kms:Encrypt",
  "kms:Decrypt",
  "kms:ReEncrypt*",
  "kms:GenerateDataKey*",
  "kms:DescribeKey",
] as const;

/** A named IAM role allowed to use the key, optionally only through the listed AWS services. */
export interface KeyUser {
  /** Becomes part of the statement Sid, e.g. `IngestionWriter`. */
  readonly name: string;
  readonly principalArn: string;
  /** e.g. `s3.us-east-1.amazonaws.com`; empty = any service. */
  readonly viaServices?: readonly string[];
  /**
   * Needed by principals that create resources encrypted with the key through services that use grants
   * (DynamoDB, CloudWatch Logs, Glue): adds kms:CreateGrant limited to AWS resources (`kms:GrantIsForAWSResource`).
   */
  readonly mayCreateGrantsForAwsResources?: boolean;
}

/**
 * Roles that use the key only through AWS services, named by ARN or ARN pattern, for keys whose users exist
 * after the key (state, Glue catalog): KMS refuses a policy whose Principal names a role that does not exist
 * yet, so the principal is the account and `aws:PrincipalArn` names the roles.
 */
export interface NamedPrincipalsViaServices {
  /** Role ARNs; `*` only inside a name segment (e.g. `role/opl-*-glue-job` for every environment's job role). */
  readonly principalArns: readonly string[];
  /** e.g. `glue.us-east-1.amazonaws.com`. */
  readonly services: readonly string[];
}

/** An AWS service principal allowed to use the key, always with confused-deputy conditions. */
export interface KeyServiceGrant {
  readonly name: string;
  readonly service: string;
  readonly actions: readonly string[];
  /** Must pin the caller: aws:SourceAccount / aws:SourceArn or an encryption context. */
  readonly conditions: Record<string, ConditionValues>;
}

export interface LakeKeyProps {
  /** Alias name including `alias/`. */
  readonly alias: string;
  readonly description: string;
  /** The key's account, region and partition (the account root is the key's administrator of last resort). */
  readonly location: AwsLocation;
  /** Existing role that may administer (not use) the key, and create grants for AWS resources with it. */
  readonly breakGlassRoleArn: string;
  readonly deletionWindowDays: number;
  /**
   * Days between automatic rotations (KMS: 90-2560). Undefined leaves the KMS default (365) unmanaged; the
   * local profile does so because moto ignores the setting and would show a permanent diff.
   */
  readonly rotationPeriodDays?: number;
  readonly users?: readonly KeyUser[];
  readonly services?: readonly KeyServiceGrant[];
  /** Roles named before they exist that may use the key through AWS services (state and catalog keys). */
  readonly namedPrincipalsViaServices?: NamedPrincipalsViaServices;
  /** Terraform refuses any plan that destroys or replaces the key (prod): its data would become unreadable. */
  readonly preventDestroy?: boolean;
}

/**
 * A KMS customer managed key with rotation, an alias and a key policy that grants administration to the
 * account (so IAM can never lose the key) and a break-glass role, and data use only to named roles and to
 * service principals pinned to this account. No statement grants `Principal: *`. The policy is a separate
 * `aws_kms_key_policy` so that it may name roles created after the key in the same stack (KMS rejects a
 * policy naming a principal that does not exist yet).
 */
export class LakeKey extends Construct {
  readonly key: KmsKey;
  readonly alias: KmsAlias;
  readonly policy: KmsKeyPolicy;
  readonly keyArn: string;
  readonly keyId: string;
  readonly aliasName: string;
  private readonly users: KeyUser[] = [];
  private readonly services: KeyServiceGrant[] = [];

  constructor(
    scope: Construct,
    id: string,
    private readonly props: LakeKeyProps,
  ) {
    super(scope, id);
    const named = props.namedPrincipalsViaServices;
    if (named && (named.principalArns.length === 0 || named.services.length === 0)) {
      throw new Error(
        `LakeKey ${id}: namedPrincipalsViaServices needs at least one role ARN and one service`,
      );
    }
    for (const arn of named?.principalArns ?? []) {
      if (!/^arn:[\w-]+:iam::\d{12}:role\/[\w+=,.@*/-]+$/.test(arn) || arn.endsWith("role/*")) {
        throw new Error(
          `LakeKey ${id}: "${arn}" must be a role ARN (a * only inside the name), never a whole account`,
        );
      }
    }
    if (!/^alias\/[\w/-]+$/.test(props.alias) || props.alias.startsWith("alias/aws/")) {
      throw new Error(
        `LakeKey ${id}: alias "${props.alias}" must look like alias/<name> and not use the aws/ prefix`,
      );
    }
    if (
      !Number.isInteger(props.deletionWindowDays) ||
      props.deletionWindowDays < 7 ||
      props.deletionWindowDays > 30
    ) {
      throw new Error(
        `LakeKey ${id}: deletionWindowDays ${props.deletionWindowDays} must be between 7 and 30`,
      );
    }
    const period = props.rotationPeriodDays;
    if (period !== undefined && (!Number.isInteger(period) || period < 90 || period > 2560)) {
      throw new Error(`LakeKey ${id}: rotationPeriodDays ${period} must be between 90 and 2560`);
    }

    this.key = new KmsKey(this, "key", {
      description: props.description,
      enableKeyRotation: true,
      rotationPeriodInDays: period,
      deletionWindowInDays: props.deletionWindowDays,
      keyUsage: "ENCRYPT_DECRYPT",
      customerMasterKeySpec: "SYMMETRIC_DEFAULT",
      isEnabled: true,
      lifecycle: props.preventDestroy ? { preventDestroy: true } : undefined,
    });
    this.alias = new KmsAlias(this, "alias", { name: props.alias, targetKeyId: this.key.keyId });
    this.policy = new KmsKeyPolicy(this, "policy", {
      keyId: this.key.keyId,
      policy: Lazy.stringValue({ produce: () => this.renderPolicy() }),
    });
    this.keyArn = this.key.arn;
    this.keyId = this.key.keyId;
    this.aliasName = props.alias;
    for (const u of props.users ?? []) this.addUser(u);
    for (const s of props.services ?? []) this.addServiceGrant(s);
  }

  /** Lets a named role encrypt and decrypt with the key (rendered into the key policy at synth time). */
  addUser(user: KeyUser): void {
    if (!/^[A-Za-z0-9]+$/.test(user.name))
      throw new Error(`key user name "${user.name}" must be alphanumeric`);
    if (this.users.some((u) => u.name === user.name)) throw new Error(`key user "${user.name}" added twice`);
    this.users.push(user);
  }

  addServiceGrant(grant: KeyServiceGrant): void {
    if (!/^[A-Za-z0-9]+$/.test(grant.name))
      throw new Error(`service grant name "${grant.name}" must be alphanumeric`);
    const account = this.props.location.account;
    const pinned = Object.values(grant.conditions).some((values) =>
      Object.entries(values).some(
        ([key, value]) =>
          (key === "aws:SourceAccount" && value === account) ||
          ([value].flat() as unknown[]).every((v) => typeof v === "string" && v.includes(`:${account}:`)),
      ),
    );
    if (!pinned) {
      throw new Error(
        `service grant "${grant.name}" for ${grant.service} needs confused-deputy conditions pinning account ` +
          `${account} (aws:SourceAccount, or an ARN condition naming the account)`,
      );
    }
    this.services.push(grant);
  }

  private renderPolicy(): string {
    const { location, breakGlassRoleArn, namedPrincipalsViaServices: named } = this.props;
    const root = `arn:${location.partition}:iam::${location.account}:root`;
    const grantsForAwsResources = (sid: string, principal: string): PolicyStatement => ({
      Sid: sid,
      Effect: "Allow",
      Principal: { AWS: principal },
      Action: AWS_RESOURCE_GRANT_ACTIONS,
      Resource: "*",
      Condition: { Bool: { "kms:GrantIsForAWSResource": true } },
    });
    const statements: PolicyStatement[] = [
      // The account keeps administrative control through IAM: a key can never become unmanageable.
      {
        Sid: "AccountAdministers",
        Effect: "Allow",
        Principal: { AWS: root },
        Action: KEY_ADMIN_ACTIONS,
        Resource: "*",
      },
      {
        Sid: "BreakGlassAdministers",
        Effect: "Allow",
        Principal: { AWS: breakGlassRoleArn },
        Action: KEY_ADMIN_ACTIONS,
        Resource: "*",
      },
      // Administrators create the DynamoDB tables encrypted with the key (first apply, bootstrap).
      grantsForAwsResources("BreakGlassGrantsForAwsResources", breakGlassRoleArn),
    ];
    if (named) {
      statements.push({
        Sid: "NamedRolesUseViaServices",
        Effect: "Allow",
        Principal: { AWS: root },
        Action: KEY_USER_ACTIONS,
        Resource: "*",
        Condition: {
          ArnLike: { "aws:PrincipalArn": named.principalArns },
          StringEquals: { "kms:ViaService": named.services },
        },
      });
    }
    for (const u of this.users) {
      statements.push({
        Sid: `Use${u.name}`,
        Effect: "Allow",
        Principal: { AWS: u.principalArn },
        Action: KEY_USER_ACTIONS,
        Resource: "*",
        ...(u.viaServices?.length
          ? { Condition: { StringEquals: { "kms:ViaService": u.viaServices } } }
          : {}),
      });
      if (u.mayCreateGrantsForAwsResources) {
        statements.push(grantsForAwsResources(`Grant${u.name}`, u.principalArn));
      }
    }
    for (const s of this.services) {
      statements.push({
        Sid: `Service${s.name}`,
        Effect: "Allow",
        Principal: { Service: s.service },
        Action: s.actions,
        Resource: "*",
        Condition: s.conditions,
      });
    }
    // Resource "*" in a key policy means "this key": key policies cannot name other resources.
    return policyJson(statements);
  }
}
