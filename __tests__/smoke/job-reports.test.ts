import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { IngestedFile } from "../../tools/smoke/ingestion";
import {
  type CleanReport,
  fileStemOf,
  judgeJobRuns,
  loadJobReports,
  reconcileFiles,
  withDeductions,
} from "../../tools/smoke/job-reports";

const stem = "OP_DTL_OWNRSHP_PGYR2023_P01302025_01212025";
const part = (n: number) =>
  `raw/ownership/program_year=2023/publication=P01302025_01212025/${stem}/ingestion=20250201T000000000Z-0a1b2c/part-0000${n}.csv`;
const fileEntry = (n: number, raw: number, cleaned: number, quarantined: number) => ({
  source_object: part(n),
  dataset: "ownership",
  program_year: 2023,
  raw_records: raw,
  cleaned,
  quarantined,
});
const passed = { status: "passed" as const, failures: [] as string[] };
const cleanOf = (files: CleanReport["files"]): CleanReport => ({ ...passed, files });
const ingested: IngestedFile[] = [
  { dataset: "ownership", programYear: 2023, fileStem: stem, publication: "P01302025_01212025", records: 10 },
];

describe("reconcileFiles", () => {
  it("sums a file's parts and passes when ingestion = raw = cleaned + quarantined", () => {
    const v = reconcileFiles(ingested, cleanOf([fileEntry(0, 6, 5, 1), fileEntry(1, 4, 4, 0)]));
    expect(v).toMatchObject({ passed: true, message: "1 files reconcile (10 raw records)" });
  });

  it("names the file and the numbers when counts disagree", () => {
    const v = reconcileFiles(ingested, cleanOf([fileEntry(0, 9, 7, 1)]));
    expect(v.passed).toBe(false);
    expect(v.details).toEqual([
      `ownership 2023 ${stem}: ingestion verified 10 records, the clean job read 9`,
      `ownership 2023 ${stem}: raw 9 != cleaned 7 + quarantined 1`,
    ]);
  });

  it("flags a file the clean job skipped and one it read without verified ingestion", () => {
    const other = {
      ...fileEntry(0, 3, 3, 0),
      source_object: "raw/ownership/program_year=2022/publication=P/X/part-00000.csv",
      program_year: 2022,
    };
    const v = reconcileFiles(ingested, cleanOf([other]));
    expect(v.details).toEqual([
      `ownership 2023 ${stem}: ingested 10 records but the clean report does not list the file`,
      "ownership 2022 X: the clean job read 3 records of a file ingestion never verified",
    ]);
  });

  it("refuses a source object that is not a raw part", () => {
    expect(fileStemOf(part(0))).toBe(stem);
    // A folder written before per-ingestion folders.
    expect(fileStemOf(part(0).replace(/ingestion=[^/]+\//, ""))).toBe(stem);
    expect(() => fileStemOf("raw/ownership/file.csv")).toThrow(/is not a raw part/);
    expect(() => fileStemOf(`${part(0).replace(/part-00000/, "manifest")}`)).toThrow(/is not a raw part/);
  });
});

describe("job reports", () => {
  const dir = mkdtempSync(join(tmpdir(), "smoke-reports-"));
  const write = (name: string, body: unknown) => {
    writeFileSync(join(dir, name), JSON.stringify(body));
    return join(dir, name);
  };

  it("turns the reports into per dataset-year deductions", async () => {
    const reports = await loadJobReports({
      clean: write("clean.json", {
        job: "clean",
        ...passed,
        files: [fileEntry(0, 6, 5, 1), fileEntry(1, 4, 3, 1)],
      }),
      curate: write("curate.json", {
        ...passed,
        partitions: [
          { dataset: "ownership", program_year: 2023, removed: 2, duplicates_resolved: 1, curated_rows: 5 },
        ],
      }),
    });
    const counts = withDeductions(
      [{ dataset: "ownership", programYear: 2023, publication: "P01302025_01212025", records: 10, files: 1 }],
      reports,
    );
    expect(counts[0]?.deductions).toEqual({ quarantined: 2, removed: 2, duplicatesResolved: 1 });
  });

  it("names a report that is missing or of the wrong shape", async () => {
    await expect(loadJobReports({ clean: join(dir, "none.json") })).rejects.toThrow(
      /cannot read the clean report/,
    );
    await expect(
      loadJobReports({ clean: write("bad.json", { ...passed, files: [{ dataset: 1 }] }) }),
    ).rejects.toThrow(/bad\.json is not a clean report: files\.0\.source_object/);
  });
});

// A run limited by --datasets/--program_years (local-lake run --files) rewrote only its partitions: the zone's other
// partitions are described by earlier runs' reports in the same folder (glue-scripts/README.md, Reports).
describe("a zone written by runs limited to some partitions", () => {
  const fileOf = (dataset: string, year: number, raw: number, quarantined = 0) => ({
    source_object: `raw/${dataset}/program_year=${year}/publication=P01302025/${dataset}-${year}/ingestion=x/part-00000.csv`,
    dataset,
    program_year: year,
    raw_records: raw,
    cleaned: raw - quarantined,
    quarantined,
  });
  const run = (started: string, selection: unknown, files: unknown[], status = "passed") => ({
    job: "clean",
    status,
    failures: status === "passed" ? [] : ["ThresholdExceeded: too many quarantined"],
    started_at: started,
    ...(selection === undefined ? {} : { selection }),
    files,
  });
  const all = { datasets: "all", program_years: "all" };
  /** A report folder as the jobs leave it: each run under its start, the newest also as latest.json. */
  const folder = (runs: ReturnType<typeof run>[]) => {
    const dir = mkdtempSync(join(tmpdir(), "smoke-zone-"));
    for (const r of runs) writeFileSync(join(dir, `clean-${r.started_at}.json`), JSON.stringify(r));
    writeFileSync(join(dir, "latest.json"), JSON.stringify(runs.at(-1)));
    // Not this job's run reports: never read.
    writeFileSync(join(dir, "notes.json"), "not a report");
    writeFileSync(join(dir, "curate-20261231T000000000000Z.json"), "{}");
    return join(dir, "latest.json");
  };
  const filesOf = async (latest: string) =>
    (await loadJobReports({ clean: latest })).clean.files.map(
      (f) => `${f.dataset} ${f.program_year} ${f.raw_records}`,
    );

  it("takes each partition from the newest passed run over it, back to the newest run over everything", async () => {
    const latest = folder([
      run("20260101T000000000000Z", all, [fileOf("general", 2020, 1), fileOf("ownership", 2020, 2)]),
      run("20260102T000000000000Z", all, [fileOf("general", 2020, 3), fileOf("ownership", 2020, 4)]),
      run("20260103T000000000000Z", { datasets: ["ownership"], program_years: [2020, 2021] }, [
        fileOf("ownership", 2020, 5),
        fileOf("ownership", 2021, 6),
      ]),
      // Failed: it left the zone as it was.
      run(
        "20260104T000000000000Z",
        { datasets: ["general"], program_years: [2020] },
        [fileOf("general", 2020, 99)],
        "failed",
      ),
      run("20260105T000000000000Z", { datasets: ["ownership"], program_years: [2021] }, [
        fileOf("ownership", 2021, 7),
      ]),
    ]);
    expect((await filesOf(latest)).sort()).toEqual([
      "general 2020 3",
      "ownership 2020 5",
      "ownership 2021 7",
    ]);
  });

  it("reads only the latest report when the latest run was over everything (or says nothing of its limits)", async () => {
    const older = [run("20260101T000000000000Z", all, [fileOf("general", 2019, 1)])];
    expect(
      await filesOf(folder([...older, run("20260102T000000000000Z", all, [fileOf("general", 2020, 2)])])),
    ).toEqual(["general 2020 2"]);
    expect(
      await filesOf(
        folder([...older, run("20260102T000000000000Z", undefined, [fileOf("general", 2020, 2)])]),
      ),
    ).toEqual(["general 2020 2"]);
  });

  it("keeps the latest run's status: a failed limited run is judged failed, the zone still described", async () => {
    const latest = folder([
      run("20260101T000000000000Z", all, [fileOf("general", 2020, 1)]),
      run("20260102T000000000000Z", { datasets: ["ownership"], program_years: [2020] }, [], "failed"),
    ]);
    const { clean } = await loadJobReports({ clean: latest });
    expect(clean.status).toBe("failed");
    expect(clean.files.map((f) => f.raw_records)).toEqual([1]);
  });

  it("reads no report older than the newest passed run over everything", async () => {
    const latest = folder([
      run("20260101T000000000000Z", all, [{ dataset: "general" }]), // unreadable: must not be read
      run("20260102T000000000000Z", all, [fileOf("general", 2020, 3)]),
      run("20260103T000000000000Z", { datasets: ["ownership"], program_years: [2020] }, [
        fileOf("ownership", 2020, 5),
      ]),
    ]);
    expect((await filesOf(latest)).sort()).toEqual(["general 2020 3", "ownership 2020 5"]);
  });

  it("names an earlier report of the wrong shape", async () => {
    const latest = folder([
      run("20260101T000000000000Z", all, [{ dataset: "general" }]),
      run("20260102T000000000000Z", { datasets: ["ownership"], program_years: [2020] }, []),
    ]);
    await expect(loadJobReports({ clean: latest })).rejects.toThrow(
      /clean-20260101T000000000000Z\.json is not a clean report: files\.0\.source_object/,
    );
  });
});

describe("a refused or failed job run", () => {
  // As the jobs write it (glue-scripts/open_payments_lake/reports.py): status, failures and the error.
  const refused = {
    job: "clean",
    status: "failed",
    started_at: "2025-02-01T00:00:00+00:00",
    failures: [
      "IncompleteIngestionError: refusing to clean anything:\nraw/general/.../part-00001.csv is missing",
    ],
    error: {
      type: "IncompleteIngestionError",
      message: "refusing to clean anything:\nraw/general/.../part-00001.csv is missing",
    },
    files: [],
  };
  const dir = mkdtempSync(join(tmpdir(), "smoke-failed-reports-"));
  const write = (name: string, body: unknown) => {
    writeFileSync(join(dir, name), JSON.stringify(body));
    return join(dir, name);
  };

  it("fails the job-runs check with the job, the error type and its message", async () => {
    const reports = await loadJobReports({ clean: write("clean.json", refused) });
    const v = judgeJobRuns(reports);
    expect(v).toMatchObject({
      passed: false,
      message:
        "clean failed: IncompleteIngestionError: refusing to clean anything: raw/general/.../part-00001.csv is missing",
    });
    expect(v.details).toEqual([
      "clean run started 2025-02-01T00:00:00+00:00:",
      "  IncompleteIngestionError: refusing to clean anything:",
      "  raw/general/.../part-00001.csv is missing",
    ]);
  });

  it("fails the job-runs check on a threshold failure, naming each failure", async () => {
    const curate = { ...passed, partitions: [] };
    const threshold = { ...passed, status: "failed", failures: ["general 2023: amount_positive 5 of 10"] };
    const reports = await loadJobReports({
      clean: write("clean-ok.json", { ...passed, files: [] }),
      curate: write("curate-failed.json", { ...curate, ...threshold }),
    });
    expect(judgeJobRuns(reports)).toMatchObject({
      passed: false,
      message: "curate failed: general 2023: amount_positive 5 of 10",
    });
  });

  it("passes the job-runs check when every run passed", async () => {
    const reports = await loadJobReports({
      clean: write("c.json", { ...passed, files: [] }),
      curate: write("u.json", { ...passed, partitions: [] }),
    });
    expect(judgeJobRuns(reports)).toMatchObject({ passed: true, message: "last runs passed: clean, curate" });
  });

  it("fails the per-file reconciliation with the clean job's reason instead of counting", async () => {
    const reports = await loadJobReports({ clean: write("clean2.json", refused) });
    expect(reconcileFiles(ingested, reports.clean)).toEqual({
      passed: false,
      message:
        "the clean job's last run failed: IncompleteIngestionError: refusing to clean anything: raw/general/.../part-00001.csv is missing",
      details: [],
    });
  });
});
