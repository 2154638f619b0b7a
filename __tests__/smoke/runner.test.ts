import {
  type AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from "@aws-sdk/client-athena";
import { AthenaEngine } from "../../tools/smoke/athena-engine";
import { parseCheck } from "../../tools/smoke/checks";
import { type QueryEngine, QueryFailedError } from "../../tools/smoke/engine";
import type { QueryResult } from "../../tools/smoke/expectations";
import { exitCode, runChecks } from "../../tools/smoke/runner";

const check = (id: string, expect = "rows >= 1", sql = `SELECT '${id}'`) =>
  parseCheck(`-- check: ${id}\n-- description: ${id}.\n-- expect: ${expect}\n${sql}\n`, `${id}.sql`);
const oneRow: QueryResult = { columns: [{ name: "x", type: "varchar" }], rows: [["1"]], bytesScanned: 0 };

/** An engine whose queries take `ms` and that records how many ran at once. */
function slowEngine(ms: number) {
  const stats = { inFlight: 0, maxInFlight: 0, aborted: 0 };
  const engine: QueryEngine = {
    description: "test engine",
    run: (_sql, signal) =>
      new Promise((ok, fail) => {
        stats.inFlight++;
        stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
        const t = setTimeout(() => {
          stats.inFlight--;
          ok(oneRow);
        }, ms);
        signal.addEventListener("abort", () => {
          clearTimeout(t);
          stats.inFlight--;
          stats.aborted++;
          fail(new Error("stopped"));
        });
      }),
  };
  return { engine, stats };
}

describe("runChecks", () => {
  it("keeps at most `concurrency` queries in flight and reports in check order", async () => {
    const { engine, stats } = slowEngine(20);
    const checks = ["a", "b", "c", "d", "e"].map((id) => check(id));
    const res = await runChecks({ engine, checks, concurrency: 2, timeoutMs: 5_000 });
    expect(stats.maxInFlight).toBe(2);
    expect(res.outcomes.map((o) => [o.id, o.status])).toEqual(checks.map((c) => [c.id, "passed"]));
    expect(exitCode(res)).toBe(0);
  });

  it("aborts running queries at the overall timeout and reports them as errors (exit 1)", async () => {
    const { engine, stats } = slowEngine(10_000);
    const res = await runChecks({
      engine,
      checks: [check("a"), check("b"), check("c")],
      concurrency: 2,
      timeoutMs: 50,
    });
    expect(stats.aborted).toBe(2);
    expect(res.outcomes.map((o) => o.status)).toEqual(["error", "error", "error"]);
    expect(res.outcomes[2]?.message).toBe("not started: overall timeout of 0.05 s reached");
    expect(exitCode(res)).toBe(1);
  });

  it("stops on an external abort (Ctrl-C) and exits 1: the checks did not all pass", async () => {
    const { engine, stats } = slowEngine(10_000);
    const ctrl = new AbortController();
    setTimeout(() => ctrl.abort("Ctrl-C"), 20);
    const res = await runChecks({ engine, checks: [check("a")], timeoutMs: 60_000, signal: ctrl.signal });
    expect(stats.aborted).toBe(1);
    expect(res.interrupted).toBe("Ctrl-C");
    expect(exitCode(res)).toBe(1);
  });

  it("fails a check with the engine's own reason when its query FAILED", async () => {
    const engine: QueryEngine = {
      description: "failing",
      run: async () => {
        throw new QueryFailedError("FAILED", "TABLE_NOT_FOUND: line 1:15: Table 'x' does not exist", "q-1");
      },
    };
    const res = await runChecks({ engine, checks: [check("a")], timeoutMs: 1_000 });
    expect(res.outcomes[0]).toMatchObject({
      status: "failed",
      queryId: "q-1",
      message: "query FAILED: TABLE_NOT_FOUND: line 1:15: Table 'x' does not exist",
    });
    expect(exitCode(res)).toBe(1);
  });

  it("reports a skipped built-in check with its reason and still exits 0", async () => {
    const { engine } = slowEngine(1);
    const res = await runChecks({
      engine,
      checks: [check("a")],
      builtins: [{ id: "wg", description: "d", expectText: "e", skipReason: "no Athena API in local mode" }],
      timeoutMs: 1_000,
    });
    expect(res.outcomes[0]).toMatchObject({
      id: "wg",
      status: "skipped",
      message: "no Athena API in local mode",
    });
    expect(exitCode(res)).toBe(0);
  });
});

/** A scripted Athena client: only for the error and paging paths moto cannot produce. */
function scriptedAthena(states: { State: string; StateChangeReason?: string }[], pages: string[][][] = []) {
  const calls: string[] = [];
  let poll = 0;
  let page = 0;
  const client = {
    send: async (cmd: object) => {
      if (cmd instanceof StartQueryExecutionCommand) {
        calls.push(`start:${cmd.input.WorkGroup}`);
        return { QueryExecutionId: "q-1" };
      }
      if (cmd instanceof GetQueryExecutionCommand) {
        calls.push("poll");
        const status = states[Math.min(poll++, states.length - 1)];
        return {
          QueryExecution: { StatementType: "DML", Status: status, Statistics: { DataScannedInBytes: 42 } },
        };
      }
      if (cmd instanceof GetQueryResultsCommand) {
        calls.push(`results:${cmd.input.NextToken ?? "-"}`);
        const rows = pages[page] ?? [];
        page++;
        return {
          ResultSet: {
            ResultSetMetadata: { ColumnInfo: [{ Name: "id", Type: "varchar" }] },
            Rows: rows.map((r) => ({ Data: r.map((v) => ({ VarCharValue: v })) })),
          },
          NextToken: page < pages.length ? `t${page}` : undefined,
        };
      }
      if (cmd instanceof StopQueryExecutionCommand) {
        calls.push("stop");
        return {};
      }
      throw new Error(`unexpected command ${cmd.constructor.name}`);
    },
  };
  return { client: client as unknown as AthenaClient, calls };
}

describe("AthenaEngine with a scripted client", () => {
  const never = new AbortController().signal;

  it("follows NextToken across pages and drops only the header row of the first page", async () => {
    const { client, calls } = scriptedAthena(
      [{ State: "SUCCEEDED" }],
      [[["id"], ["1"], ["2"]], [["3"]], [["4"]]],
    );
    const engine = new AthenaEngine({ client, workgroup: "wg", database: "db", poll: { initialMs: 1 } });
    const r = await engine.run("SELECT id FROM t", never);
    expect(r.rows).toEqual([["1"], ["2"], ["3"], ["4"]]);
    expect(r.bytesScanned).toBe(42);
    expect(calls).toEqual(["start:wg", "poll", "results:-", "results:t1", "results:t2"]);
  });

  it("surfaces FAILED with Athena's StateChangeReason", async () => {
    const reason = "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved";
    const { client } = scriptedAthena([{ State: "RUNNING" }, { State: "FAILED", StateChangeReason: reason }]);
    const engine = new AthenaEngine({ client, workgroup: "wg", database: "db", poll: { initialMs: 1 } });
    await expect(engine.run("SELECT nope FROM t", never)).rejects.toMatchObject({ state: "FAILED", reason });
  });

  it("surfaces CANCELLED from elsewhere with its reason", async () => {
    const { client } = scriptedAthena([{ State: "CANCELLED", StateChangeReason: "Query cancelled by user" }]);
    const engine = new AthenaEngine({ client, workgroup: "wg", database: "db", poll: { initialMs: 1 } });
    await expect(engine.run("SELECT 1", never)).rejects.toThrow(
      "query q-1 CANCELLED: Query cancelled by user",
    );
  });

  it("polls with exponential backoff capped at maxMs and stops the query when aborted", async () => {
    const { client, calls } = scriptedAthena([{ State: "QUEUED" }]);
    const engine = new AthenaEngine({
      client,
      workgroup: "wg",
      database: "db",
      poll: { initialMs: 10, maxMs: 40 },
    });
    const ctrl = new AbortController();
    setTimeout(() => ctrl.abort(new Error("overall timeout of 0.2 s reached")), 200);
    await expect(engine.run("SELECT 1", ctrl.signal)).rejects.toThrow(
      "overall timeout of 0.2 s reached; query q-1 cancelled",
    );
    // waits 10, 20, 40, 40, 40, ... ms: about 6 polls in 200 ms (a fixed 10 ms interval would make ~20)
    const polls = calls.filter((c) => c === "poll").length;
    expect(polls).toBeGreaterThanOrEqual(4);
    expect(polls).toBeLessThanOrEqual(8);
    expect(calls.at(-1)).toBe("stop");
  });
});
