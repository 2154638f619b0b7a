import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { abortReason, QueryAbortedError, type QueryEngine, QueryFailedError } from "./engine";
import type { QueryResult } from "./expectations";

const repoRoot = resolve(__dirname, "..", "..");

export interface LocalEngineProps {
  /** Curated root: a local directory or `s3://<bucket>/curated/` (contract 8). */
  readonly warehouse: string;
  readonly database: string;
  /** Endpoint of the local S3 (moto) when the warehouse is on s3://. */
  readonly s3Endpoint?: string;
  /** Defaults to the project's `.venv/bin/python`. */
  readonly python?: string;
  /** Defaults to `tools/local-athena/local_athena.py`. */
  readonly script?: string;
}

/** The engine's stdout (contract 8): values JSON-encoded, decimals and dates as strings. */
interface LocalOutput {
  columns: { name: string; type: string }[];
  rows: unknown[][];
  bytesScanned: number;
}

const asAthenaValue = (v: unknown): string | null =>
  v === null || v === undefined
    ? null
    : typeof v === "string"
      ? v
      : typeof v === "object"
        ? JSON.stringify(v)
        : String(v);

/** The same checks on the local lake: Athena SQL run by the local Athena engine (DuckDB) as a subprocess. */
export class LocalAthenaEngine implements QueryEngine {
  readonly description: string;
  private readonly python: string;
  private readonly script: string;

  constructor(private readonly props: LocalEngineProps) {
    this.python = props.python ?? join(repoRoot, ".venv", "bin", "python");
    this.script = props.script ?? join(repoRoot, "tools", "local-athena", "local_athena.py");
    if (!existsSync(this.python)) {
      throw new Error(`python not found at ${this.python}: run 'make setup' first (it creates .venv)`);
    }
    if (!existsSync(this.script)) {
      throw new Error(`the local Athena engine (contract 8) is missing: ${this.script} does not exist`);
    }
    if (!props.warehouse)
      throw new Error("local mode needs --warehouse (a directory or s3://<bucket>/curated/)");
    this.description = `local athena engine over ${props.warehouse}, database ${props.database}`;
  }

  run(sql: string, signal: AbortSignal): Promise<QueryResult> {
    const args = [
      this.script,
      "--warehouse",
      this.props.warehouse,
      "--database",
      this.props.database,
      "--sql",
      sql,
    ];
    if (this.props.s3Endpoint) args.push("--s3-endpoint", this.props.s3Endpoint);
    return new Promise((ok, fail) => {
      if (signal.aborted) return fail(new QueryAbortedError(abortReason(signal)));
      const child = spawn(this.python, args, { stdio: ["ignore", "pipe", "pipe"], cwd: repoRoot });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on("data", (b: Buffer) => out.push(b));
      child.stderr.on("data", (b: Buffer) => err.push(b));
      const onAbort = () => child.kill("SIGTERM");
      signal.addEventListener("abort", onAbort, { once: true });
      child.once("error", (e) => fail(new Error(`cannot start the local Athena engine: ${e.message}`)));
      child.once("close", (code) => {
        signal.removeEventListener("abort", onAbort);
        if (signal.aborted) return fail(new QueryAbortedError(abortReason(signal)));
        const stderr = Buffer.concat(err).toString("utf8").trim();
        if (code === 2)
          return fail(new QueryFailedError("FAILED", stderr || "the local engine gave no reason"));
        if (code !== 0) {
          return fail(new Error(`local Athena engine exited with code ${code}: ${stderr.slice(-2000)}`));
        }
        try {
          const parsed = JSON.parse(Buffer.concat(out).toString("utf8")) as LocalOutput;
          ok({
            columns: parsed.columns,
            rows: parsed.rows.map((r) => r.map(asAthenaValue)),
            bytesScanned: parsed.bytesScanned,
          });
        } catch (e) {
          fail(new Error(`local Athena engine printed no valid JSON: ${(e as Error).message}`));
        }
      });
    });
  }
}
