import type { Construct } from "constructs";
import type { EnvironmentName, LakeConfig } from "../modules/config";
import { LakeStack } from "./lake-stack";
import { StateBootstrapStack } from "./state-bootstrap-stack";

export { LakeStack } from "./lake-stack";
export { StateBootstrapStack } from "./state-bootstrap-stack";

export const STACK_KINDS = ["state-bootstrap", "lake"] as const;
export type StackKind = (typeof STACK_KINDS)[number];

/** `lake-dev`, `state-bootstrap-prod`, ...: the stack (and cdktf.out directory) names. */
export function stackName(kind: StackKind, environment: EnvironmentName): string {
  return `${kind}-${environment}`;
}

export interface EnvironmentStacks {
  readonly stateBootstrap: StateBootstrapStack;
  readonly lake: LakeStack;
}

/** Adds both stacks of one environment to the app. */
export function addEnvironment(app: Construct, config: LakeConfig): EnvironmentStacks {
  return {
    stateBootstrap: new StateBootstrapStack(app, stackName("state-bootstrap", config.environment), {
      config,
    }),
    lake: new LakeStack(app, stackName("lake", config.environment), { config }),
  };
}
