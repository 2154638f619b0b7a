// The lake's security guarantees (guarantees.ts) hold for the committed dev and prod configurations. The local
// environment runs on moto and differs where MOTO_GAPS says (no Deny statements in bucket policies).
import { loadConfig } from "../../modules/config";
import { configWithEveryPart } from "../../scripts/ci-policy-sizes";
import { synthEnvironment, synthStack } from "../helpers/synth";
import { withWarehouse } from "../helpers/warehouse-variant";
import { type EnvironmentStacks, GUARANTEES } from "./guarantees";

const environments: Array<[string, EnvironmentStacks]> = (["dev", "prod"] as const).map((e) => [
  e,
  {
    config: loadConfig(e, { env: {} }),
    lake: synthStack(e, "lake"),
    bootstrap: synthStack(e, "state-bootstrap"),
  },
]);

// The warehouse is off in the committed configs: the same guarantees hold with it on.
for (const e of ["dev", "prod"] as const) {
  const config = withWarehouse(e);
  const stacks = synthEnvironment(config);
  environments.push([
    `${e} with the warehouse`,
    { config, lake: stacks.lake, bootstrap: stacks["state-bootstrap"] },
  ]);
}

// Every optional part on (warehouse, refresh, Lake Formation): the deployer's part grants are judged too.
for (const e of ["dev", "prod"] as const) {
  const config = configWithEveryPart(e);
  const stacks = synthEnvironment(config);
  environments.push([
    `${e} with every part`,
    { config, lake: stacks.lake, bootstrap: stacks["state-bootstrap"] },
  ]);
}

describe.each(environments)("%s", (_name, env) => {
  it.each(GUARANTEES.map((g) => [g.claim, g] as const))("%s", async (_claim, guarantee) => {
    expect(await guarantee.violations(env)).toEqual([]);
  });
});
