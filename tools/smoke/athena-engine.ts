import { setTimeout as sleep } from "node:timers/promises";
import {
  type AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type QueryExecution,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from "@aws-sdk/client-athena";
import { abortReason, QueryAbortedError, type QueryEngine, QueryFailedError } from "./engine";
import type { QueryResult } from "./expectations";

export interface PollOptions {
  /** First wait between status polls; default 250 ms. */
  readonly initialMs?: number;
  /** The wait doubles up to this; default 5 s. */
  readonly maxMs?: number;
}

export interface AthenaEngineProps {
  readonly client: AthenaClient;
  /** The lake's workgroup: every query runs in it, so its enforced settings (results, encryption, limits) apply. */
  readonly workgroup: string;
  /** The curated database: the default database of every query (plain table names). */
  readonly database: string;
  readonly catalog?: string;
  /** Only used when the workgroup does not enforce its own results location. */
  readonly outputLocation?: string;
  readonly poll?: PollOptions;
  /** Rows per GetQueryResults page (Athena's maximum is 1000). */
  readonly pageSize?: number;
  /** For the description only: the endpoint the client talks to, when not AWS's own. */
  readonly endpoint?: string;
}

export class AthenaEngine implements QueryEngine {
  readonly description: string;

  constructor(private readonly props: AthenaEngineProps) {
    if (!props.workgroup) throw new Error("AthenaEngine: workgroup is required (the lake's workgroup)");
    if (!props.database) throw new Error("AthenaEngine: database is required (the curated database)");
    const at = props.endpoint ? ` at ${props.endpoint}` : "";
    this.description = `athena workgroup ${props.workgroup}, database ${props.database}${at}`;
  }

  async run(sql: string, signal: AbortSignal): Promise<QueryResult> {
    const { client, workgroup, database, catalog, outputLocation } = this.props;
    if (signal.aborted) throw new QueryAbortedError(abortReason(signal));
    const started = await client.send(
      new StartQueryExecutionCommand({
        QueryString: sql,
        WorkGroup: workgroup,
        QueryExecutionContext: { Database: database, Catalog: catalog },
        ResultConfiguration: outputLocation ? { OutputLocation: outputLocation } : undefined,
      }),
    );
    const id = started.QueryExecutionId;
    if (!id) throw new Error("StartQueryExecution returned no QueryExecutionId");
    try {
      const execution = await this.waitForEnd(id, signal);
      return await this.fetchResults(id, execution, signal);
    } catch (e) {
      if (!signal.aborted) throw e;
      // Stop what we started: a smoke run must not leave queries burning the workgroup's budget.
      await client.send(new StopQueryExecutionCommand({ QueryExecutionId: id })).catch(() => undefined);
      throw new QueryAbortedError(abortReason(signal), id);
    }
  }

  private async waitForEnd(id: string, signal: AbortSignal): Promise<QueryExecution> {
    const { initialMs = 250, maxMs = 5_000 } = this.props.poll ?? {};
    let wait = initialMs;
    for (;;) {
      const { QueryExecution: qe } = await this.props.client.send(
        new GetQueryExecutionCommand({ QueryExecutionId: id }),
        { abortSignal: signal },
      );
      const state = qe?.Status?.State;
      if (state === "SUCCEEDED" && qe) return qe;
      if (state === "FAILED" || state === "CANCELLED") {
        const s = qe?.Status;
        const reason = s?.StateChangeReason ?? s?.AthenaError?.ErrorMessage ?? "Athena gave no reason";
        throw new QueryFailedError(state, reason, id);
      }
      await sleep(wait, undefined, { signal });
      wait = Math.min(wait * 2, maxMs);
    }
  }

  private async fetchResults(id: string, qe: QueryExecution, signal: AbortSignal): Promise<QueryResult> {
    let columns: QueryResult["columns"] = [];
    const rows: (string | null)[][] = [];
    let token: string | undefined;
    let first = true;
    do {
      const page = await this.props.client.send(
        new GetQueryResultsCommand({
          QueryExecutionId: id,
          NextToken: token,
          MaxResults: this.props.pageSize,
        }),
        { abortSignal: signal },
      );
      const set = page.ResultSet;
      if (first) {
        columns = (set?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => ({
          name: c.Name ?? "",
          type: c.Type ?? "",
        }));
      }
      const pageRows = (set?.Rows ?? []).map((r) => (r.Data ?? []).map((d) => d.VarCharValue ?? null));
      // Athena repeats the column labels as the first row of a DML statement's first page.
      if (first && qe.StatementType === "DML") pageRows.shift();
      rows.push(...pageRows);
      token = page.NextToken;
      first = false;
    } while (token);
    return {
      columns,
      rows,
      bytesScanned: qe.Statistics?.DataScannedInBytes ?? 0,
      queryId: id,
    };
  }
}
