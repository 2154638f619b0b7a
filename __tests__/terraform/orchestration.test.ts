// The refresh with every option on: dev (which enables it) plus a monthly budget, which no committed
// environment sets. The committed stacks themselves are planned and scanned by synthesized-stacks.test.ts.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../modules/config";
import { App } from "../../modules/core";
import { judge, loadSkips, scanStacks } from "../../scripts/checkov";
import { addEnvironment } from "../../stacks";
import { planOffline, type SynthesizedStack, terraform, terraformCliConfig, terraformEnv } from "./harness";

let outdir: string;
let lake: SynthesizedStack;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), "orchestration-synth-"));
  const config = loadConfig("dev", { env: {} });
  const app = new App({ outdir });
  addEnvironment(app, {
    ...config,
    orchestration: { ...config.orchestration, enabled: true, budgetMonthlyUsd: 200 },
  });
  app.synth();
  const dir = join(outdir, "stacks", "lake-dev");
  lake = { name: "lake-dev", dir, config: JSON.parse(readFileSync(join(dir, "cdk.tf.json"), "utf8")) };
  env = terraformEnv(terraformCliConfig([lake]));
}, 120_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe("lake-dev with the refresh and a budget", () => {
  it("passes terraform validate and an offline plan that creates the refresh's resources", async () => {
    await terraform(lake.dir, ["init", "-backend=false", "-input=false"], env);
    const validated = JSON.parse(await terraform(lake.dir, ["validate", "-json"], env)) as { valid: boolean };
    expect(validated.valid).toBe(true);
    const created = (await planOffline(lake, env)).filter((c) => c.action === "create").map((c) => c.type);
    const count = (type: string) => created.filter((t) => t === type).length;
    expect({
      state: count("aws_sfn_state_machine"),
      functions: count("aws_lambda_function"),
      queues: count("aws_sqs_queue"),
      schedules: count("aws_scheduler_schedule"),
      projects: count("aws_codebuild_project"),
      mappings: count("aws_lambda_event_source_mapping"),
      budgets: count("aws_budgets_budget"),
      dashboards: count("aws_cloudwatch_dashboard"),
    }).toEqual({
      state: 1,
      functions: 4,
      queues: 2,
      schedules: 1,
      projects: 1,
      mappings: 1,
      budgets: 1,
      dashboards: 1,
    });
  }, 300_000);

  it("checkov finds nothing on it that security/checkov-skips.json does not justify", async () => {
    const { passed, failed } = await scanStacks(outdir);
    expect(judge(passed, failed, loadSkips()).unjustified).toEqual([]);
  }, 300_000);
});
