import { boundedName, loadConfig, NAME_LIMITS, Naming } from "../../modules/config";

describe("boundedName", () => {
  it("keeps a name that fits", () => {
    expect(boundedName("opl-dev-raw", 63)).toBe("opl-dev-raw");
  });

  it("truncates a long name to the limit with a stable hash suffix", () => {
    const long = `opl-dev-${"x".repeat(80)}`;
    const name = boundedName(long, 63);
    expect(name).toHaveLength(63);
    expect(name).toMatch(/^opl-dev-x+-[0-9a-f]{8}$/);
    expect(boundedName(long, 63)).toBe(name);
  });

  it("keeps distinct long names distinct", () => {
    const a = boundedName(`${"a".repeat(70)}-raw`, 63);
    const b = boundedName(`${"a".repeat(70)}-cleaned`, 63);
    expect(a).not.toBe(b);
    expect(a.slice(0, 50)).toBe(b.slice(0, 50));
  });

  it("never ends the kept part with a separator before the hash", () => {
    expect(boundedName(`${"a".repeat(53)}-bbbbbbbbbbbbbbbb`, 63)).toMatch(/^a{53}-[0-9a-f]{8}$/);
  });

  it("refuses a limit too small to hold the hash", () => {
    expect(() => boundedName("anything", 5)).toThrow(RangeError);
  });
});

describe("Naming", () => {
  const naming = new Naming(loadConfig("prod", { env: {} }));

  it("derives bucket names from prefix, environment, purpose, account and region", () => {
    expect(naming.bucket("raw")).toBe("opl-prod-raw-222222222222-us-east-1");
    expect(naming.bucket("athena-results").length).toBeLessThanOrEqual(NAME_LIMITS.s3Bucket);
  });

  it("bounds bucket names at 63 characters", () => {
    const long = new Naming({
      namePrefix: "abcdefghij",
      environment: "local",
      accountId: "123456789012",
      region: "ap-southeast-2",
    });
    const name = long.bucket("athena-results-archive");
    expect(name.length).toBe(NAME_LIMITS.s3Bucket);
    expect(name).toMatch(/^[a-z0-9][a-z0-9-]+[a-z0-9]$/);
  });

  it("bounds role names at 64 characters", () => {
    expect(naming.role("x".repeat(100)).length).toBe(NAME_LIMITS.iamRole);
  });

  it("uses underscores for Glue database names", () => {
    expect(naming.database("curated")).toBe("opl_prod_curated");
  });

  it("names the state bucket, lock table and key alias the backend uses", () => {
    expect(naming.stateBucket).toBe("opl-prod-tfstate-222222222222-us-east-1");
    expect(naming.lockTable).toBe("opl-prod-tflock");
    expect(naming.stateKeyAlias).toBe("alias/opl-prod-tfstate");
    expect(naming.stateKey("lake-prod")).toBe("stacks/lake-prod/terraform.tfstate");
  });

  it("rejects a purpose that would make an invalid name", () => {
    expect(() => naming.bucket("Raw_Zone")).toThrow('name purpose "Raw_Zone" must be lower-case letters');
  });
});
