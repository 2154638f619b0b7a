export * from "./account-singletons";
export * from "./backend";
export * from "./state-store";
