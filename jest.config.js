// @ts-check
// swc strips types without checking them (tsc --noEmit runs once in `make test`), which keeps
// each test file's start-up in milliseconds instead of seconds.
const transform = { "^.+\\.ts$": ["@swc/jest", {}] };

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      displayName: "unit",
      transform,
      testEnvironment: "node",
      testMatch: ["<rootDir>/__tests__/**/*.test.ts"],
      testPathIgnorePatterns: ["<rootDir>/__tests__/terraform/", "<rootDir>/__tests__/integration/"],
    },
    {
      // The real terraform binary (validate, offline plan) and checkov over the synthesized stacks, each test in
      // its own temporary directory: two workers (Makefile).
      displayName: "terraform",
      transform,
      testEnvironment: "node",
      testMatch: ["<rootDir>/__tests__/terraform/**/*.test.ts"],
    },
    {
      // Local AWS servers, local Spark and the whole local lake, each test file in its own folder with its own
      // servers on free ports: slower, two workers (Makefile).
      displayName: "integration",
      transform,
      testEnvironment: "node",
      testMatch: ["<rootDir>/__tests__/integration/**/*.test.ts"],
    },
  ],
};
