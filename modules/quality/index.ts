import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { GlueDataQualityRuleset } from "@cdktf/provider-aws/lib/glue-data-quality-ruleset";
import { Construct } from "constructs";
import { z } from "zod";
import type { ITerraformDependable } from "../core";
import { escapeTerraformTemplate } from "../query";

const repoRoot = resolve(__dirname, "..", "..");

/**
 * The curate job's data-quality rules as metric SQL per curated table, generated from
 * glue-scripts/open_payments_lake/quality.py (`python -m open_payments_lake.quality --write`; a test fails when
 * it is stale): one source for the job's counts and the Glue Data Quality rulesets.
 */
export const QUALITY_RULES_FILE = join(repoRoot, "glue-scripts", "quality-rules.json");

const rulesSchema = z.object({
  tables: z.record(
    z.string(),
    z.record(
      z.string(),
      z
        .string()
        .refine((sql) => !sql.includes('"'), { error: "must not contain a double quote (DQDL quoting)" }),
    ),
  ),
});

export type QualityRules = Readonly<Record<string, Readonly<Record<string, string>>>>;

export function loadQualityRules(file: string = QUALITY_RULES_FILE): QualityRules {
  const parsed = rulesSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${file}: ${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid data-quality rules file\n${issues.join("\n")}`);
  }
  return parsed.data.tables;
}

/**
 * DQDL for one table: every rule a CustomSql metric (violations / rows, Spark SQL over `primary`) that must
 * stay at or below the threshold, in the rules file's order (rule names sorted).
 */
export function renderDqdl(metrics: Readonly<Record<string, string>>, maxViolationRatio: number): string {
  if (!(maxViolationRatio >= 0 && maxViolationRatio <= 1)) {
    throw new Error(`maxViolationRatio ${maxViolationRatio} must be between 0 and 1`);
  }
  const rules = Object.values(metrics).map((sql) => `  CustomSql "${sql}" <= ${maxViolationRatio}`);
  return `Rules = [\n${rules.join(",\n")}\n]`;
}

export interface LakeDataQualityProps {
  readonly namePrefix: string;
  readonly curatedDatabaseName: string;
  /** Curated table names to evaluate (each must have rules in the rules file). */
  readonly tableNames: readonly string[];
  /** The same ratio the curate job fails on (`--max_rule_violation_ratio`). */
  readonly maxViolationRatio: number;
  readonly rules?: QualityRules;
  /** The tables' resources: a ruleset is created once its table exists. */
  readonly tableDependencies?: readonly ITerraformDependable[];
}

/** One Glue Data Quality ruleset per curated table, with the curate job's rules and threshold. */
export class LakeDataQuality extends Construct {
  /** Ruleset name by curated table. */
  readonly rulesetNames: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: LakeDataQualityProps) {
    super(scope, id);
    const rules = props.rules ?? loadQualityRules();
    const names: Record<string, string> = {};
    for (const table of props.tableNames) {
      const metrics = rules[table];
      if (!metrics) {
        throw new Error(
          `no data-quality rules for table ${table} in ${QUALITY_RULES_FILE}; run python -m open_payments_lake.quality --write`,
        );
      }
      const ruleset = new GlueDataQualityRuleset(this, `ruleset-${table}`, {
        name: `${props.namePrefix}-${table}-quality`,
        description: `The curate job's data-quality rules on ${table} (violations / rows <= ${props.maxViolationRatio})`,
        ruleset: escapeTerraformTemplate(renderDqdl(metrics, props.maxViolationRatio)),
        targetTable: { databaseName: props.curatedDatabaseName, tableName: table },
        dependsOn: props.tableDependencies ? [...props.tableDependencies] : undefined,
      });
      names[table] = ruleset.name;
    }
    this.rulesetNames = names;
  }
}
