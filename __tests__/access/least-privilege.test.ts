import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runSimulation, type Simulation } from "@cloud-copilot/iam-simulate";
import { loadConfig } from "../../modules/config";
import { type Decision, decide as simulate } from "../security/simulate";
import { type PolicyJson, type SynthesizedLake, synthesizeLake } from "./synthesized-policies";

// The IAM policies that land in the synthesized lake-dev stack, evaluated by an IAM policy simulator.
const config = loadConfig("dev");
const account = config.accountId;
const roleName = (purpose: string) => `${config.namePrefix}-${config.environment}-${purpose}`;
let lake: SynthesizedLake;

beforeAll(() => {
  lake = synthesizeLake(config);
});

/** The role's inline policy and permissions boundary (if any), evaluated as AWS does. */
async function decide(
  role: string,
  action: string,
  resource: string,
  contextVariables: Record<string, string | string[]> = {},
  resourcePolicy?: PolicyJson,
): Promise<Decision> {
  const policy = lake.rolePolicies[roleName(role)];
  if (!policy) throw new Error(`no policy synthesized for role ${roleName(role)}`);
  return simulate(
    { identity: [policy], boundary: lake.roleBoundaries[roleName(role)], resourcePolicy },
    {
      principal: `arn:aws:iam::${account}:role/${roleName(role)}`,
      action,
      resource,
      context: contextVariables,
    },
  );
}

const rawObject = (key: string) => `${lake.bucketArn("raw")}/${key}`;
const curatedObject = (key: string) => `${lake.bucketArn("curated")}/${key}`;
const RAW_KEY = "raw/general/program_year=2023/x.csv";
const CURATED_KEY = "curated/general/program_year=2023/part-0.parquet";

describe("ingestion writer", () => {
  it("may put raw/general/program_year=2023/x.csv", async () => {
    expect(await decide("ingestion-writer", "s3:PutObject", rawObject(RAW_KEY))).toBe("Allowed");
  });

  it("may put it through the raw bucket's policy only over TLS, write-once, with the lake's data key", async () => {
    const rawBucket = lake.bucketArn("raw").replace("arn:aws:s3:::", "");
    const bucketPolicy = lake.bucketPolicies[rawBucket];
    const [dataKey] = lake.rolePolicies[roleName("ingestion-writer")].Statement.find(
      (s) => s.Sid === "EncryptRawWithDataKey",
    )?.Resource as string[];
    const secure = { "aws:SecureTransport": "true", "s3:TlsVersion": "1.3" };
    const writeOnce = { "s3:ObjectCreationOperation": "true", "s3:if-none-match": "*" };
    const upload = (context: Record<string, string>) =>
      decide("ingestion-writer", "s3:PutObject", rawObject(RAW_KEY), { ...secure, ...context }, bucketPolicy);
    const kms = { "s3:x-amz-server-side-encryption": "aws:kms" };
    // Without encryption headers the bucket's default key applies; naming the data key is fine too.
    expect(await upload(writeOnce)).toBe("Allowed");
    expect(
      await upload({ ...writeOnce, ...kms, "s3:x-amz-server-side-encryption-aws-kms-key-id": dataKey }),
    ).toBe("Allowed");
    expect(
      await upload({
        ...writeOnce,
        ...kms,
        "s3:x-amz-server-side-encryption-aws-kms-key-id": `${dataKey}-other`,
      }),
    ).toBe("ExplicitlyDenied");
    expect(await upload({ ...writeOnce, "s3:x-amz-server-side-encryption": "AES256" })).toBe(
      "ExplicitlyDenied",
    );
    expect(await upload({ ...writeOnce, "aws:SecureTransport": "false" })).toBe("ExplicitlyDenied");
    // Write-once: completing an object needs If-None-Match; the parts of a multipart upload carry none.
    expect(await upload({ "s3:ObjectCreationOperation": "true" })).toBe("ExplicitlyDenied");
    expect(await upload({ "s3:ObjectCreationOperation": "false" })).toBe("Allowed");
  });

  it("may verify an upload (head, attributes, server-side copy) inside raw/ only", async () => {
    expect(await decide("ingestion-writer", "s3:GetObjectAttributes", rawObject(RAW_KEY))).toBe("Allowed");
    expect(await decide("ingestion-writer", "s3:GetObject", rawObject(RAW_KEY))).toBe("Allowed");
    expect(await decide("ingestion-writer", "s3:GetObject", rawObject("other/x.csv"))).toBe(
      "ImplicitlyDenied",
    );
  });

  it("may not delete it (explicit deny)", async () => {
    expect(await decide("ingestion-writer", "s3:DeleteObject", rawObject(RAW_KEY))).toBe("ExplicitlyDenied");
    expect(await decide("ingestion-writer", "s3:DeleteObjectVersion", rawObject(RAW_KEY))).toBe(
      "ExplicitlyDenied",
    );
  });

  it("may not read curated data", async () => {
    expect(await decide("ingestion-writer", "s3:GetObject", curatedObject(CURATED_KEY))).toBe(
      "ImplicitlyDenied",
    );
  });

  it("may not write outside raw/", async () => {
    expect(await decide("ingestion-writer", "s3:PutObject", rawObject("other/x.csv"))).toBe(
      "ImplicitlyDenied",
    );
    expect(await decide("ingestion-writer", "s3:PutObject", rawObject("rawish/x.csv"))).toBe(
      "ImplicitlyDenied",
    );
    expect(await decide("ingestion-writer", "s3:PutObject", curatedObject(CURATED_KEY))).toBe(
      "ImplicitlyDenied",
    );
  });

  it("may list the raw prefix only, and locate the raw bucket", async () => {
    const list = (prefix: string) =>
      decide("ingestion-writer", "s3:ListBucket", lake.bucketArn("raw"), { "s3:prefix": prefix });
    expect(await list("raw/general/")).toBe("Allowed");
    expect(await list("")).toBe("ImplicitlyDenied");
    expect(await list("quarantine/")).toBe("ImplicitlyDenied");
    expect(await decide("ingestion-writer", "s3:GetBucketLocation", lake.bucketArn("raw"))).toBe("Allowed");
  });

  it("may use the data key only through S3, for the raw bucket", async () => {
    const statement = lake.rolePolicies[roleName("ingestion-writer")].Statement.find(
      (s) => s.Sid === "EncryptRawWithDataKey",
    );
    // The simulator ignores kms:EncryptionContext:<key> context keys whose name holds colons (aws:s3:arn),
    // so the encryption-context pin is asserted on the synthesized statement itself.
    expect(statement?.Condition).toEqual({
      StringEquals: {
        "kms:ViaService": `s3.${config.region}.amazonaws.com`,
        "kms:EncryptionContext:aws:s3:arn": lake.bucketArn("raw"),
      },
    });
    const [key] = statement?.Resource as string[];
    const via = (service: string) => ({ "kms:ViaService": `${service}.${config.region}.amazonaws.com` });
    expect(await decide("ingestion-writer", "kms:Decrypt", key, via("athena"))).toBe("ImplicitlyDenied");
    expect(await decide("ingestion-writer", "kms:GenerateDataKey", key, via("sqs"))).toBe("ImplicitlyDenied");
  });

  it("may record ingestions but not delete records", async () => {
    const table = `arn:aws:dynamodb:${config.region}:${account}:table/${roleName("ingestion")}`;
    expect(await decide("ingestion-writer", "dynamodb:PutItem", table)).toBe("Allowed");
    expect(await decide("ingestion-writer", "dynamodb:Query", `${table}/index/gsi1`)).toBe("Allowed");
    expect(await decide("ingestion-writer", "dynamodb:ConditionCheckItem", table)).toBe("Allowed");
    expect(await decide("ingestion-writer", "dynamodb:DeleteItem", table)).toBe("ImplicitlyDenied");
    expect(await decide("ingestion-writer", "dynamodb:DeleteTable", table)).toBe("ImplicitlyDenied");
  });
});

describe("analyst", () => {
  it("may read curated data but not raw", async () => {
    expect(await decide("analyst", "s3:GetObject", curatedObject(CURATED_KEY))).toBe("Allowed");
    expect(await decide("analyst", "s3:GetObject", rawObject(RAW_KEY))).toBe("ImplicitlyDenied");
    expect(
      await decide("analyst", "s3:GetObject", `${lake.bucketArn("cleaned")}/cleaned/general/x.parquet`),
    ).toBe("ImplicitlyDenied");
  });

  it("may run queries in the lake workgroup only", async () => {
    const workgroup = (name: string) => `arn:aws:athena:${config.region}:${account}:workgroup/${name}`;
    expect(await decide("analyst", "athena:StartQueryExecution", workgroup(roleName("analysts")))).toBe(
      "Allowed",
    );
    expect(await decide("analyst", "athena:StartQueryExecution", workgroup("primary"))).toBe(
      "ImplicitlyDenied",
    );
  });

  it("may read and write query results, and read the curated catalog but not change it", async () => {
    expect(await decide("analyst", "s3:PutObject", `${lake.bucketArn("athena-results")}/results/q.csv`)).toBe(
      "Allowed",
    );
    const glue = `arn:aws:glue:${config.region}:${account}`;
    const curatedDb = `${config.namePrefix}_${config.environment}_curated`;
    expect(await decide("analyst", "glue:GetTable", `${glue}:table/${curatedDb}/general_payments`)).toBe(
      "Allowed",
    );
    expect(await decide("analyst", "glue:UpdateTable", `${glue}:table/${curatedDb}/general_payments`)).toBe(
      "ImplicitlyDenied",
    );
    expect(
      await decide(
        "analyst",
        "glue:GetTable",
        `${glue}:table/${config.namePrefix}_${config.environment}_raw/general`,
      ),
    ).toBe("ImplicitlyDenied");
  });
});

describe("Glue job role", () => {
  it("may not delete raw objects (explicit deny, and the raw bucket policy denies it too)", async () => {
    expect(await decide("glue-job", "s3:DeleteObject", rawObject(RAW_KEY))).toBe("ExplicitlyDenied");
    const rawBucket = lake.bucketArn("raw").replace("arn:aws:s3:::", "");
    const bucketPolicy = lake.bucketPolicies[rawBucket];
    expect(bucketPolicy).toBeDefined();
    expect(
      await decide(
        "glue-job",
        "s3:DeleteObject",
        rawObject(RAW_KEY),
        { "aws:SecureTransport": "true" },
        bucketPolicy,
      ),
    ).toBe("ExplicitlyDenied");
  });

  it("reads raw, writes cleaned and curated", async () => {
    expect(await decide("glue-job", "s3:GetObject", rawObject(RAW_KEY))).toBe("Allowed");
    expect(await decide("glue-job", "s3:PutObject", rawObject(RAW_KEY))).toBe("ImplicitlyDenied");
    expect(
      await decide(
        "glue-job",
        "s3:PutObject",
        `${lake.bucketArn("cleaned")}/cleaned/general/program_year=2023/p.parquet`,
      ),
    ).toBe("Allowed");
    expect(await decide("glue-job", "s3:PutObject", curatedObject(CURATED_KEY))).toBe("Allowed");
  });

  it("may use the data key through S3 and Glue (job bookmarks), not through other services", async () => {
    const [key] = lake.rolePolicies[roleName("glue-job")].Statement.find((s) => s.Sid === "UseDataKey")
      ?.Resource as string[];
    const via = (service: string) => ({ "kms:ViaService": `${service}.${config.region}.amazonaws.com` });
    // KMS also requires the key policy to allow: evaluate the synthesized key policy as the resource policy.
    const keyPolicy = lake.keyPolicies[key];
    expect(keyPolicy).toBeDefined();
    expect(await decide("glue-job", "kms:GenerateDataKey", key, via("s3"), keyPolicy)).toBe("Allowed");
    expect(await decide("glue-job", "kms:Decrypt", key, via("glue"), keyPolicy)).toBe("Allowed");
    expect(await decide("glue-job", "kms:Decrypt", key, via("dynamodb"), keyPolicy)).toBe("ImplicitlyDenied");
    expect(await decide("glue-job", "kms:Decrypt", key, {}, keyPolicy)).toBe("ImplicitlyDenied");
  });

  it("reads but cannot rewrite its own code", async () => {
    const code = `${lake.bucketArn("cleaned")}/glue-artifacts/scripts/abc/clean_job.py`;
    expect(await decide("glue-job", "s3:GetObject", code)).toBe("Allowed");
    expect(await decide("glue-job", "s3:PutObject", code)).toBe("ImplicitlyDenied");
  });

  it("updates only the lake's catalog and never deletes from it", async () => {
    const glue = `arn:aws:glue:${config.region}:${account}`;
    const curatedDb = `${config.namePrefix}_${config.environment}_curated`;
    expect(
      await decide("glue-job", "glue:BatchCreatePartition", `${glue}:table/${curatedDb}/general_payments`),
    ).toBe("Allowed");
    expect(await decide("glue-job", "glue:CreateTable", `${glue}:table/other_db/t`)).toBe("ImplicitlyDenied");
    expect(await decide("glue-job", "glue:DeleteTable", `${glue}:table/${curatedDb}/general_payments`)).toBe(
      "ImplicitlyDenied",
    );
  });
});

describe("crawler role", () => {
  it("reads raw and curated, writes nothing to S3", async () => {
    expect(await decide("glue-crawler", "s3:GetObject", rawObject(RAW_KEY))).toBe("Allowed");
    expect(await decide("glue-crawler", "s3:GetObject", curatedObject(CURATED_KEY))).toBe("Allowed");
    expect(await decide("glue-crawler", "s3:PutObject", curatedObject(CURATED_KEY))).toBe("ImplicitlyDenied");
  });
});

describe("CI roles (GitHub OIDC)", () => {
  const glueJobArn = (name: string) => `arn:aws:glue:${config.region}:${account}:job/${name}`;
  const roleArn = (purpose: string) => `arn:aws:iam::${account}:role/${roleName(purpose)}`;

  it("deploy may configure the lake's buckets but never read their data", async () => {
    expect(await decide("ci-deploy", "s3:PutBucketPolicy", lake.bucketArn("raw"))).toBe("Allowed");
    expect(await decide("ci-deploy", "s3:GetObject", rawObject(RAW_KEY))).toBe("ImplicitlyDenied");
    expect(await decide("ci-deploy", "s3:GetObject", curatedObject(CURATED_KEY))).toBe("ImplicitlyDenied");
    expect(await decide("ci-deploy", "s3:DeleteBucket", lake.bucketArn("raw"))).toBe("ImplicitlyDenied");
  });

  it("deploy may upload the Glue code, only under the artifacts prefix", async () => {
    const cleaned = lake.bucketArn("cleaned");
    expect(
      await decide("ci-deploy", "s3:PutObject", `${cleaned}/glue-artifacts/scripts/ab/clean_job.py`),
    ).toBe("Allowed");
    expect(await decide("ci-deploy", "s3:PutObject", `${cleaned}/cleaned/general/x.parquet`)).toBe(
      "ImplicitlyDenied",
    );
  });

  it("deploy manages the workload roles within their boundary, passes only the Glue roles to Glue, and cannot change the CI roles", async () => {
    const boundary = {
      "iam:PermissionsBoundary": `arn:aws:iam::${account}:policy/${roleName("workload-boundary")}`,
    };
    expect(await decide("ci-deploy", "iam:PutRolePolicy", roleArn("glue-job"), boundary)).toBe("Allowed");
    expect(await decide("ci-deploy", "iam:PutRolePolicy", roleArn("glue-job"))).toBe("ImplicitlyDenied");
    expect(await decide("ci-deploy", "iam:PutRolePolicy", roleArn("ci-deploy"), boundary)).toBe(
      "ImplicitlyDenied",
    );
    expect(await decide("ci-deploy", "iam:UpdateAssumeRolePolicy", roleArn("ci-plan"), boundary)).toBe(
      "ImplicitlyDenied",
    );
    const pass = (role: string, service: string) =>
      decide("ci-deploy", "iam:PassRole", roleArn(role), { "iam:PassedToService": service });
    expect(await pass("glue-job", "glue.amazonaws.com")).toBe("Allowed");
    expect(await pass("glue-job", "ec2.amazonaws.com")).toBe("ImplicitlyDenied");
    expect(await pass("analyst", "glue.amazonaws.com")).toBe("ImplicitlyDenied");
  });

  it("deploy manages this environment's Glue jobs only", async () => {
    expect(await decide("ci-deploy", "glue:UpdateJob", glueJobArn(roleName("clean")))).toBe("Allowed");
    expect(await decide("ci-deploy", "glue:UpdateJob", glueJobArn("opl-prod-clean"))).toBe(
      "ImplicitlyDenied",
    );
  });

  it("plan can do exactly what docs/ci.md says, statement by statement", () => {
    const doc = readFileSync(join(__dirname, "..", "..", "docs", "ci.md"), "utf8");
    const section = doc.slice(doc.indexOf("### What the plan role can do"), doc.indexOf("## Reviewing"));
    const documented = Object.fromEntries(
      section
        .split("\n")
        .filter((line) => /^\| `\w+` \|/.test(line))
        .map((line) => {
          const [, sid, actions] = line.split("|").map((cell) => cell.trim());
          return [
            String(sid).replace(/`/g, ""),
            [...String(actions).matchAll(/`([^`]+)`/g)].map((m) => m[1]),
          ];
        }),
    );
    const synthesized = Object.fromEntries(
      (lake.rolePolicies[roleName("ci-plan")]?.Statement ?? []).map((st) => [st.Sid, [st.Action].flat()]),
    );
    expect(documented).toEqual(synthesized);
  });

  it("plan reads configuration and state, and changes nothing", async () => {
    expect(await decide("ci-plan", "s3:GetBucketPolicy", lake.bucketArn("raw"))).toBe("Allowed");
    expect(await decide("ci-plan", "s3:PutBucketPolicy", lake.bucketArn("raw"))).toBe("ImplicitlyDenied");
    expect(await decide("ci-plan", "glue:GetJob", glueJobArn(roleName("clean")))).toBe("Allowed");
    expect(await decide("ci-plan", "glue:UpdateJob", glueJobArn(roleName("clean")))).toBe("ImplicitlyDenied");
    expect(await decide("ci-plan", "iam:PutRolePolicy", roleArn("glue-job"))).toBe("ImplicitlyDenied");
    const state = `arn:aws:s3:::${config.namePrefix}-${config.environment}-tfstate-${account}-${config.region}`;
    expect(await decide("ci-plan", "s3:GetObject", `${state}/stacks/lake-dev/terraform.tfstate`)).toBe(
      "Allowed",
    );
    expect(await decide("ci-plan", "s3:GetObject", `${state}/stacks/lake-prod/terraform.tfstate`)).toBe(
      "ImplicitlyDenied",
    );
  });

  it("trusts only the pipeline workflow's GitHub tokens: plans from pull requests and the deploy branch, applies in the deploy environment", () => {
    const trustOf = (purpose: string) => {
      const role = Object.values(lake.stack.resource.aws_iam_role ?? {}).find(
        (r) => r.name === roleName(purpose),
      );
      return JSON.parse(role?.assume_role_policy as string).Statement;
    };
    const repo = config.ci.githubRepository;
    const workflow = `job_workflow_ref:${repo}/.github/workflows/terraform-lake.yml@`;
    const federated = {
      Federated: `arn:aws:iam::${account}:oidc-provider/token.actions.githubusercontent.com`,
    };
    const aud = { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" };
    expect(trustOf("ci-deploy")).toEqual([
      {
        Sid: "GithubDeployEnvironment",
        Effect: "Allow",
        Principal: federated,
        Action: ["sts:AssumeRoleWithWebIdentity"],
        Condition: {
          StringEquals: {
            ...aud,
            "token.actions.githubusercontent.com:sub": `repo:${repo}:environment:dev:${workflow}refs/heads/main`,
          },
        },
      },
    ]);
    expect(trustOf("ci-plan")).toEqual([
      {
        Sid: "GithubPlans",
        Effect: "Allow",
        Principal: federated,
        Action: ["sts:AssumeRoleWithWebIdentity"],
        Condition: {
          StringEquals: aud,
          StringLike: {
            "token.actions.githubusercontent.com:sub": [
              `repo:${repo}:pull_request:${workflow}refs/pull/*/merge`,
              `repo:${repo}:ref:refs/heads/main:${workflow}refs/heads/main`,
            ],
          },
        },
      },
    ]);
  });
});

describe("raw is immutable by grant, not only by deny", () => {
  // The explicit denies above would hide a delete granted by mistake: judge the Allow statements alone.
  it.each(["ingestion-writer", "glue-crawler", "glue-job", "analyst", "ci-plan", "ci-deploy"])(
    "%s has no Allow statement that deletes a raw object or version",
    async (role) => {
      const policy = lake.rolePolicies[roleName(role)];
      expect(policy).toBeDefined();
      const allows: PolicyJson = {
        ...policy,
        Statement: policy.Statement.filter((s) => s.Effect === "Allow"),
      };
      for (const action of ["s3:DeleteObject", "s3:DeleteObjectVersion"]) {
        const resource = rawObject(RAW_KEY);
        const simulation: Simulation = {
          identityPolicies: [{ name: role, policy: allows }],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          request: {
            principal: `arn:aws:iam::${account}:role/${roleName(role)}`,
            action,
            resource: { resource, accountId: account },
            contextVariables: {},
          },
        };
        const result = await runSimulation(simulation, {});
        expect([action, result.resultType === "error" ? result.errors : result.overallResult]).toEqual([
          action,
          "ImplicitlyDenied",
        ]);
      }
    },
  );
});

describe("the workload roles' permissions boundary", () => {
  // Every grant of a workload role must pass its boundary too, or the role would fail on AWS. For each Allow
  // statement and action: a request on one of its resources, with a context satisfying its conditions (the
  // first value of each; wildcards filled in), is allowed by the inline policy and by inline policy + boundary.
  // A log group pattern `...:log-group:<name>:*` covers its streams: sample one stream.
  const sample = (value: string) =>
    value.replace(/(:log-group:[^:]*):\*$/, "$1:log-stream:x").replace(/\*/g, "x");
  const roles = ["ingestion-writer", "glue-crawler", "glue-job", "analyst"];

  it.each(roles)("admits every grant of %s", async (role) => {
    const policy = lake.rolePolicies[roleName(role)];
    const boundary = lake.roleBoundaries[roleName(role)];
    expect(boundary).toBeDefined();
    const outcomes: string[] = [];
    for (const s of policy?.Statement.filter((st) => st.Effect === "Allow") ?? []) {
      // The simulator cannot evaluate kms:EncryptionContext keys; the boundary sets none.
      const conditions = Object.fromEntries(
        Object.entries(s.Condition ?? {}).map(([op, keys]) => [
          op,
          Object.fromEntries(Object.entries(keys).filter(([k]) => !k.startsWith("kms:EncryptionContext:"))),
        ]),
      );
      const statement = { ...s, Condition: conditions };
      const context = Object.fromEntries(
        Object.values(conditions).flatMap((keys) =>
          Object.entries(keys).map(([k, v]) => [k, sample(String([v].flat()[0]))]),
        ),
      );
      const resources = [s.Resource ?? []].flat() as string[];
      for (const action of [s.Action ?? []].flat() as string[]) {
        let simulated = 0;
        for (const resource of resources.filter((r) => r !== "*").map(sample)) {
          const request = {
            principal: `arn:aws:iam::${account}:role/${roleName(role)}`,
            action,
            resource,
            context,
          };
          // KMS also needs the key policy to allow.
          const resourcePolicy = lake.keyPolicies[resource];
          const identity = [{ Version: "2012-10-17", Statement: [statement] }];
          let inline: string;
          try {
            inline = await simulate({ identity, resourcePolicy }, request);
          } catch (e) {
            // A statement lists resources of several types; an action applies to some of them only.
            if (String(e).includes("no.resource.types")) continue;
            throw e;
          }
          const bounded = await simulate({ identity, boundary, resourcePolicy }, request);
          simulated += 1;
          if (inline !== "Allowed" || bounded !== "Allowed") {
            outcomes.push(`${s.Sid} ${action} ${resource}: inline ${inline}, with boundary ${bounded}`);
          }
        }
        if (simulated === 0 && !resources.includes("*"))
          outcomes.push(`${s.Sid} ${action}: no resource simulated`);
      }
    }
    expect(outcomes).toEqual([]);
  });

  it("is the same managed policy for every workload role", () => {
    const boundaries = roles.map((r) => JSON.stringify(lake.roleBoundaries[roleName(r)]));
    expect(new Set(boundaries).size).toBe(1);
  });
});
