import { Command } from "commander";
import {
  ExitCode,
  FailedError,
  JSON_HELP,
  jsonOption,
  runMain,
  UnreachableError,
  UsageError,
  worstExitCode,
} from "../../tools/cli/conventions";

async function run(body: () => Promise<ExitCode | undefined>) {
  let err = "";
  const code = await runMain(body, (text) => {
    err += text;
  });
  return { code, err };
}

describe("runMain", () => {
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
    expect(out).toEqual({ code, err: `error: ${error.message}\n` });
  });

  it("prints the stack of an unexpected error (a bug) and exits 1", async () => {
    const out = await run(async () => {
      throw new TypeError("cannot read properties of undefined");
    });
    expect(out.code).toBe(1);
    expect(out.err).toMatch(
      /^error: unexpected failure \(a bug, please report it\):\nTypeError: cannot read/,
    );
    expect(out.err).toMatch(/\n\s+at /);
  });

  it("maps commander's parse errors to 2 and --help to 0", async () => {
    const program = () =>
      new Command("tool")
        .exitOverride()
        .configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
        .requiredOption("--x <n>", "x");
    expect((await run(async () => void program().parse([], { from: "user" }))).code).toBe(2);
    expect((await run(async () => void program().parse(["--help"], { from: "user" }))).code).toBe(0);
  });
});

describe("conventions", () => {
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
    expect(JSON_HELP).toMatch(/JSON on stdout .*progress stays on stderr/);
  });
});
