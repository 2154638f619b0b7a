import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LAKE_OUTPUTS } from "../../stacks/outputs";
import { freePort } from "../../tools/local-aws/moto-server";
import { main, outcomeOf, printWarehouse } from "../../tools/local-lake/cli";
import { lakePaths } from "../../tools/local-lake/lake";
import { StepError } from "../../tools/local-lake/steps";

// The local lake CLI's exit codes (tools/cli/conventions.ts), without bringing a lake up.
const paths = lakePaths(mkdtempSync(join(tmpdir(), "local-lake-cli-")));

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (s) => out.push(s), err: (s) => err.push(s) }, paths);
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** A session of an `up` that is alive (this process) on a local AWS endpoint that may or may not answer. */
function session(endpoint: string) {
  mkdirSync(paths.workDir, { recursive: true });
  writeFileSync(paths.sessionFile, JSON.stringify({ endpoint, pid: process.pid, workDir: paths.workDir }));
  const outputs = Object.fromEntries(
    Object.values(LAKE_OUTPUTS).map(({ name }) => [name, { value: `${name}-value`, type: "string" }]),
  );
  writeFileSync(paths.outputsFile, JSON.stringify(outputs));
}

describe("local-lake CLI exit codes", () => {
  it.each([
    ["a bad number", ["up", "--rows", "0"], /expected a positive integer, got "0"/],
    ["a bad choice", ["up", "--then", "maybe"], /Allowed choices are keep, destroy/],
    ["an unknown option", ["status", "--verbose"], /unknown option '--verbose'/],
  ])("exits 2 on %s, before anything runs", async (_what, argv, message) => {
    const r = await run(argv);
    expect({ code: r.code, err: r.err }).toEqual({ code: 2, err: expect.stringMatching(message) });
  });

  it("exits 1 when no local lake is running (status), saying how to start one", async () => {
    const r = await run(["status"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("No local lake is running. Start one: make demo");
  });

  it("exits 3, without a stack trace, when the running lake's local AWS does not answer", async () => {
    session(`http://127.0.0.1:${await freePort()}`);
    const status = await run(["status"]);
    expect(status.code).toBe(3);
    expect(status.out).toMatch(/NOT answering/);
    expect(status.out).toContain(`  ${LAKE_OUTPUTS.workflow.name} = workflow_name-value`);
    expect(status.err).toMatch(/^local-lake: error: local AWS at http:\/\/127\.0\.0\.1:\d+ does not answer$/);
    const down = await run(["down"]);
    expect(down.code).toBe(3);
    expect(down.err).toMatch(/does not answer .*nothing can be destroyed/);
    const json = await run(["status", "--json"]);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.out)).toMatchObject({ running: true, answering: false, pid: process.pid });
  });

  it("exits 1 on a failed step, naming the step and where its logs are", () => {
    const outcome = outcomeOf(new StepError("glue-clean", "/logs/glue-clean.log", "exited with 1"), paths);
    expect(outcome.exitCode).toBe(1);
    expect(outcome.message).toMatch(
      /^step "glue-clean" failed: exited with 1\n {2}log: .*\nAll logs are kept in /,
    );
    expect(outcome.stack).toBeUndefined();
  });
});

describe("the warehouse step's answer", () => {
  const answer = {
    dashboard: "top_manufacturers",
    parameters: { year: "2023" },
    load: { payments: 12, total_usd: "345.67" },
    marts: [
      ["MAKER A", "300.00"],
      ["MAKER B", "45.67"],
    ],
    curated: [
      ["MAKER A", "300.00"],
      ["MAKER B", "45.67"],
    ],
    equal: true,
  };

  it("prints each row from the marts beside curated's total, and the load it came from", () => {
    const out: string[] = [];
    printWarehouse({ out: (s) => out.push(s), err: () => undefined }, answer);
    expect(out.slice(1)).toEqual([
      "Serving warehouse: top_manufacturers 2023 (warehouse/sql/dashboards/top_manufacturers.sql), " +
        "PostgreSQL marts | curated on the local Athena engine:",
      "  MAKER A  300.00 | 300.00",
      "  MAKER B   45.67 |  45.67",
      "  answers equal; marts loaded from 12 payments, $345.67, reconciled with curated to the cent",
    ]);
  });

  it("says so when the two answers differ", () => {
    const out: string[] = [];
    const differing = { ...answer, curated: [["MAKER A", "300.01"], answer.curated[1]], equal: false };
    printWarehouse({ out: (s) => out.push(s), err: () => undefined }, differing);
    expect(out).toContain("  MAKER A  300.00 | 300.01");
    expect(out.at(-1)).toMatch(/^ {2}ANSWERS DIFFER;/);
  });
});
