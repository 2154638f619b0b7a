import type { Config } from "jest";

// swc strips types without checking them (tsc --noEmit runs once in `make test`), which keeps
// each test file's start-up in milliseconds instead of seconds.
const transform: Config["transform"] = { "^.+\\.ts$": ["@swc/jest", {}] };

const config: Config = {
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
      testMatch: [
        "<rootDir>/__tests__/terraform/**/*.test.ts",
        "<rootDir>/__tests__/integration/**/*.test.ts",
      ],
    },
  ],
};

export default config;
