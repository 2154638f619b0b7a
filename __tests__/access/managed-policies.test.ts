// Packing a role's grants into customer-managed policies (modules/core packStatements, modules/access LakeRole).
import { allow, LakeRole } from "../../modules/access";
import {
  MANAGED_POLICY_MAX_CHARS,
  packStatements,
  policyJson,
  policySize,
  TerraformStack,
  Testing,
  TOKEN_SIZE_ESTIMATE,
} from "../../modules/core";

const statement = (sid: string, resources: number) =>
  allow({
    sid,
    actions: ["s3:GetObject"],
    resources: Array.from({ length: resources }, (_, i) => `arn:aws:s3:::bucket-${sid}-${i}/*`),
  });

describe("packStatements", () => {
  it("keeps every statement, in order within each policy, and no policy over the limit", () => {
    const statements = Array.from({ length: 12 }, (_, i) => statement(`S${i}`, 10 + i * 7));
    const packs = packStatements(statements);
    expect(packs.flat().map((s) => s.Sid)).toEqual(expect.arrayContaining(statements.map((s) => s.Sid)));
    expect(packs.flat()).toHaveLength(statements.length);
    for (const pack of packs)
      expect(policySize(policyJson(pack))).toBeLessThanOrEqual(MANAGED_POLICY_MAX_CHARS);
    expect(packs.length).toBeGreaterThan(1);
  });

  it("counts an unresolved reference at its estimate, not at the token's own length", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a cdktf token as it appears in synthesized text
    const token = "${TfToken[TOKEN.42]}";
    expect(policySize(`{"a":"${token}"}`)).toBe(`{"a":""}`.length + TOKEN_SIZE_ESTIMATE);
  });

  it("refuses a statement that alone exceeds the limit, naming it", () => {
    expect(() => packStatements([statement("Huge", 400)])).toThrow(/Huge alone exceeds 6144/);
  });
});

describe("LakeRole with managed policies", () => {
  const role = (parts: Array<{ part: string; statements: ReturnType<typeof statement>[] }>) => {
    const stack = new TerraformStack(Testing.app(), "t");
    const r = new LakeRole(stack, "r", {
      roleName: "opl-dev-ci-deploy",
      description: "test",
      trustStatements: [],
      managedPolicyParts: parts,
    });
    return { r, json: JSON.parse(Testing.synth(stack)) };
  };

  it("creates one policy per pack, named <role>-<part>-<n>, each attached to the role, and no inline policy", () => {
    const { r, json } = role([
      { part: "core", statements: Array.from({ length: 4 }, (_, i) => statement(`C${i}`, 60)) },
      { part: "warehouse", statements: [statement("W0", 5)] },
    ]);
    expect(r.managedPolicies.map((p) => p.name)).toEqual([
      "opl-dev-ci-deploy-core-1",
      "opl-dev-ci-deploy-core-2",
      "opl-dev-ci-deploy-warehouse-1",
    ]);
    expect(Object.keys(json.resource.aws_iam_role_policy_attachment)).toHaveLength(3);
    expect(json.resource.aws_iam_role_policy).toBeUndefined();
  });

  it("refuses more than IAM's 10 managed policies per role", () => {
    const many = Array.from({ length: 11 }, (_, i) => ({
      part: `p${i}`,
      statements: [statement(`P${i}`, 1)],
    }));
    expect(() => role(many)).toThrow(/11 managed policies, IAM attaches at most 10/);
  });

  it("refuses a Sid used twice across parts", () => {
    expect(() =>
      role([
        { part: "a", statements: [statement("Same", 1)] },
        { part: "b", statements: [statement("Same", 2)] },
      ]),
    ).toThrow(/Sid Same used twice/);
  });
});
