// The harness's own failure paths: terraform must never fall back to the network, and the offline override
// must change nothing but the backend and the provider's offline settings.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SynthesizedStack, terraformCliConfig, writeOfflineOverride } from "./harness";

const stackRequiring = (version: string, dir = mkdtempSync(join(tmpdir(), "stack-"))): SynthesizedStack => ({
  name: "lake-dev",
  dir,
  config: {
    terraform: { required_providers: { aws: { source: "aws", version } } },
    provider: { aws: [{ region: "us-east-1" }, { alias: "replica", region: "us-west-2" }] },
  },
});

describe("terraformCliConfig", () => {
  const saved = process.env.TF_CLI_CONFIG_FILE;
  afterEach(() => {
    if (saved === undefined) delete process.env.TF_CLI_CONFIG_FILE;
    else process.env.TF_CLI_CONFIG_FILE = saved;
  });
  const tfrc = (content: string) => {
    const file = join(mkdtempSync(join(tmpdir(), "tfrc-")), "terraform.tfrc");
    writeFileSync(file, content);
    process.env.TF_CLI_CONFIG_FILE = file;
    return file;
  };

  it("fails naming TF_PLUGIN_MIRROR when the CLI configuration has no mirror", () => {
    tfrc("");
    expect(() => terraformCliConfig([stackRequiring("5.100.0")])).toThrow(
      /configures no provider mirror.*TF_PLUGIN_MIRROR/s,
    );
  });

  it("fails naming the provider, version and expected directory when the mirror lacks them", () => {
    const mirror = mkdtempSync(join(tmpdir(), "mirror-"));
    tfrc(`provider_installation {\n  filesystem_mirror {\n    path = "${mirror}"\n  }\n}\n`);
    expect(() => terraformCliConfig([stackRequiring("5.100.0")])).toThrow(
      /registry\.terraform\.io\/hashicorp\/aws 5\.100\.0 .* is not in the mirror .*TF_PLUGIN_MIRROR/,
    );
  });

  it("refuses a provider constraint that is not an exact version", () => {
    tfrc('provider_installation { filesystem_mirror { path = "/nonexistent" } }');
    expect(() => terraformCliConfig([stackRequiring("~> 5.0")])).toThrow(/pin an exact provider version/);
  });
});

describe("writeOfflineOverride", () => {
  it("replaces the backend with local state and sets the offline flags on every AWS provider block", () => {
    const stack = stackRequiring("5.100.0");
    const override = JSON.parse(readFileSync(writeOfflineOverride(stack), "utf8"));
    expect(override.terraform).toEqual({ backend: { local: { path: "offline-plan.tfstate" } } });
    expect(override.provider.aws.map((b: { alias?: string }) => b.alias)).toEqual([undefined, "replica"]);
    for (const block of override.provider.aws) {
      expect(block).toMatchObject({
        skip_credentials_validation: true,
        skip_metadata_api_check: true,
        skip_requesting_account_id: true,
        skip_region_validation: true,
      });
      expect(block.region).toBeUndefined();
    }
  });
});
