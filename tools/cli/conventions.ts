/**
 * Conventions shared by the project's command-line tools (ingest, smoke, local-lake), so a script or a CI job can
 * treat them alike:
 *
 * - exit codes: 0 ok, 1 a check or the data failed, 2 usage (bad option or argument), 3 the environment is
 *   unreachable (AWS endpoint, credentials, a missing bucket, table or workgroup, a source that cannot be read);
 * - `--json`: the command's result as JSON on stdout instead of the human table; progress and logs stay on stderr;
 * - errors: an expected error (any `CliError`, or a connection error the environment caused) prints one line,
 *   `<tool>: error: <message>`, and no stack trace; anything else is a bug and prints its stack.
 *
 * Usage: throw `UsageError`/`FailedError`/`UnreachableError` where the cause is known, run the command through
 * `runCommand` (in-process, returns the code) or `runMain` (a process entry point), and give every command that
 * prints a result `jsonOption()`.
 */
import { CommanderError, Option } from "commander";

export const ExitCode = {
  /** Everything asked for was done and every check passed. */
  ok: 0,
  /** The tool ran but a check or the data failed (a failed smoke check, a file that failed to ingest). */
  failed: 1,
  /** Bad arguments or unusable input named on the command line: nothing was done. */
  usage: 2,
  /** The environment could not be reached: network, endpoint, credentials, a missing bucket, table or workgroup. */
  unreachable: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the tool raises on purpose: its message is for the user (no stack trace), its exit code is known. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A check or the data failed: the tool ran and says what is wrong. */
export class FailedError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.failed, options);
  }
}

export class UsageError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.usage, options);
  }
}

export class UnreachableError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.unreachable, options);
  }
}

/** Node's and the AWS SDK's names for "could not reach it" (connection, DNS, timeouts, credentials). */
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
]);
const UNREACHABLE_NAMES = new Set([
  "CredentialsProviderError",
  "TimeoutError",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "ExpiredTokenException",
  "InvalidClientTokenId",
]);

/** Whether an error (or one of its causes) says the environment could not be reached. */
export function isUnreachable(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && UNREACHABLE_CODES.has(code)) return true;
    if (UNREACHABLE_NAMES.has(e.name)) return true;
    // AggregateError: Node's connect tries every address of a host (127.0.0.1 and ::1).
    if (e instanceof AggregateError && e.errors.some(isUnreachable)) return true;
  }
  return false;
}

export interface ErrorOutcome {
  readonly message: string;
  readonly exitCode: ExitCode;
  /** Set only for unexpected errors (a bug): their stack is worth printing. */
  readonly stack?: string;
}

/** What the user is told and the exit code, for any error a tool let through. */
export function errorOutcome(error: unknown): ErrorOutcome {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof CommanderError) {
    // Commander printed the problem (or the help) itself.
    return { message: error.message, exitCode: error.exitCode === 0 ? ExitCode.ok : ExitCode.usage };
  }
  const message = errorMessage(error);
  if (isUnreachable(error)) return { message, exitCode: ExitCode.unreachable };
  return { message, exitCode: ExitCode.failed, stack: error instanceof Error ? error.stack : undefined };
}

/** The message of any thrown value. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

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
export const JSON_HELP =
  "print the result as JSON on stdout instead of the table (progress and logs stay on stderr)";

/** `--json`, meaning the same in every tool. */
export function jsonOption(): Option {
  return new Option("--json", JSON_HELP);
}

export const EXIT_CODES_HELP =
  "Exit codes: 0 ok, 1 a check or the data failed, 2 bad usage, 3 the environment (AWS, endpoint) unreachable.";

/**
 * Runs a command in-process and turns its outcome into an exit code; never throws. An error is printed as
 * `<tool>: error: <message>` (commander prints its own parse errors); only an unexpected one (a bug) adds its
 * stack trace.
 */
export async function runCommand(
  tool: string,
  body: () => Promise<number | undefined>,
  err: (text: string) => void = (text) => process.stderr.write(text),
): Promise<number> {
  try {
    return (await body()) ?? ExitCode.ok;
  } catch (error) {
    const outcome = errorOutcome(error);
    if (!(error instanceof CommanderError)) err(`${tool}: error: ${outcome.message}\n`);
    if (outcome.stack) err(`${outcome.stack}\n(this is a bug: please report it)\n`);
    return outcome.exitCode;
  }
}

/** A tool's process entry point: runs `main` and sets the process's exit code. */
export function runMain(tool: string, main: () => Promise<number | undefined>): void {
  runCommand(tool, main).then((code) => {
    process.exitCode = code;
  });
}
