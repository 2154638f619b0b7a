import { KEY_ADMIN_ACTIONS, KEY_USER_ACTIONS, LakeKey } from "../../modules/keys";
import {
  policyOf,
  resourcesOfType,
  synthConstruct as synthesize,
  synthStack,
  type TfJson,
} from "../helpers/synth";

const base = {
  alias: "alias/opl-test-data",
  description: "test",
  location: { account: "111111111111", region: "us-east-1", partition: "aws" as const },
  breakGlassRoleArn: "arn:aws:iam::111111111111:role/BreakGlass",
  deletionWindowDays: 7,
};

/** The key policy of the only key policy resource in a stack. */
function keyPolicy(json: { resource: TfJson["resource"] }) {
  const policies = Object.values(json.resource.aws_kms_key_policy ?? {});
  expect(policies).toHaveLength(1);
  return policyOf(policies[0]?.policy);
}

describe("LakeKey", () => {
  it("rotates, has an alias and a separate key policy", () => {
    const json = synthesize((scope) => new LakeKey(scope, "k", { ...base, rotationPeriodDays: 365 }));
    const key = Object.values(json.resource.aws_kms_key ?? {})[0];
    expect(key).toMatchObject({
      enable_key_rotation: true,
      rotation_period_in_days: 365,
      deletion_window_in_days: 7,
    });
    expect(key).not.toHaveProperty("policy");
    expect(Object.values(json.resource.aws_kms_alias ?? {})[0]).toMatchObject({
      name: "alias/opl-test-data",
    });
  });

  it("gives the account and the break-glass role administration only, never data use nor grants", () => {
    const json = synthesize((scope) => new LakeKey(scope, "k", base));
    const statements = keyPolicy(json).Statement;
    expect(statements.map((s) => s.Sid)).toEqual([
      "AccountAdministers",
      "BreakGlassAdministers",
      "BreakGlassGrantsForAwsResources",
    ]);
    for (const s of statements.slice(0, 2)) {
      expect(s.Action).toEqual([...KEY_ADMIN_ACTIONS]);
      for (const action of s.Action)
        expect(action).not.toMatch(/\*|Decrypt|Encrypt|GenerateDataKey|CreateGrant/);
    }
    expect(statements[1]?.Principal).toEqual({ AWS: base.breakGlassRoleArn });
    // Administrators create DynamoDB tables encrypted with the key: grants for AWS resources, nothing else.
    expect(statements[2]).toMatchObject({
      Principal: { AWS: base.breakGlassRoleArn },
      Action: ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
      Condition: { Bool: { "kms:GrantIsForAWSResource": true } },
    });
  });

  it("renders users added after construction, limited to their services", () => {
    const json = synthesize((scope) => {
      const key = new LakeKey(scope, "k", base);
      key.addUser({
        name: "Ingestion",
        principalArn: "arn:aws:iam::111111111111:role/ingest",
        viaServices: ["s3.us-east-1.amazonaws.com"],
      });
    });
    const user = keyPolicy(json).Statement.find((s) => s.Sid === "UseIngestion");
    expect(user).toMatchObject({
      Effect: "Allow",
      Principal: { AWS: "arn:aws:iam::111111111111:role/ingest" },
      Action: [...KEY_USER_ACTIONS],
      Condition: { StringEquals: { "kms:ViaService": ["s3.us-east-1.amazonaws.com"] } },
    });
  });

  it("lets roles named before they exist use it only through the named services (state and catalog keys)", () => {
    const principalArns = ["arn:aws:iam::111111111111:role/opl-*-glue-job"];
    const json = synthesize(
      (scope) =>
        new LakeKey(scope, "k", {
          ...base,
          namedPrincipalsViaServices: { principalArns, services: ["glue.us-east-1.amazonaws.com"] },
        }),
    );
    const s = keyPolicy(json).Statement.find((st) => st.Sid === "NamedRolesUseViaServices");
    expect(s).toMatchObject({
      Principal: { AWS: "arn:aws:iam::111111111111:root" },
      Condition: {
        ArnLike: { "aws:PrincipalArn": principalArns },
        StringEquals: { "kms:ViaService": ["glue.us-east-1.amazonaws.com"] },
      },
    });
  });

  it("refuses a whole account or a role wildcard as named principals", () => {
    for (const arn of ["arn:aws:iam::111111111111:root", "arn:aws:iam::111111111111:role/*", "*"]) {
      expect(() =>
        synthesize(
          (scope) =>
            new LakeKey(scope, "k", {
              ...base,
              namedPrincipalsViaServices: { principalArns: [arn], services: ["s3.us-east-1.amazonaws.com"] },
            }),
        ),
      ).toThrow("must be a role ARN (a * only inside the name), never a whole account");
    }
  });

  it.each<[string, Partial<typeof base> & { rotationPeriodDays?: number }, string]>([
    ["alias without prefix", { alias: "opl-data" }, 'alias "opl-data" must look like alias/<name>'],
    ["reserved alias", { alias: "alias/aws/s3" }, "not use the aws/ prefix"],
    ["deletion window", { deletionWindowDays: 3 }, "deletionWindowDays 3 must be between 7 and 30"],
    ["rotation period", { rotationPeriodDays: 30 }, "rotationPeriodDays 30 must be between 90 and 2560"],
  ])("rejects a bad %s", (_what, props, message) => {
    expect(() => synthesize((scope) => new LakeKey(scope, "k", { ...base, ...props }))).toThrow(message);
  });

  it.each<[string, Record<string, Record<string, string>>]>([
    ["no condition", {}],
    ["another account", { StringEquals: { "aws:SourceAccount": "999999999999" } }],
    ["any account's rules", { ArnLike: { "aws:SourceArn": "arn:aws:events:us-east-1:*:rule/x" } }],
  ])("refuses a service grant without a condition pinning the account (%s)", (_what, conditions) => {
    expect(() =>
      synthesize((scope) =>
        new LakeKey(scope, "k", base).addServiceGrant({
          name: "Logs",
          service: "logs.amazonaws.com",
          actions: ["kms:Decrypt"],
          conditions,
        }),
      ),
    ).toThrow('service grant "Logs" for logs.amazonaws.com needs confused-deputy conditions pinning account');
  });

  it("refuses the same user twice", () => {
    expect(() =>
      synthesize((scope) => {
        const key = new LakeKey(scope, "k", base);
        const user = { name: "A", principalArn: "arn:aws:iam::111111111111:role/a" };
        key.addUser(user);
        key.addUser(user);
      }),
    ).toThrow('key user "A" added twice');
  });
});

describe("keys of the lake stack", () => {
  it("has separate data and logs keys in every environment", () => {
    for (const env of ["dev", "prod", "local"] as const) {
      const aliases = resourcesOfType(synthStack(env, "lake"), "aws_kms_alias").map((a) => a.config.name);
      expect(aliases).toEqual(expect.arrayContaining([`alias/opl-${env}-data`, `alias/opl-${env}-logs`]));
    }
  });

  it("lets CloudWatch Logs use the logs key only for this account's log groups", () => {
    const policies = resourcesOfType(synthStack("dev", "lake"), "aws_kms_key_policy").map((p) =>
      policyOf(p.config.policy),
    );
    const logs = policies.flatMap((p) => p.Statement).find((s) => s.Sid === "ServiceCloudWatchLogs");
    expect(logs?.Condition).toEqual({
      ArnLike: { "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:111111111111:log-group:*" },
    });
  });

  it("sets the rotation period on AWS, and not on moto (MOTO_GAPS.kmsRotationPeriod)", () => {
    for (const key of resourcesOfType(synthStack("prod", "lake"), "aws_kms_key")) {
      expect(key.config.rotation_period_in_days).toBe(365);
    }
    for (const key of resourcesOfType(synthStack("local", "lake"), "aws_kms_key")) {
      expect(key.config.enable_key_rotation).toBe(true);
      expect(key.config).not.toHaveProperty("rotation_period_in_days");
    }
  });
});
