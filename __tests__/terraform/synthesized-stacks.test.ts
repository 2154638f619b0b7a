// The synthesized stacks, proven with the real terraform binary (offline, through the provider mirror) and with
// checkov. One synthesis serves every check in this file.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ENVIRONMENTS } from "../../modules/config";
import { describeVerdict, judge, loadSkips, scanStacks } from "../../scripts/checkov";
import * as parliament from "../../scripts/parliament";
import { LOCAL_AWS_PROFILE } from "../../stacks/aws-provider";
import { expectedResourceCounts } from "./expected-resources";
import {
  createdPerType,
  inBatches,
  type PlannedChange,
  planOffline,
  type SynthesizedStack,
  synthesize,
  terraform,
  terraformCliConfig,
  terraformEnv,
} from "./harness";

/** Environments deployed to AWS, hence planned; `local` targets moto and is applied by the local-AWS tests. */
const PLANNED_ENVIRONMENTS = ENVIRONMENTS.filter((e) => e !== "local");
const stackEnvironment = (stack: SynthesizedStack) => stack.name.slice(stack.name.lastIndexOf("-") + 1);

let outdir: string;
let stacks: SynthesizedStack[];
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  ({ outdir, stacks } = await synthesize());
  env = terraformEnv(terraformCliConfig(stacks));
}, 120_000);

describe("synthesized app", () => {
  it("has a state-bootstrap and a lake stack per environment, nothing else", () => {
    const expected = ENVIRONMENTS.flatMap((e) => [`state-bootstrap-${e}`, `lake-${e}`]);
    expect(stacks.map((s) => s.name).sort()).toEqual(expected.sort());
  });
});

describe("terraform init -backend=false + validate", () => {
  it("accepts every synthesized stack", async () => {
    const outcomes = await inBatches(stacks, 2, async (stack) => {
      await terraform(stack.dir, ["init", "-backend=false", "-input=false"], env);
      return JSON.parse(await terraform(stack.dir, ["validate", "-json"], env)) as {
        valid: boolean;
        error_count: number;
        warning_count: number;
      };
    });
    const summary = Object.fromEntries(stacks.map((s, i) => [s.name, outcomes[i]?.valid]));
    expect(summary).toEqual(Object.fromEntries(stacks.map((s) => [s.name, true])));
  }, 300_000);
});

describe("offline terraform plan (local state, fake credentials, provider skip flags)", () => {
  const plans = new Map<string, PlannedChange[] | Error>();

  beforeAll(async () => {
    const planned = stacks.filter((s) =>
      (PLANNED_ENVIRONMENTS as readonly string[]).includes(stackEnvironment(s)),
    );
    await inBatches(planned, 2, async (stack) => {
      plans.set(stack.name, await planOffline(stack, env).catch((error: Error) => error));
    });
  }, 600_000);

  it.each(PLANNED_ENVIRONMENTS.flatMap((e) => [`state-bootstrap-${e}`, `lake-${e}`]))(
    "%s plans exactly the resources its configuration calls for",
    (name) => {
      const plan = plans.get(name);
      if (plan instanceof Error) throw plan;
      expect(plan).toBeDefined();
      // A fresh state: everything is created; nothing is read back, updated or destroyed.
      expect((plan ?? []).filter((c) => c.action !== "create")).toEqual([]);
      expect(createdPerType(plan ?? [])).toEqual(expectedResourceCounts(name));
    },
  );
});

describe("the local stacks' provider", () => {
  it("stops before any AWS call when the local profile (moto's endpoint) is not there", async () => {
    const stack = stacks.find((s) => s.name === "state-bootstrap-local");
    if (!stack) throw new Error("state-bootstrap-local was not synthesized");
    // Its backend is local state: a real init and plan, with a shared config file lacking the profile.
    const configDir = mkdtempSync(join(tmpdir(), "opl-no-profile-"));
    const awsConfig = join(configDir, "config");
    writeFileSync(awsConfig, "[profile someone-else]\nregion = us-east-1\n");
    try {
      const localEnv = { ...env, AWS_CONFIG_FILE: awsConfig };
      await terraform(stack.dir, ["init", "-reconfigure", "-input=false"], localEnv);
      await expect(
        terraform(stack.dir, ["plan", "-input=false", "-lock=false", "-refresh=false"], localEnv),
      ).rejects.toThrow(`failed to get shared config profile, ${LOCAL_AWS_PROFILE}`);
    } finally {
      rmSync(configDir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("checkov", () => {
  it("finds no failed check that security/checkov-skips.json does not justify, and no stale skip", async () => {
    const { passed, failed } = await scanStacks(outdir);
    const verdict = judge(passed, failed, loadSkips());
    // The description lists every unjustified finding and stale skip when this fails.
    expect({ unjustified: verdict.unjustified, stale: verdict.stale }).toEqual({
      unjustified: [],
      stale: [],
    });
    expect(passed).toBeGreaterThan(0);
    console.log(describeVerdict(verdict));
  }, 300_000);
});

describe("parliament (IAM policy linter)", () => {
  it("finds nothing in any permission or resource policy that security/parliament-allowlist.json does not justify, and no stale entry", async () => {
    const policies = [...parliament.synthesizedPolicies(outdir), ...parliament.partVariantPolicies()];
    const verdict = parliament.judge(
      policies.length,
      await parliament.lintPolicies(policies),
      parliament.loadAllowlist(),
    );
    expect({ unjustified: verdict.unjustified, stale: verdict.stale }).toEqual({
      unjustified: [],
      stale: [],
    });
    // Role (inline and managed), boundary, bucket, key and topic policies of the six stacks, and the CI roles'
    // managed policies of dev and prod with every part on.
    expect(new Set(policies.map((p) => p.kind))).toEqual(
      new Set(["identity", "managed", "boundary", "bucket", "key", "topic"]),
    );
    expect(policies.filter((p) => p.stack.endsWith("-parts")).map((p) => p.address)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^aws_iam_policy\.ci_deploy_policy-warehouse-/),
        expect.stringMatching(/^aws_iam_policy\.ci_deploy_policy-orchestration-/),
        expect.stringMatching(/^aws_iam_policy\.ci_deploy_policy-lake-formation-/),
      ]),
    );
    console.log(parliament.describeVerdict(verdict));
  }, 120_000);

  it("reports a real finding the allow-list does not cover (CreateCrawler scoped to a crawler ARN)", async () => {
    const [deploy] = parliament
      .synthesizedPolicies(outdir)
      .filter((p) => p.address.startsWith("aws_iam_policy.ci_deploy"));
    expect(deploy).toBeDefined();
    if (!deploy) return;
    const weakened = {
      ...deploy,
      document: {
        ...deploy.document,
        Statement: [
          ...deploy.document.Statement,
          {
            Sid: "CreateCrawlersByName",
            Effect: "Allow" as const,
            Action: ["glue:CreateCrawler"],
            Resource: ["arn:aws:glue:us-east-1:111111111111:crawler/opl-dev-*"],
          },
        ],
      },
    };
    const verdict = parliament.judge(
      1,
      await parliament.lintPolicies([weakened]),
      parliament.loadAllowlist(),
    );
    expect(verdict.unjustified.map((f) => [f.issue, f.detail.includes("glue:CreateCrawler")])).toContainEqual(
      ["RESOURCE_MISMATCH", true],
    );
  }, 60_000);
});

// LAKE_KEEP_SYNTH=1 keeps the synthesized stacks (with their plans) for whoever debugs a failure.
afterAll(() => {
  if (!outdir) return;
  if (process.env.LAKE_KEEP_SYNTH) console.log(`synthesized stacks kept in ${outdir}`);
  else rmSync(outdir, { recursive: true, force: true });
});
