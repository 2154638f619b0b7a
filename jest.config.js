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
      // Runs the real terraform binary and local AWS servers: slower, run in band.
      displayName: "integration",
      transform,
      testEnvironment: "node",
      testMatch: ["<rootDir>/__tests__/terraform/**/*.test.ts", "<rootDir>/__tests__/integration/**/*.test.ts"],
    },
  ],
};
