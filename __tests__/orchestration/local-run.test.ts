import validator from "asl-validator";
import { type AslDefinition, refreshDefinition, STEP } from "../../modules/orchestration/definition";
import { withAwsTaskTimeouts } from "../../tools/orchestration/local-run";

const definition = refreshDefinition({
  functions: { discover: "opl-local-discover", ingest: "opl-local-ingest", smoke: "opl-local-smoke" },
  largeIngestProject: "opl-local-ingest-large",
  jobs: { clean: "opl-local-clean", curate: "opl-local-curate" },
  crawlers: { raw: "opl-local-raw-crawler", curated: "opl-local-curated-crawler" },
  topicArn: "arn:aws:sns:us-east-1:123456789012:opl-local-alerts",
  mapConcurrency: 2,
  crawlerPollSeconds: 30,
  timeoutSeconds: 3600,
});

type States = Record<string, Record<string, unknown>>;
const NODE_MAX_SECONDS = 2_147_483;

describe("the local run's Task timeouts (aws-local-stepfunctions defaults to 60 s, AWS to none)", () => {
  const patched = withAwsTaskTimeouts(definition);
  const states = patched.States as States;

  it("gives every Task without a timeout Node's longest timer, the Glue jobs included", () => {
    for (const step of [STEP.discover, STEP.clean, STEP.curate, STEP.smoke]) {
      expect(states[step]).toMatchObject({ Type: "Task", TimeoutSeconds: NODE_MAX_SECONDS });
    }
  });

  it("patches the Tasks inside the Map, and nothing but Tasks", () => {
    const map = states[STEP.ingestEach] as { ItemProcessor: { States: States } };
    expect(map.ItemProcessor.States[STEP.ingestLambda]).toMatchObject({ TimeoutSeconds: NODE_MAX_SECONDS });
    expect(states[STEP.ingestEach].TimeoutSeconds).toBeUndefined();
    expect(states.AnythingNew.TimeoutSeconds).toBeUndefined();
  });

  it("keeps a timeout the definition sets, leaves the definition itself unchanged and valid", () => {
    const withTimeout: AslDefinition = {
      ...definition,
      States: {
        ...definition.States,
        [STEP.clean]: { ...definition.States[STEP.clean], TimeoutSeconds: 900 },
      },
    };
    expect((withAwsTaskTimeouts(withTimeout).States as States)[STEP.clean].TimeoutSeconds).toBe(900);
    expect((definition.States as States)[STEP.clean].TimeoutSeconds).toBeUndefined();
    expect(validator(patched, { checkArn: false, checkPaths: true }).isValid).toBe(true);
  });
});
