export * from "./catalog";
export * from "./crawl-policy";
export * from "./curated-schema";
export * from "./security-configuration";
