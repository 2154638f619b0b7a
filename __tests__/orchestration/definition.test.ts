import { readFileSync } from "node:fs";
import validator from "asl-validator";
import { type AslDefinition, refreshDefinition, STEP } from "../../modules/orchestration/definition";
import { diagramBlock, ORCHESTRATION_DOC, withCurrentDiagram } from "../../tools/orchestration/diagram-doc";

const props = {
  functions: {
    discover: "arn:aws:lambda:us-east-1:123456789012:function:opl-dev-discover",
    ingest: "arn:aws:lambda:us-east-1:123456789012:function:opl-dev-ingest",
    smoke: "arn:aws:lambda:us-east-1:123456789012:function:opl-dev-smoke",
  },
  largeIngestProject: "opl-dev-ingest-large",
  jobs: { clean: "opl-dev-clean", curate: "opl-dev-curate" },
  crawlers: { raw: "opl-dev-raw-crawler", curated: "opl-dev-curated-crawler" },
  topicArn: "arn:aws:sns:us-east-1:123456789012:opl-dev-alerts",
  mapConcurrency: 4,
  crawlerPollSeconds: 60,
  timeoutSeconds: 86_400,
};

const errorsOf = (d: object) => validator(d).errors.map((e) => `${e["Error code"]}: ${e.Message}`);

describe("the refresh state machine definition", () => {
  const definition = refreshDefinition(props);

  it("is valid Amazon States Language (asl-validator, paths and ARNs checked)", () => {
    expect(errorsOf(definition)).toEqual([]);
  });

  it("is valid ASL for every Map concurrency the config allows", () => {
    for (const mapConcurrency of [1, 40])
      expect(errorsOf(refreshDefinition({ ...props, mapConcurrency }))).toEqual([]);
  });

  it("the validator is not a rubber stamp: a dangling Next and a missing StartAt state are refused", () => {
    const dangling = structuredClone(definition) as AslDefinition;
    dangling.States[STEP.clean].Next = "NoSuchState";
    expect(errorsOf(dangling).join("\n")).toMatch(/NoSuchState/);
    expect(validator({ ...definition, StartAt: "Nowhere" }).isValid).toBe(false);
  });

  it("bounds the Map and waits for the Glue jobs (.sync) with retries and a catch", () => {
    expect(definition.States[STEP.ingestEach]).toMatchObject({ Type: "Map", MaxConcurrency: 4 });
    for (const step of [STEP.clean, STEP.curate]) {
      expect(definition.States[step]).toMatchObject({
        Resource: "arn:aws:states:::glue:startJobRun.sync",
        Retry: [
          expect.objectContaining({
            ErrorEquals: expect.arrayContaining(["Glue.ConcurrentRunsExceededException"]),
          }),
        ],
        Catch: [expect.objectContaining({ ErrorEquals: ["States.ALL"], Next: `${step}Failed` })],
      });
    }
  });

  it("routes every failing task through a state naming its step to the SNS notice", () => {
    const tasks = Object.entries(definition.States).filter(([, s]) => s.Type === "Task" || s.Type === "Map");
    const publishing: string[] = [STEP.publishSummary, STEP.notifyFailure, `${STEP.nothingNew}Publish`];
    for (const [name, state] of tasks.filter(([n]) => !publishing.includes(n))) {
      const target = (state.Catch as { Next: string }[] | undefined)?.[0]?.Next;
      expect({ name, target }).toEqual({ name, target: expect.stringMatching(/Failed$/) });
      const failed = definition.States[target as string];
      expect(failed).toMatchObject({ Type: "Pass", Next: STEP.notifyFailure });
      expect((failed.Parameters as { step: string }).step).toBe(name.replace(/Poll$/, ""));
    }
  });

  it("names the service integrations in the configured partition (aws-us-gov)", () => {
    const gov = JSON.stringify(refreshDefinition({ ...props, partition: "aws-us-gov" }));
    expect(gov).not.toMatch(/arn:aws:states/);
    expect(gov.match(/arn:aws-us-gov:states:::/g)?.length).toBeGreaterThanOrEqual(8);
  });

  it("refuses a Map concurrency outside 1-40 with the value named", () => {
    expect(() => refreshDefinition({ ...props, mapConcurrency: 0 })).toThrow(/mapConcurrency 0/);
    expect(() => refreshDefinition({ ...props, mapConcurrency: 41 })).toThrow(/1-40/);
  });

  it("refreshes the warehouse's marts after smoke only when the warehouse is on, as a waited Glue run", () => {
    expect(definition.States[STEP.warehouse]).toBeUndefined();
    expect(definition.States[STEP.smoke].Next).toBe(`${STEP.smoke}Summary`);
    const withWarehouse = refreshDefinition({
      ...props,
      jobs: { ...props.jobs, warehouse: "opl-dev-warehouse-loader" },
    });
    expect(errorsOf(withWarehouse)).toEqual([]);
    expect(withWarehouse.States[STEP.smoke].Next).toBe(STEP.warehouse);
    expect(withWarehouse.States[STEP.warehouse]).toMatchObject({
      Type: "Task",
      Resource: "arn:aws:states:::glue:startJobRun.sync",
      // The run's extract goes under this execution's name: one prefix per refresh, never reused.
      Parameters: { JobName: "opl-dev-warehouse-loader", Arguments: { "--run_id.$": "$$.Execution.Name" } },
      Retry: [
        expect.objectContaining({
          ErrorEquals: expect.arrayContaining(["Glue.ConcurrentRunsExceededException"]),
        }),
      ],
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: `${STEP.warehouse}Failed` }],
      Next: `${STEP.smoke}Summary`,
    });
    // A failed load is reported as the warehouse step's failure, then fails the execution.
    expect(withWarehouse.States[`${STEP.warehouse}Failed`]).toMatchObject({
      Type: "Pass",
      Parameters: { step: STEP.warehouse, errorName: `${STEP.warehouse}Failed` },
      Next: STEP.notifyFailure,
    });
  });

  it("docs/orchestration.md shows the current diagram (npm run orchestration:diagram)", () => {
    const doc = readFileSync(ORCHESTRATION_DOC, "utf8");
    expect(doc).toContain(diagramBlock());
    expect(withCurrentDiagram(doc)).toBe(doc);
  });
});
