import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

// Two import rules that keep the project movable and fast: only modules/core imports `cdktf` (archived upstream;
// a move to the fork is then one file), and provider resources come from their own files
// (`@cdktf/provider-aws/lib/<resource>`): the package root loads ~2000 classes, 10+ s per process.

const root = join(__dirname, "..", "..");
const SOURCE_DIRS = ["stacks", "modules", "tools", "scripts", "__tests__"];

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === "node_modules" || name.startsWith(".")) return [];
    if (statSync(path).isDirectory()) return tsFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

const files = [join(root, "main.ts"), ...SOURCE_DIRS.flatMap((d) => tsFiles(join(root, d)))].map((f) => ({
  path: relative(root, f),
  text: readFileSync(f, "utf8"),
}));

const importsOf = (text: string, pattern: RegExp) =>
  [...text.matchAll(/(?:from\s+|require\(\s*|import\(\s*)["']([^"']+)["']/g)]
    .map((m) => m[1] ?? "")
    .filter((spec) => pattern.test(spec));

describe("imports", () => {
  it("finds the project's sources", () => {
    expect(files.map((f) => f.path)).toEqual(expect.arrayContaining(["main.ts", "modules/core/index.ts"]));
  });

  it("import cdktf only in modules/core", () => {
    const offenders = files
      .filter((f) => f.path !== join("modules", "core", "index.ts"))
      .filter((f) => importsOf(f.text, /^cdktf(\/|$)/).length > 0)
      .map((f) => f.path);
    expect(offenders).toEqual([]);
  });

  it("import AWS provider resources per file, never the package root", () => {
    const offenders = files
      .filter((f) => importsOf(f.text, /^@cdktf\/provider-aws\/?$|^@cdktf\/provider-aws\/lib\/?$/).length > 0)
      .map((f) => f.path);
    expect(offenders).toEqual([]);
  });
});
