import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { QueryAbortedError, QueryFailedError } from "../../tools/smoke/engine";
import { LocalAthenaEngine } from "../../tools/smoke/local-engine";

// The worker protocol (tools/smoke/local_worker.py), with node standing in for the Python worker; the real
// worker and engine run in __tests__/integration/smoke-local.test.ts.
const dir = mkdtempSync(join(tmpdir(), "smoke-local-engine-"));
const serve = (handler: string) => `
  const args = process.argv.slice(2);
  require("node:readline").createInterface({ input: process.stdin }).on("line", (line) => {
    const { id, sql } = JSON.parse(line);
    ${handler}
  });`;
function engine(body: string) {
  const worker = join(dir, `${Math.random().toString(36).slice(2)}.js`);
  writeFileSync(worker, body);
  return new LocalAthenaEngine({
    warehouse: "/data/curated",
    database: "curated",
    s3Endpoint: "http://127.0.0.1:1",
    python: process.execPath,
    worker,
  });
}
const never = new AbortController().signal;

describe("LocalAthenaEngine", () => {
  it("starts one worker with the contract's arguments and turns JSON values into Athena's strings", async () => {
    const e = engine(
      serve(`console.log(JSON.stringify({ id, result: {
        columns: [{ name: "args", type: "varchar" }, { name: "n", type: "bigint" }, { name: "sql", type: "varchar" }],
        rows: [[args.join(" ") + " pid " + process.pid, 3, sql], [null, 0, null]],
        bytesScanned: 1234 } }));`),
    );
    const [a, b] = await Promise.all([e.run("SELECT 1", never), e.run("SELECT 2", never)]);
    await e.close();
    expect(a?.rows[0]?.[0]).toMatch(
      /^--warehouse \/data\/curated --database curated --s3-endpoint http:\/\/127.0.0.1:1 pid \d+$/,
    );
    expect(b?.rows[0]?.[0]).toBe(a?.rows[0]?.[0]); // the same worker process answered both
    expect(a?.rows).toEqual([
      [a?.rows[0]?.[0], "3", "SELECT 1"],
      [null, "0", null],
    ]);
    expect(b?.rows[0]?.[2]).toBe("SELECT 2");
    expect(a?.bytesScanned).toBe(1234);
  });

  it("reports a query the engine rejects as FAILED with the engine's message", async () => {
    const e = engine(
      serve(`console.log(JSON.stringify({ id, error: "Binder Error: column nope not found" }));`),
    );
    const err = await e.run("SELECT nope", never).catch((x: unknown) => x);
    await e.close();
    expect(err).toBeInstanceOf(QueryFailedError);
    expect(err).toMatchObject({ state: "FAILED", reason: "Binder Error: column nope not found" });
  });

  it("fails every pending query with the worker's last words when it dies, and on garbage output", async () => {
    const crash = engine(`process.stderr.write("--warehouse /x: no such directory"); process.exit(1);`);
    await expect(crash.run("SELECT 1", never)).rejects.toThrow(
      "local Athena engine exited with code 1: --warehouse /x: no such directory",
    );
    const garbage = engine(serve(`console.log("not json");`));
    await expect(garbage.run("SELECT 1", never)).rejects.toThrow(/printed no valid JSON: not json/);
  });

  it("kills the worker when the run is aborted", async () => {
    const e = engine(serve("/* never answers */"));
    const ctrl = new AbortController();
    setTimeout(() => ctrl.abort(new Error("overall timeout of 0.2 s reached")), 200);
    const t0 = Date.now();
    const errs = await Promise.all(
      [e.run("SELECT 1", ctrl.signal), e.run("SELECT 2", ctrl.signal)].map((p) => p.catch((x: unknown) => x)),
    );
    for (const err of errs) {
      expect(err).toBeInstanceOf(QueryAbortedError);
      expect((err as Error).message).toBe("overall timeout of 0.2 s reached");
    }
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it("refuses to start without python or the worker", () => {
    expect(
      () => new LocalAthenaEngine({ warehouse: "w", database: "d", python: join(dir, "no-python") }),
    ).toThrow(/python not found/);
    expect(
      () =>
        new LocalAthenaEngine({
          warehouse: "w",
          database: "d",
          python: process.execPath,
          worker: join(dir, "none.py"),
        }),
    ).toThrow(/the local query worker is missing/);
  });
});
