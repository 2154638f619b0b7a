import { ExitCode } from "../cli/conventions";
import type { SqlCheck } from "./checks";
import { abortReason, QueryAbortedError, type QueryEngine, QueryFailedError } from "./engine";
import { evaluate, type Verdict } from "./expectations";
import type { IngestedCount } from "./ingestion";

export type CheckStatus = "passed" | "failed" | "error" | "skipped";

/** A check implemented in code (e.g. the workgroup read-back), reported like the SQL ones. */
export type BuiltinCheck = {
  readonly id: string;
  readonly description: string;
  readonly expectText: string;
} & (
  | { run(signal: AbortSignal): Promise<Verdict> }
  /** Cannot run in this mode: the reason shows in every report (never a silent skip). */
  | { readonly skipReason: string }
);

export interface CheckOutcome {
  readonly id: string;
  readonly description: string;
  readonly expect: string;
  readonly status: CheckStatus;
  readonly message: string;
  readonly details: readonly string[];
  readonly durationMs: number;
  readonly queryId?: string;
  readonly bytesScanned?: number;
  readonly file?: string;
}

export interface RunOptions {
  readonly engine: QueryEngine;
  readonly checks: readonly SqlCheck[];
  readonly builtins?: readonly BuiltinCheck[];
  /** Records per dataset and year from the ingestion table; needed by 'matches ingestion' checks. */
  readonly ingested?: readonly IngestedCount[];
  /** Queries in flight at once; default 4. */
  readonly concurrency?: number;
  /** Overall deadline for the whole run; running queries are cancelled when it passes. */
  readonly timeoutMs: number;
  /** Aborted on Ctrl-C by the CLI: running queries are cancelled. */
  readonly signal?: AbortSignal;
  readonly onOutcome?: (o: CheckOutcome) => void;
}

export interface RunResult {
  readonly outcomes: readonly CheckOutcome[];
  /** Set when the run was stopped from outside (Ctrl-C): the results are incomplete. */
  readonly interrupted?: string;
}

type Task = { id: string; description: string; expect: string; file?: string; skipReason?: string } & (
  | { kind: "sql"; check: SqlCheck }
  | { kind: "builtin"; check: BuiltinCheck }
);

export async function runChecks(options: RunOptions): Promise<RunResult> {
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new Error(`concurrency must be ≥ 1, got ${concurrency}`);
  if (!(options.timeoutMs > 0)) throw new Error(`timeout must be > 0 ms, got ${options.timeoutMs}`);
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new Error(`overall timeout of ${options.timeoutMs / 1000} s reached`)),
    options.timeoutMs,
  );
  const external = options.signal;
  const onExternal = () =>
    controller.abort(new Error(`interrupted (${external ? abortReason(external) : ""})`));
  if (external?.aborted) onExternal();
  external?.addEventListener("abort", onExternal, { once: true });

  const tasks: Task[] = [
    ...(options.builtins ?? []).map(
      (b): Task => ({
        kind: "builtin",
        check: b,
        id: b.id,
        description: b.description,
        expect: b.expectText,
        skipReason: "skipReason" in b ? b.skipReason : undefined,
      }),
    ),
    ...options.checks.map(
      (c): Task => ({
        kind: "sql",
        check: c,
        id: c.id,
        description: c.description,
        expect: c.expectText,
        file: c.file,
      }),
    ),
  ];
  const outcomes: CheckOutcome[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      const task = tasks[i] as Task;
      const outcome = await runOne(task, options, controller.signal);
      outcomes[i] = outcome;
      options.onOutcome?.(outcome);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, worker));
  } finally {
    clearTimeout(timer);
    external?.removeEventListener("abort", onExternal);
  }
  return { outcomes, interrupted: external?.aborted ? abortReason(external) : undefined };
}

async function runOne(task: Task, options: RunOptions, signal: AbortSignal): Promise<CheckOutcome> {
  const base = { id: task.id, description: task.description, expect: task.expect, file: task.file };
  const t0 = Date.now();
  const done = (
    status: CheckStatus,
    v: Pick<Verdict, "message" | "details">,
    extra: Partial<CheckOutcome> = {},
  ) => ({
    ...base,
    status,
    message: v.message,
    details: v.details,
    durationMs: Date.now() - t0,
    ...extra,
  });
  if (task.skipReason) return done("skipped", { message: task.skipReason, details: [] });
  if (signal.aborted) return done("error", { message: `not started: ${abortReason(signal)}`, details: [] });
  try {
    if (task.kind === "builtin" && "run" in task.check) {
      const v = await task.check.run(signal);
      return done(v.passed ? "passed" : "failed", v);
    }
    if (task.kind === "builtin") throw new Error(`built-in check ${task.id} has nothing to run`);
    const result = await options.engine.run(task.check.sql, signal);
    const v = evaluate(task.check.expect, result, options.ingested);
    return done(v.passed ? "passed" : "failed", v, {
      queryId: result.queryId,
      bytesScanned: result.bytesScanned,
    });
  } catch (e) {
    if (e instanceof QueryFailedError) {
      // The lake answered with an error (e.g. a missing table): the check fails with the engine's own reason.
      return done(
        "failed",
        { message: `query ${e.state}: ${e.reason}`, details: [] },
        { queryId: e.queryId },
      );
    }
    if (e instanceof QueryAbortedError) {
      return done("error", { message: e.message, details: [] }, { queryId: e.queryId });
    }
    return done("error", { message: (e as Error).message, details: [] });
  }
}

/** 0 when every check passed or was skipped (with its reason); 1 otherwise, an interrupted run included. */
export function exitCode(result: RunResult): ExitCode {
  if (result.interrupted) return ExitCode.failed;
  const passed = result.outcomes.every((o) => o.status === "passed" || o.status === "skipped");
  return passed ? ExitCode.ok : ExitCode.failed;
}
