// Runs the real terraform binary on the synthesized stacks, offline: synthesis into a temporary directory,
// `init` through the provider mirror named by the project's CLI configuration, `validate`, and a `plan`
// against local state with fake credentials. Shared by the tests under __tests__/terraform.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import type { LakeConfig } from "../../modules/config";
import { App } from "../../modules/core";
import { addEnvironment } from "../../stacks";

const run = promisify(execFile);

export const repoRoot = resolve(__dirname, "..", "..");

/** One stack of the synthesized app, as listed in cdktf's manifest.json. */
export interface SynthesizedStack {
  readonly name: string;
  /** Absolute directory holding cdk.tf.json: terraform's working directory for the stack. */
  readonly dir: string;
  /** The parsed cdk.tf.json. */
  readonly config: TerraformJson;
}

/** The parts of a cdk.tf.json the harness reads. */
export interface TerraformJson {
  readonly terraform?: {
    readonly required_providers?: Record<string, { readonly source?: string; readonly version?: string }>;
    readonly backend?: Record<string, unknown>;
    readonly cloud?: unknown;
  };
  readonly provider?: Record<string, ReadonlyArray<Record<string, unknown> & { readonly alias?: string }>>;
  readonly resource?: Record<string, Record<string, unknown>>;
  readonly data?: Record<string, Record<string, unknown>>;
  readonly output?: Record<string, unknown>;
}

interface CdktfManifest {
  readonly stacks: Record<string, { readonly name: string; readonly workingDirectory: string }>;
}

/**
 * Synthesizes the app exactly as `cdktf synth` does (cdktf.json's app, CDKTF_OUTDIR) into a fresh temporary
 * directory and returns every stack it produced: the tests follow whatever the environments define.
 */
export async function synthesize(): Promise<{ outdir: string; stacks: SynthesizedStack[] }> {
  const outdir = mkdtempSync(join(tmpdir(), "lake-synth-"));
  const tsx = join(repoRoot, "node_modules", ".bin", "tsx");
  try {
    await run(tsx, ["main.ts"], {
      cwd: repoRoot,
      env: { ...process.env, CDKTF_OUTDIR: outdir },
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    throw new Error(`synthesis (tsx main.ts) failed:\n${processOutput(error)}`);
  }
  const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as CdktfManifest;
  const stacks = Object.values(manifest.stacks).map((stack) => {
    const dir = join(outdir, stack.workingDirectory);
    return {
      name: stack.name,
      dir,
      config: JSON.parse(readFileSync(join(dir, "cdk.tf.json"), "utf8")) as TerraformJson,
    };
  });
  if (stacks.length === 0) throw new Error(`synthesis produced no stacks in ${outdir}`);
  return { outdir, stacks };
}

/**
 * Synthesizes one config variant's lake stack (a config the committed files do not hold) into a fresh temporary
 * directory, in process: `<outdir>/stacks/lake-<env>`.
 */
export function synthesizeLake(
  config: LakeConfig,
  label: string,
): { outdir: string; stack: SynthesizedStack } {
  const outdir = mkdtempSync(join(tmpdir(), `lake-${label}-synth-`));
  const app = new App({ outdir });
  addEnvironment(app, config);
  app.synth();
  const name = `lake-${config.environment}`;
  const dir = join(outdir, "stacks", name);
  return {
    outdir,
    stack: { name, dir, config: JSON.parse(readFileSync(join(dir, "cdk.tf.json"), "utf8")) as TerraformJson },
  };
}

/**
 * The CLI configuration terraform must use: the one the Makefile exports (TF_CLI_CONFIG_FILE), else the
 * project's `.build/terraform.tfrc`. It must install every required provider from a filesystem mirror that holds
 * it for this platform; terraform never falls back to the network in these tests.
 */
export function terraformCliConfig(stacks: readonly SynthesizedStack[]): string {
  const exported = process.env.TF_CLI_CONFIG_FILE;
  const file =
    exported?.endsWith(".tfrc") && existsSync(exported)
      ? exported
      : join(repoRoot, ".build", "terraform.tfrc");
  if (!existsSync(file)) {
    throw new Error(`terraform CLI configuration ${file} is missing: run \`make setup\` first`);
  }
  const mirror = /filesystem_mirror\s*{[^}]*path\s*=\s*"([^"]+)"/.exec(readFileSync(file, "utf8"))?.[1];
  if (!mirror) {
    throw new Error(
      `${file} configures no provider mirror, so terraform would download providers. Set TF_PLUGIN_MIRROR to a ` +
        "directory in terraform's unpacked mirror layout (registry.terraform.io/hashicorp/aws/<version>/<os_arch>/) " +
        "and run `make setup`",
    );
  }
  for (const { source, version } of requiredProviders(stacks)) {
    const dir = join(mirror, source, version, platform());
    if (!existsSync(dir)) {
      throw new Error(
        `provider ${source} ${version} for ${platform()} is not in the mirror ${mirror} (expected ${dir}). ` +
          "Point TF_PLUGIN_MIRROR at a mirror that holds it and run `make setup`",
      );
    }
  }
  return file;
}

function requiredProviders(stacks: readonly SynthesizedStack[]): { source: string; version: string }[] {
  const found = new Map<string, { source: string; version: string }>();
  for (const stack of stacks) {
    for (const [name, req] of Object.entries(stack.config.terraform?.required_providers ?? {})) {
      const source = qualifiedSource(req.source ?? name);
      const version = req.version ?? "";
      if (!/^\d+\.\d+\.\d+$/.test(version)) {
        throw new Error(`stack ${stack.name} requires ${source} "${version}": pin an exact provider version`);
      }
      found.set(`${source}@${version}`, { source, version });
    }
  }
  return [...found.values()];
}

/** "aws" and "hashicorp/aws" both mean registry.terraform.io/hashicorp/aws. */
function qualifiedSource(source: string): string {
  const parts = source.split("/");
  if (parts.length === 1) return `registry.terraform.io/hashicorp/${source}`;
  if (parts.length === 2) return `registry.terraform.io/${source}`;
  return source;
}

function platform(): string {
  const arch: Record<string, string> = { x64: "amd64", arm64: "arm64", ia32: "386", arm: "arm" };
  return `${process.platform}_${arch[process.arch] ?? process.arch}`;
}

/**
 * terraform's environment: the CLI configuration, no prompts, no version checkpoint, fake AWS credentials,
 * and an HTTP(S) proxy on a closed loopback port so that any attempt to reach the network fails at once
 * instead of silently succeeding.
 */
export function terraformEnv(cliConfigFile: string): NodeJS.ProcessEnv {
  const closedPort = "http://127.0.0.1:9";
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TF_CLI_CONFIG_FILE: cliConfigFile,
    TF_IN_AUTOMATION: "1",
    TF_INPUT: "0",
    CHECKPOINT_DISABLE: "1",
    HTTPS_PROXY: closedPort,
    HTTP_PROXY: closedPort,
    AWS_ACCESS_KEY_ID: "offline-plan-fake-key",
    AWS_SECRET_ACCESS_KEY: "offline-plan-fake-secret",
    AWS_EC2_METADATA_DISABLED: "true",
  };
}

/** A failed terraform command, with its captured output. */
export class TerraformError extends Error {
  constructor(
    message: string,
    readonly stdout: string,
  ) {
    super(message);
  }
}

/** Runs terraform in a stack directory and returns its stdout; a failure carries terraform's own output. */
export async function terraform(dir: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  try {
    const { stdout } = await run("terraform", [...args, "-no-color"], {
      cwd: dir,
      env,
      maxBuffer: 256 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const stdout = (error as { stdout?: string }).stdout ?? "";
    throw new TerraformError(
      `terraform ${args.join(" ")} failed in ${dir}:\n${processOutput(error)}`,
      stdout,
    );
  }
}

/**
 * Writes the override file that makes a stack plannable offline, without touching cdk.tf.json: terraform merges
 * `*_override.tf.json` over the stack, so its backend (S3 or Terraform Cloud) becomes local state, and every
 * AWS provider block (matched by alias) gets the provider's skip flags and a single retry. With the account id
 * not requested there is no account to compare, so the provider's `allowed_account_ids` guard is lifted here
 * (its value is asserted on the synthesized JSON by the stack tests).
 */
export function writeOfflineOverride(stack: SynthesizedStack): string {
  const offline = {
    skip_credentials_validation: true,
    skip_metadata_api_check: true,
    skip_requesting_account_id: true,
    skip_region_validation: true,
    allowed_account_ids: null,
    max_retries: 1,
  };
  const awsBlocks = stack.config.provider?.aws ?? [];
  const override = {
    terraform: { backend: { local: { path: "offline-plan.tfstate" } } },
    provider: { aws: awsBlocks.map((block) => (block.alias ? { alias: block.alias, ...offline } : offline)) },
  };
  const file = join(stack.dir, "offline_plan_override.tf.json");
  writeFileSync(file, JSON.stringify(override, null, 2));
  return file;
}

/** One resource change of a plan. */
export interface PlannedChange {
  readonly address: string;
  readonly type: string;
  /** create, update, delete, replace, read, noop, ... */
  readonly action: string;
}

/**
 * Plans a stack offline (override file, local state, no lock) and returns its resource changes, read from
 * terraform's machine-readable UI stream (`plan -json`): one provider start-up fewer than `plan -out` followed
 * by `show -json`. A failed plan throws with terraform's diagnostics.
 */
export async function planOffline(stack: SynthesizedStack, env: NodeJS.ProcessEnv): Promise<PlannedChange[]> {
  writeOfflineOverride(stack);
  // -reconfigure: an earlier `init -backend=false` left the directory without a backend.
  await terraform(stack.dir, ["init", "-reconfigure", "-input=false"], env);
  let stream: string;
  try {
    stream = await terraform(stack.dir, ["plan", "-input=false", "-lock=false", "-json"], env);
  } catch (error) {
    const diagnostics = jsonLines((error as TerraformError).stdout)
      .filter((m) => m.type === "diagnostic")
      .map((m) => `${m.diagnostic?.severity}: ${m.diagnostic?.summary}: ${m.diagnostic?.detail ?? ""}`);
    throw new Error(
      `offline plan of ${stack.name} failed:\n${diagnostics.join("\n") || (error as Error).message}`,
    );
  }
  return jsonLines(stream)
    .filter((m) => m.type === "planned_change" && m.change)
    .map((m) => ({
      address: m.change?.resource.addr ?? "",
      type: m.change?.resource.resource_type ?? "",
      action: m.change?.action ?? "",
    }));
}

interface UiMessage {
  readonly type: string;
  readonly diagnostic?: { readonly severity: string; readonly summary: string; readonly detail?: string };
  readonly change?: { readonly action: string; readonly resource: { addr: string; resource_type: string } };
}

function jsonLines(text: string): UiMessage[] {
  return text
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as UiMessage);
}

/** Resources a plan creates, counted per resource type. */
export function createdPerType(changes: readonly PlannedChange[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const change of changes) {
    if (change.action === "create") counts[change.type] = (counts[change.type] ?? 0) + 1;
  }
  return counts;
}

/** Runs `tasks` with at most `limit` in flight: the machine has two cores shared by everyone. */
export async function inBatches<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>) {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function processOutput(error: unknown): string {
  const e = error as { stdout?: string; stderr?: string; message?: string };
  const text = [e.stderr, e.stdout].filter(Boolean).join("\n").trim() || (e.message ?? String(error));
  return text.length > 8000 ? `…${text.slice(-8000)}` : text;
}
