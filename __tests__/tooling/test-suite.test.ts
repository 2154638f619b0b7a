import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { openPaymentsDir } from "../helpers/shared-data";

const repoRoot = resolve(__dirname, "..", "..");
const read = (file: string) => readFileSync(join(repoRoot, file), "utf8");

describe("scripts/check-test-prereqs.sh (run first by make test)", () => {
  const check = (sharedDir?: string) =>
    spawnSync("scripts/check-test-prereqs.sh", [], {
      cwd: repoRoot,
      encoding: "utf8",
      env: { ...process.env, LAKE_SHARED_DIR: sharedDir },
    });

  it("passes with the shared test data in place", () => {
    const r = check(process.env.LAKE_SHARED_DIR);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
  });

  it("fails on an empty directory, naming where the data is expected and how to point elsewhere", () => {
    const empty = mkdtempSync(join(tmpdir(), "shared-empty-"));
    const r = check(empty);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `error: the test data is missing from ${join(empty, "open-payments")}/ (14 files):`,
    );
    expect(r.stderr).toContain("  layouts/general.modern-91.header");
    expect(r.stderr).toContain("  real/OP_DTL_OWNRSHP_PGYR2022_P01302025_01212025.csv");
    expect(r.stderr).toMatch(/\.\.\/shared\/open-payments next to the checkout/);
    expect(r.stderr).toContain("LAKE_SHARED_DIR=/data/shared make test");
  });

  it("names exactly the file that is missing from an otherwise complete copy", () => {
    const copy = mkdtempSync(join(tmpdir(), "shared-partial-"));
    for (const folder of ["layouts", "samples", "real"]) {
      mkdirSync(join(copy, "open-payments", folder), { recursive: true });
      for (const file of readdirSync(join(openPaymentsDir, folder))) {
        if (file === "OP_DTL_OWNRSHP_PGYR2019_P01302025_01212025.csv") continue;
        symlinkSync(join(openPaymentsDir, folder, file), join(copy, "open-payments", folder, file));
      }
    }
    const r = check(copy);
    expect(r.status).toBe(1);
    expect(r.stderr.split("\n").filter((l) => l.startsWith("  "))).toEqual([
      "  real/OP_DTL_OWNRSHP_PGYR2019_P01302025_01212025.csv",
    ]);
  });

  it("is the first step of make test", () => {
    expect(read("Makefile")).toMatch(/^test: test-prereqs /m);
  });
});

describe("test commands", () => {
  // Names the projects jest.config.js defines, without loading jest's own config machinery.
  const projects = [...read("jest.config.js").matchAll(/displayName: "([^"]+)"/g)].map((m) => m[1]);
  const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;
  const selected = (command: string) =>
    [...command.matchAll(/--selectProjects((?: [a-z][\w-]*)+)/g)].flatMap((m) => m[1].trim().split(" "));

  it("jest defines the unit, terraform and integration projects", () => {
    expect(projects).toEqual(["unit", "terraform", "integration"]);
  });

  it.each(Object.entries(scripts).filter(([, command]) => command.includes("--selectProjects")))(
    "npm run %s selects jest projects that exist",
    (_name, command) => {
      expect(selected(command).length).toBeGreaterThan(0);
      expect(selected(command).filter((p) => !projects.includes(p))).toEqual([]);
    },
  );

  it("every jest project the Makefile selects exists, and make test runs every project", () => {
    const makefile = read("Makefile");
    const chosen = makefile.split("\n").flatMap(selected);
    expect(chosen.filter((p) => !projects.includes(p))).toEqual([]);
    expect(new Set(chosen)).toEqual(new Set(projects));
  });

  it("npm test is make test, the README's test command", () => {
    expect(scripts.test).toBe("make test");
    expect(read("README.md")).toContain("make test");
  });
});
