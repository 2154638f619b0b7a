import { CommanderError } from "commander";
import {
  CheckFailedError,
  CliError,
  DataError,
  ExitCode,
  errorOutcome,
  isUnreachable,
  UnreachableError,
  UsageError,
} from "../../tools/cli/conventions";

describe("CLI conventions", () => {
  it("fix the exit codes every tool uses", () => {
    expect(ExitCode).toEqual({ ok: 0, failed: 1, usage: 2, unreachable: 3 });
  });

  it("map each expected error to its exit code and message, without a stack", () => {
    expect(errorOutcome(new UsageError("--outputs x: cannot read it"))).toEqual({
      message: "--outputs x: cannot read it",
      exitCode: 2,
    });
    expect(errorOutcome(new UnreachableError("no table"))).toEqual({ message: "no table", exitCode: 3 });
    expect(errorOutcome(new CheckFailedError("2 files failed"))).toEqual({
      message: "2 files failed",
      exitCode: 1,
    });
    expect(new DataError("x")).toBeInstanceOf(CliError);
    expect(new UsageError("x").name).toBe("UsageError");
  });

  it("treat commander's errors as usage, its help as success", () => {
    expect(errorOutcome(new CommanderError(1, "commander.unknownOption", "unknown option")).exitCode).toBe(2);
    expect(errorOutcome(new CommanderError(0, "commander.helpDisplayed", "(outputHelp)")).exitCode).toBe(0);
  });

  it("recognise an unreachable environment in an error's causes (connection refused, DNS, credentials)", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" });
    const wrapped = new Error("fetch failed", { cause: refused });
    expect(isUnreachable(wrapped)).toBe(true);
    expect(errorOutcome(wrapped)).toEqual({ message: "fetch failed", exitCode: 3 });
    expect(isUnreachable(new AggregateError([refused], ""))).toBe(true);
    const credentials = Object.assign(new Error("Could not load credentials"), {
      name: "CredentialsProviderError",
    });
    expect(isUnreachable(credentials)).toBe(true);
  });

  it("keep the stack of an unexpected error (a bug) and exit 1", () => {
    const bug = new TypeError("cannot read properties of undefined");
    expect(errorOutcome(bug)).toEqual({
      message: "cannot read properties of undefined",
      exitCode: 1,
      stack: bug.stack,
    });
  });
});
