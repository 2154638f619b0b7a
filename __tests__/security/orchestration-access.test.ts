// What the refresh's roles may and may not do, decided by the IAM policy simulator over the synthesized policies
// (identity policy, the orchestration boundary, and the bucket policy where the resource is a lake bucket) of
// lake-dev with orchestration enabled.
import { loadConfig, NAME_LIMITS, Naming } from "../../modules/config";
import { type PolicyDocument, stackPolicies } from "../../scripts/policies";
import { synthEnvironment } from "../helpers/synth";
import { type Decision, decide } from "./simulate";

const base = loadConfig("dev", { env: {} });
const config = { ...base, orchestration: { ...base.orchestration, enabled: true } };
const naming = new Naming(config);
const { partition, region, account } = naming.location;
const lake = synthEnvironment(config).lake;
const policies = stackPolicies("lake-dev", lake.resource, naming.location);
const role = (name: string) => `arn:${partition}:iam::${account}:role/${naming.prefix}-${name}`;
const identity = (name: string): PolicyDocument[] =>
  policies
    .filter((p) => p.kind === "identity" && p.subject === `${naming.prefix}-${name}`)
    .map((p) => p.document);
const boundary = policies.find(
  (p) => p.kind === "boundary" && p.subject === `${naming.prefix}-orchestration-boundary`,
)?.document;
const bucketPolicy = (purpose: string) =>
  policies.find((p) => p.kind === "bucket" && p.subject === naming.bucket(purpose))?.document;
const bucket = (purpose: string) => `arn:${partition}:s3:::${naming.bucket(purpose)}`;
const regional = (service: string, rest: string) =>
  `arn:${partition}:${service}:${region}:${account}:${rest}`;

async function may(
  who: string,
  action: string,
  resource: string,
  resourcePolicy?: PolicyDocument,
): Promise<Decision> {
  return decide(
    {
      identity: identity(who),
      ...(boundary ? { boundary } : {}),
      ...(resourcePolicy ? { resourcePolicy } : {}),
    },
    { principal: role(who), action, resource, context: { "aws:SecureTransport": "true" } },
  );
}

describe("the refresh's roles (IAM simulator)", () => {
  it("every role has its policy and the orchestration boundary exists", () => {
    for (const r of [
      "refresh",
      "refresh-discover",
      "refresh-ingest",
      "refresh-smoke",
      "landing-validator",
      "ingest-large",
      "refresh-scheduler",
    ]) {
      expect({ r, policies: identity(r).length }).toEqual({ r, policies: 1 });
    }
    expect(boundary).toBeDefined();
  });

  it("the landing validator moves files within landing/, incoming/ and rejected/ of the cleaned bucket only", async () => {
    const cleaned = bucket("cleaned");
    const policy = bucketPolicy("cleaned");
    expect(await may("landing-validator", "s3:DeleteObject", `${cleaned}/landing/x.csv`, policy)).toBe(
      "Allowed",
    );
    expect(await may("landing-validator", "s3:PutObject", `${cleaned}/rejected/x.csv`, policy)).toBe(
      "Allowed",
    );
    expect(
      await may("landing-validator", "s3:DeleteObject", `${cleaned}/cleaned/general/x.parquet`, policy),
    ).not.toBe("Allowed");
    expect(
      await may(
        "landing-validator",
        "s3:DeleteObject",
        `${bucket("raw")}/raw/general/x.csv`,
        bucketPolicy("raw"),
      ),
    ).not.toBe("Allowed");
    expect(await may("landing-validator", "s3:GetObject", `${bucket("curated")}/curated/x.parquet`)).not.toBe(
      "Allowed",
    );
  });

  it("the ingest roles write raw/ but never delete there, and read incoming/ but not landing/", async () => {
    for (const who of ["refresh-ingest", "ingest-large"]) {
      expect(await may(who, "s3:PutObject", `${bucket("raw")}/raw/general/x/part-00000.csv`)).toBe("Allowed");
      expect(await may(who, "s3:DeleteObject", `${bucket("raw")}/raw/general/x/part-00000.csv`)).not.toBe(
        "Allowed",
      );
      expect(await may(who, "s3:GetObject", `${bucket("cleaned")}/incoming/x.csv`)).toBe("Allowed");
      expect(await may(who, "s3:GetObject", `${bucket("cleaned")}/landing/x.csv`)).not.toBe("Allowed");
      const table = regional("dynamodb", `table/${naming.resource("ingestion", NAME_LIMITS.dynamodbTable)}`);
      expect(await may(who, "dynamodb:PutItem", table)).toBe("Allowed");
      expect(await may(who, "dynamodb:DeleteItem", table)).not.toBe("Allowed");
    }
  });

  it("the state machine invokes its three handlers, runs the lake's Glue jobs and publishes alerts, nothing else", async () => {
    const fn = (name: string) => regional("lambda", `function:${naming.prefix}-${name}`);
    for (const f of ["refresh-discover", "refresh-ingest", "refresh-smoke"]) {
      expect(await may("refresh", "lambda:InvokeFunction", fn(f))).toBe("Allowed");
    }
    expect(await may("refresh", "lambda:InvokeFunction", fn("landing-validator"))).not.toBe("Allowed");
    expect(await may("refresh", "glue:StartJobRun", regional("glue", `job/${naming.prefix}-clean`))).toBe(
      "Allowed",
    );
    expect(await may("refresh", "glue:StartJobRun", regional("glue", "job/someone-elses-job"))).not.toBe(
      "Allowed",
    );
    expect(await may("refresh", "iam:PassRole", role("glue-job"))).not.toBe("Allowed");
  });

  it("no role of the refresh can escalate: no IAM, no KMS administration, no new functions (boundary and policy)", async () => {
    for (const who of [
      "refresh",
      "refresh-discover",
      "refresh-ingest",
      "refresh-smoke",
      "landing-validator",
      "ingest-large",
      "refresh-scheduler",
    ]) {
      for (const [action, resource] of [
        ["iam:CreateRole", role("escalated")],
        ["iam:PutRolePolicy", role(who)],
        ["kms:PutKeyPolicy", regional("kms", "key/00000000-0000-0000-0000-000000000000")],
        ["lambda:CreateFunction", regional("lambda", "function:x")],
        ["lambda:UpdateFunctionCode", regional("lambda", `function:${naming.prefix}-refresh-ingest`)],
      ] as const) {
        expect({ who, action, decision: await may(who, action, resource) }).toEqual({
          who,
          action,
          decision: expect.not.stringMatching(/^Allowed$/),
        });
      }
    }
  });
});
