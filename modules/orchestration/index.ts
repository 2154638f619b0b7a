export * from "./definition";
export * from "./diagram";
export * from "./lambda-bundle";
export * from "./metrics";
export * from "./orchestration";
export * from "./refresh-function";
