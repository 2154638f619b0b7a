import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { unzipSync } from "fflate";
import { BUNDLE_MAIN, buildBundle, bundleZip } from "../../modules/orchestration/lambda-bundle";

describe("the Lambda and CodeBuild bundles (esbuild, reproducible zips)", () => {
  it("the same code gives the same zip, byte for byte (two fresh builds)", () => {
    const first = bundleZip("landing-validator").zip;
    const second = bundleZip("landing-validator").zip;
    expect(Buffer.from(first).equals(Buffer.from(second))).toBe(true);
  });

  it("the hash fed to the function is the base64 SHA-256 of the zip file written", () => {
    const b = buildBundle("ingest");
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
