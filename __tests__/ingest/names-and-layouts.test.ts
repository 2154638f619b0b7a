import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { parseHeaderColumns } from "../../tools/ingest/csv-header";
import { BadInputError } from "../../tools/ingest/errors";
import { baseName, parseCmsFileName, parseCmsZipName } from "../../tools/ingest/file-names";
import { findLayout, requireLayout } from "../../tools/ingest/layouts";
import { headerOf, repoRoot } from "./fixtures";

describe("CMS file names", () => {
  it.each([
    ["OP_DTL_GNRL_PGYR2023_P01302025_01212025.csv", "general", 2023, "P01302025_01212025"],
    ["OP_DTL_RSRCH_PGYR2016_P06302017.csv", "research", 2016, "P06302017"],
    ["OP_DTL_OWNRSHP_PGYR2022_P01182024.csv", "ownership", 2022, "P01182024"],
    ["OP_REMOVED_DELETED_PGYR2021_P01302025_01212025.csv", "removed_deleted", 2021, "P01302025_01212025"],
    ["op_dtl_gnrl_pgyr2019_p06302020.CSV", "general", 2019, "P06302020"],
  ])("%s → %s %i %s", (name, dataset, year, publication) => {
    expect(parseCmsFileName(name)).toEqual({
      dataset,
      programYear: year,
      publication,
      stem: name.replace(/\.csv$/i, ""),
    });
  });

  it.each([
    "OP_DTL_GNRL_PGYR2016_P06302017.sample.csv",
    "OP_PGYR2022_README_P06302023.txt",
    "OP_CVRD_RCPNT_PRFL_SPLMTL_P01302025_01212025.csv",
    "OP_DTL_GNRL_PGYR2023_P13302025.csv",
    "OP_DTL_PAYMENTS_PGYR2023_P01302025.csv",
  ])("refuses %s", (name) => {
    expect(parseCmsFileName(name)).toBeUndefined();
  });

  it("reads both ZIP name formats", () => {
    expect(parseCmsZipName("PGYR16_P063017.ZIP")).toEqual({ programYear: 2016, publication: "P063017" });
    expect(parseCmsZipName("PGYR2023_P01302025_01212025.zip")).toEqual({
      programYear: 2023,
      publication: "P01302025_01212025",
    });
    expect(parseCmsZipName("data.zip")).toBeUndefined();
  });

  it("takes the file name from URLs and paths", () => {
    expect(
      baseName(
        "https://download.cms.gov/openpayments/PGYR2023_P01302025_01212025/OP_DTL_GNRL_PGYR2023_P01302025_01212025.csv?x=1",
      ),
    ).toBe("OP_DTL_GNRL_PGYR2023_P01302025_01212025.csv");
    expect(baseName("downloads/2023/OP_DTL_GNRL_PGYR2023_P01302025_01212025.csv")).toBe(
      "OP_DTL_GNRL_PGYR2023_P01302025_01212025.csv",
    );
  });
});

describe("layout check", () => {
  const columns = (id: string) => headerOf(id).split(",");

  it.each([
    "general.modern-91",
    "general.legacy-75",
    "research.modern-252",
    "research.legacy-176",
    "ownership.modern-30",
    "ownership.legacy-29",
    "removed-deleted-4",
  ])("recognises %s, whatever the letter case", (id) => {
    expect(findLayout(columns(id))?.id).toBe(id);
    expect(findLayout(columns(id).map((c) => c.toUpperCase()))?.id).toBe(id);
  });

  it("names file, column count, nearest layout and the differing columns", () => {
    const cols = columns("general.modern-91").filter((c) => c !== "Covered_Recipient_NPI");
    expect(() => requireLayout("OP_DTL_GNRL_PGYR2023_P01302025_01212025.csv", cols)).toThrow(
      "OP_DTL_GNRL_PGYR2023_P01302025_01212025.csv: unknown header layout with 90 columns; nearest known layout " +
        "is general.modern-91 (91 columns): missing Covered_Recipient_NPI. Files older than the 2016 layout " +
        "(program years 2013-2015) are not supported; if CMS published a new layout, add it to " +
        "datasets/open-payments.json.",
    );
  });

  it("refuses a pre-2016 file with the very words of the clean job (one template, both languages)", () => {
    const reordered = columns("ownership.legacy-29");
    [reordered[1], reordered[2]] = [reordered[2], reordered[1]];
    const headers = [
      columns("general.legacy-75").slice(0, 65), // a PY2014 General file: 65 columns
      columns("research.legacy-176").slice(0, 166), // a PY2014 Research file
      [...columns("ownership.modern-30"), "Extra_Column"],
      reordered,
    ];
    const ingest = headers.map((header) => {
      try {
        requireLayout("OP_DTL_GNRL_PGYR2014_P06302016.csv", header);
        return "accepted";
      } catch (error) {
        return (error as Error).message;
      }
    });
    expect(ingest[0]).toMatch(
      /^OP_DTL_GNRL_PGYR2014_P06302016\.csv: unknown header layout with 65 columns; nearest known layout is general\.legacy-75 \(75 columns\): missing .*\. Files older than the 2016 layout \(program years 2013-2015\) are not supported; if CMS published a new layout, add it to datasets\/open-payments\.json\.$/,
    );
    const python = join(repoRoot, ".venv", "bin", "python");
    const script = [
      "import json, sys",
      "from open_payments_lake.spec import UnknownLayoutError, load_spec",
      "out = []",
      "for header in json.load(sys.stdin):",
      "    try:",
      "        load_spec().detect_layout(header, 'OP_DTL_GNRL_PGYR2014_P06302016.csv')",
      "        out.append('accepted')",
      "    except UnknownLayoutError as error:",
      "        out.append(str(error))",
      "print(json.dumps(out))",
    ].join("\n");
    const clean = JSON.parse(
      execFileSync(python, ["-c", script], {
        cwd: join(repoRoot, "glue-scripts"),
        input: JSON.stringify(headers),
        encoding: "utf8",
      }),
    );
    expect(clean).toEqual(ingest);
  });

  it("refuses reordered columns", () => {
    const cols = columns("ownership.legacy-29");
    [cols[1], cols[2]] = [cols[2], cols[1]];
    expect(() => requireLayout("x.csv", cols)).toThrow(
      /nearest known layout is ownership.legacy-29 .*different order/,
    );
  });

  it("parses a header line with a BOM, quotes and CRLF", () => {
    expect(parseHeaderColumns("x.csv", Buffer.from('\ufeff"Change_Type","Record_ID"\r\n'))).toEqual([
      "Change_Type",
      "Record_ID",
    ]);
  });

  it("calls an HTML page an HTML page", () => {
    expect(() => parseHeaderColumns("x.csv", Buffer.from("  <!DOCTYPE html>\n"))).toThrow(BadInputError);
    expect(() => parseHeaderColumns("x.csv", Buffer.from("<html><head>\n"))).toThrow(
      /HTML\/XML page instead of CSV/,
    );
  });
});
