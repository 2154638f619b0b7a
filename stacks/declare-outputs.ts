import type { Construct } from "constructs";
import { TerraformOutput } from "../modules/core";
import type { OutputContract } from "./outputs";

/**
 * Declares every output of a contract (stacks/outputs.ts) with its description. The values object must name
 * each of the contract's keys, so a stack cannot leave one out or add one the contract does not describe.
 */
export function declareOutputs<C extends OutputContract>(
  scope: Construct,
  contract: C,
  values: { readonly [K in keyof C]: string },
): void {
  for (const [key, spec] of Object.entries(contract)) {
    new TerraformOutput(scope, spec.name, { value: values[key], description: spec.description });
  }
}
