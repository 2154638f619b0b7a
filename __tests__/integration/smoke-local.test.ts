import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { main } from "../../tools/smoke/cli";

// Local mode on real data: the Glue jobs (glue-scripts/) clean and curate generated CMS files on local Spark,
// then the smoke checks of sql/smoke run through the local Athena engine (tools/local-athena, DuckDB).
// Spark is the slow part, so the built lake is cached under .build/ keyed by the inputs that shape it.
const repo = resolve(__dirname, "..", "..");
const python = join(repo, ".venv", "bin", "python");
const fixture = join(repo, "tools", "smoke", "local_lake_fixture.py");

interface LocalLake {
  warehouse: string;
  ingestion: string;
  cleanReport: string;
  curateReport: string;
}

function pythonSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() && e.name !== "tests" && e.name !== "__pycache__"
      ? pythonSources(join(dir, e.name))
      : e.name.endsWith(".py")
        ? [join(dir, e.name)]
        : [],
  );
}

function run(args: string[]): string {
  const r = spawnSync(python, args, { cwd: repo, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${args.join(" ")} failed (${r.status}):\n${r.stderr.slice(-4000)}`);
  return r.stdout;
}

function localLake(): LocalLake {
  const inputs = [
    fixture,
    join(repo, "datasets", "open-payments.json"),
    ...pythonSources(join(repo, "glue-scripts")),
  ];
  const hash = createHash("sha256");
  for (const f of inputs.sort()) hash.update(f.slice(repo.length)).update(readFileSync(f));
  const dir = join(repo, ".build", "smoke-local-lake", hash.digest("hex").slice(0, 16));
  const manifest = join(dir, "lake.json");
  if (!existsSync(manifest)) {
    const building = `${dir}.building-${process.pid}`;
    rmSync(building, { recursive: true, force: true });
    mkdirSync(building, { recursive: true });
    mkdirSync(dirname(dir), { recursive: true });
    const built = JSON.parse(run([fixture, "build", "--out", building]).trim().split("\n").at(-1) as string);
    writeFileSync(join(building, "lake.json"), JSON.stringify(built));
    // Lakes built from older sources are never read again.
    const cache = join(repo, ".build", "smoke-local-lake");
    for (const old of readdirSync(cache).filter((d) => join(cache, d) !== building)) {
      rmSync(join(cache, old), { recursive: true, force: true });
    }
    renameSync(building, dir);
  }
  const built = JSON.parse(readFileSync(manifest, "utf8")) as LocalLake;
  return {
    warehouse: join(dir, built.warehouse),
    ingestion: join(dir, built.ingestion),
    cleanReport: join(dir, built.cleanReport),
    curateReport: join(dir, built.curateReport),
  };
}

let lake: LocalLake;
let broken: string;
const out = mkdtempSync(join(tmpdir(), "smoke-local-"));

beforeAll(() => {
  lake = localLake();
  broken = join(out, "broken");
  run([fixture, "break", "--warehouse", lake.warehouse, "--out", broken]);
}, 600_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

async function smoke(warehouse: string, extra: string[] = []) {
  const lines: string[] = [];
  const io = { out: (s: string) => lines.push(s), err: (s: string) => lines.push(s) };
  const code = await main(
    [
      "--local",
      "--warehouse",
      warehouse,
      "--database",
      "curated",
      "--ingestion-file",
      lake.ingestion,
      "--clean-report",
      lake.cleanReport,
      "--curate-report",
      lake.curateReport,
      "--concurrency",
      "2",
      "--junit",
      join(out, "junit.xml"),
      "--json-report",
      join(out, "report.json"),
      ...extra,
    ],
    io,
  );
  const text = lines.join("\n");
  // Exit 2 or 3 means the harness could not run at all (e.g. the local engine is missing): say why.
  if (code >= 2) throw new Error(`smoke could not run (exit ${code}):\n${text}`);
  return { code, text, report: JSON.parse(readFileSync(join(out, "report.json"), "utf8")) };
}

describe("smoke checks in local mode on data curated by the Glue jobs", () => {
  it("pass on the lake as the jobs left it", async () => {
    const { code, text, report } = await smoke(lake.warehouse);
    expect({ code, text }).toEqual({ code: 0, text: expect.stringContaining("9 checks") });
    const statuses = Object.fromEntries(
      (report.checks as { id: string; status: string }[]).map((c) => [c.id, c.status]),
    );
    expect(statuses).toEqual({
      workgroup_enforces_encrypted_config: "skipped",
      glue_job_runs_passed: "passed",
      raw_reconciles_per_file: "passed",
      amount_scan_is_columnar: "passed",
      amounts_non_negative: "passed",
      curated_years_match_ingestion: "passed",
      payment_dates_inside_program_year: "passed",
      provenance_present: "passed",
      record_id_unique_non_null: "passed",
    });
    expect(text).toMatch(/SKIP +workgroup_enforces_encrypted_config .* local mode without an Athena API/);
  }, 120_000);

  it("fail on a duplicate Record_ID, a missing year and a count off by one, naming the check and the numbers", async () => {
    const { code, text } = await smoke(broken);
    expect(code).toBe(1);
    expect(text).toMatch(/FAIL +record_id_unique_non_null .* 1 offending rows \(expected none\)/);
    expect(text).toMatch(/dataset=general, program_year=2023, record_id=\d+, copies=2/);
    expect(text).toMatch(
      /FAIL +curated_years_match_ingestion .* 3 mismatches against 6 ingested dataset-years/,
    );
    expect(text).toMatch(
      /general 2023: lake has (\d+) records, expected \d+ = ingested \d+ - quarantined \d+ .*\(\+1;/,
    );
    expect(text).toMatch(/ownership 2022: missing from the lake \(expected \d+ = ingested \d+/);
    expect(text).toMatch(/research 2022: lake has \d+ records, expected \d+ = .*\(-1;/);
    expect(text).toMatch(/PASS +amounts_non_negative/);
  }, 120_000);

  it("fail a check whose SQL the engine rejects, with the engine's own message", async () => {
    const checks = join(out, "bad-checks");
    mkdirSync(checks, { recursive: true });
    writeFileSync(
      join(checks, "bad.sql"),
      "-- check: bad_column\n-- description: Refers to a column that does not exist.\n-- expect: no rows\n" +
        "SELECT no_such_column FROM general_payments\n",
    );
    const { code, text } = await smoke(lake.warehouse, ["--checks-dir", checks]);
    expect(code).toBe(1);
    expect(text).toMatch(/FAIL +bad_column .* query FAILED: .*no_such_column/);
  }, 60_000);

  it("fail the job-runs and per-file checks with the reason when the last clean run was refused", async () => {
    // The report a refused run writes (glue-scripts/open_payments_lake/reports.py), over the passing lake.
    const refused = join(out, "clean-refused.json");
    const passed = JSON.parse(readFileSync(lake.cleanReport, "utf8"));
    const error = {
      type: "UnknownLayoutError",
      message: "refusing to clean anything:\nraw/x/part-00000.csv",
    };
    writeFileSync(
      refused,
      JSON.stringify({ ...passed, status: "failed", error, failures: [`${error.type}: ${error.message}`] }),
    );
    const { code, text } = await smoke(lake.warehouse, ["--clean-report", refused]);
    expect(code).toBe(1);
    expect(text).toMatch(
      /FAIL +glue_job_runs_passed .* clean failed: UnknownLayoutError: refusing to clean anything: raw\/x/,
    );
    expect(text).toMatch(
      /FAIL +raw_reconciles_per_file .* the clean job's last run failed: UnknownLayoutError/,
    );
  }, 60_000);
});
