// @ts-check
// swc strips types without checking them (tsc --noEmit runs once in `make test`), which keeps
// each test file's start-up in milliseconds instead of seconds.
const transform = { "^.+\\.ts$": ["@swc/jest", {}] };
const { availableParallelism } = require("node:os");

/** @type {import('jest').Config} */
module.exports = {
  // At least two workers: the tests wait on child processes (terraform, checkov, synth, moto, Spark) a third of
  // the time or more, so jest's default of cores - 1 leaves one of two cores idle. Each terraform test works in
  // its own temporary directory, each integration test file in its own folder with its own servers on free ports.
  maxWorkers: Math.max(2, availableParallelism() - 1),
  projects: [
    {
      displayName: "unit",
      transform,
      testEnvironment: "node",
      testMatch: ["<rootDir>/__tests__/**/*.test.ts"],
      testPathIgnorePatterns: ["<rootDir>/__tests__/terraform/", "<rootDir>/__tests__/integration/"],
    },
    {
      // The real terraform binary (validate, offline plan) and checkov over the synthesized stacks.
      displayName: "terraform",
      transform,
      testEnvironment: "node",
      testMatch: ["<rootDir>/__tests__/terraform/**/*.test.ts"],
    },
    {
      // Local AWS servers, local Spark and the whole local lake: slower.
      displayName: "integration",
      transform,
      testEnvironment: "node",
      testMatch: ["<rootDir>/__tests__/integration/**/*.test.ts"],
    },
  ],
};
