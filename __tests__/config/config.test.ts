import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ConfigError,
  checkAcrossEnvironments,
  ENVIRONMENTS,
  LOCAL_ENDPOINT_ENV,
  loadAllConfigs,
  loadConfig,
  parseConfig,
} from "../../modules/config";
import { rawConfig } from "../helpers/synth";

/** Sets a dotted path (`tags.owner`) in a copy of a JSON object; `undefined` deletes the field. */
function withField(data: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(data);
  const keys = path.split(".");
  const last = keys.pop() as string;
  let node = copy;
  for (const k of keys) node = node[k] as Record<string, unknown>;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

/** The message parseConfig throws for the dev config with one field changed. */
function errorFor(path: string, value: unknown): string {
  try {
    parseConfig(withField(rawConfig("dev"), path, value), { source: "config/dev.json", env: {} });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error(`the config was accepted with ${path} = ${JSON.stringify(value)}`);
}

describe("committed configs", () => {
  it.each(ENVIRONMENTS)("%s loads and validates", (env) => {
    const config = loadConfig(env, { env: {} });
    expect(config.environment).toBe(env);
    expect(config.tags.environment).toBe(env);
  });

  it("pass the cross-environment rules (one singleton owner per account)", () => {
    expect(Object.keys(loadAllConfigs({ env: {} })).sort()).toEqual([...ENVIRONMENTS].sort());
  });

  it("prod protects stateful resources and keeps keys 30 days after deletion is scheduled", () => {
    const prod = loadConfig("prod", { env: {} });
    expect(prod.protectStatefulResources).toBe(true);
    expect(prod.keys.deletionWindowDays).toBe(30);
  });
});

describe("invalid configs fail with the file, the field and the rule", () => {
  it.each<[string, unknown, string]>([
    ["tags.owner", "data team", "config/dev.json: tags.owner: must be an e-mail"],
    [
      "region",
      "virginia",
      "config/dev.json: region: must be an AWS region such as us-east-1, one of us-east-1,",
    ],
    ["region", "us-east1", "config/dev.json: region: must be an AWS region such as us-east-1, one of"],
    [
      "region",
      "cn-north-1",
      "config/dev.json: region: the China partition (aws-cn) is not supported; use a region of aws or aws-us-gov",
    ],
    [
      "namePrefix",
      "sthree",
      'config/dev.json: namePrefix: gives bucket names S3 refuses (sthree-dev-tfstate-111111111111-us-east-1: bucket names must not start with "sthree-" (reserved by S3)); choose another prefix',
    ],
    ["ci.deployEnvironment", "prod env", "ci.deployEnvironment: must be a GitHub environment name"],
    ["accountId", 1234, "config/dev.json: accountId: must be a 12-digit AWS account id"],
    ["namePrefix", "Open-Payments", "config/dev.json: namePrefix: must be 2-10 lower-case letters or digits"],
    ["tagz", {}, 'config/dev.json: (root): Unrecognized key: "tagz"'],
    ["tags.environment", "prod", "config/dev.json: tags.environment: must equal environment (dev)"],
    [
      "tags.data-classification",
      "secret",
      "config/dev.json: tags.data-classification: must be one of public, internal, confidential, restricted",
    ],
    ["backend", { type: "gcs" }, "config/dev.json: backend.type: must be local, s3 or cloud"],
    [
      "backend",
      { type: "cloud", organization: "acme", workspace: { tags: [] } },
      "config/dev.json: backend.workspace",
    ],
    [
      "storage.rawGlacierAfterDays",
      40,
      "config/dev.json: storage.rawGlacierAfterDays: rawGlacierAfterDays must be at least 30 days after",
    ],
    ["storage.rawInfrequentAccessAfterDays", 10, "storage.rawInfrequentAccessAfterDays: must be at least 30"],
    ["etl.logRetentionDays", 10, "config/dev.json: etl.logRetentionDays: must be one of CloudWatch's values"],
    ["etl.workerType", "Standard", "config/dev.json: etl.workerType: must be one of G.1X"],
    [
      "athena.bytesScannedCutoffPerQuery",
      1000,
      "athena.bytesScannedCutoffPerQuery: must be at least 10000000",
    ],
    ["keys.deletionWindowDays", 3, "keys.deletionWindowDays: must be between 7 and 30"],
    ["alerts.email", "nobody", "config/dev.json: alerts.email: must be an e-mail"],
    ["ci.githubRepository", "just-a-name", "ci.githubRepository: must be owner/name"],
    ["ci.deployRef", "main", "ci.deployRef: must be a branch ref such as refs/heads/main"],
    ["localEndpoint", "http://127.0.0.1:5000", "localEndpoint: is only allowed for the local environment"],
  ])("%s = %j", (path, value, expected) => {
    expect(errorFor(path, value)).toContain(expected);
  });

  it("reports every bad field at once, one per line", () => {
    const data = withField(withField(rawConfig("dev"), "tags.owner", "x"), "region", "y");
    expect(() => parseConfig(data, { source: "config/dev.json", env: {} })).toThrow(
      /^invalid configuration\nconfig\/dev\.json: region: must be an AWS region such as us-east-1, one of [^\n]*us-gov-east-1\nconfig\/dev\.json: tags\.owner: must be an e-mail$/,
    );
  });

  it("prod must keep keys 30 days after their deletion is scheduled", () => {
    const data = withField(rawConfig("prod"), "keys.deletionWindowDays", 7);
    expect(() => parseConfig(data, { source: "config/prod.json", env: {} })).toThrow(
      "config/prod.json: keys.deletionWindowDays: must be 30 in prod",
    );
  });

  it("prod must protect stateful resources", () => {
    const data = withField(rawConfig("prod"), "protectStatefulResources", false);
    expect(() => parseConfig(data, { source: "config/prod.json", env: {} })).toThrow(
      "config/prod.json: protectStatefulResources: must be true in prod",
    );
  });

  it("the local environment needs its endpoint", () => {
    const data = withField(rawConfig("local"), "localEndpoint", undefined);
    expect(() => parseConfig(data, { source: "config/local.json", env: {} })).toThrow(
      "config/local.json: localEndpoint: is required for the local environment",
    );
  });
});

describe("loading files", () => {
  const dir = mkdtempSync(join(tmpdir(), "lake-config-"));

  it("names the file when it is not JSON", () => {
    writeFileSync(join(dir, "dev.json"), "{ not json");
    expect(() => loadConfig("dev", { configDir: dir })).toThrow(/dev\.json: cannot read the configuration/);
  });

  it("refuses a file whose environment differs from its name", () => {
    writeFileSync(join(dir, "dev.json"), JSON.stringify(rawConfig("prod")));
    expect(() => loadConfig("dev", { configDir: dir, env: {} })).toThrow(
      /dev\.json: environment: must be "dev" \(the file name\), got "prod"/,
    );
  });

  it("refuses an unknown environment", () => {
    expect(() => loadConfig("staging")).toThrow('unknown environment "staging": use one of dev, prod, local');
  });
});

describe("local endpoint override", () => {
  it(`${LOCAL_ENDPOINT_ENV} replaces the local endpoint at synth time`, () => {
    const config = loadConfig("local", { env: { [LOCAL_ENDPOINT_ENV]: "http://127.0.0.1:45999/" } });
    expect(config.localEndpoint).toBe("http://127.0.0.1:45999");
  });

  it("does not touch other environments", () => {
    expect(
      loadConfig("dev", { env: { [LOCAL_ENDPOINT_ENV]: "http://127.0.0.1:1" } }).localEndpoint,
    ).toBeUndefined();
  });

  it("rejects a value that is not a URL", () => {
    expect(() => loadConfig("local", { env: { [LOCAL_ENDPOINT_ENV]: "localhost" } })).toThrow(
      `${LOCAL_ENDPOINT_ENV}: must be a URL`,
    );
  });
});

describe("account singletons", () => {
  const dev = loadConfig("dev", { env: {} });

  it("fail when two environments of one account both own them", () => {
    expect(() => checkAcrossEnvironments([dev, { ...dev, environment: "prod" }])).toThrow(
      "ownsAccountSingletons: account 111111111111 needs exactly one owning environment, found 2 (dev, prod)",
    );
  });

  it("fail when no environment of an account owns them", () => {
    expect(() => checkAcrossEnvironments([{ ...dev, ownsAccountSingletons: false }])).toThrow(
      "found 0 (none)",
    );
  });
});
