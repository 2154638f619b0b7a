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
  accountId: "111111111111",
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

  it("gives the account and the break-glass role administration only, never data use", () => {
    const json = synthesize((scope) => new LakeKey(scope, "k", base));
    const statements = keyPolicy(json).Statement;
    expect(statements.map((s) => s.Sid)).toEqual(["AccountAdministers", "BreakGlassAdministers"]);
    for (const s of statements) {
      expect(s.Action).toEqual([...KEY_ADMIN_ACTIONS]);
      expect(s.Action).not.toContain("kms:Decrypt");
      expect(s.Action).not.toContain("kms:*");
    }
    expect(statements[1]?.Principal).toEqual({ AWS: base.breakGlassRoleArn });
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

  it("lets account principals use it only through the named services (state and catalog keys)", () => {
    const json = synthesize(
      (scope) =>
        new LakeKey(scope, "k", { ...base, accountPrincipalsViaServices: ["glue.us-east-1.amazonaws.com"] }),
    );
    const s = keyPolicy(json).Statement.find((st) => st.Sid === "AccountPrincipalsUseViaServices");
    expect(s?.Condition).toEqual({
      StringEquals: {
        "kms:CallerAccount": "111111111111",
        "kms:ViaService": ["glue.us-east-1.amazonaws.com"],
      },
    });
  });

  it.each<[string, Partial<typeof base> & { rotationPeriodDays?: number }, string]>([
    ["alias without prefix", { alias: "opl-data" }, 'alias "opl-data" must look like alias/<name>'],
    ["reserved alias", { alias: "alias/aws/s3" }, "not use the aws/ prefix"],
    ["deletion window", { deletionWindowDays: 3 }, "deletionWindowDays 3 must be between 7 and 30"],
    ["rotation period", { rotationPeriodDays: 30 }, "rotationPeriodDays 30 must be between 90 and 2560"],
  ])("rejects a bad %s", (_what, props, message) => {
    expect(() => synthesize((scope) => new LakeKey(scope, "k", { ...base, ...props }))).toThrow(message);
  });

  it("refuses a service grant without confused-deputy conditions", () => {
    expect(() =>
      synthesize((scope) =>
        new LakeKey(scope, "k", base).addServiceGrant({
          name: "Logs",
          service: "logs.amazonaws.com",
          actions: ["kms:Decrypt"],
          conditions: {},
        }),
      ),
    ).toThrow('service grant "Logs" for logs.amazonaws.com needs confused-deputy conditions');
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
