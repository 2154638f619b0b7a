import type { ConditionValues, PolicyStatement } from "../core";

/**
 * Least-privilege statement builders: every policy of the lake's roles is composed from these, so the rules
 * (no `*` or service-wide actions, resource `*` only with the API that demands it named) are checked in one
 * place at synth time. Documents stay plain IAM JSON (core's policyJson): what lands in the synthesized
 * Terraform is exactly what reviewers read and what the IAM simulator tests evaluate.
 */

export type Conditions = Record<string, ConditionValues>;
export type Principal = NonNullable<PolicyStatement["Principal"]>;

interface StatementInput {
  readonly sid: string;
  readonly actions: string[];
  readonly resources: string[];
  readonly conditions?: Conditions;
  /** Only in resource policies (topic, bucket policies): who the statement applies to. */
  readonly principal?: Principal;
  /**
   * Required when `resources` is `["*"]`: names the API that cannot be scoped to a resource
   * (e.g. "cloudwatch:PutMetricData has no resource types"). Kept in code, checked here.
   */
  readonly unscopedBecause?: string;
}

function validate(input: StatementInput): void {
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

function statement(effect: "Allow" | "Deny", input: StatementInput): PolicyStatement {
  validate(input);
  return {
    Sid: input.sid,
    Effect: effect,
    ...(input.principal ? { Principal: input.principal } : {}),
    Action: [...input.actions],
    Resource: [...input.resources],
    ...(input.conditions ? { Condition: input.conditions } : {}),
  };
}

/** An Allow statement. */
export function allow(input: StatementInput): PolicyStatement {
  return statement("Allow", input);
}

/** A Deny statement: a guard rail that holds whatever else is attached. */
export function deny(input: StatementInput): PolicyStatement {
  return statement("Deny", input);
}

/** A trust-policy statement letting `principal` assume the role under `conditions`. */
export function trust(
  sid: string,
  principal: Principal,
  action: "sts:AssumeRole" | "sts:AssumeRoleWithWebIdentity",
  conditions?: Conditions,
): PolicyStatement {
  return {
    Sid: sid,
    Effect: "Allow",
    Principal: principal,
    Action: [action],
    ...(conditions ? { Condition: conditions } : {}),
  };
}
