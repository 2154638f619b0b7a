import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { abortReason, QueryAbortedError, type QueryEngine, QueryFailedError } from "./engine";
import type { QueryResult } from "./expectations";

const repoRoot = resolve(__dirname, "..", "..");

export interface LocalEngineProps {
  /** Curated root: a local directory or `s3://<bucket>/curated/`. */
  readonly warehouse: string;
  readonly database: string;
  /** Endpoint of the local S3 (moto) when the warehouse is on s3://. */
  readonly s3Endpoint?: string;
  /** Defaults to the project's `.venv/bin/python`. */
  readonly python?: string;
  /** Defaults to `tools/smoke/local_worker.py` (serves the local Athena engine's `run_query`). */
  readonly worker?: string;
}

/** The engine's result (tools/local-athena): values JSON-encoded, decimals and dates as strings. */
interface LocalResult {
  columns: { name: string; type: string }[];
  rows: unknown[][];
  bytesScanned: number;
}
type Answer = { id: number; result: LocalResult } | { id: number; error: string };
type Pending = { ok: (r: QueryResult) => void; fail: (e: Error) => void };

const asAthenaValue = (v: unknown): string | null =>
  v === null || v === undefined
    ? null
    : typeof v === "string"
      ? v
      : typeof v === "object"
        ? JSON.stringify(v)
        : String(v);

/**
 * The same checks on the local lake: Athena SQL run by the local Athena engine (DuckDB, tools/local-athena) in
 * one worker subprocess per run, queries answered in order. Aborting kills the worker and every query in it.
 */
export class LocalAthenaEngine implements QueryEngine {
  readonly description: string;
  private readonly python: string;
  private readonly worker: string;
  private child?: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private stderr = "";

  constructor(private readonly props: LocalEngineProps) {
    this.python = props.python ?? join(repoRoot, ".venv", "bin", "python");
    this.worker = props.worker ?? join(repoRoot, "tools", "smoke", "local_worker.py");
    const engine = join(repoRoot, "tools", "local-athena", "local_athena.py");
    if (!existsSync(this.python)) {
      throw new Error(`python not found at ${this.python}: run 'make setup' first (it creates .venv)`);
    }
    if (!props.worker && !existsSync(engine)) {
      throw new Error(`the local Athena engine is missing: ${engine} does not exist`);
    }
    if (!existsSync(this.worker)) throw new Error(`the local query worker is missing: ${this.worker}`);
    if (!props.warehouse) {
      throw new Error("local mode needs --warehouse (a directory or s3://<bucket>/curated/)");
    }
    this.description = `local athena engine over ${props.warehouse}, database ${props.database}`;
  }

  run(sql: string, signal: AbortSignal): Promise<QueryResult> {
    if (signal.aborted) return Promise.reject(new QueryAbortedError(abortReason(signal)));
    const child = this.start();
    const id = this.nextId++;
    return new Promise<QueryResult>((ok, fail) => {
      const done = () => {
        signal.removeEventListener("abort", onAbort);
        this.pending.delete(id);
      };
      const entry: Pending = {
        ok: (r) => {
          done();
          ok(r);
        },
        fail: (e) => {
          done();
          fail(e);
        },
      };
      // One worker serves the whole run and the run's signal is shared: an abort stops them all.
      const onAbort = () => {
        entry.fail(new QueryAbortedError(abortReason(signal)));
        child.kill("SIGKILL");
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.pending.set(id, entry);
      child.stdin.write(`${JSON.stringify({ id, sql })}\n`);
    });
  }

  /** Lets the worker finish and exit (end of the run). */
  async close(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((done) => {
      child.once("close", () => done());
      child.stdin.end();
    });
  }

  private start(): ChildProcessWithoutNullStreams {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) return this.child;
    const args = [this.worker, "--warehouse", this.props.warehouse, "--database", this.props.database];
    if (this.props.s3Endpoint) args.push("--s3-endpoint", this.props.s3Endpoint);
    // The environment as this process sees it now (explicitly: a host's own copy can differ, as under jest).
    const child = spawn(this.python, args, {
      stdio: ["pipe", "pipe", "pipe"],
      cwd: repoRoot,
      env: process.env,
    });
    this.stderr = "";
    child.stderr.on("data", (b: Buffer) => {
      this.stderr = (this.stderr + b.toString("utf8")).slice(-4000);
    });
    createInterface({ input: child.stdout }).on("line", (line) => this.answer(line));
    child.stdin.on("error", () => undefined); // a dead worker is reported by 'close' below
    child.once("error", (e) => this.failAll(new Error(`cannot start the local Athena engine: ${e.message}`)));
    child.once("close", (code, sig) => {
      const why = sig ? `was killed (${sig})` : `exited with code ${code}`;
      this.failAll(new Error(`local Athena engine ${why}: ${this.stderr.trim() || "no message"}`));
    });
    this.child = child;
    return child;
  }

  private answer(line: string): void {
    let a: Answer;
    try {
      a = JSON.parse(line) as Answer;
    } catch {
      // The protocol is broken: nothing more from this worker can be trusted.
      this.failAll(new Error(`local Athena engine printed no valid JSON: ${line.slice(0, 200)}`));
      this.child?.kill("SIGKILL");
      return;
    }
    const p = this.pending.get(a.id);
    if (!p) return;
    if ("error" in a) p.fail(new QueryFailedError("FAILED", a.error));
    else {
      p.ok({
        columns: a.result.columns,
        rows: a.result.rows.map((r) => r.map(asAthenaValue)),
        bytesScanned: a.result.bytesScanned,
      });
    }
  }

  private failAll(e: Error): void {
    for (const p of [...this.pending.values()]) p.fail(e);
  }
}
