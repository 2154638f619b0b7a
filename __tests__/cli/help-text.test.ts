import { EXIT_CODES_HELP, JSON_HELP } from "../../tools/cli/conventions";
import { main as localLake } from "../../tools/local-lake/cli";
import { main as smoke } from "../../tools/smoke/cli";

// The tools' help speaks the user's language: no project-internal terms (numbered contracts, planning names),
// the same exit codes and the same `--json`.
const INTERNAL_TERMS = /contract\s*\d|embedded default|issue\s*\d/i;

type Main = (argv: readonly string[], io: { out(s: string): void; err(s: string): void }) => Promise<number>;

async function help(run: Main, argv: string[]): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const code = await run(argv, { out: (s) => lines.push(s), err: (s) => lines.push(s) });
  return { code, text: lines.join("\n") };
}

describe("help text", () => {
  it.each([
    ["smoke", smoke as Main, ["--help"]],
    ["local-lake", localLake as Main, ["--help"]],
    ["local-lake up", localLake as Main, ["up", "--help"]],
    ["local-lake down", localLake as Main, ["down", "--help"]],
    ["local-lake status", localLake as Main, ["status", "--help"]],
  ] as const)("%s: exits 0 and uses no internal terms", async (_name, run, argv) => {
    const { code, text } = await help(run, [...argv]);
    expect(code).toBe(0);
    expect(text).toMatch(/Usage: /);
    expect(text).not.toMatch(INTERNAL_TERMS);
  });

  it.each([
    ["smoke", smoke as Main, ["--help"]],
    ["local-lake", localLake as Main, ["--help"]],
  ] as const)("%s: states the shared exit codes", async (_name, run, argv) => {
    expect((await help(run, [...argv])).text.replace(/\s+/g, " ")).toContain(EXIT_CODES_HELP);
  });

  it.each([
    ["smoke", smoke as Main, ["--help"]],
    ["local-lake status", localLake as Main, ["status", "--help"]],
  ] as const)("%s: --json means the result as JSON on stdout", async (_name, run, argv) => {
    const text = (await help(run, [...argv])).text.replace(/\s+/g, " ");
    expect(text).toContain(`--json ${JSON_HELP}`);
  });
});
