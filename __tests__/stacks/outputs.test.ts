import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ENVIRONMENTS } from "../../modules/config";
import { STACK_KINDS } from "../../stacks";
import {
  bucketNames,
  LAKE_OUTPUTS,
  outputsTable,
  readLakeOutputs,
  STACK_OUTPUTS,
  TerraformOutputsError,
} from "../../stacks/outputs";
import { glueJobs, type LakeOutputs, LOCAL_LAKE_OUTPUTS } from "../../tools/local-lake/lake";
import { SMOKE_OUTPUTS, targetFromOutputs } from "../../tools/smoke/target";
import { resourcesOfType, single, synthStack, type TfJson } from "../helpers/synth";

/** What `terraform output -json` prints for a synthesized stack once applied: every output with a value. */
function appliedOutputs(json: TfJson): Record<string, { value: string; type: string; sensitive: boolean }> {
  return Object.fromEntries(
    Object.keys(json.output ?? {}).map((name) => [
      name,
      { value: `${name}-value`, type: "string", sensitive: false },
    ]),
  );
}

describe("the stack outputs contract (stacks/outputs.ts)", () => {
  it("covers exactly the stack kinds", () => {
    expect(Object.keys(STACK_OUTPUTS).sort()).toEqual([...STACK_KINDS].sort());
  });

  describe.each(ENVIRONMENTS.flatMap((env) => STACK_KINDS.map((kind) => [env, kind] as const)))(
    "%s %s stack",
    (env, kind) => {
      const declared = synthStack(env, kind).output ?? {};
      const contract = Object.values(STACK_OUTPUTS[kind]);

      it("declares every output of the contract and no other", () => {
        expect(Object.keys(declared).sort()).toEqual(contract.map((o) => o.name).sort());
      });

      it("describes each output with the contract's non-empty description", () => {
        for (const { name, description } of contract) {
          expect(description.trim().length).toBeGreaterThan(20);
          expect({ name, description: (declared[name] as { description?: string }).description }).toEqual({
            name,
            description,
          });
        }
      });
    },
  );

  it("outputs the Glue workflow's name", () => {
    const lake = synthStack("dev", "lake");
    const workflow = single(resourcesOfType(lake, "aws_glue_workflow"), "workflow");
    expect(lake.output?.[LAKE_OUTPUTS.workflow.name]?.value).toBe(`\${${workflow.address}.name}`);
  });

  it("names every missing or empty output when reading", () => {
    const outputs = appliedOutputs(synthStack("dev", "lake"));
    const { raw_bucket_name: _raw, ...rest } = outputs;
    const empty = { ...rest, region: { ...rest.region, value: "" } };
    expect(() => readLakeOutputs(empty, ["rawBucket", "region", "ingestionTable"])).toThrow(
      new TerraformOutputsError(
        "the lake stack's outputs lack or have empty: raw_bucket_name, region " +
          "(apply the stack, then write the file again with `terraform output -json`)",
      ),
    );
    expect(() => readLakeOutputs([1, 2], ["region"])).toThrow(/not the JSON of 'terraform output -json'/);
  });
});

// The tools read the stacks' outputs through the contract only: fed what the synthesized stacks declare, each
// reader finds everything it needs (a renamed or dropped output fails here, not on a deployed lake).
describe("the tools read what the stacks declare", () => {
  const lake = appliedOutputs(synthStack("dev", "lake"));
  const value = (key: keyof typeof LAKE_OUTPUTS) => `${LAKE_OUTPUTS[key].name}-value`;

  it("the smoke harness", () => {
    expect(targetFromOutputs(lake, "outputs.json")).toEqual({
      region: value("region"),
      workgroup: value("athenaWorkgroup"),
      database: value("curatedDatabase"),
      outputLocation: `s3://${value("athenaResultsBucket")}/smoke/`,
      ingestionTable: value("ingestionTable"),
      cleanedBucket: value("cleanedBucket"),
      curatedBucket: value("curatedBucket"),
    });
    expect(SMOKE_OUTPUTS.every((key) => key in LAKE_OUTPUTS)).toBe(true);
  });

  it("the local lake: its outputs, the Glue jobs' arguments and the buckets it empties before a destroy", () => {
    const outputs: LakeOutputs = readLakeOutputs(lake, LOCAL_LAKE_OUTPUTS);
    const clean = glueJobs(outputs).find((job) => job.id === "clean");
    expect(clean?.arguments).toMatchObject({
      "--raw_path": `s3://${value("rawBucket")}/raw/`,
      "--cleaned_path": `s3://${value("cleanedBucket")}/cleaned/`,
      "--TempDir": `s3://${value("cleanedBucket")}/glue-temp/clean/`,
    });
    expect(bucketNames("lake", lake).sort()).toEqual(
      ["rawBucket", "cleanedBucket", "curatedBucket", "athenaResultsBucket", "accessLogsBucket"]
        .map((k) => value(k as keyof typeof LAKE_OUTPUTS))
        .sort(),
    );
    expect(
      bucketNames("state-bootstrap", appliedOutputs(synthStack("dev", "state-bootstrap"))).sort(),
    ).toEqual(["state_access_logs_bucket_name-value", "state_bucket_name-value"]);
  });
});

describe("docs/operations.md", () => {
  const doc = readFileSync(join(__dirname, "..", "..", "docs", "operations.md"), "utf8");
  it.each(Object.keys(STACK_OUTPUTS) as (keyof typeof STACK_OUTPUTS)[])(
    "lists the %s stack's outputs as the contract describes them",
    (stack) => {
      const block = new RegExp(`<!-- outputs:${stack} -->\\n([\\s\\S]*?)\\n<!-- /outputs:${stack} -->`).exec(
        doc,
      );
      expect(block?.[1]).toBe(outputsTable(STACK_OUTPUTS[stack]));
    },
  );
});
