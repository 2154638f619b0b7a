import { runSimulation } from "@cloud-copilot/iam-simulate";
import { loadConfig } from "../../modules/config";
import { LAKE_OUTPUTS } from "../../stacks/outputs";
import { synthesizeLake } from "../access/synthesized-policies";

// docs/operations.md "Who may start a run": none of the lake's roles may start the Glue workflow (an operator
// role is meant to). Evaluated on the synthesized dev lake's policies by an IAM policy simulator.
describe("starting the Glue workflow", () => {
  const config = loadConfig("dev", { env: {} });
  const lake = synthesizeLake(config);
  const workflowName = lake.stack.output?.[LAKE_OUTPUTS.workflow.name];
  const workflow = Object.values(lake.stack.resource.aws_glue_workflow ?? {})[0]?.name as string;
  const workflowArn = `arn:aws:glue:${config.region}:${config.accountId}:workflow/${workflow}`;

  it("is covered: every role of the stack has its permissions in the policies simulated", () => {
    expect(workflowName).toBeDefined();
    expect(Object.keys(lake.rolePolicies).sort()).toEqual(
      Object.values(lake.stack.resource.aws_iam_role ?? {})
        .map((r) => r.name as string)
        .sort(),
    );
    // Attached managed policies (the CI roles') are merged into rolePolicies; none is attached from elsewhere.
    for (const a of Object.values(lake.stack.resource.aws_iam_role_policy_attachment ?? {})) {
      expect(String(a.policy_arn)).toMatch(/^\$\{aws_iam_policy\.ci_(plan|deploy)_policy-/);
    }
  });

  async function allowedRoles(action: string, resource: string): Promise<string[]> {
    const allowed: string[] = [];
    for (const [role, policy] of Object.entries(lake.rolePolicies)) {
      const result = await runSimulation(
        {
          identityPolicies: [{ name: role, policy }],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          request: {
            principal: `arn:aws:iam::${config.accountId}:role/${role}`,
            action,
            resource: { resource, accountId: config.accountId },
            contextVariables: {},
          },
        },
        {},
      );
      if (result.resultType === "error") throw new Error(JSON.stringify(result.errors));
      if (result.overallResult === "Allowed") allowed.push(role);
    }
    return allowed;
  }

  it.each(["glue:StartWorkflowRun", "glue:ResumeWorkflowRun"])(
    "%s is allowed to none of the lake's roles",
    async (action) => {
      expect(await allowedRoles(action, workflowArn)).toEqual([]);
    },
  );

  it("firing the workflow's on-demand start trigger is allowed to ci-deploy only (terraform activates triggers)", async () => {
    const start = Object.values(lake.stack.resource.aws_glue_trigger ?? {}).find(
      (t) => t.type === "ON_DEMAND",
    );
    const triggerArn = `arn:aws:glue:${config.region}:${config.accountId}:trigger/${start?.name}`;
    expect(await allowedRoles("glue:StartTrigger", triggerArn)).toEqual([
      `${config.namePrefix}-dev-ci-deploy`,
    ]);
  });
});
