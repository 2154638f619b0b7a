/**
 * Conventions shared by the project's command-line tools (ingest, smoke, local-lake), so a script or a CI job can
 * treat them alike:
 *
 * - exit codes: 0 ok, 1 a check or the data failed, 2 usage (bad option or argument), 3 the environment is
 *   unreachable (AWS endpoint, credentials, a missing bucket or table, a source URL or path that cannot be read);
 * - `--json`: the command's result as JSON on stdout instead of the human table; progress and logs stay on stderr;
 * - errors: an expected error (any `CliError`) prints one line, `error: <message>`, and no stack trace; anything
 *   else is a bug and prints its stack.
 *
 * Usage: throw `UsageError`/`FailedError`/`UnreachableError` (or subclasses) where the cause is known, wrap the
 * command in `runMain`, and give every command that prints a result `jsonOption()`.
 */
import { CommanderError, Option } from "commander";

export const ExitCode = {
  ok: 0,
  /** A check or the data failed (bad input file, failed verification, failed smoke check). */
  failed: 1,
  /** Bad options or arguments: nothing was attempted. */
  usage: 2,
  /** Something the command depends on could not be reached: AWS, credentials, a bucket or table, a source. */
  unreachable: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the tool expects and explains: printed as one line, mapped to its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class FailedError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.failed);
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.usage);
  }
}

export class UnreachableError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.unreachable);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The exit code an error stands for: its own for a `CliError`, 1 for anything else. */
export const exitCodeOf = (error: unknown): ExitCode =>
  error instanceof CliError ? error.exitCode : ExitCode.failed;

/**
 * The most telling exit code of several outcomes (e.g. one per file): an unreachable environment first, then a
 * usage error, then a failure; 0 when there is none.
 */
export function worstExitCode(codes: readonly ExitCode[]): ExitCode {
  for (const code of [ExitCode.unreachable, ExitCode.usage, ExitCode.failed]) {
    if (codes.includes(code)) return code;
  }
  return ExitCode.ok;
}

/** The help text of `--json`, the same in every tool. */
export const JSON_HELP = "print the result as JSON on stdout instead of a table (progress stays on stderr)";

/** The `--json` option for a commander command. */
export const jsonOption = () => new Option("--json", JSON_HELP);

/**
 * Runs a command and turns its outcome into an exit code; never throws. A `CliError` prints
 * `error: <message>`; a commander parse error (already printed by commander) is a usage error, `--help` is 0;
 * anything else is a bug: its stack is printed and the code is 1.
 */
export async function runMain(
  body: () => Promise<ExitCode | undefined>,
  err: (text: string) => void = (text) => process.stderr.write(text),
): Promise<ExitCode> {
  try {
    return (await body()) ?? ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    if (error instanceof CliError) {
      err(`error: ${error.message}\n`);
      return error.exitCode;
    }
    err(
      `error: unexpected failure (a bug, please report it):\n${(error as Error)?.stack ?? String(error)}\n`,
    );
    return ExitCode.failed;
  }
}
