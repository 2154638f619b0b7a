// Every IAM policy document of a synthesized stack, with its Terraform references resolved to the ARNs and
// names the configuration makes deterministic: what the IAM simulator tests evaluate and what parliament
// lints (scripts/parliament.ts). Fails on any reference it cannot resolve: nobody should judge a
// half-resolved policy.
import { createHash } from "node:crypto";
import type { AwsLocation } from "../modules/config";

/** An IAM policy document as it lands in the synthesized JSON. */
export interface PolicyDocument {
  readonly Version: string;
  Statement: PolicyStatementJson[];
}
export type PolicyStatementJson = Record<string, unknown> & {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action?: string | string[];
  Resource?: string | string[];
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

/** The resources of a synthesized stack: type → logical name → configuration. */
export type StackResources = Readonly<Record<string, Readonly<Record<string, Record<string, unknown>>>>>;

/**
 * What a policy document is for. Permission policies (identity: a role's inline policy; managed: a customer-managed
 * policy attached to a role; boundary: a managed policy no role has attached, used as a permissions boundary) and
 * resource policies (bucket, key, topic) are linted; trust policies have no Resource and are judged by the trust
 * tests instead.
 */
export type PolicyKind = "identity" | "managed" | "boundary" | "bucket" | "key" | "topic" | "trust";

export interface StackPolicy {
  readonly stack: string;
  /** Terraform address of the resource holding the document, e.g. `aws_iam_role_policy.ci_plan_policy_E21F327B`. */
  readonly address: string;
  readonly kind: PolicyKind;
  /** What the policy governs: the role name (identity, managed), policy name (boundary), bucket name, key ARN or topic ARN (resolved). */
  readonly subject: string;
  readonly document: PolicyDocument;
}

/** A KMS key id the way AWS makes them (a UUID), derived from the key's logical name so that it is stable. */
export function fakeKeyId(logicalName: string): string {
  const h = createHash("sha256").update(logicalName).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Resolves `${aws_<type>.<name>.<attribute>}` references in `text`; throws on any it cannot resolve. */
export function resolveReferences(resources: StackResources, location: AwsLocation, text: string): string {
  const { account, region, partition } = location;
  const resolved = text.replace(
    /\$\{(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.(arn|bucket|id|name|key_id|function_name|resource_id)\}/g,
    (ref, type: string, name: string, attribute: string) => {
      const resource = resources[type]?.[name];
      if (!resource) throw new Error(`unresolvable reference ${ref}: no such resource`);
      const named = (resource.name ?? resource.bucket) as string | undefined;
      const regional = (service: string) => `arn:${partition}:${service}:${region}:${account}`;
      const arns: Record<string, () => string> = {
        aws_s3_bucket: () => `arn:${partition}:s3:::${resource.bucket}`,
        aws_dynamodb_table: () => `${regional("dynamodb")}:table/${resource.name}`,
        aws_kms_key: () => `${regional("kms")}:key/${fakeKeyId(name)}`,
        aws_iam_role: () => `arn:${partition}:iam::${account}:role/${resource.name}`,
        aws_iam_policy: () => `arn:${partition}:iam::${account}:policy/${resource.name}`,
        aws_sns_topic: () => `${regional("sns")}:${resource.name}`,
        aws_cloudwatch_event_rule: () => `${regional("events")}:rule/${resource.name}`,
        aws_sqs_queue: () => `${regional("sqs")}:${resource.name}`,
        aws_lambda_function: () => `${regional("lambda")}:function:${resource.function_name}`,
        aws_codebuild_project: () => `${regional("codebuild")}:project/${resource.name}`,
        aws_sfn_state_machine: () => `${regional("states")}:stateMachine:${resource.name}`,
      };
      if (attribute === "arn" && arns[type]) return arns[type]();
      if (attribute === "key_id" && type === "aws_kms_key") return fakeKeyId(name);
      if (attribute === "function_name" && typeof resource.function_name === "string")
        return resource.function_name;
      // Ids AWS assigns (the warehouse loader's policy names its subnet, security group and database).
      const hex = () => createHash("sha256").update(`${type}.${name}`).digest("hex");
      const assigned: Record<string, () => string> = {
        "aws_vpc.id": () => `vpc-${hex().slice(0, 17)}`,
        "aws_subnet.id": () => `subnet-${hex().slice(0, 17)}`,
        "aws_security_group.id": () => `sg-${hex().slice(0, 17)}`,
        "aws_db_instance.resource_id": () => `db-${hex().slice(0, 26).toUpperCase()}`,
      };
      if (assigned[`${type}.${attribute}`]) return assigned[`${type}.${attribute}`]();
      if (attribute !== "arn" && typeof named === "string" && !named.includes("${")) return named;
      throw new Error(`unresolvable reference ${ref}`);
    },
  );
  if (resolved.includes("${")) throw new Error(`unresolved Terraform expression left in: ${resolved}`);
  return resolved;
}

/** Where each kind of document sits: resource type, the attribute holding the JSON, what it governs. */
const SOURCES: ReadonlyArray<{ type: string; attribute: string; kind: PolicyKind; subject: string }> = [
  { type: "aws_iam_role_policy", attribute: "policy", kind: "identity", subject: "role" },
  { type: "aws_iam_policy", attribute: "policy", kind: "boundary", subject: "name" },
  { type: "aws_iam_role", attribute: "assume_role_policy", kind: "trust", subject: "name" },
  { type: "aws_s3_bucket_policy", attribute: "policy", kind: "bucket", subject: "bucket" },
  { type: "aws_kms_key_policy", attribute: "policy", kind: "key", subject: "key_id" },
  { type: "aws_sns_topic_policy", attribute: "policy", kind: "topic", subject: "arn" },
];

/** Every policy document of one synthesized stack, resolved. */
export function stackPolicies(
  stack: string,
  resources: StackResources,
  location: AwsLocation,
): StackPolicy[] {
  const resolve = (text: string) => resolveReferences(resources, location, text);
  // Managed policies attached to a role (`aws_iam_role_policy_attachment`): the role they grant to.
  const attachedTo = new Map<string, string>();
  for (const a of Object.values(resources.aws_iam_role_policy_attachment ?? {})) {
    const policy = /^\$\{aws_iam_policy\.([A-Za-z0-9_-]+)\.arn\}$/.exec(String(a.policy_arn))?.[1];
    if (!policy) throw new Error(`policy attachment of ${String(a.policy_arn)}: not a policy of this stack`);
    if (attachedTo.has(policy)) throw new Error(`managed policy ${policy} is attached to more than one role`);
    attachedTo.set(policy, resolve(String(a.role)));
  }
  return SOURCES.flatMap(({ type, attribute, kind, subject }) =>
    Object.entries(resources[type] ?? {}).map(([name, config]) => {
      let governed = String(config[subject]);
      // A key policy names its key by id: report the key's ARN.
      if (kind === "key") governed = governed.replace(/\.key_id\}$/, ".arn}");
      const role = type === "aws_iam_policy" ? attachedTo.get(name) : undefined;
      return {
        stack,
        address: `${type}.${name}`,
        kind: role === undefined ? kind : "managed",
        subject: role ?? resolve(governed),
        document: JSON.parse(resolve(String(config[attribute]))) as PolicyDocument,
      };
    }),
  );
}
