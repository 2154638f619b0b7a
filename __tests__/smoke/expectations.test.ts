import { parseExpectation } from "../../tools/smoke/checks";
import { evaluate, type QueryResult } from "../../tools/smoke/expectations";
import { expectedCounts, expectedFiles, publicationOrder } from "../../tools/smoke/ingestion";

const result = (names: string[], rows: (string | null)[][], bytesScanned = 0): QueryResult => ({
  columns: names.map((name) => ({ name, type: "varchar" })),
  rows,
  bytesScanned,
});
const judge = (expect: string, r: QueryResult, ingested?: Parameters<typeof evaluate>[2]) =>
  evaluate(parseExpectation(expect), r, ingested);

describe("evaluate", () => {
  it("counts rows against rows >= N and rows = N", () => {
    expect(judge("rows >= 2", result(["a"], [["1"], ["2"]]))).toMatchObject({ passed: true });
    expect(judge("rows >= 3", result(["a"], [["1"], ["2"]]))).toMatchObject({
      passed: false,
      message: "2 rows (expected rows >= 3)",
    });
    expect(judge("rows = 0", result(["a"], []))).toMatchObject({ passed: true });
  });

  it("compares the first column of the first row for value expectations", () => {
    expect(judge("value = 0", result(["n"], [["0"]]))).toMatchObject({ passed: true });
    expect(judge("value <= 5", result(["n"], [["5.00"]]))).toMatchObject({ passed: true });
    expect(judge("value >= 1", result(["n"], [["0.99"]]))).toMatchObject({
      passed: false,
      message: "value 0.99 (expected >= 1)",
    });
    expect(judge("value = 0", result(["n"], []))).toMatchObject({ passed: false, message: /^no rows/ });
    // the rest of the row says where the value comes from
    expect(judge("value <= 0.01", result(["share", "dataset"], [["0.03", "general"]])).details).toEqual([
      "share=0.03, dataset=general",
    ]);
    expect(judge("value = 0", result(["n"], [[null]]))).toMatchObject({
      passed: false,
      message: /NULL is not a number/,
    });
    expect(judge("value = 0", result(["n"], [["abc"]]))).toMatchObject({
      passed: false,
      message: /'abc' is not/,
    });
  });

  it("lists the offending rows when 'no rows' fails", () => {
    const v = judge("no rows", result(["dataset", "record_id", "copies"], [["general", "7", "2"]]));
    expect(v).toMatchObject({ passed: false, message: "1 offending rows (expected none)" });
    expect(v.details).toEqual(["dataset=general, record_id=7, copies=2"]);
    const many = judge(
      "no rows",
      result(
        ["id"],
        Array.from({ length: 25 }, (_, i) => [String(i)]),
      ),
    );
    expect(many.details).toHaveLength(21);
    expect(many.details[20]).toBe("... and 5 more rows");
  });

  it("compares bytes scanned with the cap", () => {
    expect(judge("bytes scanned <= 100", result([], [], 100))).toMatchObject({ passed: true });
    expect(judge("bytes scanned <= 100", result([], [], 101))).toMatchObject({
      passed: false,
      message: "101 bytes scanned (expected <= 100)",
    });
  });

  describe("matches ingestion", () => {
    const ingested = [
      { dataset: "general", programYear: 2022, publication: "P01302025_01212025", records: 10, files: 1 },
      { dataset: "general", programYear: 2023, publication: "P01302025_01212025", records: 20, files: 1 },
      { dataset: "ownership", programYear: 2023, publication: "P01302025_01212025", records: 5, files: 2 },
    ];
    const cols = ["dataset", "program_year", "records"];

    it("passes when every ingested dataset-year has exactly its records", () => {
      const v = judge(
        "matches ingestion",
        result(cols, [
          ["general", "2022", "10"],
          ["general", "2023", "20"],
          ["ownership", "2023", "5"],
        ]),
        ingested,
      );
      expect(v).toMatchObject({ passed: true, message: "3 dataset-years match ingestion (35 records)" });
    });

    it("names a missing year, an off-by-one count and an unexpected year with the numbers", () => {
      const v = judge(
        "matches ingestion",
        result(cols, [
          ["general", "2023", "19"],
          ["ownership", "2023", "5"],
          ["research", "2019", "4"],
        ]),
        ingested,
      );
      expect(v.passed).toBe(false);
      expect(v.message).toBe("3 mismatches against 3 ingested dataset-years");
      expect(v.details).toEqual([
        "general 2022: missing from the lake (expected 10 = ingestion verified; publication P01302025_01212025, 1 file)",
        "general 2023: lake has 19 records, expected 20 = ingestion verified (-1; publication P01302025_01212025, 1 file)",
        "research 2019: lake has 4 records but no verified ingestion",
      ]);
    });

    it("subtracts what the jobs reported as quarantined, removed and de-duplicated, and spells the sum out", () => {
      const withJobs = [
        {
          ...(ingested[1] as (typeof ingested)[number]),
          deductions: { quarantined: 2, removed: 1, duplicatesResolved: 3 },
        },
      ] as const;
      const cols3 = result(cols, [["general", "2023", "14"]]);
      expect(judge("matches ingestion", cols3, withJobs)).toMatchObject({ passed: true });
      const off = judge("matches ingestion", result(cols, [["general", "2023", "15"]]), withJobs);
      expect(off.details).toEqual([
        "general 2023: lake has 15 records, expected 14 = ingested 20 - quarantined 2 - removed 1 - duplicates 3 " +
          "(+1; publication P01302025_01212025, 1 file)",
      ]);
    });

    it("fails rather than passing vacuously when nothing was ingested", () => {
      expect(judge("matches ingestion", result(cols, []), [])).toMatchObject({ passed: false });
    });

    it("refuses a query without the required columns and a run without ingestion records", () => {
      expect(() => judge("matches ingestion", result(["dataset", "n"], []), ingested)).toThrow(
        "'matches ingestion' needs columns dataset, program_year, records; the query returned: dataset, n",
      );
      expect(() => judge("matches ingestion", result(cols, []))).toThrow(/none were loaded/);
    });
  });
});

describe("expectedCounts", () => {
  const item = (dataset: string, year: number, stem: string, over: Record<string, unknown> = {}) => ({
    pk: `FILE#${dataset}#${year}#${stem}`,
    sk: "V#aa",
    status: "verified",
    records: 10,
    publication: "P01302025_01212025",
    updatedAt: "2025-02-01T00:00:00Z",
    ...over,
  });

  it("sums verified files of the latest publication per dataset and year, one version per file", () => {
    const counts = expectedCounts(
      expectedFiles([
        item("general", 2023, "OP_DTL_GNRL_PGYR2023_P01302025_01212025"),
        // an older version of the same file: superseded by the later verified one above
        item("general", 2023, "OP_DTL_GNRL_PGYR2023_P01302025_01212025", {
          sk: "V#old",
          records: 9,
          updatedAt: "2025-01-31T00:00:00Z",
        }),
        // the previous publication of the year (legacy stamp): replaced by the newer one
        item("general", 2023, "OP_DTL_GNRL_PGYR2023_P06302024", { publication: "P06302024", records: 7 }),
        item("general", 2022, "OP_DTL_GNRL_PGYR2022_P01302025_01212025", { status: "failed" }),
        item("ownership", 2021, "A", { records: 3 }),
        item("ownership", 2021, "B", { records: 4 }),
        item("removed_deleted", 2023, "OP_REMOVED_DELETED_PGYR2023_P01302025_01212025"),
      ]),
    );
    expect(counts).toEqual([
      { dataset: "general", programYear: 2023, publication: "P01302025_01212025", records: 10, files: 1 },
      { dataset: "ownership", programYear: 2021, publication: "P01302025_01212025", records: 7, files: 2 },
    ]);
  });

  it("ignores leases, attempts and unverified runs, and names a malformed verified item", () => {
    expect(
      expectedFiles([
        { pk: "FILE#general#2023#X", sk: "LEASE", ingestionId: "i", leaseExpiresAt: 1 },
        { pk: "FILE#general#2023#X", sk: "ATTEMPT#i", status: "started", source: "u" },
        item("general", 2023, "X", { status: "uploaded" }),
      ]),
    ).toEqual([]);
    expect(() =>
      expectedFiles([{ pk: "nope", sk: "V#x", status: "verified", records: 1, publication: "P01302025" }]),
    ).toThrow(/verified ingestion item 0 \(nope\) is malformed: pk: pk must be FILE#/);
    expect(() => expectedFiles([item("general", 2023, "X", { records: undefined })])).toThrow(
      /item 0 \(FILE#general#2023#X\) is malformed: records:/,
    );
  });

  it("orders publication stamps of both formats by date, then by the second date", () => {
    expect(publicationOrder("P06302017")).toBe("2017063000000000");
    expect(publicationOrder("P01302025_01212025") > publicationOrder("P06302024")).toBe(true);
    expect(publicationOrder("P01302025_01222025") > publicationOrder("P01302025_01212025")).toBe(true);
    expect(() => publicationOrder("2025")).toThrow(/unrecognised publication stamp/);
  });

  it("keeps the file stems of the latest publication for per-file reconciliation", () => {
    const files = expectedFiles([
      item("removed_deleted", 2023, "OP_REMOVED_DELETED_PGYR2023_P01302025_01212025", { records: 2 }),
      item("general", 2023, "OP_DTL_GNRL_PGYR2023_P06302024", { publication: "P06302024" }),
    ]);
    expect(files).toEqual(
      [
        {
          dataset: "removed_deleted",
          programYear: 2023,
          fileStem: "OP_REMOVED_DELETED_PGYR2023_P01302025_01212025",
          publication: "P01302025_01212025",
          records: 2,
        },
        {
          dataset: "general",
          programYear: 2023,
          fileStem: "OP_DTL_GNRL_PGYR2023_P06302024",
          publication: "P06302024",
          records: 10,
        },
      ].sort((a, b) => a.dataset.localeCompare(b.dataset)),
    );
  });
});
