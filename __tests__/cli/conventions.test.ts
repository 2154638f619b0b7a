import { Command, CommanderError } from "commander";
import {
  CliError,
  ExitCode,
  errorOutcome,
  FailedError,
  isUnreachable,
  JSON_HELP,
  jsonOption,
  runCommand,
  UnreachableError,
  UsageError,
  worstExitCode,
} from "../../tools/cli/conventions";

async function run(body: () => Promise<number | undefined>) {
  let err = "";
  const code = await runCommand("tool", body, (text) => {
    err += text;
  });
  return { code, err };
}

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
    expect(errorOutcome(new FailedError("2 files failed"))).toEqual({
      message: "2 files failed",
      exitCode: 1,
    });
    expect(new FailedError("x")).toBeInstanceOf(CliError);
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
    expect(isUnreachable(new Error("boom"))).toBe(false);
  });

  it("keep the stack of an unexpected error (a bug) and exit 1", () => {
    const bug = new TypeError("cannot read properties of undefined");
    expect(errorOutcome(bug)).toEqual({
      message: "cannot read properties of undefined",
      exitCode: 1,
      stack: bug.stack,
    });
  });

  it("the most telling exit code wins: unreachable, then usage, then failed", () => {
    expect(worstExitCode([])).toBe(0);
    expect(worstExitCode([1, 1])).toBe(1);
    expect(worstExitCode([1, 2])).toBe(2);
    expect(worstExitCode([1, 3, 2])).toBe(3);
  });

  it("--json means the same in every tool", () => {
    const option = jsonOption();
    expect(option.flags).toBe("--json");
    expect(option.description).toBe(JSON_HELP);
    expect(JSON_HELP).toMatch(/JSON on stdout .*progress and logs stay on stderr/);
  });
});

describe("runCommand", () => {
  it("returns the body's code, 0 when it returns nothing", async () => {
    expect(await run(async () => ExitCode.failed)).toEqual({ code: 1, err: "" });
    expect(await run(async () => undefined)).toEqual({ code: 0, err: "" });
  });

  it.each([
    [new FailedError("3 of 40 checks failed"), 1],
    [new UsageError("--dataset payments: expected one of general, research"), 2],
    [new UnreachableError("S3 list in lake-raw: ECONNREFUSED"), 3],
  ])("prints an expected error as one line without a stack: %s", async (error, code) => {
    const out = await run(async () => {
      throw error;
    });
    expect(out).toEqual({ code, err: `tool: error: ${error.message}\n` });
  });

  it("prints the stack of an unexpected error (a bug) and exits 1", async () => {
    const out = await run(async () => {
      throw new TypeError("cannot read properties of undefined");
    });
    expect(out.code).toBe(1);
    expect(out.err).toMatch(/^tool: error: cannot read properties of undefined\nTypeError: cannot read/);
    expect(out.err).toMatch(/\n\s+at /);
    expect(out.err).toMatch(/this is a bug/);
  });

  it("maps commander's parse errors to 2 and --help to 0, printing nothing of its own", async () => {
    const program = () =>
      new Command("tool")
        .exitOverride()
        .configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
        .requiredOption("--x <n>", "x");
    expect(await run(async () => void program().parse([], { from: "user" }))).toEqual({ code: 2, err: "" });
    expect(await run(async () => void program().parse(["--help"], { from: "user" }))).toEqual({
      code: 0,
      err: "",
    });
  });
});
