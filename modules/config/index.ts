import { readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import type { z } from "zod";
import { ENVIRONMENTS, type EnvironmentName, type LakeConfig, lakeConfigSchema } from "./schema";

export * from "./local-profile";
export * from "./naming";
export * from "./regions";
export * from "./schema";

/** Thrown when a config file is missing, not JSON, or breaks a rule; the message names file, field and rule. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const repoRoot = resolve(__dirname, "..", "..");
export const DEFAULT_CONFIG_DIR = join(repoRoot, "config");

/** Environment variable that replaces the local environment's moto endpoint at synth time. */
export const LOCAL_ENDPOINT_ENV = "LAKE_LOCAL_AWS_ENDPOINT";

function formatIssues(file: string, issues: readonly z.core.$ZodIssue[]): string {
  const lines = issues.map((i) => `${file}: ${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`);
  return `invalid configuration\n${lines.join("\n")}`;
}

export interface ParseOptions {
  /** Shown in error messages; usually the path of the file relative to the repository. */
  readonly source: string;
  /** Process environment, for the local endpoint override. Default: process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Validates raw (parsed JSON) config data; throws ConfigError naming every bad field and its rule. */
export function parseConfig(data: unknown, { source, env = process.env }: ParseOptions): LakeConfig {
  const result = lakeConfigSchema.safeParse(data);
  if (!result.success) throw new ConfigError(formatIssues(source, result.error.issues));
  const config = result.data;
  const override = env[LOCAL_ENDPOINT_ENV];
  if (config.environment === "local" && override) {
    if (!/^https?:\/\/[^\s/]+/.test(override)) {
      throw new ConfigError(
        `${LOCAL_ENDPOINT_ENV}: must be a URL such as http://127.0.0.1:5000 (got "${override}")`,
      );
    }
    return { ...config, localEndpoint: override.replace(/\/+$/, "") };
  }
  return config;
}

export interface LoadOptions {
  readonly configDir?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** Reads and validates `config/<environment>.json`. */
export function loadConfig(
  environment: string,
  { configDir = DEFAULT_CONFIG_DIR, env }: LoadOptions = {},
): LakeConfig {
  if (!(ENVIRONMENTS as readonly string[]).includes(environment)) {
    throw new ConfigError(`unknown environment "${environment}": use one of ${ENVIRONMENTS.join(", ")}`);
  }
  const file = join(configDir, `${environment}.json`);
  const rel = relative(repoRoot, file);
  const source = rel.startsWith("..") ? file : rel;
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new ConfigError(`${source}: cannot read the configuration: ${(e as Error).message}`);
  }
  const config = parseConfig(data, { source, env: env ?? process.env });
  if (config.environment !== environment) {
    throw new ConfigError(
      `${source}: environment: must be "${environment}" (the file name), got "${config.environment}"`,
    );
  }
  return config;
}

/**
 * Loads every environment and checks the rules that span files: one owner of the account-wide singletons
 * per account, and distinct resource names per environment.
 */
export function loadAllConfigs(options: LoadOptions = {}): Record<EnvironmentName, LakeConfig> {
  const configs = Object.fromEntries(ENVIRONMENTS.map((e) => [e, loadConfig(e, options)])) as Record<
    EnvironmentName,
    LakeConfig
  >;
  checkAcrossEnvironments(Object.values(configs));
  return configs;
}

export function checkAcrossEnvironments(configs: readonly LakeConfig[]): void {
  const owners = new Map<string, string[]>();
  for (const c of configs) {
    const list = owners.get(c.accountId) ?? [];
    if (c.ownsAccountSingletons) list.push(c.environment);
    owners.set(c.accountId, list);
  }
  for (const [account, envs] of owners) {
    if (envs.length !== 1) {
      throw new ConfigError(
        `ownsAccountSingletons: account ${account} needs exactly one owning environment, found ${envs.length}` +
          ` (${envs.join(", ") || "none"}); set it true in exactly one config of that account`,
      );
    }
  }
}
