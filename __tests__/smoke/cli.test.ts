import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../tools/local-aws/moto-server";
import { main } from "../../tools/smoke/cli";

// The smoke CLI's exit codes (tools/cli/conventions.ts): 2 usage, 3 unreachable, 1 a failed check, 0 passed.
const dir = mkdtempSync(join(tmpdir(), "smoke-cli-"));
const write = (name: string, body: unknown) => {
  writeFileSync(join(dir, name), JSON.stringify(body));
  return join(dir, name);
};

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const reports = ["--junit", join(dir, "junit.xml"), "--json-report", join(dir, "report.json")];
const local = ["--local", "--warehouse", dir, "--database", "curated", ...reports];
const cleanReport = (status: "passed" | "failed") =>
  write(`clean-${status}.json`, {
    job: "clean",
    status,
    failures: status === "failed" ? ["UnknownLayoutError: refusing to clean anything"] : [],
    ...(status === "failed"
      ? { error: { type: "UnknownLayoutError", message: "refusing to clean anything" } }
      : {}),
    files: [],
  });

describe("smoke CLI exit codes", () => {
  it.each([
    ["an unknown flag", ["--no-such-flag"], /unknown option '--no-such-flag'/],
    ["a bad number", [...local, "--concurrency", "0"], /--concurrency must be a positive integer/],
    ["an unknown check", [...local, "--only", "nope"], /--only names unknown checks: nope/],
    ["no database", ["--local", "--warehouse", dir, ...reports], /no curated database: pass --database/],
    [
      "an unreadable outputs file",
      ["--outputs", join(dir, "none.json")],
      /--outputs .*none\.json: cannot read/,
    ],
  ])("exits 2 on %s, saying so without a stack trace", async (_what, argv, message) => {
    const r = await run(argv);
    expect({ code: r.code, err: r.err }).toEqual({ code: 2, err: expect.stringMatching(message) });
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it("exits 3 when the AWS endpoint refuses connections, naming what it could not read", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const r = await run([
      ...local,
      "--endpoint",
      closed,
      "--region",
      "us-east-1",
      "--ingestion-table",
      "lake-ingestion",
    ]);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/smoke: error: cannot read the ingestion records \(table lake-ingestion\)/);
    expect(r.err).not.toMatch(/\n\s+at /);
  }, 30_000);

  it("exits 1 when a check fails: a failed clean run, with its reason", async () => {
    const r = await run([
      ...local,
      "--clean-report",
      cleanReport("failed"),
      "--only",
      "glue_job_runs_passed",
    ]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /FAIL +glue_job_runs_passed .* clean failed: UnknownLayoutError: refusing to clean/,
    );
  });

  it("exits 0 when every check passed; --json prints the result as JSON on stdout instead of the table", async () => {
    const r = await run([
      ...local,
      "--clean-report",
      cleanReport("passed"),
      "--only",
      "glue_job_runs_passed",
      "--json",
    ]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(json.summary).toEqual({ total: 1, passed: 1, failed: 0, errors: 0, skipped: 0 });
    expect(json.checks[0]).toMatchObject({ id: "glue_job_runs_passed", status: "passed" });
    expect(r.err).toMatch(/Running 1 checks/); // progress stays on stderr
  });
});
