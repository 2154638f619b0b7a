import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JSON_HELP } from "../../tools/cli/conventions";
import { parseRatio, parseSize, runCli } from "../../tools/ingest/cli";
import { UsageError } from "../../tools/ingest/errors";
import { JsonLinesReporter } from "../../tools/ingest/progress";
import { TransientError, withRetry } from "../../tools/ingest/retry";
import { resolveTarget } from "../../tools/ingest/target";

describe("--part-size", () => {
  it.each([
    ["256MiB", 256 * 1024 * 1024],
    ["64MB", 64e6],
    ["1048576", 1048576],
    ["1.5GiB", 1.5 * 1024 ** 3],
  ])("%s = %i bytes", (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(["lots", "12 parsecs", "100", "5GiB"])("refuses %s", (text) => {
    expect(() => parseSize(text)).toThrow(/size|between/);
  });
});

describe("target", () => {
  const outputs = (value: object) => {
    const file = join(tmpdir(), `outputs-${process.pid}-${Math.random()}.json`);
    writeFileSync(file, JSON.stringify(value));
    return file;
  };
  const lake = {
    raw_bucket_name: { value: "lake-dev-raw", type: "string", sensitive: false },
    ingestion_table_name: { value: "lake-dev-ingestion", type: "string", sensitive: false },
    region: { value: "eu-west-1", type: "string", sensitive: false },
  };

  it("reads terraform's outputs; flags and LAKE_LOCAL_AWS_ENDPOINT override", () => {
    expect(resolveTarget({ outputs: outputs(lake) }, {})).toEqual({
      rawBucket: "lake-dev-raw",
      table: "lake-dev-ingestion",
      region: "eu-west-1",
    });
    expect(
      resolveTarget(
        { outputs: outputs(lake), bucket: "other" },
        { LAKE_LOCAL_AWS_ENDPOINT: "http://127.0.0.1:5000" },
      ),
    ).toEqual({
      rawBucket: "other",
      table: "lake-dev-ingestion",
      region: "eu-west-1",
      endpoint: "http://127.0.0.1:5000",
    });
  });

  it("says which outputs are missing", () => {
    expect(() => resolveTarget({ outputs: outputs({ region: lake.region }) }, {})).toThrow(
      /--outputs .*: the lake stack's outputs lack or have empty: raw_bucket_name, ingestion_table_name/,
    );
  });

  it("asks for the missing flags when there is no outputs file", () => {
    expect(() => resolveTarget({ bucket: "b" }, {})).toThrow(UsageError);
    expect(() => resolveTarget({ bucket: "b" }, {})).toThrow(/--table, --region/);
  });
});

describe("retry", () => {
  it("retries transient errors with backoff, then gives up with the last error", async () => {
    const delays: number[] = [];
    const fn = jest.fn().mockRejectedValue(new TransientError("HTTP 503"));
    await expect(
      withRetry(fn, {
        attempts: 3,
        baseDelayMs: 1,
        onRetry: (_attempt, _error, delay) => delays.push(delay),
      }),
    ).rejects.toThrow("HTTP 503");
    expect(fn).toHaveBeenCalledTimes(3);
    expect(delays).toHaveLength(2);
  });

  it("does not retry other errors", async () => {
    const fn = jest.fn().mockRejectedValue(new Error("HTTP 404"));
    await expect(withRetry(fn, { attempts: 5, baseDelayMs: 1 })).rejects.toThrow("HTTP 404");
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it("returns the first success", async () => {
    const fn = jest.fn().mockRejectedValueOnce(new TransientError("reset")).mockResolvedValue("ok");
    await expect(withRetry(fn, { attempts: 3, baseDelayMs: 1 })).resolves.toBe("ok");
  });
});

describe("JSON lines reporter", () => {
  it("writes one JSON object per event and throttles progress", () => {
    const lines: string[] = [];
    const reporter = new JsonLinesReporter((line) => lines.push(line), 60_000);
    reporter.event("started", { file: "f" });
    const progress = reporter.startFile("f.csv", 100);
    progress.update(10);
    progress.update(20);
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { time: expect.any(String), event: "started", file: "f" },
    ]);
    expect(lines.every((l) => l.endsWith("\n"))).toBe(true);
  });
});

describe("help and exit codes (the shared CLI conventions)", () => {
  async function help(...args: string[]) {
    let out = "";
    const code = await runCli([...args, "--help"], {
      out: (text) => {
        out += text;
      },
      err: (text) => {
        out += text;
      },
      reporter: () => new JsonLinesReporter(() => undefined),
    });
    return { code, out };
  }

  it.each([[], ["discover"], ["ingest"], ["history"], ["rebuild"], ["totals"]])(
    "help of %p speaks the user's language: no internal terms",
    async (...command) => {
      const { code, out } = await help(...command.flat());
      expect(code).toBe(0);
      expect(out).toMatch(/^Usage: ingest/);
      expect(out).not.toMatch(/contract \d|gsi1|DKAN|metastore|\bpk\b|\bsk\b/i);
      // Every command that prints a result offers the shared --json.
      if (command.flat().length) expect(out).toMatch(/--json\s+print the result as JSON on stdout/);
    },
  );

  it("documents the four shared exit codes, an unreachable source folded into 3", async () => {
    const { out } = await help();
    expect(out).toMatch(/Exit codes: 0 ok .* 1 .* 2 usage error, 3 environment unreachable/s);
    expect(out).toMatch(/3 environment unreachable[^.]*CMS URL or local path that cannot be read/s);
    expect(out).not.toMatch(/\b4 source unreachable/);
  });

  it("--json is the shared option; --max-shrink takes a ratio between 0 and 1", async () => {
    const { out } = await help("ingest");
    expect(out.replace(/\s+/g, " ")).toContain(JSON_HELP);
    expect(out).toMatch(/--force/);
    expect(out).toMatch(/--allow-shrink/);
    expect(out).toMatch(/--max-shrink <ratio>[\s\S]*\(default: 0\.5\)/);
    expect(parseRatio("0")).toBe(0);
    expect(parseRatio("0.25")).toBe(0.25);
    expect(parseRatio("1")).toBe(1);
    for (const bad of ["", "-0.1", "1.5", "half"]) expect(() => parseRatio(bad)).toThrow(/between 0 and 1/);
  });
});
