// The partition comes from the region: a GovCloud environment synthesizes every ARN with `arn:aws-us-gov:`,
// and the security guarantees hold there as in the commercial partition.
import { configWith, synthEnvironment, type TfJson } from "../helpers/synth";
import { GUARANTEES } from "./guarantees";

const config = configWith("dev", {
  region: "us-gov-west-1",
  access: {
    ingestionPrincipalArns: ["arn:aws-us-gov:iam::111111111111:role/DataIngestion"],
    analystPrincipalArns: ["arn:aws-us-gov:iam::111111111111:role/DataAnalyst"],
  },
});
const stacks = synthEnvironment(config);

/** Every ARN-looking string inside the stack's JSON (policy documents included, as they are JSON strings). */
function arnsIn(json: TfJson): string[] {
  return [...JSON.stringify(json).matchAll(/arn:[a-z-]*:[a-z0-9-]*:/g)].map((m) => m[0]);
}

describe.each(Object.entries(stacks))("%s in us-gov-west-1", (_kind, json) => {
  it("builds every ARN in the aws-us-gov partition", () => {
    const arns = arnsIn(json);
    expect(arns.length).toBeGreaterThan(10);
    expect(arns.filter((a) => !a.startsWith("arn:aws-us-gov:"))).toEqual([]);
  });
});

it("refuses principals of another partition than the region's", () => {
  expect(() => configWith("dev", { region: "us-gov-west-1" })).toThrow(
    "access.ingestionPrincipalArns.0: must be in partition aws-us-gov (arn:aws-us-gov:iam::...), the partition of us-gov-west-1",
  );
});

it("names the state key of the backend in the aws-us-gov partition", () => {
  expect(stacks.lake.terraform.backend?.s3?.kms_key_id).toBe(
    "arn:aws-us-gov:kms:us-gov-west-1:111111111111:alias/opl-dev-tfstate",
  );
});

describe("the security guarantees in aws-us-gov", () => {
  it.each(GUARANTEES.map((g) => [g.id, g] as const))("%s", async (_id, guarantee) => {
    expect(
      await guarantee.violations({ config, lake: stacks.lake, bootstrap: stacks["state-bootstrap"] }),
    ).toEqual([]);
  });
});
