import { isWildcardOnlyAction } from "@cloud-copilot/iam-simulate";
import { ENVIRONMENTS, loadConfig } from "../../modules/config";
import { Testing } from "../../modules/core";
import { configWithEveryPart } from "../../scripts/ci-policy-sizes";
import { addEnvironment } from "../../stacks";
import type { SynthesizedStack } from "./synth-support";

// Invariants over EVERY role and role policy of every synthesized stack of every environment.
type Statement = {
  Sid: string;
  Effect: string;
  Action: string | string[];
  Resource?: string | string[];
  Principal?: Record<string, unknown>;
  Condition?: Record<string, Record<string, unknown>>;
};
const statements = (json: string) => (JSON.parse(json) as { Statement: Statement[] }).Statement;
const list = (value: string | string[] | undefined) => (value === undefined ? [] : [value].flat());

// PutMetricData's only resource type (OTLP datasets) does not apply to metrics published to a namespace;
// the lake scopes it by the cloudwatch:namespace condition instead.
const SCOPED_BY_CONDITION = new Set(["cloudwatch:PutMetricData"]);

/** Whether AWS's service authorization reference lists no resource type for the action. */
async function hasNoResourceTypes(action: string): Promise<boolean> {
  const [service, name] = action.split(":");
  return isWildcardOnlyAction(service, name);
}

const stacks: Array<[string, SynthesizedStack]> = ENVIRONMENTS.flatMap((environment) => {
  const { stateBootstrap, lake } = addEnvironment(Testing.app(), loadConfig(environment));
  return [stateBootstrap, lake].map(
    (stack) =>
      [`${stack.node.id}`, JSON.parse(Testing.synth(stack)) as SynthesizedStack] as [
        string,
        SynthesizedStack,
      ],
  );
});

// The committed configs leave the optional parts off: their CI grants are judged on dev and prod with every part on.
for (const environment of ["dev", "prod"] as const) {
  const { lake } = addEnvironment(Testing.app(), configWithEveryPart(environment));
  stacks.push([`lake-${environment} with every part`, JSON.parse(Testing.synth(lake)) as SynthesizedStack]);
}

describe.each(stacks)("IAM in %s", (_name, stack) => {
  const roles = Object.values(stack.resource.aws_iam_role ?? {});
  const attachments = Object.values(stack.resource.aws_iam_role_policy_attachment ?? {});
  // Permission policies: inline ones and the managed ones attached to a role (boundaries are judged elsewhere).
  const attached = attachments.map((a) => /aws_iam_policy\.([^.]+)\.arn/.exec(String(a.policy_arn))?.[1]);
  const policies = [
    ...Object.values(stack.resource.aws_iam_role_policy ?? {}).map((p) => p.policy as string),
    ...Object.entries(stack.resource.aws_iam_policy ?? {})
      .filter(([name]) => attached.includes(name))
      .map(([, p]) => p.policy as string),
  ];

  it("grants no Action * and no service-wide wildcard", () => {
    for (const s of policies.flatMap(statements)) {
      for (const action of list(s.Action)) expect(action).not.toMatch(/^\*$|^[a-z0-9-]+:\*$/);
    }
  });

  it("uses resource * only for APIs without resource types", async () => {
    const unscoped = policies.flatMap(statements).filter((s) => list(s.Resource).includes("*"));
    for (const s of unscoped) {
      for (const action of list(s.Action)) {
        const justified = SCOPED_BY_CONDITION.has(action) || (await hasNoResourceTypes(action));
        expect(justified ? action : `${s.Sid}: ${action} has resource types`).toBe(action);
      }
    }
  });

  it("attaches no AWS-managed policy: only the CI roles have managed policies, each their own", () => {
    for (const role of roles) expect(role.managed_policy_arns).toBeUndefined();
    const ci = Object.entries(stack.resource.aws_iam_role ?? {})
      .filter(([, r]) => /-ci-(plan|deploy)$/.test(String(r.name)))
      .map(([name]) => `\${aws_iam_role.${name}.name}`);
    for (const a of attachments) {
      expect(ci).toContain(String(a.role));
      expect(String(a.policy_arn)).toMatch(/^\$\{aws_iam_policy\.[^.]+\.arn\}$/);
    }
    expect(new Set(attachments.map((a) => a.policy_arn)).size).toBe(attachments.length);
    if (stack.resource.aws_iam_role) expect(attachments.length).toBeGreaterThanOrEqual(ci.length);
  });

  it("pins every service trust to this account (confused-deputy guard)", () => {
    for (const role of roles) {
      for (const s of statements(role.assume_role_policy as string).filter((s) => s.Principal?.Service)) {
        expect(s.Condition?.StringEquals?.["aws:SourceAccount"]).toMatch(/^\d{12}$/);
      }
    }
  });
});

it("synthesizes the lake roles in every lake stack", () => {
  for (const [name, stack] of stacks.filter(([n]) => n.startsWith("lake-"))) {
    const names = Object.values(stack.resource.aws_iam_role ?? {}).map((r) => r.name as string);
    const env = name.replace("lake-", "").split(" ")[0];
    for (const role of ["ingestion-writer", "glue-crawler", "glue-job", "analyst"]) {
      expect(names).toContain(`opl-${env}-${role}`);
    }
  }
});
