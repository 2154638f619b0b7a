import { allow, deny, trust } from "../../modules/access";

describe("least-privilege statement builders", () => {
  const base = { sid: "ReadRaw", actions: ["s3:GetObject"], resources: ["arn:aws:s3:::b/raw/*"] };

  it("builds Allow and Deny statements as IAM JSON", () => {
    expect(allow(base)).toEqual({
      Sid: "ReadRaw",
      Effect: "Allow",
      Action: ["s3:GetObject"],
      Resource: ["arn:aws:s3:::b/raw/*"],
    });
    expect(deny({ ...base, conditions: { Bool: { "aws:SecureTransport": "false" } } })).toMatchObject({
      Effect: "Deny",
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    });
  });

  it("rejects Action * and service-wide wildcards", () => {
    expect(() => allow({ ...base, actions: ["*"] })).toThrow('action "*" grants a whole service');
    expect(() => allow({ ...base, actions: ["s3:*"] })).toThrow(
      'IAM statement ReadRaw: action "s3:*" grants a whole service',
    );
  });

  it("allows resource * only with the API that demands it named", () => {
    expect(() => allow({ ...base, resources: ["*"] })).toThrow(
      /resource "\*" is only allowed where the API has no resource types/,
    );
    expect(
      allow({
        ...base,
        actions: ["cloudwatch:PutMetricData"],
        resources: ["*"],
        unscopedBecause: "no resource types",
      }).Resource,
    ).toEqual(["*"]);
  });

  it("rejects empty action and resource lists", () => {
    expect(() => allow({ ...base, actions: [] })).toThrow("list at least one action");
    expect(() => allow({ ...base, resources: [] })).toThrow("list at least one resource");
  });

  it("builds trust statements without a resource", () => {
    expect(trust("Glue", { Service: "glue.amazonaws.com" }, "sts:AssumeRole")).toEqual({
      Sid: "Glue",
      Effect: "Allow",
      Principal: { Service: "glue.amazonaws.com" },
      Action: ["sts:AssumeRole"],
    });
  });
});
