import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resourcesOfType, synthAllStacks } from "../helpers/synth";

// Guard: the Terraform addresses of stateful resources must not change by accident. A resource's address comes
// from its construct path; rename a construct id or move it under another parent and terraform plans to
// DESTROY the old resource and create an empty new one: a bucket's objects, a table's items, a key (and all
// data encrypted with it) would be lost.

const STATEFUL_TYPES = [
  "aws_s3_bucket",
  "aws_kms_key",
  "aws_dynamodb_table",
  "aws_glue_catalog_database",
  "aws_glue_catalog_table",
  "aws_db_instance",
] as const;

const SNAPSHOT = join(__dirname, "stateful-addresses.json");
const UPDATE = process.env.UPDATE_STATEFUL_SNAPSHOT === "1";
const HOW_TO_UPDATE = "UPDATE_STATEFUL_SNAPSHOT=1 npx jest __tests__/stacks/stateful-addresses.test.ts";

type Snapshot = Record<string, string[]>;

function currentAddresses(): Snapshot {
  return Object.fromEntries(
    synthAllStacks().map(([name, json]) => [
      name,
      STATEFUL_TYPES.flatMap((type) => resourcesOfType(json, type).map((r) => r.address)).sort(),
    ]),
  );
}

function explain(removed: string[], added: string[]): string {
  return [
    "Stateful resource addresses changed.",
    ...removed.map((a) => `  - ${a}   (terraform would DESTROY it)`),
    ...added.map((a) => `  + ${a}`),
    "",
    "Renaming a construct id (or moving a construct) changes the Terraform address of every resource under it;",
    "terraform then replaces the resource: buckets, tables and keys lose their data.",
    "If this was not intended, restore the construct id.",
    'If it was: keep the state with a moved block (cdktf: `resource.moveFromId("<old address>")`, or',
    "`terraform state mv` per environment), then update the snapshot deliberately and say why in the commit:",
    `  ${HOW_TO_UPDATE}`,
    "A brand-new stateful resource only needs the snapshot update (the + lines).",
  ].join("\n");
}

describe("stateful resource addresses", () => {
  const current = currentAddresses();

  if (UPDATE) {
    it("updates the committed snapshot (deliberately)", () => {
      if (process.env.CI)
        throw new Error("UPDATE_STATEFUL_SNAPSHOT is for a deliberate local change, not CI");
      writeFileSync(SNAPSHOT, `${JSON.stringify(current, null, 2)}\n`);
      expect(JSON.parse(readFileSync(SNAPSHOT, "utf8"))).toEqual(current);
    });
    return;
  }

  const committed = JSON.parse(readFileSync(SNAPSHOT, "utf8")) as Snapshot;

  it("covers the same stacks as the snapshot", () => {
    expect(Object.keys(current).sort()).toEqual(Object.keys(committed).sort());
  });

  it.each(Object.keys(committed))("%s keeps every stateful address", (stack) => {
    const before = new Set(committed[stack] ?? []);
    const after = new Set(current[stack] ?? []);
    const removed = [...before].filter((a) => !after.has(a));
    const added = [...after].filter((a) => !before.has(a));
    if (removed.length || added.length) throw new Error(`${stack}: ${explain(removed, added)}`);
    expect(after.size).toBeGreaterThan(0);
  });
});
