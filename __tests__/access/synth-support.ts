import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import type { Construct } from "constructs";
import { TerraformStack, Testing } from "../../modules/core";

/** Synthesized Terraform JSON of one stack: resource type → logical name → config. */
export interface SynthesizedStack {
  readonly resource: Record<string, Record<string, Record<string, unknown>>>;
  readonly output?: Record<string, { value: unknown }>;
}

/** Synthesizes whatever `build` adds to a fresh stack (with an AWS provider) and parses the JSON. */
export function synthesize(build: (scope: Construct) => void): SynthesizedStack {
  const stack = new TerraformStack(Testing.app(), "test");
  new AwsProvider(stack, "aws", { region: "us-east-1" });
  build(stack);
  return JSON.parse(Testing.synth(stack)) as SynthesizedStack;
}

/** Every resource of one type (name → config); empty when there is none. */
export function resourcesOf(stack: SynthesizedStack, type: string): Record<string, Record<string, unknown>> {
  return stack.resource[type] ?? {};
}

/** The only resource of a type; fails when there are zero or several. */
export function onlyResource(stack: SynthesizedStack, type: string): Record<string, unknown> {
  const all = Object.values(resourcesOf(stack, type));
  if (all.length !== 1) throw new Error(`expected exactly one ${type}, found ${all.length}`);
  return all[0];
}
