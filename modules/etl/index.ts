export * from "./etl";
export * from "./jobs-manifest";
export * from "./python-package";
