import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import type { Construct } from "constructs";
import {
  DEFAULT_CONFIG_DIR,
  ENVIRONMENTS,
  type EnvironmentName,
  type LakeConfig,
  loadConfig,
  parseConfig,
} from "../../modules/config";
import { App, TerraformStack, Testing } from "../../modules/core";
import { addEnvironment, STACK_KINDS, type StackKind, stackName } from "../../stacks";

/** A synthesized stack's Terraform JSON (the parts tests read). */
export interface TfJson {
  readonly terraform: {
    readonly backend?: Record<string, Record<string, unknown>>;
    readonly cloud?: Record<string, unknown>;
    readonly required_providers?: Record<string, unknown>;
  };
  readonly provider: Record<string, Array<Record<string, unknown>>>;
  readonly resource: Record<string, Record<string, Record<string, unknown>>>;
  readonly output?: Record<string, { readonly value: unknown }>;
}

/** One resource of a synthesized stack, with its Terraform address (`type.name`). */
export interface TfResource {
  readonly type: string;
  readonly name: string;
  readonly address: string;
  readonly config: Record<string, unknown>;
}

/** Synthesizes both stacks of one environment from a config object (use `configWith` to vary one). */
export function synthEnvironment(config: LakeConfig): Record<StackKind, TfJson> {
  const { stateBootstrap, lake } = addEnvironment(Testing.app(), config);
  return {
    "state-bootstrap": JSON.parse(Testing.synth(stateBootstrap)) as TfJson,
    lake: JSON.parse(Testing.synth(lake)) as TfJson,
  };
}

const cache = new Map<EnvironmentName, Record<StackKind, TfJson>>();

/** The committed config's stack, synthesized once per test file. */
export function synthStack(environment: EnvironmentName, kind: StackKind): TfJson {
  let stacks = cache.get(environment);
  if (!stacks) {
    stacks = synthEnvironment(loadConfig(environment, { env: {} }));
    cache.set(environment, stacks);
  }
  return stacks[kind];
}

/** Every stack of every environment: `[stack name, json]`. */
export function synthAllStacks(): Array<[string, TfJson]> {
  return ENVIRONMENTS.flatMap((env) =>
    STACK_KINDS.map((kind) => [stackName(kind, env), synthStack(env, kind)] as [string, TfJson]),
  );
}

/** Every resource of a type (empty when none). */
export function resourcesOfType(json: TfJson, type: string): TfResource[] {
  return Object.entries(json.resource[type] ?? {}).map(([name, config]) => ({
    type,
    name,
    address: `${type}.${name}`,
    config,
  }));
}

/** The resource of `type` whose `bucket` (or another attribute) references the given resource. */
export function referencing(
  json: TfJson,
  type: string,
  target: TfResource,
  attribute = "bucket",
): TfResource[] {
  const ref = new RegExp(`\\$\\{${target.type}\\.${target.name}\\.`);
  return resourcesOfType(json, type).filter((r) => ref.test(String(r.config[attribute])));
}

/** The raw JSON of a committed config file, for building variants. */
export function rawConfig(environment: EnvironmentName): Record<string, unknown> {
  return JSON.parse(readFileSync(join(DEFAULT_CONFIG_DIR, `${environment}.json`), "utf8")) as Record<
    string,
    unknown
  >;
}

/** A committed config with some top-level fields replaced, validated like a file. */
export function configWith(environment: EnvironmentName, changes: Record<string, unknown>): LakeConfig {
  return parseConfig(
    { ...rawConfig(environment), ...changes },
    { source: `variant of ${environment}`, env: {} },
  );
}

/** Parses a policy document string. */
export function policyOf(json: unknown): {
  Statement: Array<{
    Sid: string;
    Effect: string;
    Principal?: unknown;
    Action: string | string[];
    Resource: string | string[];
    Condition?: Record<string, Record<string, unknown>>;
  }>;
} {
  return JSON.parse(String(json));
}

/** Synthesizes whatever `build` adds to a fresh stack with an AWS provider (for one construct's tests). */
export function synthConstruct(build: (scope: Construct) => void): TfJson {
  const stack = new TerraformStack(Testing.app(), "test");
  new AwsProvider(stack, "aws", { region: "us-east-1" });
  build(stack);
  return JSON.parse(Testing.synth(stack)) as TfJson;
}

/** The only element of a list; fails (naming `what`) when there are zero or several. */
export function single<T>(items: readonly T[], what: string): T {
  if (items.length !== 1) throw new Error(`expected exactly one ${what}, found ${items.length}`);
  return items[0] as T;
}

/**
 * Synthesizes one environment the way `cdktf synth` does, into a temporary directory, keeping the `"//"`
 * comments that `Testing.synth` strips (reasons for deviations live there).
 */
export function synthToDisk(config: LakeConfig): Record<StackKind, TfJson> {
  const outdir = mkdtempSync(join(tmpdir(), "lake-synth-"));
  try {
    const app = new App({ outdir });
    addEnvironment(app, config);
    app.synth();
    const read = (kind: StackKind) =>
      JSON.parse(
        readFileSync(join(outdir, "stacks", stackName(kind, config.environment), "cdk.tf.json"), "utf8"),
      ) as TfJson;
    return { "state-bootstrap": read("state-bootstrap"), lake: read("lake") };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
