// The lake stack of dev with Iceberg curated tables, the data-quality rulesets and Lake Formation (the committed
// configs write Parquet, see docs/lakehouse.md), proven with the real provider through the mirror: terraform
// validate and an offline plan that creates the Iceberg tables with the rulesets and tags that name them.
import { rmSync } from "node:fs";
import { curatedTables } from "../../modules/catalog";
import { configWith, rawConfig } from "../helpers/synth";
import {
  planOffline,
  type SynthesizedStack,
  synthesizeLake,
  terraform,
  terraformCliConfig,
  terraformEnv,
} from "./harness";

const config = configWith("dev", {
  etl: {
    ...(rawConfig("dev").etl as Record<string, unknown>),
    curatedFormat: "iceberg",
    qualityRulesets: true,
  },
  lakeFormation: { admins: ["arn:aws:iam::111111111111:role/DataLakeAdmin"] },
});
let outdir: string;
let stack: SynthesizedStack;

beforeAll(() => {
  ({ outdir, stack } = synthesizeLake(config, "lakehouse"));
}, 120_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

it("validates, and plans the Iceberg tables with the rulesets and Lake Formation tags that name them", async () => {
  const env = terraformEnv(terraformCliConfig([stack]));
  const changes = await planOffline(stack, env);
  const validation = JSON.parse(await terraform(stack.dir, ["validate", "-json"], env)) as { valid: boolean };
  expect(validation.valid).toBe(true);
  expect(changes.filter((c) => c.action !== "create")).toEqual([]);
  const created = (type: string) => changes.filter((c) => c.type === type).map((c) => c.address);
  const tables = curatedTables().length;
  expect(created("aws_glue_catalog_table")).toHaveLength(tables);
  expect(created("aws_glue_data_quality_ruleset")).toHaveLength(tables);
  expect(created("aws_glue_crawler")).toHaveLength(1);
  const tagged = created("aws_lakeformation_resource_lf_tags");
  expect(tagged.filter((a) => a.includes("_table-tags-"))).toHaveLength(tables);
  expect(tagged.filter((a) => a.includes("_column-tags-")).length).toBeGreaterThan(0);
  expect(created("aws_iam_policy").filter((a) => a.includes("policy-lakehouse"))).toHaveLength(1);
}, 600_000);
