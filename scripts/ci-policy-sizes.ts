// Prints the CI roles' managed policies of each environment, with their sizes as IAM counts them (references
// resolved, white space not counted) against IAM's limits: 6,144 characters per managed policy, 10 policies per
// role. For the committed configs and for each with every optional part on (warehouse, refresh, Lake Formation,
// Iceberg curated tables).
//
//   npx tsx scripts/ci-policy-sizes.ts
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROLE_PURPOSES } from "../modules/access";
import { DEFAULT_CONFIG_DIR, type LakeConfig, loadConfig, Naming, parseConfig } from "../modules/config";
import { MANAGED_POLICIES_PER_ROLE, MANAGED_POLICY_MAX_CHARS, Testing } from "../modules/core";
import { addEnvironment } from "../stacks";
import { stackPolicies } from "./policies";

/** A committed environment with every optional part on (warehouse, refresh, Lake Formation, Iceberg curated
 * tables), as its file would say. */
export function configWithEveryPart(environment: "dev" | "prod"): LakeConfig {
  const raw = JSON.parse(readFileSync(join(DEFAULT_CONFIG_DIR, `${environment}.json`), "utf8"));
  const admin = `arn:aws:iam::${raw.accountId}:role/${raw.keys.breakGlassRoleName}`;
  return parseConfig(
    {
      ...raw,
      warehouse: {
        ...raw.warehouse,
        enabled: true,
        clientCidrs: ["10.20.0.0/24"],
        ...(environment === "prod" ? { multiAz: true, deletionProtection: true } : {}),
      },
      orchestration: { ...raw.orchestration, enabled: true, budgetMonthlyUsd: 200 },
      lakeFormation: raw.lakeFormation ?? { admins: [admin] },
      etl: { ...raw.etl, curatedFormat: "iceberg" },
    },
    { source: `${environment} with every part`, env: {} },
  );
}

function report(label: string, config: LakeConfig): void {
  const { lake } = addEnvironment(Testing.app(), config);
  const json = JSON.parse(Testing.synth(lake));
  const naming = new Naming(config);
  const policies = stackPolicies(`lake-${config.environment}`, json.resource, naming.location);
  console.log(`\n${label}`);
  for (const purpose of [ROLE_PURPOSES.ciPlan, ROLE_PURPOSES.ciDeploy]) {
    const role = naming.role(purpose);
    const managed = policies.filter((p) => p.kind === "managed" && p.subject === role);
    console.log(`  ${role}: ${managed.length} of ${MANAGED_POLICIES_PER_ROLE} managed policies`);
    for (const p of managed) {
      const size = JSON.stringify(p.document).replace(/\s/g, "").length;
      const name = String(json.resource.aws_iam_policy[p.address.split(".")[1] ?? ""]?.name);
      console.log(`    ${name.padEnd(40)} ${String(size).padStart(5)} / ${MANAGED_POLICY_MAX_CHARS}`);
    }
  }
}

if (require.main === module) {
  for (const env of ["dev", "prod"] as const) {
    report(`${env} (committed config)`, loadConfig(env, { env: {} }));
    report(`${env} with every part on`, configWithEveryPart(env));
  }
}
