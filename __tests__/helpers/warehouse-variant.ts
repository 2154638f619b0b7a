import type { EnvironmentName, LakeConfig } from "../../modules/config";
import { configWith } from "./synth";

/** BI clients the warehouse variants admit: one CIDR, one security group. */
export const BI_CLIENT_CIDR = "10.20.0.0/24";
export const BI_CLIENT_SG = "sg-0123456789abcdef0";

/**
 * A committed environment with the serving warehouse turned on (the committed configs leave it off until the
 * CI deployer may create it, docs/warehouse.md), as its config file would say it.
 */
export function withWarehouse(environment: Exclude<EnvironmentName, "local">): LakeConfig {
  const prod = environment === "prod";
  return configWith(environment, {
    warehouse: {
      enabled: true,
      clientCidrs: [BI_CLIENT_CIDR],
      clientSecurityGroupIds: [BI_CLIENT_SG],
      multiAz: prod,
      deletionProtection: prod,
    },
  });
}
