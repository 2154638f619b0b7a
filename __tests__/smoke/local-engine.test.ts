import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { QueryAbortedError, QueryFailedError } from "../../tools/smoke/engine";
import { LocalAthenaEngine } from "../../tools/smoke/local-engine";

// The subprocess protocol of contract 8, with node standing in for the engine (its own tests live with it).
const dir = mkdtempSync(join(tmpdir(), "smoke-local-engine-"));
function engine(body: string) {
  const script = join(dir, `${Math.random().toString(36).slice(2)}.js`);
  writeFileSync(script, body);
  return new LocalAthenaEngine({
    warehouse: "/data/curated",
    database: "curated",
    s3Endpoint: "http://127.0.0.1:1",
    python: process.execPath,
    script,
  });
}
const never = new AbortController().signal;

describe("LocalAthenaEngine", () => {
  it("passes the contract's arguments and turns JSON values into Athena's strings", async () => {
    const e = engine(`
      const args = process.argv.slice(2);
      console.log(JSON.stringify({
        columns: [{ name: "args", type: "varchar" }, { name: "n", type: "bigint" }, { name: "d", type: "decimal(38,2)" }],
        rows: [[args.join(" "), 3, "1.50"], [null, 0, null]],
        bytesScanned: 1234,
      }));`);
    const r = await e.run("SELECT 1", never);
    expect(r.rows).toEqual([
      [
        "--warehouse /data/curated --database curated --sql SELECT 1 --s3-endpoint http://127.0.0.1:1",
        "3",
        "1.50",
      ],
      [null, "0", null],
    ]);
    expect(r.bytesScanned).toBe(1234);
  });

  it("reports exit 2 as a FAILED query with the engine's message", async () => {
    const e = engine(`process.stderr.write("Binder Error: column nope not found\\n"); process.exit(2);`);
    const err = await e.run("SELECT nope", never).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(QueryFailedError);
    expect(err).toMatchObject({ state: "FAILED", reason: "Binder Error: column nope not found" });
  });

  it("reports a crash or garbage output as an engine error, not a check result", async () => {
    await expect(
      engine(`process.stderr.write("Traceback ..."); process.exit(1);`).run("SELECT 1", never),
    ).rejects.toThrow("local Athena engine exited with code 1: Traceback ...");
    await expect(engine(`console.log("not json")`).run("SELECT 1", never)).rejects.toThrow(
      /printed no valid JSON/,
    );
  });

  it("kills the engine when aborted", async () => {
    const e = engine("setTimeout(() => {}, 60000);");
    const ctrl = new AbortController();
    setTimeout(() => ctrl.abort(new Error("overall timeout of 0.2 s reached")), 200);
    const t0 = Date.now();
    const err = await e.run("SELECT 1", ctrl.signal).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(QueryAbortedError);
    expect((err as Error).message).toBe("overall timeout of 0.2 s reached");
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it("refuses to start without the engine script", () => {
    expect(
      () =>
        new LocalAthenaEngine({
          warehouse: "w",
          database: "d",
          python: process.execPath,
          script: join(dir, "none.py"),
        }),
    ).toThrow(/the local Athena engine \(contract 8\) is missing/);
  });
});
