import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { Construct } from "constructs";
import {
  MANAGED_POLICIES_PER_ROLE,
  MANAGED_POLICY_MAX_CHARS,
  type PolicyStatement,
  packStatements,
  policyJson,
} from "../core";

/** One group of a role's grants (e.g. `core`, `warehouse`), packed into managed policies of its own. */
export interface PolicyPart {
  /** Lower-case name; becomes part of the policy names (`<role>-<part>-<n>`). */
  readonly part: string;
  readonly statements: PolicyStatement[];
}

export interface LakeRoleProps {
  /** Full IAM role name (≤ 64 characters). */
  readonly roleName: string;
  readonly description: string;
  readonly trustStatements: PolicyStatement[];
  /** The role's one inline policy. */
  readonly statements?: PolicyStatement[];
  /**
   * Instead of an inline policy: grants too large for IAM's 10,240 characters per role, packed into
   * customer-managed policies (6,144 characters each, at most 10 per role) attached to the role only.
   */
  readonly managedPolicyParts?: readonly PolicyPart[];
  /** Managed policy capping what the role can ever do, whatever its inline policy says. */
  readonly permissionsBoundaryArn?: string;
}

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

/** A managed policy of a role, as synthesized. */
export interface RoleManagedPolicy {
  readonly name: string;
  readonly part: string;
  readonly policyJson: string;
}

/**
 * An IAM role with either exactly one inline least-privilege policy or, when its grants do not fit one, its own
 * customer-managed policies (never AWS-managed ones, never shared with another role) and, for the lake's
 * workload roles, a permissions boundary.
 */
export class LakeRole extends Construct {
  readonly roleArn: string;
  readonly roleName: string;
  /** The inline permission policy JSON, as synthesized (empty statements when the role uses managed ones). */
  readonly policyJson: string;
  readonly managedPolicies: readonly RoleManagedPolicy[];
  readonly permissionsBoundaryArn?: string;

  constructor(scope: Construct, id: string, props: LakeRoleProps) {
    super(scope, id);
    if (!ROLE_NAME.test(props.roleName)) {
      throw new Error(
        `IAM role name "${props.roleName}" must be 1-64 characters of letters, digits and +=,.@_- ; ` +
          "shorten the name prefix in the environment config.",
      );
    }
    const inline = props.statements ?? [];
    const parts = props.managedPolicyParts ?? [];
    if (inline.length > 0 === parts.length > 0) {
      throw new Error(
        `IAM role ${props.roleName}: give either statements (one inline policy) or managedPolicyParts, not both or neither.`,
      );
    }
    const role = new IamRole(this, "role", {
      name: props.roleName,
      description: props.description,
      assumeRolePolicy: policyJson(props.trustStatements),
      maxSessionDuration: 3600,
      permissionsBoundary: props.permissionsBoundaryArn,
    });
    this.policyJson = policyJson(inline);
    if (inline.length > 0) {
      new IamRolePolicy(this, "policy", {
        name: `${props.roleName}-least-privilege`,
        role: role.name,
        policy: this.policyJson,
      });
    }
    const managed: RoleManagedPolicy[] = [];
    for (const { part, statements } of parts) {
      if (!/^[a-z][a-z0-9-]*$/.test(part)) throw new Error(`policy part "${part}" must be lower-case kebab`);
      packStatements(statements, MANAGED_POLICY_MAX_CHARS).forEach((pack, i) => {
        const name = `${props.roleName}-${part}-${i + 1}`;
        const json = policyJson(pack);
        const policy = new IamPolicy(this, `policy-${part}-${i + 1}`, {
          name,
          description: `${props.roleName}: ${part} grants (${i + 1})`,
          policy: json,
        });
        new IamRolePolicyAttachment(this, `attach-${part}-${i + 1}`, {
          role: role.name,
          policyArn: policy.arn,
        });
        managed.push({ name, part, policyJson: json });
      });
    }
    if (managed.length > MANAGED_POLICIES_PER_ROLE) {
      throw new Error(
        `IAM role ${props.roleName}: ${managed.length} managed policies, IAM attaches at most ` +
          `${MANAGED_POLICIES_PER_ROLE}; shorten the grants (or ask AWS for a higher quota and raise the limit).`,
      );
    }
    const sids = [...inline, ...parts.flatMap((p) => p.statements)].map((s) => s.Sid);
    const duplicate = sids.find((sid, i) => sids.indexOf(sid) !== i);
    if (duplicate) throw new Error(`IAM role ${props.roleName}: statement Sid ${duplicate} used twice`);
    this.managedPolicies = managed;
    this.roleArn = role.arn;
    this.roleName = role.name;
    this.permissionsBoundaryArn = props.permissionsBoundaryArn;
  }
}
