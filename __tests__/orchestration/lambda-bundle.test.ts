import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unzipSync } from "fflate";
import { BUILD_DIR } from "../../modules/core";
import { BUNDLE_MAIN, buildBundle, bundleZip } from "../../modules/orchestration/lambda-bundle";

describe("the Lambda and CodeBuild bundles (esbuild, reproducible zips)", () => {
  it("the same code gives the same zip, byte for byte (two fresh builds)", () => {
    const first = bundleZip("landing-validator").zip;
    const second = bundleZip("landing-validator").zip;
    expect(Buffer.from(first).equals(Buffer.from(second))).toBe(true);
  });

  it("the hash fed to the function is the base64 SHA-256 of the zip file written, inside the checkout's .build/", () => {
    const b = buildBundle("ingest");
    expect(b.zipFile.startsWith(join(BUILD_DIR, "lambda-bundles"))).toBe(true);
    const onDisk = readFileSync(b.zipFile);
    expect(createHash("sha256").update(onDisk).digest("base64")).toBe(b.sourceCodeHash);
    expect(b.zipBytes).toBe(onDisk.length);
  });

  it("each handler zip holds index.js exporting handler; the smoke zip carries the SQL checks", () => {
    for (const name of ["discover", "ingest", "smoke", "landing-validator"] as const) {
      const files = unzipSync(readFileSync(buildBundle(name).zipFile));
      const code = Buffer.from(files[BUNDLE_MAIN]).toString("utf8");
      // The CommonJS export esbuild writes for `export async function handler`.
      expect({ name, exportsHandler: /handler:\(\)=>/.test(code) }).toEqual({ name, exportsHandler: true });
    }
    const smoke = Object.keys(unzipSync(readFileSync(buildBundle("smoke").zipFile)));
    expect(smoke).toEqual(expect.arrayContaining(["sql/smoke/amounts_non_negative.sql"]));
  });
});

describe("bundles kept between processes (a manifest of what each was built from)", () => {
  const name = "landing-validator";
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "lambda-bundles-"));
    dirs.push(dir);
    return dir;
  };
  let base: string;
  let fresh: Buffer;
  beforeAll(() => {
    base = tempDir();
    fresh = readFileSync(buildBundle(name, base).zipFile);
  });
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  type Manifest = { fingerprint: string; inputs: Record<string, string>; zip: string; zipSha256: string };
  const standIn = Buffer.from("a stand-in zip: whoever returns this took the cache");
  // A copy of the cache as another process finds it, its zip swapped for the stand-in (with the stand-in's hash
  // recorded), then `change` applied: the bundle is the stand-in only if the cache was taken.
  const fromCopy = (change: (manifest: Manifest, dir: string) => void) => {
    const dir = tempDir();
    cpSync(base, dir, { recursive: true });
    const manifestFile = join(dir, `${name}.json`);
    const manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as Manifest;
    writeFileSync(join(dir, "stand-in.zip"), standIn);
    manifest.zip = "stand-in.zip";
    manifest.zipSha256 = createHash("sha256").update(standIn).digest("hex");
    change(manifest, dir);
    writeFileSync(manifestFile, JSON.stringify(manifest));
    return buildBundle(name, dir);
  };

  it("records every file esbuild read, the handler's own source among them, and the zip's hash", () => {
    const manifest = JSON.parse(readFileSync(join(base, `${name}.json`), "utf8")) as Manifest;
    expect(manifest.inputs["tools/orchestration/handlers/landing-validator.ts"]).toBe(
      createHash("sha256")
        .update(readFileSync("tools/orchestration/handlers/landing-validator.ts"))
        .digest("hex"),
    );
    expect(Object.keys(manifest.inputs).length).toBeGreaterThan(100);
    expect(manifest.zipSha256).toBe(createHash("sha256").update(fresh).digest("hex"));
  });

  it("takes the kept zip while nothing it was built from has changed", () => {
    const b = fromCopy(() => {});
    expect(readFileSync(b.zipFile).equals(standIn)).toBe(true);
    expect(b.sourceCodeHash).toBe(createHash("sha256").update(standIn).digest("base64"));
  });

  it.each<[string, (manifest: Manifest, dir: string) => void]>([
    [
      "a file esbuild read has changed",
      (m) => {
        m.inputs["tools/orchestration/handlers/landing-validator.ts"] = "0".repeat(64);
      },
    ],
    [
      "esbuild, its options, the carried files or package-lock.json have changed",
      (m) => {
        m.fingerprint = "0".repeat(64);
      },
    ],
    ["the kept zip no longer has its recorded hash", (m, dir) => writeFileSync(join(dir, m.zip), "tampered")],
    [
      "the manifest lists no inputs",
      (m) => {
        m.inputs = {};
      },
    ],
  ])("builds afresh when %s", (_why, change) => {
    const b = fromCopy(change);
    expect(readFileSync(b.zipFile).equals(fresh)).toBe(true);
    expect(b.sourceCodeHash).toBe(createHash("sha256").update(fresh).digest("base64"));
  });
});
