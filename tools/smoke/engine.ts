import type { QueryResult } from "./expectations";

/** Runs one query to completion; aborting the signal must stop the query where it runs. */
export interface QueryEngine {
  /** For reports: e.g. "athena workgroup lake-dev" or "local (duckdb)". */
  readonly description: string;
  run(sql: string, signal: AbortSignal): Promise<QueryResult>;
  /** Releases what the engine holds (e.g. a worker process) at the end of a run. */
  close?(): Promise<void>;
}

/** The engine ran the query and it ended FAILED or CANCELLED: the check fails with the engine's own reason. */
export class QueryFailedError extends Error {
  constructor(
    readonly state: string,
    readonly reason: string,
    readonly queryId?: string,
  ) {
    super(`query ${queryId ? `${queryId} ` : ""}${state}: ${reason}`);
    this.name = "QueryFailedError";
  }
}

/** The harness stopped the query (overall timeout or Ctrl-C). */
export class QueryAbortedError extends Error {
  constructor(
    readonly why: string,
    readonly queryId?: string,
  ) {
    super(`${why}${queryId ? `; query ${queryId} cancelled` : ""}`);
    this.name = "QueryAbortedError";
  }
}

/** The reason given to `AbortController.abort()`, as text. */
export function abortReason(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  return r instanceof Error ? r.message : typeof r === "string" ? r : "aborted";
}
