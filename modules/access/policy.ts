/**
 * One small helper for least-privilege IAM documents, so every policy of the lake is built, and checked,
 * the same way. Documents are plain IAM JSON: what lands in the synthesized Terraform is exactly what
 * reviewers read and what the IAM simulator tests evaluate.
 */

/** Condition block: operator -> condition key -> value(s), as in IAM JSON. */
export type Conditions = Record<string, Record<string, string | string[]>>;

export type Principal =
  | { Service: string | string[] }
  | { AWS: string | string[] }
  | { Federated: string }
  | "*";

export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: "Allow" | "Deny";
  readonly Action: string[];
  readonly Resource?: string[];
  readonly Principal?: Principal;
  readonly Condition?: Conditions;
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: PolicyStatement[];
}

interface StatementInput {
  readonly sid: string;
  readonly actions: string[];
  readonly resources: string[];
  readonly conditions?: Conditions;
  /** Only in resource policies (bucket, topic, key policies): who the statement applies to. */
  readonly principal?: Principal;
  /**
   * Required when `resources` is `["*"]`: names the API that cannot be scoped to a resource
   * (e.g. "cloudwatch:PutMetricData has no resource types"). Kept in code, checked here.
   */
  readonly unscopedBecause?: string;
}

const SID = /^[A-Za-z0-9]+$/;

function validate(input: StatementInput): void {
  if (!SID.test(input.sid)) {
    throw new Error(`IAM statement sid "${input.sid}" must be alphanumeric (IAM rejects other characters).`);
  }
  if (input.actions.length === 0) {
    throw new Error(`IAM statement ${input.sid}: list at least one action.`);
  }
  for (const action of input.actions) {
    if (action === "*" || /^[a-z0-9-]+:\*$/.test(action)) {
      throw new Error(
        `IAM statement ${input.sid}: action "${action}" grants a whole service; list the individual actions instead.`,
      );
    }
  }
  if (input.resources.length === 0) {
    throw new Error(`IAM statement ${input.sid}: list at least one resource.`);
  }
  if (input.resources.includes("*") && !input.unscopedBecause) {
    throw new Error(
      `IAM statement ${input.sid}: resource "*" is only allowed where the API has no resource types; ` +
        "set unscopedBecause naming that API, or scope the resources.",
    );
  }
}

/** An identity-policy Allow statement. */
export function allow(input: StatementInput): PolicyStatement {
  validate(input);
  return {
    Sid: input.sid,
    Effect: "Allow",
    ...(input.principal ? { Principal: input.principal } : {}),
    Action: [...input.actions],
    Resource: [...input.resources],
    ...(input.conditions ? { Condition: input.conditions } : {}),
  };
}

/** An identity-policy Deny statement (guard rails that must hold whatever else is attached). */
export function deny(input: StatementInput): PolicyStatement {
  validate(input);
  return { ...allow(input), Effect: "Deny" };
}

/** A trust-policy statement letting `principal` assume the role under `conditions`. */
export function trust(
  sid: string,
  principal: Principal,
  action: "sts:AssumeRole" | "sts:AssumeRoleWithWebIdentity",
  conditions?: Conditions,
): PolicyStatement {
  if (!SID.test(sid)) throw new Error(`IAM statement sid "${sid}" must be alphanumeric.`);
  return {
    Sid: sid,
    Effect: "Allow",
    Principal: principal,
    Action: [action],
    ...(conditions ? { Condition: conditions } : {}),
  };
}

/** Renders statements as an IAM policy JSON string; duplicate sids are a mistake and rejected. */
export function policyDocument(statements: PolicyStatement[]): string {
  const seen = new Set<string>();
  for (const statement of statements) {
    if (seen.has(statement.Sid))
      throw new Error(`IAM policy has two statements with sid "${statement.Sid}".`);
    seen.add(statement.Sid);
  }
  const document: PolicyDocument = { Version: "2012-10-17", Statement: statements };
  return JSON.stringify(document);
}
