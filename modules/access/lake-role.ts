import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Construct } from "constructs";
import { type PolicyStatement, policyJson } from "../core";

export interface LakeRoleProps {
  /** Full IAM role name (≤ 64 characters). */
  readonly roleName: string;
  readonly description: string;
  readonly trustStatements: PolicyStatement[];
  readonly statements: PolicyStatement[];
  /** Managed policy capping what the role can ever do, whatever its inline policy says. */
  readonly permissionsBoundaryArn?: string;
}

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

/**
 * An IAM role with exactly one inline least-privilege policy (no managed policies, no other attachments) and,
 * for the lake's workload roles, a permissions boundary.
 */
export class LakeRole extends Construct {
  readonly roleArn: string;
  readonly roleName: string;
  /** The permission policy JSON, as synthesized. */
  readonly policyJson: string;
  readonly permissionsBoundaryArn?: string;

  constructor(scope: Construct, id: string, props: LakeRoleProps) {
    super(scope, id);
    if (!ROLE_NAME.test(props.roleName)) {
      throw new Error(
        `IAM role name "${props.roleName}" must be 1-64 characters of letters, digits and +=,.@_- ; ` +
          "shorten the name prefix in the environment config.",
      );
    }
    const role = new IamRole(this, "role", {
      name: props.roleName,
      description: props.description,
      assumeRolePolicy: policyJson(props.trustStatements),
      maxSessionDuration: 3600,
      permissionsBoundary: props.permissionsBoundaryArn,
    });
    this.policyJson = policyJson(props.statements);
    new IamRolePolicy(this, "policy", {
      name: `${props.roleName}-least-privilege`,
      role: role.name,
      policy: this.policyJson,
    });
    this.roleArn = role.arn;
    this.roleName = role.name;
    this.permissionsBoundaryArn = props.permissionsBoundaryArn;
  }
}
