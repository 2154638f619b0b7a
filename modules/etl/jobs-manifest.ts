import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

/** Placeholders a job argument may use; the ETL module fills them with the lake's bucket names. */
export const ARGUMENT_PLACEHOLDERS = ["raw_bucket", "cleaned_bucket", "curated_bucket"] as const;
export type ArgumentPlaceholder = (typeof ARGUMENT_PLACEHOLDERS)[number];

/** Arguments the ETL module sets itself (code location, logging, bookmarks); a manifest may not override them. */
export const MANAGED_ARGUMENTS = [
  "--extra-py-files",
  "--TempDir",
  "--job-bookmark-option",
  "--enable-continuous-cloudwatch-log",
  "--continuous-log-logGroup",
  "--enable-metrics",
  "--enable-observability-metrics",
  "--job-language",
] as const;

// Job arguments are visible to anyone who can read the job definition and land in run logs.
const SECRET_LIKE = /password|secret|token|credential|private[_-]?key|access[_-]?key/i;

const jobSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,30}$/, { error: "must be 1-31 lower-case letters, digits or hyphens" }),
  script: z.string().regex(/^[a-z0-9_]+\.py$/, { error: "must be a .py file name in glue-scripts/" }),
  description: z.string().min(1, { error: "must say what the job does" }),
  arguments: z.record(z.string(), z.string()),
});

const manifestSchema = z.object({
  jobs: z.array(jobSchema).min(1, { error: "must list at least one job" }),
});

export type GlueJobSpec = z.infer<typeof jobSchema>;

/**
 * Reads and validates `glue-scripts/jobs.json` (contract 3), the one list of the lake's Glue jobs.
 * Fails with the file, field and rule: unknown placeholders, module-managed or secret-looking arguments,
 * duplicate ids and scripts that do not exist.
 */
export function loadGlueJobs(scriptsDir: string): GlueJobSpec[] {
  const file = join(scriptsDir, "jobs.json");
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: cannot read the Glue jobs manifest: ${(e as Error).message}`);
  }
  const parsed = manifestSchema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${file}: ${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid Glue jobs manifest\n${issues.join("\n")}`);
  }
  const ids = new Set<string>();
  for (const [index, job] of parsed.data.jobs.entries()) {
    const where = `${file}: jobs.${index} (${job.id})`;
    if (ids.has(job.id)) throw new Error(`${where}: duplicate job id; ids name the deployed jobs.`);
    ids.add(job.id);
    if (!existsSync(join(scriptsDir, job.script))) {
      throw new Error(`${where}: script ${job.script} does not exist in ${scriptsDir}.`);
    }
    for (const [name, value] of Object.entries(job.arguments)) {
      if (!/^--[A-Za-z0-9_-]+$/.test(name)) {
        throw new Error(
          `${where}: argument "${name}" must start with -- followed by letters, digits, _ or -.`,
        );
      }
      if ((MANAGED_ARGUMENTS as readonly string[]).includes(name)) {
        throw new Error(`${where}: argument ${name} is set by the ETL module; remove it from the manifest.`);
      }
      if (SECRET_LIKE.test(name) || SECRET_LIKE.test(value)) {
        throw new Error(
          `${where}: argument ${name} looks like a secret; job arguments are readable with the job definition, ` +
            "read secrets at run time (e.g. from Secrets Manager) instead.",
        );
      }
      for (const [, placeholder] of value.matchAll(/\$\{([^}]*)\}/g)) {
        if (!(ARGUMENT_PLACEHOLDERS as readonly string[]).includes(placeholder)) {
          throw new Error(
            `${where}: argument ${name} uses unknown placeholder \${${placeholder}}; ` +
              `use one of ${ARGUMENT_PLACEHOLDERS.map((p) => `\${${p}}`).join(", ")}.`,
          );
        }
      }
    }
  }
  return parsed.data.jobs;
}

/** Replaces `${raw_bucket}`-style placeholders (validated by loadGlueJobs) with bucket names. */
export function resolveArguments(
  args: Record<string, string>,
  buckets: Record<ArgumentPlaceholder, string>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(args).map(([name, value]) => [
      name,
      value.replace(/\$\{([a-z_]+)\}/g, (_, p: ArgumentPlaceholder) => buckets[p]),
    ]),
  );
}
