import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadChecks, parseCheck, parseExpectation } from "../../tools/smoke/checks";

describe("parseExpectation", () => {
  it.each([
    ["rows >= 1", { kind: "rows", op: ">=", n: 1 }],
    ["rows = 3", { kind: "rows", op: "=", n: 3 }],
    ["value = 0", { kind: "value", op: "=", n: 0 }],
    ["value <= 10.5", { kind: "value", op: "<=", n: 10.5 }],
    ["value >= -2", { kind: "value", op: ">=", n: -2 }],
    ["no rows", { kind: "no rows" }],
    ["Matches  Ingestion", { kind: "matches ingestion" }],
    ["bytes scanned <= 1048576", { kind: "bytes scanned", op: "<=", n: 1048576 }],
  ])("parses %s", (text, expected) => {
    expect(parseExpectation(text)).toEqual(expected);
  });

  it.each(["rows > 1", "value == 0", "bytes scanned >= 1", "rows <= 2", "all good", ""])(
    "refuses '%s'",
    (t) => {
      expect(() => parseExpectation(t)).toThrow(/expectation|supports only|supports '='/);
    },
  );
});

describe("parseCheck", () => {
  const file = "x.sql";
  it("reads the header and keeps the query without its final semicolon", () => {
    const c = parseCheck(
      "-- check: some_check\n-- description: Does a thing.\n-- expect: rows >= 1\n\nSELECT 1\nFROM t;\n",
      file,
    );
    expect(c).toMatchObject({ id: "some_check", description: "Does a thing.", expectText: "rows >= 1" });
    expect(c.expect).toEqual({ kind: "rows", op: ">=", n: 1 });
    expect(c.sql).toBe("SELECT 1\nFROM t");
  });

  it("keeps comments inside the query body", () => {
    const c = parseCheck(
      "-- check: a\n-- description: d\n-- expect: no rows\nSELECT 1 -- why\n-- note: x\n",
      file,
    );
    expect(c.sql).toBe("SELECT 1 -- why\n-- note: x");
  });

  it.each([
    ["-- description: d\n-- expect: no rows\nSELECT 1", /missing header line '-- check: /],
    ["-- check: a\n-- expect: no rows\nSELECT 1", /missing header line '-- description: /],
    ["-- check: a\n-- description: d\nSELECT 1", /missing header line '-- expect: /],
    ["-- check: a\n-- description: d\n-- expect: no rows\n", /no query after the header/],
    ["-- check: Bad-Id\n-- description: d\n-- expect: no rows\nSELECT 1", /snake_case/],
    ["-- check: a\n-- check: b\n-- description: d\n-- expect: no rows\nSELECT 1", /duplicate header/],
    ["-- check: a\n-- description: d\n-- expect: rows ~ 1\nSELECT 1", /^x\.sql: unknown expectation/],
  ])("names the file and the problem: %#", (text, message) => {
    expect(() => parseCheck(text, file)).toThrow(message);
  });
});

describe("loadChecks", () => {
  it("loads every project smoke check with a unique id and the checks the issue requires", () => {
    const checks = loadChecks();
    const ids = checks.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(
      expect.arrayContaining([
        "curated_years_match_ingestion",
        "record_id_unique_non_null",
        "amounts_non_negative",
        "payment_dates_inside_program_year",
      ]),
    );
    expect(checks.find((c) => c.id === "curated_years_match_ingestion")?.expect.kind).toBe(
      "matches ingestion",
    );
  });

  it("refuses two files declaring the same id, naming both", () => {
    const dir = mkdtempSync(join(tmpdir(), "smoke-checks-"));
    for (const f of ["a.sql", "b.sql"]) {
      writeFileSync(join(dir, f), "-- check: same\n-- description: d\n-- expect: no rows\nSELECT 1\n");
    }
    expect(() => loadChecks(dir)).toThrow("check id 'same' is declared by both a.sql and b.sql");
  });

  it("refuses an empty or missing directory", () => {
    expect(() => loadChecks(mkdtempSync(join(tmpdir(), "smoke-empty-")))).toThrow(/no smoke checks/);
    expect(() => loadChecks(join(tmpdir(), "does-not-exist-smoke"))).toThrow(
      /cannot read the checks directory/,
    );
  });
});
