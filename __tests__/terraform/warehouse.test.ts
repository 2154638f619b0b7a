// The lake stack of prod with the serving warehouse turned on (the committed configs leave it off, see
// docs/warehouse.md), proven like the committed stacks: terraform validate and an offline plan with the real
// provider through the mirror (one init, validate and plan), checkov against security/checkov-skips.json and
// parliament against security/parliament-allowlist.json, with no new skip or allow-list entry.
import { rmSync } from "node:fs";
import { describeVerdict, judge, loadSkips, scanStacks } from "../../scripts/checkov";
import * as parliament from "../../scripts/parliament";
import { withWarehouse } from "../helpers/warehouse-variant";
import { lake } from "./expected-resources";
import {
  createdPerType,
  planOffline,
  type SynthesizedStack,
  synthesizeLake,
  terraform,
  terraformCliConfig,
  terraformEnv,
} from "./harness";

const config = withWarehouse("prod");
let outdir: string;
let stack: SynthesizedStack;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  ({ outdir, stack } = synthesizeLake(config, "warehouse"));
  env = terraformEnv(terraformCliConfig([stack]));
}, 120_000);

it("validates, and plans exactly the lake's resources plus the warehouse's", async () => {
  const changes = await planOffline(stack, env);
  const validation = JSON.parse(await terraform(stack.dir, ["validate", "-json"], env)) as { valid: boolean };
  expect(validation.valid).toBe(true);
  expect(changes.filter((c) => c.action !== "create")).toEqual([]);
  expect(createdPerType(changes)).toEqual(lake(config));
}, 600_000);

it("has no checkov finding that security/checkov-skips.json does not already justify", async () => {
  const { passed, failed } = await scanStacks(outdir);
  const verdict = judge(passed, failed, loadSkips());
  expect(verdict.unjustified).toEqual([]);
  expect(failed.filter((f) => f.resource.includes("warehouse"))).toEqual([]);
  console.log(describeVerdict(verdict));
}, 300_000);

it("has no parliament finding that security/parliament-allowlist.json does not already justify", async () => {
  const policies = parliament.synthesizedPolicies(outdir);
  expect(policies.some((p) => p.address.includes("warehouse"))).toBe(true);
  const verdict = parliament.judge(
    policies.length,
    await parliament.lintPolicies(policies),
    parliament.loadAllowlist(),
  );
  expect(verdict.unjustified).toEqual([]);
}, 120_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});
