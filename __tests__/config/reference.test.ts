import { readFileSync } from "node:fs";
import { join } from "node:path";
import { renderConfigReference } from "../../modules/config/reference";

describe("config/README.md", () => {
  it("is the reference rendered from the schema (regenerate: npx tsx modules/config/reference.ts --write)", () => {
    const committed = readFileSync(join(__dirname, "..", "..", "config", "README.md"), "utf8");
    expect(committed).toBe(renderConfigReference());
  });

  it("documents every field of the committed configs", () => {
    const text = renderConfigReference();
    for (const field of [
      "namePrefix",
      "tags.owner",
      "backend.type",
      "storage.rawGlacierAfterDays",
      "etl.workerType",
      "athena.bytesScannedCutoffPerQuery",
      "localEndpoint",
    ]) {
      expect(text).toContain(`| \`${field}\` |`);
    }
  });
});
